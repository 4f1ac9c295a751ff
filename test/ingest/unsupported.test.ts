// Real captures on this machine's 6.18 of programs it cannot load (test/fixtures/unsupported/6.18:
// a bpf qdisc and a sched_ext scheduler; the kernel has neither). Every program is `unsupported`
// with the loader's or kernel's reason — never `rejected` as if the verifier had judged it — and the
// matrix against their real 7.3 captures names the feature, noting that 6.18 was built without it.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const U = join(FIXTURES, 'unsupported', '6.18');
const L73 = join(FIXTURES, 'logs', '7.3');
const dir = tempDir('kptrscope-unsupported-');

describe('programs this kernel cannot load', () => {
  it('a sched_ext scheduler on a kernel without sched_ext: ENOTSUPP after 0 instructions is unsupported, per program', async () => {
    const { programs, totals } = await parseFile(join(U, 'scx_deadline.each.log'));
    expect(totals.unknownLines).toBe(0);
    expect(programs.map((p) => p.name)).toEqual(['dl_enqueue', 'dl_dispatch', 'dl_running', 'dl_stopping', 'dl_init_task', 'dl_exit', 'dl_init']);
    for (const p of programs) {
      expect(p.verdict, p.name).toBe('unsupported');
      expect(p.failInsn, p.name).toBeNull();
      expect(p.loaderError, p.name).not.toMatch(/not loaded/);
    }
    for (const p of programs.slice(0, 6)) expect(p.loaderError, p.name).toMatch(/ENOTSUPP/);
  });

  it('a qdisc whose BTF the kernel refuses: unsupported with that reason', async () => {
    const { programs } = await parseFile(join(U, 'qdisc_fifo.bpftool.log'));
    expect(programs.length).toBe(5);
    for (const p of programs) {
      expect(p.verdict, p.name).toBe('unsupported');
      expect(p.loaderError, p.name).toBe("Error loading .BTF into kernel: -2. BTF is mandatory, can't proceed.");
    }
  });

  it('the matrix 6.18 → 7.3 names the feature (qdisc since 6.16, sched_ext since 6.12) and that 6.18 lacks it', () => {
    const r = kptrscope(['matrix', join(U, 'qdisc_fifo.bpftool.log'), join(L73, 'qdisc_fifo.bpftool.log'), join(U, 'scx_deadline.each.log'), join(L73, 'scx_deadline.bpftool.log'), '--db', join(dir, 'm.db'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { kernels: string[]; programs: { object: string; name: string; cells: Record<string, { verdict: string }>; differences: { from: string; to: string; insn: number | null; rule: string | null; since: string | null; explanation: string }[] }[] };
    expect(m.kernels).toEqual(['6.18', '7.3']);
    expect(readFileSync(join(U, 'KERNEL'), 'utf8')).toMatch(/^6\.18\./);
    const enq = m.programs.find((p) => p.name === 'tailq_enqueue')!;
    expect(enq.cells['6.18']!.verdict).toBe('unsupported');
    expect(enq.cells['7.3']!.verdict).toBe('accepted');
    expect(enq.differences).toEqual([{ from: '6.18', to: '7.3', insn: null, rule: 'qdisc', since: '6.16', explanation: expect.stringContaining('built without it') }]);
    const dl = m.programs.find((p) => p.name === 'dl_enqueue')!;
    expect(dl.differences).toEqual([{ from: '6.18', to: '7.3', insn: null, rule: 'sched_ext', since: '6.12', explanation: expect.stringContaining('ENOTSUPP') }]);
    // Every program of both objects changes verdict, and every change is explained.
    const all = m.programs.flatMap((p) => p.differences);
    expect(all.length).toBe(m.programs.length);
    for (const d of all) expect(d.rule).not.toBeNull();
  });
});
