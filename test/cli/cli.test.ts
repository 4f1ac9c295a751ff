// The `kptrscope` CLI contract, run as a real process on real captures: commands, flags, --json
// shapes (issue 2), exit codes, one-line errors without stack traces on bad input, database unchanged.
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir();
const F = (n: string) => join(LOGS_618, n);

describe('kptrscope ingest / runs / show', () => {
  const db = join(dir, 'cli.db');

  it('ingest --json prints one document with the issue-2 shape', () => {
    const r = kptrscope(['ingest', F('use_after_unlock.bpftool.log'), F('multi_ok.L2.log'), '--btf', F('use_after_unlock.btf.txt'), '--kernel', '6.18.44', '--db', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['runs']);
    expect(doc.runs).toHaveLength(2);
    const [a, b] = doc.runs;
    for (const run of doc.runs) {
      for (const k of ['id', 'source', 'kernel', 'programs']) expect(run).toHaveProperty(k);
      for (const p of run.programs) for (const k of ['name', 'verdict', 'error', 'failInsn', 'insnsProcessed', 'lines', 'unknownLines']) expect(p).toHaveProperty(k);
    }
    expect(a.kernel).toBe('6.18.44');
    expect(a.source).toBe(F('use_after_unlock.bpftool.log'));
    expect(a.programs).toEqual([
      expect.objectContaining({ name: 'fire_first', verdict: 'rejected', error: "R6 invalid mem access 'scalar'", failInsn: 30, insnsProcessed: 25, unknownLines: 0 }),
    ]);
    expect(b.programs.map((p: { name: string; verdict: string; failInsn: unknown }) => [p.name, p.verdict, p.failInsn])).toEqual([
      ['prog0', 'accepted', null],
      ['prog1', 'accepted', null],
      ['prog2', 'accepted', null],
    ]);
  });

  it('ingest without --json prints a readable line per program', () => {
    const r = kptrscope(['ingest', F('leak_obj.L7.log'), '--db', db]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/prog0\s+rejected\s+insn 15\s+processed 15/);
    expect(r.stdout).toMatch(/error: Unreleased reference id=2 alloc_insn=5/);
  });

  it('runs --json lists what was stored; show --json returns the parsed records', () => {
    const runs = JSON.parse(kptrscope(['runs', '--db', db, '--json']).stdout);
    expect(runs.runs.map((r: { id: number }) => r.id)).toEqual([1, 2, 3]);
    const show = kptrscope(['show', '1', '--program', 'fire_first', '--db', db, '--json']);
    expect(show.status).toBe(0);
    const doc = JSON.parse(show.stdout);
    expect(doc.run.id).toBe(1);
    expect(doc.programs).toHaveLength(1);
    const recs = doc.programs[0].records;
    const insn30 = recs.find((x: { kind: string; insn?: number }) => x.kind === 'insn' && x.insn === 30);
    expect(insn30).toMatchObject({ opcode: '7b', asm: '*(u64 *)(r6 -8) = r1' });
    expect(recs.at(-2)).toMatchObject({ kind: 'stats', insnsProcessed: 25 });
    const errors = JSON.parse(kptrscope(['show', '1', '--kind', 'error', '--db', db, '--json']).stdout).programs[0].records;
    expect(errors).toEqual([expect.objectContaining({ kind: 'error', errorClass: 'invalid-mem-access', text: "R6 invalid mem access 'scalar'" })]);
  });

  it('show with a bad run id or program is a usage error (exit 2), one line', () => {
    const a = kptrscope(['show', '99', '--db', db]);
    expect(a.status).toBe(2);
    expect(a.stderr.trim()).toBe('kptrscope: no run 99 in this database (see: kptrscope runs)');
    const b = kptrscope(['show', '1', '--program', 'nope', '--db', db]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/has no program "nope" \(programs: fire_first\)/);
  });
});

describe('bad input', () => {
  const db = join(dir, 'bad.db');
  const good = F('list_push_pop.bpftool.log');

  const write = (name: string, content: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('each bad file gets a one-line error naming the file, no stack trace, exit 1, database unchanged', () => {
    expect(kptrscope(['ingest', good, '--db', db]).status).toBe(0);
    const before = kptrscope(['runs', '--db', db, '--json']).stdout;
    const cases: [string, string[], RegExp][] = [
      ['empty', [write('empty.log', '')], /empty\.log: empty file/],
      ['binary', [write('random.bin', randomBytes(10000))], /random\.bin: binary data/],
      ['btf as log', [F('leak_obj.btf.txt')], /leak_obj\.btf\.txt: this looks like a BTF dump/],
      ['missing', [join(dir, 'nope.log')], /nope\.log: cannot read: ENOENT/],
      ['0-byte BTF', [F('leak_task.bpftool.log'), '--btf', write('zero.btf', '')], /zero\.btf.*empty/i],
      ['BTF garbage', [F('leak_task.bpftool.log'), '--btf', write('garbage.btf', randomBytes(3000))], /garbage\.btf/],
    ];
    for (const [what, args, re] of cases) {
      const r = kptrscope(['ingest', ...args, '--db', db]);
      expect(r.status, what).toBe(1);
      expect(r.stderr, what).toMatch(re);
      expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).not.toMatch(/\n\s+at /);
      expect(r.stdout, what).toBe('');
    }
    expect(kptrscope(['runs', '--db', db, '--json']).stdout).toBe(before);
  });

  it('CRLF line endings: same programs and verdicts as the original', () => {
    const crlf = write('crlf.log', readFileSync(F('use_after_unlock.L2.log'), 'utf8').replace(/\n/g, '\r\n'));
    const a = JSON.parse(kptrscope(['ingest', crlf, '--db', db, '--json']).stdout).runs[0];
    const b = JSON.parse(kptrscope(['ingest', F('use_after_unlock.L2.log'), '--db', db, '--json']).stdout).runs[0];
    expect(a.programs).toEqual(b.programs);
    expect(a.unknownLines).toBe(0);
  });

  it('a log cut in the middle of a line is labelled truncated, its last partial line kept', () => {
    const text = readFileSync(F('rbtree_add_remove.L2.log'), 'utf8');
    const cut = write('cut.log', text.slice(0, Math.floor(text.length / 2) + 7));
    const r = kptrscope(['ingest', cut, '--db', db, '--json']);
    expect(r.status).toBe(0);
    const run = JSON.parse(r.stdout).runs[0];
    expect(run.programs[0]).toMatchObject({ verdict: 'truncated', truncation: 'tail', failInsn: null });
    const shown = JSON.parse(kptrscope(['show', String(run.id), '--db', db, '--json']).stdout);
    const last = shown.programs[0].records.at(-1);
    expect(text.startsWith(readFileSync(cut, 'utf8'))).toBe(true);
    expect(readFileSync(cut, 'utf8').endsWith(last.text)).toBe(true);
  });

  it('an unknown command or flag is a usage error (exit 2)', () => {
    expect(kptrscope(['frobnicate']).status).toBe(2);
    expect(kptrscope(['ingest', '--nope', good]).status).toBe(2);
  });

  it('a log over 4 MB shows a progress bar on stderr, never on stdout', () => {
    // several real captures concatenated (raw kernel text, one program after another)
    const parts = ['use_after_unlock.L2.log', 'list_push_pop.L2.log', 'rbtree_add_remove.L2.log'].map((f) => readFileSync(F(f)));
    const chunks: Buffer[] = [];
    let size = 0;
    while (size < 5 * 1024 * 1024) {
      for (const p of parts) {
        chunks.push(p);
        size += p.length;
      }
    }
    const big = write('big.log', Buffer.concat(chunks));
    const r = kptrscope(['ingest', big, '--db', join(dir, 'progress.db'), '--json'], { KPTRSCOPE_PROGRESS: '1' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/big\.log \[#+\.*\]\s+\d+% \d+ MB/);
    const doc = JSON.parse(r.stdout);
    expect(doc.runs[0].programs.length).toBe(chunks.length);
    expect(doc.runs[0].programs.map((p: { verdict: string }) => p.verdict)).toEqual(chunks.map((_, i) => (i % 3 === 0 ? 'rejected' : 'accepted')));
  });
});
