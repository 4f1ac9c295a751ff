// One real boot of Debian's 7.3 cloud kernel, from an empty cache, through the real CLI: apt-get
// update of the private lists, the 6.19+ split kernel packages (linux-image → linux-binary +
// linux-base, ~15 MB), trixie-backports' bpftool with its own userland (~10 MB), a QEMU guest, and
// the ingest. Unlike boot.test.ts this runs by default wherever the tools are there (it needs network
// to deb.debian.org and takes about a minute; KVM is used when it works, else TCG):
//
//   npx vitest run test/capture/boot-7x.test.ts
//
// Skipped, with the reason printed, when qemu-system-x86_64, a static busybox, gcc,
// /usr/include/bpf/libbpf.h, apt-get/dpkg-deb or Debian's archive keyring are missing, or when
// KPTRSCOPE_BOOT_TESTS=0. `capture --list-kernels --json` is checked in the same file (same
// conditions: it needs the package lists from Debian).
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, LOGS_618, expectedVerdict } from '../helpers/fixtures.ts';
import { isStaticElf } from '../../src-main/capture/tools.ts';

const which = (tool: string): string | null => {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

function skipReason(): string {
  if (process.env.KPTRSCOPE_BOOT_TESTS === '0') return 'KPTRSCOPE_BOOT_TESTS=0';
  if (!which('qemu-system-x86_64')) return 'qemu-system-x86_64 not installed (apt-get install qemu-system-x86)';
  const busybox = which('busybox');
  if (!busybox) return 'busybox not installed (apt-get install busybox-static)';
  if (!isStaticElf(busybox)) return `${busybox} is not the static busybox (apt-get install busybox-static)`;
  if (!which('gcc')) return 'gcc not installed (apt-get install gcc)';
  if (!existsSync('/usr/include/bpf/libbpf.h')) return '/usr/include/bpf/libbpf.h not found (apt-get install libbpf-dev)';
  for (const t of ['apt-get', 'apt-cache', 'dpkg-deb']) if (!which(t)) return `${t} not found (kernels are fetched with apt from Debian's archive)`;
  if (!existsSync('/usr/share/keyrings/debian-archive-keyring.gpg')) return "Debian's archive keyring not found (apt-get install debian-archive-keyring)";
  return '';
}

const why = skipReason();
if (why) console.warn(`test/capture/boot-7x.test.ts: skipped: ${why}`);

/** The 6.18 fixtures' objects: one accepted, two rejected (the same verdicts on 7.3). */
const OBJECTS = ['leak_obj_fixed', 'leak_obj', 'double_drop'];
const RELEASE_RE = /^7\.3\.\d+\+deb\d+-cloud-amd64$/;
const PACKAGE_RE = /^linux-image-7\.3\.\d+\+deb\d+-cloud-amd64$/;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/kptrscope.mjs ARGS` in a child process, killed with SIGTERM (which stops its guest)
 * after `timeoutMs`. */
function kptrscope(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'kptrscope.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[test] no result after ${timeoutMs / 1000} s: SIGTERM\n`;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

interface ListedKernel {
  package: string;
  version: string;
  suite: string | null;
  release: string;
  series: string;
  flavor: string;
  releaseCandidate: boolean;
  cached: boolean;
  pickedBy: string[];
}

describe.skipIf(why !== '')(`Debian 7.3 cloud kernel from an empty cache${why ? ` (skipped: ${why})` : ''}`, () => {
  // Made in beforeAll, not at collection: a skipped suite runs no hooks and would leave it behind.
  let tmp = '';
  let cache = '';
  let out = '';
  let env: NodeJS.ProcessEnv = {};
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kptrscope-boot7x-'));
    cache = join(tmp, 'cache');
    out = join(tmp, 'out');
    env = { KPTRSCOPE_CACHE_DIR: cache };
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('captures an accepted and two rejected objects on --kernel 7.3-cloud with the trixie-backports bpftool', { timeout: 400_000 }, async () => {
    expect(existsSync(cache)).toBe(false);
    const objs = OBJECTS.map((o) => join(LOGS_618, `${o}.bpf.o`));
    const r = await kptrscope(['capture', ...objs, '--kernel', '7.3-cloud', '--out', out, '--db', join(tmp, 'x.db'), '--json'], env, 380_000);
    expect(r.status, r.stderr).toBe(0);
    // It really started from nothing: lists, kernel packages and userland were fetched.
    expect(r.stderr).toMatch(/capture: \[7\.3-cloud\] apt-get update/);
    expect(r.stderr).toMatch(/capture: \[7\.3-cloud\] downloading linux-image-7\.3\.\S+-cloud-amd64=\S+ linux-base-7\.3\.\S+ linux-binary-7\.3\.\S+/);
    expect(r.stderr).toMatch(/capture: \[7\.3-cloud\] fetching the guest userland \(bpftool\/trixie-backports/);
    expect(r.stderr).toMatch(/capture: \[7\.3-cloud\] guest finished after/);

    // capture.json of the fixture layout: <out>/7.3/
    const doc = JSON.parse(readFileSync(join(out, '7.3', 'capture.json'), 'utf8'));
    expect(doc.kernel).toMatch(RELEASE_RE);
    expect(doc).toMatchObject({ spec: '7.3-cloud', mode: 'guest', loader: { userland: 'trixie-backports' } });
    expect(doc.package).toMatch(PACKAGE_RE);
    expect(doc.loader.bpftool).toMatch(/^v7\./);
    expect(doc.loader.libbpf).toMatch(/^v1\./);
    expect(doc.kfuncs.count).toBeGreaterThan(0);
    expect(doc.objects.map((o: { name: string; verdict: string }) => [o.name, o.verdict])).toEqual(OBJECTS.map((o) => [o, expectedVerdict(o)]));
    expect(readFileSync(join(out, '7.3', 'KERNEL'), 'utf8').trim()).toBe(doc.kernel);
    for (const o of OBJECTS) {
      expect(readFileSync(join(out, '7.3', `${o}.verdict`), 'utf8').trim(), o).toBe(expectedVerdict(o));
      expect(readFileSync(join(out, '7.3', `${o}.bpftool.log`), 'utf8'), o).toMatch(/^libbpf: /m);
    }

    // The --json document: one run per object, verdicts as in the .verdict files.
    const json = JSON.parse(r.stdout);
    expect(json.runs).toHaveLength(OBJECTS.length);
    for (const [i, o] of OBJECTS.entries()) {
      const run = json.runs[i];
      expect(run.kernel, o).toMatch(RELEASE_RE);
      expect(run.unknownLines, o).toBe(0);
      expect(run.capture, o).toMatchObject({ kernelSpec: '7.3-cloud', mode: 'guest', name: o, level: 7, verdict: expectedVerdict(o), loader: { userland: 'trixie-backports' } });
      expect(run.capture.release, o).toBe(doc.kernel);
      expect(run.capture.package, o).toMatch(PACKAGE_RE);
      expect(run.programs.length, o).toBeGreaterThan(0);
      for (const p of run.programs) expect(p.verdict, `${o} ${p.name}`).toBe(expectedVerdict(o));
      if (expectedVerdict(o) === 'accepted') {
        expect(run.capture.exitStatus, o).toBe(0);
        expect(run.capture.loaderReason, o).toBeNull();
      } else {
        expect(run.capture.exitStatus, o).not.toBe(0);
        expect(run.capture.loaderReason, o).toMatch(/failed to load/);
      }
    }
    const leak = json.runs[OBJECTS.indexOf('leak_obj')];
    expect(leak.programs).toEqual([expect.objectContaining({ name: 'leak_sample', verdict: 'rejected', error: expect.stringMatching(/^Unreleased reference id=2 alloc_insn=5/) })]);

    // The cache now holds the kernel (image and config only; the .debs are gone) and the userland.
    const pkg = doc.package as string;
    for (const f of ['vmlinuz', 'config', 'kernel.json', 'vmlinux.btf']) expect(existsSync(join(cache, 'kernels', pkg, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(cache, 'kernels', 'index.json'), 'utf8'))).toMatchObject({ '7.3-cloud': pkg });
    expect(readdirSync(join(cache, 'apt', 'download'))).toEqual([]);
    expect(readdirSync(join(cache, 'userland')).filter((d) => !d.includes('.tmp'))).toHaveLength(1);

    // And --list-kernels shows it as cached.
    const l = await kptrscope(['capture', '--list-kernels', '--json'], env, 120_000);
    expect(l.status, l.stderr).toBe(0);
    const listed = JSON.parse(l.stdout) as { kernels: ListedKernel[]; cached: { package: string; version: string; release: string; suite: string | null }[] };
    expect(listed.kernels.find((k) => k.package === pkg)).toMatchObject({ series: '7.3', flavor: 'cloud', releaseCandidate: false, cached: true, suite: 'trixie-backports' });
    expect(listed.kernels.find((k) => k.package === pkg)?.pickedBy).toContain('7.3-cloud');
    expect(listed.cached).toEqual([{ package: pkg, version: doc.version, release: doc.kernel, suite: 'trixie-backports' }]);
  });

  it('capture --list-kernels --json: the 7.3 series is there, `7.3` picks a generic non-rc image', { timeout: 200_000 }, async () => {
    // Reuses the cache of the boot above when it ran (else fetches the lists itself).
    const r = await kptrscope(['capture', '--list-kernels', '--json'], env, 180_000);
    expect(r.status, r.stderr).toBe(0);
    const { kernels } = JSON.parse(r.stdout) as { kernels: ListedKernel[] };
    const s73 = kernels.filter((k) => k.series === '7.3');
    expect(s73.length).toBeGreaterThan(0);
    const generic = s73.filter((k) => k.pickedBy.includes('7.3'));
    expect(generic).toHaveLength(1);
    expect(generic[0]).toMatchObject({ flavor: 'generic', releaseCandidate: false });
    expect(generic[0]?.package).toMatch(/^linux-image-7\.3\.\d+\+deb\d+-amd64$/);
    expect(s73.find((k) => k.pickedBy.includes('7.3-cloud'))?.package).toMatch(PACKAGE_RE);
    // Newest series first; every image is a real amd64 image name.
    expect(kernels[0]?.series.split('.').map(Number)).toEqual(
      kernels.map((k) => k.series.split('.').map(Number)).sort((a, b) => (b[0] as number) - (a[0] as number) || (b[1] as number) - (a[1] as number))[0],
    );
    for (const k of kernels) expect(k.package, k.package).toMatch(/^linux-image-\d+\.\d+\S*-amd64$/);
  });
});
