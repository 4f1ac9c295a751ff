// The real captures from Debian's 6.1 and 6.12 kernels (booted under QEMU by `kptrscope capture`):
// every log is read with no unknown line, each program's verdict is the loader's (.verdict), a load
// that failed before the verifier ran keeps libbpf's reason, and the kfunc tables are sane. Also the
// compare-ready pair: the same objects on 6.12 and on this machine's 6.18.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, PROGS } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';
import { loaderReasonOf } from '../../src-main/capture/loader-reason.ts';

const LOGS = join(FIXTURES, 'logs');
/** The programs captured (capture.json), so a program added to progs/ later does not need a guest. */
function captured(series: string): string[] {
  const cap = JSON.parse(readFileSync(join(LOGS, series, 'capture.json'), 'utf8')) as { objects: { name: string }[] };
  return cap.objects.map((o) => o.name).sort();
}
const PROGRAMS = captured('6.12');

function verdictOf(dir: string, prog: string): string {
  return readFileSync(join(dir, `${prog}.verdict`), 'utf8').trim();
}

/** What the program's source says it should get (`/* accepted: … *\/` or `/* rejected: … *\/`). */
function declared(prog: string): string {
  return /^\/\* (accepted|rejected):/m.exec(readFileSync(join(PROGS, `${prog}.bpf.c`), 'utf8'))?.[1] ?? 'unknown';
}

/**
 * Per kernel: the verdict table of the test programs. 6.12 gives every program the verdict its
 * source declares (as 6.18 does); 6.1 rejects them all: 6.1 has none of the kfuncs they call, except
 * exit_while_locked, which its verifier rejects itself.
 */
const EXPECTED: Record<string, (prog: string) => string> = {
  '6.1': () => 'rejected',
  '6.12': declared,
};

for (const series of ['6.1', '6.12']) {
  const dir = join(LOGS, series);
  describe(`real ${series} captures (Debian kernel under QEMU)`, () => {
    it('has every test program, the guest release and the kfunc table', () => {
      expect(readFileSync(join(dir, 'KERNEL'), 'utf8')).toMatch(new RegExp(`^${series.replace('.', '\\.')}\\.\\d+`));
      for (const p of PROGRAMS) {
        expect(existsSync(join(dir, `${p}.bpftool.log`)), p).toBe(true);
        expect(existsSync(join(dir, `${p}.bpf.o`)), p).toBe(true);
        expect(verdictOf(dir, p), p).toBe(EXPECTED[series]!(p));
      }
      const kf = JSON.parse(readFileSync(join(dir, 'kfuncs.json'), 'utf8'));
      expect(kf.release).toBe(readFileSync(join(dir, 'KERNEL'), 'utf8').trim());
      expect(kf.count).toBe(kf.kfuncs.length);
      const ids = kf.kfuncs.map((k: { id: number }) => k.id);
      expect(ids).toEqual([...ids].sort((a: number, b: number) => a - b));
      const names = new Set(kf.kfuncs.map((k: { name: string }) => k.name));
      if (series === '6.1') {
        // No bpf_kfunc decl tags in 6.1's BTF: every bpf_* FUNC, and the 6.2+ kfuncs are absent.
        expect(kf.exact).toBe(false);
        expect(names.has('bpf_obj_new_impl')).toBe(false);
        expect(names.has('bpf_task_acquire')).toBe(false);
      } else {
        expect(kf.exact).toBe(true);
        for (const n of ['bpf_obj_new_impl', 'bpf_obj_drop_impl', 'bpf_task_acquire', 'bpf_list_push_back_impl', 'bpf_rbtree_add_impl', 'bpf_refcount_acquire_impl']) {
          expect(names.has(n), n).toBe(true);
        }
      }
      const cap = JSON.parse(readFileSync(join(dir, 'capture.json'), 'utf8'));
      expect(cap.kernel).toBe(kf.release);
      expect(cap.objects.map((o: { name: string }) => o.name).sort()).toEqual(PROGRAMS);
      // Every program of progs/ that existed at capture time is there (20 programs at the last capture).
      expect(PROGRAMS.length).toBeGreaterThanOrEqual(19);
      for (const p of PROGRAMS) expect(existsSync(join(PROGS, `${p}.bpf.c`)), p).toBe(true);
    });

    for (const p of PROGRAMS) {
      it(`${p}: every log read with no unknown line, verdict = the loader's`, async () => {
        const expected = verdictOf(dir, p);
        const logs = readdirSync(dir).filter((f) => f.startsWith(`${p}.`) && f.endsWith('.log'));
        expect(logs).toContain(`${p}.bpftool.log`);
        for (const f of logs) {
          const { programs, totals } = await parseFile(join(dir, f));
          expect(totals.unknownLines, f).toBe(0);
          // The kernel never saw a program whose kfuncs it lacks (6.1): unsupported, not rejected.
          const neverLoaded = /not found in kernel or module BTFs/.test(loaderReasonOf(readFileSync(join(dir, f), 'utf8')) ?? '');
          for (const prog of programs) {
            expect(prog.unknownLines, f).toBe(0);
            expect(prog.verdict, `${f} ${prog.name}`).toBe(neverLoaded ? 'unsupported' : expected);
          }
          if (f.endsWith('.bpftool.log') && programs.length > 0) {
            if (p === 'multi_ok') expect(programs.map((x) => x.name)).toEqual(['peek_task', 'scratch_obj', 'keep_note']);
            else expect(programs).toHaveLength(1);
            for (const prog of programs) {
              expect(prog.wrapper).toBe('libbpf');
              if (prog.stats.insnsProcessed !== undefined) expect(prog.logLevel).toBe(7);
            }
          }
        }
      });
    }

    it('a load that failed before the verifier keeps libbpf\'s reason', async () => {
      for (const p of PROGRAMS) {
        const log = readFileSync(join(dir, `${p}.bpftool.log`), 'utf8');
        const { programs } = await parseFile(join(dir, `${p}.bpftool.log`));
        const reason = loaderReasonOf(log);
        if (verdictOf(dir, p) === 'accepted') {
          expect(log).not.toMatch(/failed to load object/);
          continue;
        }
        expect(reason, p).not.toBeNull();
        const verifierRan = log.includes('-- BEGIN PROG LOAD LOG --');
        if (verifierRan) {
          expect(programs.length, p).toBeGreaterThan(0);
          for (const prog of programs) expect(prog.error, p).not.toBeNull();
        } else {
          // 6.1 lacks the kfuncs: libbpf stops at the extern, before any program is loaded.
          expect(reason, p).toMatch(/^extern \(func ksym\) '\w+': not found in kernel or module BTFs$/);
          // Every program the object has is unsupported on this kernel, with that reason.
          expect(programs.length, p).toBeGreaterThan(0);
          for (const prog of programs) {
            expect(prog.verdict).toBe('unsupported');
            expect(prog.loaderError).toBe(reason);
          }
        }
      }
    });
  });
}

describe('6.1: which programs reach the verifier', () => {
  it('only exit_while_locked needs no kfunc and is rejected by the 6.1 verifier itself', async () => {
    const dir = join(LOGS, '6.1');
    const reached = PROGRAMS.filter((p) => readFileSync(join(dir, `${p}.bpftool.log`), 'utf8').includes('-- BEGIN PROG LOAD LOG --'));
    expect(reached).toEqual(['exit_while_locked']);
    const { programs } = await parseFile(join(dir, 'exit_while_locked.bpftool.log'));
    expect(programs[0]!.error).toBe('bpf_spin_unlock is missing');
  });
});

describe('compare-ready pair: the same objects on 6.12 and 6.18', () => {
  for (const p of PROGRAMS) {
    it(`${p}: same object, same program names, both logs complete`, async () => {
      const a = join(LOGS, '6.12');
      const b = join(LOGS, '6.18');
      expect(readFileSync(join(a, `${p}.bpf.o`))).toEqual(readFileSync(join(b, `${p}.bpf.o`)));
      const x = await parseFile(join(a, `${p}.bpftool.log`));
      const y = await parseFile(join(b, `${p}.bpftool.log`));
      expect(x.programs.map((q) => q.name)).toEqual(y.programs.map((q) => q.name));
      for (const q of [...x.programs, ...y.programs]) {
        expect(q.truncation).toBeNull();
        expect(q.stats.insnsProcessed).toBeGreaterThan(0);
      }
    });
  }

  it('the verdicts agree on 6.12 and 6.18 except where the kernels differ', () => {
    const differ = PROGRAMS.filter((p) => verdictOf(join(LOGS, '6.12'), p) !== verdictOf(join(LOGS, '6.18'), p));
    expect(differ).toEqual([]);
  });
});
