// Booting tests: real Debian kernels under QEMU and real signals. CI does not boot guests, so these
// run only with KPTRSCOPE_BOOT_TESTS=1 (and qemu-system-x86_64 installed; the first run downloads the
// kernels into the cache, ~180 MB):
//
//   KPTRSCOPE_BOOT_TESTS=1 npx vitest run test/capture/boot.test.ts
//
// They check one object per cached kernel in ≤ 60 s, the --json document, and that SIGINT/SIGTERM
// during a boot leave no QEMU running (the QEMU pid is found as a child of the real process).
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, FIXTURES } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

const ENABLED = process.env.KPTRSCOPE_BOOT_TESTS === '1';
const HAS_QEMU = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
const why = !ENABLED ? 'set KPTRSCOPE_BOOT_TESTS=1 to boot guests' : !HAS_QEMU ? 'qemu-system-x86_64 not installed (apt-get install qemu-system-x86)' : '';
const RUN = join(ROOT, 'src-main', 'hosts', 'cli', 'run-capture.ts');
const OBJ = join(FIXTURES, 'logs', '6.18', 'leak_obj.bpf.o');

function capture(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), RUN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
}

function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(d), comm });
    } catch {
      /* gone */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

describe.skipIf(!ENABLED || !HAS_QEMU)(`booting Debian kernels under QEMU${why ? ` (skipped: ${why})` : ''}`, () => {
  const db = join(tempDir('kptrscope-boot-'), 'cap.db');

  for (const kernel of ['6.1', '6.12']) {
    it(`captures leak_obj on ${kernel}, ≤ 60 s once the kernel is cached`, { timeout: 600_000 }, () => {
      capture([OBJ, '--kernel', kernel, '--db', db]); // warm the cache (download on a first run)
      const t0 = Date.now();
      const r = capture([OBJ, '--kernel', kernel, '--db', db, '--json']);
      const seconds = (Date.now() - t0) / 1000;
      expect(r.status, r.stderr).toBe(0);
      expect(seconds).toBeLessThanOrEqual(60);
      const doc = JSON.parse(r.stdout);
      expect(doc.runs).toHaveLength(1);
      const run = doc.runs[0];
      expect(run.kernel).toMatch(new RegExp(`^${kernel.replace('.', '\\.')}\\.`));
      expect(run.capture).toMatchObject({ kernelSpec: kernel, mode: 'guest', verdict: 'rejected', name: 'leak_obj' });
      expect(existsSync(run.capture.kfuncs)).toBe(true);
      if (kernel === '6.1') {
        expect(run.capture.loaderReason).toBe("extern (func ksym) 'bpf_obj_new_impl': not found in kernel or module BTFs");
      } else {
        expect(run.programs).toEqual([expect.objectContaining({ name: 'leak_sample', verdict: 'rejected', error: 'Unreleased reference id=2 alloc_insn=5', unknownLines: 0 })]);
      }
      expect(r.stderr).toMatch(/capture: \[.*\] guest finished after/);
    });
  }

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} while the guest boots leaves no QEMU running`, { timeout: 120_000 }, async () => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), RUN, OBJ, '--kernel', '6.12', '--db', db, '--accel', 'tcg'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      const deadline = Date.now() + 60_000;
      let qemu: number | undefined;
      while (Date.now() < deadline && qemu === undefined) {
        await new Promise((r) => setTimeout(r, 100));
        if (/booting/.test(stderr)) qemu = childrenOf(child.pid!).find((c) => c.comm.startsWith('qemu-system'))?.pid;
      }
      expect(qemu, stderr).toBeDefined();
      await new Promise((r) => setTimeout(r, 1000)); // mid-boot
      expect(alive(qemu!)).toBe(true);
      child.kill(sig);
      const code = await exited;
      expect(code, stderr).toBe(sig === 'SIGINT' ? 130 : 143);
      expect(stderr).toMatch(new RegExp(`${sig}: stopping the guest`));
      expect(alive(qemu!)).toBe(false);
    });
  }
});
