// A comparison exported as Markdown and CSV: real captures of a broken program and its fix
// (leak_obj vs leak_obj_fixed), and a hand-made comparison with hostile names.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';
import type { Store } from '../../src-main/store/types.ts';
import { testStore } from '../helpers/store.ts';
import { replayLog } from '../../src-main/app/ingest.ts';
import { compareRuns, type Comparison } from '../../src-main/app/compare.ts';
import { comparisonToCsv, comparisonToMarkdown, csvField, mdCode } from '../../src-main/render/compare-report.ts';
import { renderComparison } from '../../src-main/render/index.ts';
import { ExportUsageError, planCompareExport, writeCompareExport } from '../../src-main/hosts/cli/export-command.ts';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const dir = tempDir('kptrscope-compare-report-');
const F = (n: string) => join(LOGS_618, n);

describe('comparison reports from real captures', () => {
  let db: Store;
  let c: Comparison;

  beforeAll(async () => {
    db = testStore(join(dir, 'c.db'));
    const a = await replayLog(db, F('leak_obj.bpftool.log'), { btf: [F('leak_obj.btf.txt')] });
    const b = await replayLog(db, F('leak_obj_fixed.bpftool.log'), { btf: [F('leak_obj_fixed.btf.txt')] });
    c = await compareRuns(db, a.ingest.runId, b.ingest.runId);
  });
  afterAll(() => db.close());

  it('Markdown: a table per program with deltas, the first divergence and both findings', () => {
    const md = comparisonToMarkdown(c);
    expect(md).toMatch(/^# Comparison: leak\\_obj\.bpftool\.log vs leak\\_obj\\_fixed\.bpftool\.log\n/);
    expect(md).not.toContain(LOGS_618); // file names only: reports from two checkouts diff cleanly
    expect(md).toContain('## leak\\_sample');
    expect(md).toContain('| Metric | A | B | Δ | Δ% |');
    expect(md).toContain('| Verdict | rejected | accepted | rejected → accepted | |');
    expect(md).toContain('| Insns processed | 15 | 22 | +7 | +46.67% |');
    expect(md).toContain('| Stack depth | 0 | 0 | 0 | 0.00% |');
    expect(md).toContain('**First divergence:** different instructions on different source lines');
    expect(md).toMatch(/\| A \| 11 \| 12 \| 69 \| `if r1 > 0x40 goto pc\+1` \| `20: return s->len > 64; \/\* s leaks here \*\/` \| — \|/);
    expect(md).toMatch(/\| B \| 10 \| 11 \| \d+ \| `r1 = r0` \| `21: ks_drop\(s\); \/\* the fix: hand the object back \*\/` \|/);
    expect(md).toContain('- A: **leak** at insn 15 — pkt\\_sample allocated by bpf\\_obj\\_new');
    expect(md).toContain('- B: no finding');
    expect(renderComparison('md', c).toString('utf8')).toBe(md);
    expect(comparisonToMarkdown(c)).toBe(md);
  });

  it('CSV: one row per program × metric', () => {
    const csv = comparisonToCsv(c);
    const rows = csv.trimEnd().split('\n');
    expect(rows[0]).toBe('program,matched_by,metric,a,b,delta,delta_pct');
    expect(rows).toHaveLength(1 + 9);
    expect(rows).toContain('leak_sample,name,verdict,rejected,accepted,rejected → accepted,');
    expect(rows).toContain('leak_sample,name,insnsProcessed,15,22,7,46.67');
    expect(rows).toContain('leak_sample,name,verificationUsec,118,204,86,72.88');
    expect(rows).toContain('leak_sample,name,firstDivergenceInsn,12,11,different instructions on different source lines,');
    expect(renderComparison('csv', c).toString('utf8')).toBe(csv);
  });

  it('compare --format md|csv -o <file>: checked before the work, writes only that file', () => {
    expect(planCompareExport({})).toBeNull();
    expect(() => planCompareExport({ format: 'pdf', output: join(dir, 'x.pdf') })).toThrow(ExportUsageError);
    expect(() => planCompareExport({ format: 'md' })).toThrow(/needs -o/);
    expect(() => planCompareExport({ output: join(dir, 'x.md') })).toThrow(/needs --format/);
    expect(() => planCompareExport({ format: 'md', output: join(dir, 'x.md'), json: true })).toThrow(/not both/);
    expect(() => planCompareExport({ format: 'md', output: dir })).toThrow(/is a directory/);
    expect(() => planCompareExport({ format: 'csv', output: join(dir, 'no', 'x.csv') })).toThrow(/does not exist/);
    const before = readdirSync(dir);
    let said = '';
    const plan = planCompareExport({ format: 'md', output: join(dir, 'report.md') });
    writeCompareExport({ out: (t) => (said += t) }, c, plan as NonNullable<typeof plan>);
    expect(said).toBe(`wrote ${join(dir, 'report.md')} (md, 1 program)\n`);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(comparisonToMarkdown(c));
    expect(readdirSync(dir).sort()).toEqual([...before, 'report.md'].sort());
    expect(existsSync(join(dir, 'x.md'))).toBe(false);
  });
});

describe('comparison reports: hostile text', () => {
  const side = (verdict: string) => ({
    run: 1,
    program: 'x',
    verdict,
    modelVerdict: verdict,
    failInsn: null,
    insnsProcessed: 10,
    maxStatesPerInsn: null,
    totalStates: 3,
    peakStates: 3,
    verificationUsec: 5,
    stackDepth: 8,
    stackDepths: [8],
    finding: null,
    kernelDiagnostic: null,
  });
  const c: Comparison = {
    a: { run: 1, source: '/tmp/a/<img src=x onerror=alert(1)>.log', kernel: '6.18' },
    b: { run: 2, source: 'C:\\logs\\b.log', kernel: null },
    kernelProfile: '6.18',
    programs: [
      {
        name: '=HYPERLINK("http://evil")|<b>',
        matchedBy: 'position',
        a: side('accepted'),
        b: side('rejected'),
        delta: {
          verdict: 'accepted → rejected',
          insnsProcessed: { abs: -3, pct: -30 },
          maxStatesPerInsn: null,
          totalStates: { abs: 0, pct: 0 },
          peakStates: { abs: 0, pct: 0 },
          verificationUsec: { abs: 0, pct: null },
          stackDepth: { abs: 0, pct: 0 },
        },
        firstDivergence: {
          a: { step: 1, insn: 2, line: 3, asm: 'r1 = `x` | y', source: null, events: ['stash <T> R1 → a.b'] },
          b: { step: 1, insn: null, line: null, asm: null, source: null, events: [] },
          reason: 'the walk of b ends here while the other goes on',
        },
      },
    ],
    unmatched: { a: ['only_a'], b: [] },
  };

  it('Markdown escapes markup; code spans survive backticks and pipes', () => {
    const md = comparisonToMarkdown(c);
    // Outside code spans (literal text in GFM) no markup character survives.
    const prose = md.replace(/(`+)[\s\S]*?\1/g, '');
    expect(prose).not.toMatch(/[<>]/);
    expect(md).toContain('| A | 1 | `<img src=x onerror=alert(1)>.log` | `6.18` |');
    expect(md).toContain('# Comparison: &lt;img src=x onerror=alert(1)&gt;.log vs b.log');
    expect(md).toContain('## =HYPERLINK("http://evil")\\|&lt;b&gt; (matched by position)');
    expect(md).toContain('``r1 = `x` \\| y``');
    expect(md).toContain('| Insns processed | 10 | 10 | -3 | -30.00% |');
    expect(md).toContain('| B | 1 | — | — | walk ended | | |');
    expect(md).toContain('- only in A: `only_a`');
    expect(mdCode('`a`', false)).toBe('`` `a` ``');
  });

  it('CSV quotes and defuses formulas', () => {
    const csv = comparisonToCsv(c);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")|<b>",position,insnsProcessed,10,10,-3,-30.00`);
    expect(csvField('-1', false)).toBe('-1');
    expect(csvField('@x')).toBe("'@x");
    expect(csvField('a\nb')).toBe('"a\nb"');
  });
});
