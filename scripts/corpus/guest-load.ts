// Selftests corpus, the guest half (called by scripts/corpus/build-corpus.sh for a release other
// than the running kernel's, e.g. 7.3): the kernel comes from the capture cache (a Debian image
// booted under QEMU), the loads run inside it.
//
//   node bin/run-ts.mjs scripts/corpus/guest-load.ts vmlinux-h --kernel SPEC --out FILE --info FILE
//   node bin/run-ts.mjs scripts/corpus/guest-load.ts load --kernel SPEC --work DIR --loader FILE
//        [--guests N] [--memory MB] [--timeout S] [--accel auto|kvm|tcg]
//
// vmlinux-h: vmlinux.h of the guest kernel WITH kfunc prototypes (the 7.x selftests' headers need
// them), as scripts/capture-7x.ts makes it: the kernel's BTF as the capture service keeps it in the
// kernel cache (<cache>/kernels/<pkg>/vmlinux.btf; when missing, one capture of a fixture object
// boots the guest once to fetch it), dumped by the guest userland's bpftool (Debian
// trixie-backports, capture/guest-userland.ts) through that userland's own ld-linux. --info gets
// {package, version, release, bpftool} as JSON.
//
// load: the equivalent of build-corpus.sh's host load step. Reads WORK/jobs.txt (lines
// "FAMILY PROG TAG LEVEL") and WORK/obj/FAMILY.bpf.o, boots N guests (default 1; families split
// between them by size) with an initramfs of busybox, the loader (scripts/loader.c +
// autoload-shim.c, linked fully static against the selftests' own libbpf: the guest needs no
// library) and the objects, whose /init runs, for every job,
//   loader FAMILY.bpf.o --prog PROG --level LEVEL > PROG.TAG.log 2> PROG.TAG.err
// (a fresh process and bpf_object per program and level: every program alone, the others' autoload
// off) and sends each family's logs back as one tar.gz over the capture's serial protocol
// (init-script.ts protocolShell, serial-demux.ts). They land in WORK/raw/FAMILY/ exactly as the host
// load writes them. Families that did not come back (a guest that timed out or died) are retried
// once in a fresh guest; still missing → exit 1. WORK/guest.json records the guest (uname -r, accel,
// memory, seconds).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { captureObjects } from '../../src-main/capture/capture-objects.ts';
import { cpioArchive, type CpioEntry } from '../../src-main/capture/cpio.ts';
import { ensureUserland } from '../../src-main/capture/guest-userland.ts';
import { treeEntries, type GuestFile } from '../../src-main/capture/initramfs.ts';
import { guestPreamble, MARK } from '../../src-main/capture/init-script.ts';
import { defaultCacheDir, KernelCache, type CachedKernel } from '../../src-main/capture/kernel-cache.ts';
import { DEFAULT_APPEND, runGuest, type Accel } from '../../src-main/capture/qemu.ts';
import { SerialDemux } from '../../src-main/capture/serial-demux.ts';
import { findTool, isStaticElf, REPO_ROOT } from '../../src-main/capture/tools.ts';
import { gzipSync } from 'node:zlib';

const say = (m: string) => process.stderr.write(`guest-load: ${m}\n`);
function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
function need(name: string): string {
  const v = arg(name);
  if (!v) {
    say(`missing ${name} (see the header of scripts/corpus/guest-load.ts)`);
    process.exit(2);
  }
  return v;
}

const cmd = process.argv[2];
const spec = need('--kernel');
const cacheDir = defaultCacheDir();
const cache = new KernelCache(cacheDir, (m) => say(`[${spec}] ${m}`));


// ------------------------------------------------------------------------------- vmlinux.h
async function vmlinuxH(): Promise<void> {
  const out = need('--out');
  const info = arg('--info');
  const k = await cache.ensureKernel(spec);
  const btf = join(k.dir, 'vmlinux.btf');
  if (!existsSync(btf)) {
    say(`no vmlinux BTF of ${k.package} in the cache yet: one capture to fetch it`);
    await captureObjects({
      objects: [join(REPO_ROOT, 'test', 'fixtures', 'logs', '7.3', 'leak_obj.bpf.o')],
      kernels: [spec],
      level: 7,
      cacheDir,
      memoryMb: 1024,
      progress: say,
    });
    if (!existsSync(btf)) throw new Error(`${btf}: still missing after the capture`);
  }
  const u = ensureUserland(cache, say);
  const lib = join(u.dir, 'usr', 'lib', 'x86_64-linux-gnu');
  const run = (args: string[]) => {
    const r = spawnSync(join(lib, 'ld-linux-x86-64.so.2'), ['--library-path', lib, join(u.dir, 'usr', 'sbin', 'bpftool'), ...args], { maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`bpftool ${args.join(' ')}: ${String(r.stderr).trim()}`);
    return r.stdout;
  };
  const header = run(['btf', 'dump', 'file', btf, 'format', 'c']);
  const kfuncs = (header.toString('latin1').match(/ __weak __ksym;$/gm) ?? []).length;
  if (kfuncs === 0) throw new Error('the guest userland\'s bpftool printed no kfunc prototypes (bpftool >= 7.5 is needed)');
  writeFileSync(out, header);
  const bpftool = run(['version']).toString('utf8').split('\n').slice(0, 2).join(', ');
  const k2 = cache.cached(k.package) ?? k;
  say(`vmlinux.h from ${k2.package}'s BTF: ${(header.length / 1e6).toFixed(1)} MB, ${kfuncs} kfunc prototypes (${bpftool}, Debian ${u.versions.bpftool ?? '?'})`);
  if (info) {
    writeFileSync(
      info,
      JSON.stringify({ package: k2.package, version: k2.version, release: k2.release, suite: k2.suite, bpftool: `${bpftool} (Debian ${u.versions.bpftool ?? '?'}, guest userland)` }, null, 2) + '\n',
    );
  }
}

// ------------------------------------------------------------------------------------ load
interface Job {
  family: string;
  prog: string;
  tag: string;
  level: number;
}

async function load(): Promise<void> {
  const work = resolve(need('--work'));
  const loader = resolve(need('--loader'));
  const guests = Math.max(1, Number(arg('--guests', '1')));
  const memoryMb = Math.max(1024, Number(arg('--memory', '2048')));
  const timeoutArg = arg('--timeout');
  const accelArg = arg('--accel', 'auto') as 'auto' | Accel;
  if (!isStaticElf(loader)) throw new Error(`${loader}: the guest loader must be linked static (the initramfs has no libraries)`);
  const jobs: Job[] = readFileSync(join(work, 'jobs.txt'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [family = '', prog = '', tag = '', level = ''] = l.split(' ');
      return { family, prog, tag, level: Number(level) };
    });
  for (const j of jobs) {
    if (!/^[A-Za-z0-9_]+$/.test(j.family) || !/^[A-Za-z0-9_]+$/.test(j.prog) || !/^L\d$/.test(j.tag) || !Number.isInteger(j.level)) {
      throw new Error(`jobs.txt: bad line "${j.family} ${j.prog} ${j.tag} ${j.level}"`);
    }
  }
  const byFamily = new Map<string, Job[]>();
  for (const j of jobs) byFamily.set(j.family, [...(byFamily.get(j.family) ?? []), j]);
  if (byFamily.size === 0) {
    say('no loads to run');
    writeFileSync(join(work, 'guest.json'), JSON.stringify({ loads: 0 }, null, 2) + '\n');
    return;
  }
  const kernel = await cache.ensureKernel(spec);
  const qemu = findTool('qemu-system-x86_64', 'to boot the guest kernel');
  const busybox = findTool('busybox', 'as the guest shell (a static busybox)');
  if (!isStaticElf(busybox)) throw new Error(`${busybox}: not static; apt-get install busybox-static`);
  const accel = chooseAccel(accelArg);
  const t0 = Date.now();
  let pending = [...byFamily.keys()];
  const got = new Set<string>();
  let release = '';
  const runs: { guest: number; families: number; loads: number; seconds: number; end: string }[] = [];
  for (let round = 0; round < 2 && pending.length > 0; round++) {
    const groups = split(pending, byFamily, work, guests);
    if (round > 0) say(`retrying ${pending.length} families that did not come back: ${pending.join(' ')}`);
    const results = await Promise.all(
      groups.map((fams, gi) =>
        bootOne(gi, fams, byFamily, { work, loader, busybox, qemu, kernel, memoryMb, accel, ...(timeoutArg ? { timeoutSec: Number(timeoutArg) } : {}) }),
      ),
    );
    for (const r of results) {
      runs.push(r.run);
      if (r.release) release = r.release;
      for (const f of r.families) got.add(f);
    }
    pending = pending.filter((f) => !got.has(f));
  }
  const seconds = Math.round((Date.now() - t0) / 1000);
  if (release) cache.setRelease(kernel, release);
  writeFileSync(
    join(work, 'guest.json'),
    JSON.stringify({ kernel: release || kernel.release, package: kernel.package, version: kernel.version, accel, memoryMb, guests, seconds, runs }, null, 2) + '\n',
  );
  if (pending.length > 0) {
    say(`no logs came back for: ${pending.join(' ')} (see ${work}/guest-*.console.log)`);
    process.exit(1);
  }
  say(`${jobs.length} loads of ${byFamily.size} families in ${seconds} s on ${release} (${accel})`);
}

function chooseAccel(want: 'auto' | Accel): Accel {
  if (want !== 'auto') return want;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  try {
    const s = JSON.parse(readFileSync(join(cacheDir, 'accel.json'), 'utf8')) as { kvm?: string };
    if (s.kvm === 'broken') return 'tcg';
  } catch {
    /* no record: try KVM */
  }
  return 'kvm';
}

/** Families over `n` guests, largest first onto the lightest guest (weight: loads + insns/200). */
function split(fams: string[], byFamily: Map<string, Job[]>, work: string, n: number): string[][] {
  const weight = (f: string): number => {
    const rows = existsSync(join(work, 'raw', f, 'progs.tsv')) ? readFileSync(join(work, 'raw', f, 'progs.tsv'), 'utf8').split('\n').filter(Boolean) : [];
    const insns = rows.reduce((a, r) => a + Number(r.split('\t')[5] ?? 0), 0);
    return (byFamily.get(f)?.length ?? 0) + insns / 200;
  };
  const groups = Array.from({ length: Math.min(n, fams.length) }, () => ({ fams: [] as string[], w: 0 }));
  for (const f of [...fams].sort((a, b) => weight(b) - weight(a))) {
    const g = groups.reduce((a, b) => (b.w < a.w ? b : a));
    g.fams.push(f);
    g.w += weight(f);
  }
  // keep the build's family order inside each guest
  return groups.map((g) => fams.filter((f) => g.fams.includes(f)));
}

const GUEST_LOADER = '/usr/bin/corpus-load';

/** The guest's /init: the capture protocol, then every job of every family, one tar.gz per family. */
export function corpusInit(families: string[], byFamily: Map<string, Job[]>, watchdogSec: number): string {
  const L = [
    ...guestPreamble({ name: 'corpus', generator: 'scripts/corpus/guest-load.ts', purpose: 'load every selftests program alone at each level' }, watchdogSec),
    `ld() { ${GUEST_LOADER} "$1.bpf.o" --prog "$2" --level "$4" > "/tmp/r/$1/$2.$3.log" 2> "/tmp/r/$1/$2.$3.err"; }`,
    'cd /objs',
  ];
  families.forEach((f, i) => {
    const jobs = byFamily.get(f) ?? [];
    L.push(`say STEP ${i + 1}/${families.length} ${f}: ${jobs.length} loads`, `mkdir -p /tmp/r/${f}`);
    for (const j of jobs) L.push(`ld ${j.family} ${j.prog} ${j.tag} ${j.level}`);
    L.push(`tar -cf - -C /tmp/r ${f} | gzip > /tmp/${f}.tgz`, `emit ${f}.tgz /tmp/${f}.tgz`, `rm -rf /tmp/r/${f} /tmp/${f}.tgz`);
  });
  L.push('say DONE', 'sync', 'poweroff -f', '');
  return L.join('\n');
}

interface BootOpts {
  work: string;
  loader: string;
  busybox: string;
  qemu: string;
  kernel: CachedKernel;
  memoryMb: number;
  accel: Accel;
  timeoutSec?: number;
}

async function bootOne(
  gi: number,
  families: string[],
  byFamily: Map<string, Job[]>,
  o: BootOpts,
): Promise<{ families: string[]; release: string | null; run: { guest: number; families: number; loads: number; seconds: number; end: string } }> {
  const loads = families.reduce((a, f) => a + (byFamily.get(f)?.length ?? 0), 0);
  // TCG here: ~10 s to boot, ~7 loads a second; the default leaves a wide margin for slower hosts
  const timeoutSec = o.timeoutSec ?? (o.accel === 'kvm' ? 300 + loads : 600 + 4 * loads);
  const files: GuestFile[] = [
    { guestPath: '/bin/busybox', data: readFileSync(o.busybox), mode: 0o755 },
    { guestPath: GUEST_LOADER, data: readFileSync(o.loader), mode: 0o755 },
    ...families.map((f) => ({ guestPath: `/objs/${f}.bpf.o`, data: readFileSync(join(o.work, 'obj', `${f}.bpf.o`)), mode: 0o644 })),
    { guestPath: '/init', data: Buffer.from(corpusInit(families, byFamily, timeoutSec + 30)), mode: 0o755 },
  ];
  // libbpf resolves `extern … __kconfig` (e.g. CONFIG_NR_CPUS in cpumask_success) from
  // /boot/config-$(uname -r): the kernel package's config, which the kernel cache keeps
  if (existsSync(o.kernel.config)) files.push({ guestPath: '/boot/config', data: readFileSync(o.kernel.config), mode: 0o644 });
  else say(`[guest-${gi}] ${o.kernel.config}: no kernel config in the cache; programs with __kconfig externs will fail to load`);
  const entries: CpioEntry[] = treeEntries(files, ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/proc', '/sys', '/dev', '/tmp', '/objs']);
  entries.push({ type: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  const tag = `guest-${gi}`;
  const initrd = join(o.work, `${tag}.initrd.img`);
  writeFileSync(initrd, gzipSync(cpioArchive(entries), { level: 6 }));
  const out: string[] = [];
  let release: string | null = null;
  const t0 = Date.now();
  const since = () => `${Math.round((Date.now() - t0) / 1000)} s`;
  const demux = new SerialDemux((e) => {
    if (e.kind === 'hello') say(`[${tag}] up after ${since()}`);
    else if (e.kind === 'step') say(`[${tag}] ${since()}: ${e.text}`);
    else if (e.kind === 'done') say(`[${tag}] finished after ${since()}`);
    else if (e.kind === 'file') {
      if (!e.ok) {
        say(`[${tag}] ${e.name}: damaged on the serial port (${e.problem ?? '?'})`);
        return;
      }
      if (e.name === 'uname') {
        release = e.data.toString('utf8').trim();
        return;
      }
      const fam = e.name.replace(/\.tgz$/, '');
      if (!families.includes(fam)) return;
      const dest = join(o.work, 'raw');
      const tgz = join(o.work, `${tag}.${fam}.tgz`);
      writeFileSync(tgz, e.data);
      const r = spawnSync('tar', ['-xzf', tgz, '-C', dest], { encoding: 'utf8' });
      rmSync(tgz, { force: true });
      if (r.status !== 0) say(`[${tag}] ${fam}: cannot unpack the logs: ${r.stderr.trim()}`);
      else out.push(fam);
    } else if (e.kind === 'noise' && e.line.startsWith(MARK)) say(`[${tag}] ${e.line}`);
  });
  mkdirSync(join(o.work, 'raw'), { recursive: true });
  say(`[${tag}] booting ${o.kernel.package} (${o.accel === 'kvm' ? 'KVM' : 'TCG'}, ${o.memoryMb} MB, timeout ${timeoutSec} s): ${families.length} families, ${loads} loads`);
  const ac = new AbortController();
  const stop = () => ac.abort('signal');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const result = await runGuest({
    qemu: o.qemu,
    kernel: o.kernel.vmlinuz,
    initrd,
    append: DEFAULT_APPEND,
    accel: o.accel,
    memoryMb: o.memoryMb,
    consoleLog: join(o.work, `${tag}.console.log`),
    pidFile: join(o.work, `${tag}.qemu.pid`),
    timeoutMs: timeoutSec * 1000,
    signal: ac.signal,
    onData: (b) => demux.push(b),
  });
  demux.finish();
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);
  rmSync(initrd, { force: true });
  if (result.end === 'aborted') {
    say(`[${tag}] aborted`);
    process.exit(130);
  }
  if (!demux.done) say(`[${tag}] the guest ended (${result.end}${result.stderr ? `: ${result.stderr.trim().split('\n')[0]}` : ''}) before it finished; ${out.length}/${families.length} families came back`);
  return { families: out, release, run: { guest: gi, families: families.length, loads, seconds: Math.round(result.ms / 1000), end: demux.done ? 'done' : result.end } };
}

// ---------------------------------------------------------------------------------- main
if (cmd === 'vmlinux-h') await vmlinuxH();
else if (cmd === 'load') await load();
else {
  say(`unknown command ${cmd ?? '(none)'}: vmlinux-h or load`);
  process.exit(2);
}
