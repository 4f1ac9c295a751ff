// Every real capture of every release (6.1, 6.12, 6.18, 7.2, 7.3) through the streaming parser:
// no unknown line, the kernel's own verdict (the .verdict file), error text that is only the error
// (no statistics or diagnostic-block lines), and each release's own statistics grammar: 6.18's
// `stack depth A+B`, 7.2's `stack depth A+B max M` + `insns processed A+B`, 7.3's `stack depth max M`
// + one `subprog N (name) kind …` line per subprogram; 7.x's level-2 analysis pre-walk, and 7.3's
// `Verification failed:` diagnostic blocks read into data.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, PROGS, programOf } from '../helpers/fixtures.ts';
import { parseFile, type Parsed } from '../helpers/parse.ts';
import type { ProgramSummary } from '../../src-main/domain/log/program-state.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';

const RELEASES = ['6.1', '6.12', '6.18', '7.2', '7.3'] as const;
type Release = (typeof RELEASES)[number];
const DIR = (r: Release) => join(FIXTURES, 'logs', r);
/** The complete captures: bpftool -d logs and the raw kernel logs at level 1, 2, 4, 7. */
const LOG_RE = /\.(bpftool|each|L\d)\.log$/;
const is7x = (r: Release) => r.startsWith('7.');

function logsOf(r: Release): string[] {
  return readdirSync(DIR(r))
    .filter((f) => LOG_RE.test(f))
    .sort();
}

const cache = new Map<string, Promise<Parsed>>();
function parsed(r: Release, file: string): Promise<Parsed> {
  const path = join(DIR(r), file);
  let p = cache.get(path);
  if (!p) {
    p = parseFile(path);
    cache.set(path, p);
  }
  return p;
}
const textOf = (r: Release, file: string) => readFileSync(join(DIR(r), file), 'utf8');
const verdictOf = (r: Release, prog: string) => readFileSync(join(DIR(r), `${prog}.verdict`), 'utf8').trim();

/** The statistics / 7.3 diagnostic lines that must never be read as error text. */
const NOT_ERROR_TEXT: readonly RegExp[] = [/stack depth/, /subprog \d+ \(/, /insns processed/, /Verification failed/, /processed \d+ insns/];

function recordsOfProgram(records: LogRecord[], p: ProgramSummary): LogRecord[] {
  return records.filter((x) => x.program === p.index);
}

/** The program source (test/fixtures/progs or progs/7x) of a capture. */
/** A program's source with the local headers it includes ("qdisc_fq.h"), where its functions live too. */
function sourceOf(prog: string): string {
  for (const p of [join(PROGS, `${prog}.bpf.c`), join(PROGS, '7x', `${prog}.bpf.c`)]) {
    if (!existsSync(p)) continue;
    const src = readFileSync(p, 'utf8');
    const headers = [...src.matchAll(/^#include "([\w.]+\.h)"/gm)].map((m) => join(p, '..', m[1] as string)).filter((h) => existsSync(h));
    return [src, ...headers.map((h) => readFileSync(h, 'utf8'))].join('\n');
  }
  throw new Error(`no source for ${prog}`);
}

/** How the source defines a subprogram: `static …name(` at the start of a line is static, else global. */
function kindInSource(src: string, name: string): 'static' | 'global' | null {
  const m = new RegExp(`^(static\\s+)?[A-Za-z_][\\w\\s*]*?\\b${name}\\s*\\(`, 'm').exec(src);
  if (!m) return null;
  return m[1] ? 'static' : 'global';
}

describe.each(RELEASES)('real %s captures', (release) => {
  const files = logsOf(release);

  it('has the captures of this release', () => {
    expect(readFileSync(join(DIR(release), 'KERNEL'), 'utf8').trim().startsWith(`${release}.`)).toBe(true);
    const bpftool = files.filter((f) => f.endsWith('.bpftool.log'));
    expect(bpftool.length).toBeGreaterThanOrEqual(24);
    // The 7.x-only programs are captured on 7.x only.
    expect(bpftool.includes('list_ops.bpftool.log')).toBe(is7x(release));
    expect(bpftool.includes('list_del_leak.bpftool.log')).toBe(is7x(release));
    // Every log of the directory is either a complete capture read here or one of 6.18's real truncated buffers.
    const others = readdirSync(DIR(release)).filter((f) => f.endsWith('.log') && !LOG_RE.test(f));
    for (const f of others) expect(f).toMatch(/\.(rotated|fixed-trunc)\.log$/);
  });

  for (const file of files) {
    const prog = programOf(file);
    const bpftool = file.endsWith('.bpftool.log');
    it(`${file}: every line typed, the kernel's verdict, error text without statistics or diagnostic lines`, async () => {
      const { programs, totals, records } = await parsed(release, file);
      expect(programs.length).toBeGreaterThan(0);
      expect(records.filter((x) => x.kind === 'unknown').map((x) => `${x.line}: ${x.text}`)).toEqual([]);
      expect(totals.unknownLines).toBe(0);
      for (const p of programs) expect(p.unknownLines, p.name).toBe(0);

      // An object fails to load when any of its programs is rejected — or, when the kernel lacks
      // what it needs (6.1: no local-object kfuncs), when none could even be attempted (unsupported).
      // A program after the rejected one never reached the kernel: not-loaded, blocked by it.
      const expected = verdictOf(release, prog);
      const verdicts = programs.map((p) => p.verdict);
      if (expected === 'accepted') expect(verdicts.every((v) => v === 'accepted'), verdicts.join(',')).toBe(true);
      else {
        expect(expected).toBe('rejected');
        if (verdicts.includes('unsupported')) expect(new Set(verdicts), verdicts.join(',')).toEqual(new Set(['unsupported']));
        else expect(verdicts, verdicts.join(',')).toContain('rejected');
        for (const v of verdicts) expect(['accepted', 'rejected', 'not-loaded', 'unsupported']).toContain(v);
        for (const p of programs.filter((x) => x.verdict === 'not-loaded')) {
          expect(programs.find((x) => x.name === p.blockedBy)?.verdict, `${p.name} blocked by ${p.blockedBy}`).toBe('rejected');
        }
        for (const p of programs.filter((x) => x.verdict === 'unsupported')) expect(p.loaderError, p.name).toMatch(/not found in kernel|not found in kernel BTF|failed/);
      }

      for (const p of programs) {
        if (p.verdict === 'rejected') expect(p.error, p.name).not.toBeNull();
        for (const line of (p.error ?? '').split('\n')) {
          for (const re of NOT_ERROR_TEXT) expect(line, `${p.name}: error line "${line}"`).not.toMatch(re);
        }
      }

      // The loader's "Error loading .BTF into kernel" is what marks a refused BTF (libbpf only).
      const refused = bpftool && /libbpf: Error loading \.BTF into kernel: /.test(textOf(release, file));
      for (const p of programs) expect(p.btfRefused, p.name).toBe(refused);
    });
  }

  it('level-2 logs have the 7.x analysis pre-walk (topo_order, subprog#N listings) only on 7.x', async () => {
    const l2 = files.filter((f) => f.endsWith('.L2.log'));
    if (release === '6.1') expect(l2).toEqual(['exit_while_locked.L2.log']);
    else expect(l2.length).toBeGreaterThanOrEqual(10);
    for (const f of l2) {
      const { records } = await parsed(release, f);
      const analysis = records.filter((x) => x.kind === 'analysis');
      if (is7x(release)) {
        expect(analysis.length, f).toBeGreaterThan(0);
        expect(analysis.map((x) => x.kind === 'analysis' && x.section), f).toContain('topo-order');
      } else {
        expect(analysis, f).toEqual([]);
      }
    }
  });

  it("bpftool logs: this release's statistics lines read into stats", async () => {
    const verified = [];
    for (const f of files.filter((x) => x.endsWith('.bpftool.log'))) {
      const { programs, records } = await parsed(release, f);
      for (const p of programs) {
        // 6.1's loader gives up before the verifier for most programs: nothing to read.
        if (p.stats.insnsProcessed === undefined) continue;
        verified.push(`${f}:${p.name}`);
        const st = p.stats;
        const funcs = recordsOfProgram(records, p).filter((x) => x.kind === 'func-info').length;
        const where = `${f} ${p.name}: ${JSON.stringify(st)}`;
        expect(funcs, where).toBeGreaterThan(0);
        expect(Array.isArray(st.stackDepth), where).toBe(true);
        for (const d of st.stackDepth!) expect(Number.isInteger(d) && d >= 0, where).toBe(true);
        expect(st.stackDepth!.length, where).toBe(funcs);
        if (release === '7.3') {
          expect(typeof st.stackDepthMax, where).toBe('number');
          const subs = st.subprogs!;
          expect(subs, where).toHaveLength(funcs);
          expect(subs.map((s) => s.index), where).toEqual(subs.map((_, i) => i));
          // Without the object's BTF (refused) the kernel knows no function names: `subprog 0 (<unknown>)`.
          expect(subs[0], where).toMatchObject({ index: 0, name: p.btfRefused ? '<unknown>' : p.name, kind: 'main' });
          for (const s of subs.slice(1)) expect(s.kind, `${where} ${s.name}`).not.toBe('main');
          for (const s of subs) expect(s.insnsTotal, `${where} ${s.name}`).toBeGreaterThanOrEqual(s.insnsSelf);
          expect(st.stackDepth, where).toEqual(subs.map((s) => s.stack));
          expect(st.insnsTotals, where).toBeUndefined();
          // The subprogram kinds are the sources' own: `static` functions are static, others global.
          const src = sourceOf(programOf(f));
          for (const s of subs.slice(1)) expect(s.kind, `${where} ${s.name}`).toBe(kindInSource(src, s.name));
          if (!p.btfRefused) expect(subs.map((s) => s.name), where).not.toContain('<unknown>');
        } else if (release === '7.2') {
          expect(typeof st.stackDepthMax, where).toBe('number');
          expect(Array.isArray(st.insnsTotals) && st.insnsTotals.length > 0, where).toBe(true);
          for (const n of st.insnsTotals!) expect(Number.isInteger(n) && n > 0, where).toBe(true);
          expect(st.subprogs, where).toBeUndefined();
        } else {
          expect(st.stackDepthMax, where).toBeUndefined();
          expect(st.insnsTotals, where).toBeUndefined();
          expect(st.subprogs, where).toBeUndefined();
        }
      }
    }
    expect(verified.length).toBeGreaterThan(release === '6.1' ? 0 : 25);
  });

  if (release !== '7.3') {
    it('no log has a kernel diagnostic block (those are 7.3+)', async () => {
      for (const f of files) {
        const { programs, records } = await parsed(release, f);
        expect(records.filter((x) => x.kind === 'diagnostic'), f).toEqual([]);
        for (const p of programs) expect(p.kernelDiagnostics, `${f} ${p.name}`).toEqual([]);
      }
    });
  }
});

describe('7.3: subprog_ok statistics, one line per subprogram', () => {
  it('main hand_off, then its static subprograms consume_task and is_kthread, as in the source', async () => {
    const src = readFileSync(join(PROGS, 'subprog_ok.bpf.c'), 'utf8');
    expect(kindInSource(src, 'consume_task')).toBe('static');
    expect(kindInSource(src, 'is_kthread')).toBe('static');
    const { programs } = await parsed('7.3', 'subprog_ok.bpftool.log');
    const st = programs[0]!.stats;
    expect(st.subprogs!.map((s) => [s.index, s.name, s.kind])).toEqual([
      [0, 'hand_off', 'main'],
      [1, 'consume_task', 'static'],
      [2, 'is_kthread', 'static'],
    ]);
    // The log's own figures: `subprog 0 (hand_off) main insns_self 14 insns_total 37 stack 0`, …
    const lines = textOf('7.3', 'subprog_ok.bpftool.log').split('\n').filter((l) => /^subprog \d+ \(/.test(l));
    expect(lines).toHaveLength(3);
    lines.forEach((l, i) => {
      const m = /insns_self (\d+) insns_total (\d+) stack (\d+)$/.exec(l)!;
      expect(st.subprogs![i]).toMatchObject({ insnsSelf: Number(m[1]), insnsTotal: Number(m[2]), stack: Number(m[3]) });
    });
    expect(st.stackDepthMax).toBe(Number(/^stack depth max (\d+)$/m.exec(textOf('7.3', 'subprog_ok.bpftool.log'))![1]));
  });
});

const ALLOWED_EVENT_KINDS = ['acquired', 'released', 'branch', 'update', 'spilled', 'invalidated', 'context', 'note'];
const LOG_KINDS = ['bpftool', 'L1', 'L2', 'L7'] as const;

/** `Unreleased reference id=N alloc_insn=M` lines of a log, in order. */
function unreleased(text: string): { id: number; allocInsn: number }[] {
  return [...text.matchAll(/^Unreleased reference id=(\d+) alloc_insn=(\d+)$/gm)].map((m) => ({ id: Number(m[1]), allocInsn: Number(m[2]) }));
}

describe("7.3: the kernel's diagnostic blocks as data", () => {
  it.each(LOG_KINDS)('leak_obj.%s.log: one Resource Lifetime Safety block, acquired at the alloc insn, at the failing exit', async (kind) => {
    const file = `leak_obj.${kind}.log`;
    const { programs } = await parsed('7.3', file);
    const p = programs[0]!;
    expect(p.verdict).toBe('rejected');
    expect(p.failInsn).not.toBeNull();
    const refs = unreleased(textOf('7.3', file));
    expect(refs).toHaveLength(1);
    expect(p.kernelDiagnostics).toHaveLength(1);
    const d = p.kernelDiagnostics[0]!;
    expect(d.category).toBe('Resource Lifetime Safety');
    expect(d.title).toBe('Unreleased resource');
    expect(d.at?.insn).toBe(p.failInsn);
    expect(d.causalPath.length).toBeGreaterThan(0);
    expect(d.causalPath[0]).toMatchObject({ kind: 'acquired', insn: refs[0]!.allocInsn });
    expect(d.causalPath[0]!.text).toContain(`id=${refs[0]!.id}`);
  });

  it.each(LOG_KINDS)('leak_two.%s.log: two blocks, one per unreleased reference, in log order', async (kind) => {
    const file = `leak_two.${kind}.log`;
    const { programs } = await parsed('7.3', file);
    const p = programs[0]!;
    const refs = unreleased(textOf('7.3', file));
    expect(refs).toHaveLength(2);
    expect(p.kernelDiagnostics).toHaveLength(2);
    expect(p.kernelDiagnostics.map((d) => d.causalPath[0]?.kind)).toEqual(['acquired', 'acquired']);
    expect(p.kernelDiagnostics.map((d) => d.causalPath[0]?.insn)).toEqual(refs.map((r) => r.allocInsn));
    expect(p.kernelDiagnostics[0]!.firstLine).toBeLessThan(p.kernelDiagnostics[1]!.firstLine);
    for (const d of p.kernelDiagnostics) {
      expect(d).toMatchObject({ category: 'Resource Lifetime Safety', title: 'Unreleased resource' });
      expect(d.at?.insn).toBe(p.failInsn);
    }
  });

  it.each(LOG_KINDS)("double_drop.%s.log: the block's category is Call Type Safety", async (kind) => {
    const { programs } = await parsed('7.3', `double_drop.${kind}.log`);
    const p = programs[0]!;
    expect(p.kernelDiagnostics).toHaveLength(1);
    expect(p.kernelDiagnostics[0]!.category).toBe('Call Type Safety');
    expect(p.kernelDiagnostics[0]!.at?.insn).toBe(p.failInsn);
  });

  it('every log: accepted programs have no block; a program whose lines have "Verification failed:" has one block per header, each well formed', async () => {
    let withBlocks = 0;
    for (const f of logsOf('7.3')) {
      const lines = textOf('7.3', f).split('\n');
      const { programs, records } = await parsed('7.3', f);
      // Each header line is read as a diagnostic header record.
      const headerRecords = records.filter((x) => x.kind === 'diagnostic' && x.part === 'header');
      expect(headerRecords.map((x) => x.text), f).toEqual(lines.filter((l) => l.startsWith('Verification failed:')));
      for (const p of programs) {
        const where = `${f} ${p.name}`;
        const own = p.lines === 0 ? [] : lines.slice(p.firstLine - 1, p.lastLine);
        const headers = own.filter((l) => l.startsWith('Verification failed:')).length;
        expect(p.kernelDiagnostics.length, where).toBe(headers);
        if (p.verdict === 'accepted') expect(p.kernelDiagnostics, where).toEqual([]);
        if (headers > 0) {
          withBlocks += 1;
          expect(p.verdict, where).toBe('rejected');
          expect(p.kernelDiagnostics.length, where).toBeGreaterThanOrEqual(1);
        }
        for (const d of p.kernelDiagnostics) {
          const at = `${where}: ${d.category}: ${d.title}`;
          expect(d.category, at).not.toBeNull();
          expect(d.category, at).not.toBe('');
          expect(Array.isArray(d.causalPath), at).toBe(true);
          for (const e of d.causalPath) expect(ALLOWED_EVENT_KINDS, `${at}: event ${JSON.stringify(e)}`).toContain(e.kind);
          expect(d.extra, at).toEqual([]);
          expect(d.firstLine >= p.firstLine && d.lastLine <= p.lastLine, at).toBe(true);
        }
      }
    }
    // 10 rejected programs print a block, in 4 captures each (bpftool, L1, L2, L7).
    expect(withBlocks).toBeGreaterThanOrEqual(40);
  });
});
