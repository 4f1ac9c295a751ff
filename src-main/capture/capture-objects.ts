/**
 * Capture: load BPF objects on real kernels (the running one, or Debian kernels booted under
 * QEMU) and keep what the loaders printed (app/capture.ts ingests it).
 *
 * Contract:
 * - `captureObjects(req)` runs every object on every kernel of `req.kernels` in turn and returns one
 *   `KernelCapture` per kernel. `host` loads on the running kernel (root needed: a clear
 *   `CaptureError` otherwise); any other spec is resolved to a cached Debian kernel image
 *   (capture/kernel-cache.ts) and booted once with an initramfs holding all objects. Each object is
 *   loaded by `bpftool -d prog loadall` (log level 1|2|4, "7") or, for `level` 1 or 2, by
 *   kptrscope-load (the same output at that level); `rawLevels` adds scripts/loader.c raw kernel logs.
 * - Files per kernel go to `req.outDir/<major.minor>/` when `outDir` is given (the fixture layout:
 *   `NAME.bpftool.log` or `NAME.load-L<n>.log`, `NAME.verdict`, `NAME.L<n>.log`, `NAME.bpf.o`,
 *   `KERNEL`, `kfuncs.json`, `capture.json`), else to `<cache>/captures/<release>/<time>-<pid>/`.
 *   The guest's kfunc table (capture/kfuncs.ts) is kept in the kernel's cache dir and copied there.
 * - An object of several programs that fails is loaded once more, each program on its own
 *   (kptrscope-load --each): libbpf stops at the first program the kernel rejects, so the others
 *   need their own load to get the kernel's verdict. That log (`NAME.each.log`) is then the one
 *   ingested; the all-at-once log stays beside it (`loadAllLog`).
 * - A load that fails before the kernel printed any log (a kfunc the kernel lacks, BTF the kernel
 *   refuses) keeps libbpf's own error line as `loaderReason`.
 * - `req.signal` (SIGINT/SIGTERM in the CLI) stops at once: QEMU is killed before `CaptureAborted` is
 *   thrown. Progress goes to `req.progress`, one line per event; nothing is printed otherwise.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, copyFileSync, openSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release as hostRelease, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CaptureAborted, CaptureError } from './errors.ts';
import { defaultCacheDir, KernelCache, isKernelSpec, type CachedKernel } from './kernel-cache.ts';
import { guestPlan, objectName, type GuestPlan, type GuestStep } from './init-script.ts';
import { collectBaseTools, ensureBaseInitramfs, writeInitrd } from './initramfs.ts';
import { DEFAULT_APPEND, runGuest, type Accel, type GuestResult } from './qemu.ts';
import { SerialDemux } from './serial-demux.ts';
import { buildLoader, findTool } from './tools.ts';
import { ensureUserland, GUEST_USERLAND_BPFTOOL, needsNewUserland, runner, userlandFiles } from './guest-userland.ts';
import { formatKfuncTable, kfuncTable, type KfuncTable } from './kfuncs.ts';
import { loaderReasonOf } from './loader-reason.ts';

export { CaptureError, CaptureAborted } from './errors.ts';
export { loaderReasonOf } from './loader-reason.ts';

export type CaptureLevel = 1 | 2 | 7;
export type AccelChoice = 'auto' | 'kvm' | 'tcg';

export interface CaptureRequest {
  objects: string[];
  kernels: string[];
  level: CaptureLevel;
  rawLevels?: number[];
  outDir?: string;
  cacheDir?: string;
  accel?: AccelChoice;
  timeoutSec?: number;
  memoryMb?: number;
  /** Also write the data port's raw bytes as `serial.txt` into each kernel's output dir. */
  keepTranscript?: boolean;
  progress?: (msg: string) => void;
  signal?: AbortSignal;
}

export interface ObjectCapture {
  object: string;
  name: string;
  /** The log that is ingested (bpftool -d or kptrscope-load output; for an object of several
   * programs that failed, kptrscope-load --each's: every program loaded on its own). */
  log: string;
  /** When `log` is the per-program load: the all-at-once load's log (bpftool -d), kept beside it. */
  loadAllLog: string | null;
  /** The object copy beside the log (its BTF is ingested with the log). */
  objectCopy: string;
  level: CaptureLevel;
  exitStatus: number;
  verdict: 'accepted' | 'rejected';
  /** libbpf's error line when the object failed to load (null when it loaded). */
  loaderReason: string | null;
  rawLogs: string[];
}

export interface KernelCapture {
  spec: string;
  mode: 'host' | 'guest';
  release: string;
  package: string | null;
  version: string | null;
  accel: Accel | null;
  dir: string;
  kfuncs: string;
  kfuncCount: number;
  kfuncsExact: boolean;
  bpftool: string;
  /** What loaded the programs: bpftool's and libbpf's versions (from `bpftool version`), and whose
   * userland they came from (`host`: this machine's; `trixie-backports`: guest-userland.ts). */
  loader: LoaderInfo;
  seconds: { total: number; kernel: number; guest: number };
  transcript: string | null;
  objects: ObjectCapture[];
}

export interface LoaderInfo {
  bpftool: string;
  libbpf: string;
  userland: 'host' | 'trixie-backports';
  /** libbpf of the bundled loaders (kptrscope-load, raw logs) when it differs from bpftool's. */
  loaderLibbpf?: string;
}

/** `bpftool version` output → versions (`v7.8.0`, `v1.8`); empty strings when not printed. */
export function loaderInfoOf(versionText: string, userland: LoaderInfo['userland'], loaderLibbpf?: string): LoaderInfo {
  const bpftool = /bpftool\s+(v?\d[\w.-]*)/.exec(versionText)?.[1] ?? '';
  const libbpf = /using libbpf\s+(v?\d[\w.-]*)/.exec(versionText)?.[1] ?? '';
  return { bpftool, libbpf, userland, ...(loaderLibbpf ? { loaderLibbpf } : {}) };
}

function hostLibbpfVersion(): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libbpf-dev'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout ? r.stdout.replace(/^\d+:/, '').replace(/-.*$/, '') : undefined;
}

const SERIES_RE = /^(\d+\.\d+)/;

function seriesOf(release: string): string {
  return SERIES_RE.exec(release)?.[1] ?? release;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

function logFileName(name: string, level: CaptureLevel): string {
  return level === 7 ? `${name}.bpftool.log` : `${name}.load-L${level}.log`;
}

interface Ctx {
  req: CaptureRequest;
  cacheDir: string;
  progress: (msg: string) => void;
}

function checkAbort(req: CaptureRequest): void {
  if (req.signal?.aborted) throw new CaptureAborted(String(req.signal.reason ?? 'signal'));
}

function outDirFor(ctx: Ctx, release: string): string {
  const dir = ctx.req.outDir ? join(resolve(ctx.req.outDir), seriesOf(release)) : join(ctx.cacheDir, 'captures', release, `${stamp()}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeKfuncs(dir: string, table: KfuncTable): string {
  const p = join(dir, 'kfuncs.json');
  writeFileSync(p, formatKfuncTable(table));
  return p;
}

/** Throws a one-line CaptureError unless `bytes` (the file `path`) is a BPF ELF object. */
export function checkBpfObject(path: string, bytes: Buffer): void {
  const head = bytes.subarray(0, 20);
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) throw new CaptureError(`${path}: not an ELF file (expected a BPF object built with clang -target bpf)`);
  if (head.readUInt16LE(18) !== 247) throw new CaptureError(`${path}: ELF machine ${head.readUInt16LE(18)}, not BPF (247): expected an object built with clang -target bpf`);
}

export async function captureObjects(req: CaptureRequest): Promise<KernelCapture[]> {
  if (req.objects.length === 0) throw new CaptureError('no object given: kptrscope capture <obj.bpf.o>...');
  const objects = req.objects.map((o) => resolve(o));
  const names = new Map<string, string>();
  for (const o of objects) {
    try {
      accessSync(o, constants.R_OK);
    } catch {
      throw new CaptureError(`${o}: cannot read the object (expected a BPF ELF object, e.g. prog.bpf.o)`);
    }
    checkBpfObject(o, readFileSync(o));
    const n = objectName(o);
    const prev = names.get(n);
    if (prev) throw new CaptureError(`${o}: same program name "${n}" as ${prev}; rename one of them`);
    names.set(n, o);
  }
  const kernels = req.kernels.length > 0 ? req.kernels : ['host'];
  for (const k of kernels) if (!isKernelSpec(k)) throw new CaptureError(`--kernel ${k}: expected host, a version (6.1, 7.3), a flavor (7.3-cloud), a release candidate (7.3-rc7), a release (6.1.0-56-amd64, 7.3.4+deb13-cloud-amd64) or a linux-image-… package`);
  const ctx: Ctx = { req: { ...req, objects }, cacheDir: req.cacheDir ?? defaultCacheDir(), progress: req.progress ?? (() => {}) };
  const out: KernelCapture[] = [];
  for (const spec of kernels) {
    checkAbort(req);
    out.push(spec === 'host' ? await captureHost(ctx) : await captureGuest(ctx, spec));
  }
  return out;
}

// ------------------------------------------------------------------------------- host ----

function ensureBpffs(): void {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf')) return;
  const r = spawnSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf'], { encoding: 'utf8' });
  if (r.status !== 0) throw new CaptureError(`/sys/fs/bpf: bpffs is not mounted and mount -t bpf failed: ${(r.stderr ?? '').trim()}`);
}

async function captureHost(ctx: Ctx): Promise<KernelCapture> {
  const { req } = ctx;
  const t0 = Date.now();
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CaptureError('--kernel host: loading BPF programs into the running kernel needs root (run it with sudo), or capture on a Debian kernel under QEMU: --kernel 6.12');
  }
  if (!existsSync('/sys/kernel/btf/vmlinux')) throw new CaptureError('/sys/kernel/btf/vmlinux: missing; the running kernel needs CONFIG_DEBUG_INFO_BTF=y');
  const bpftool = findTool('bpftool', 'to load the programs');
  const loader = buildLoader('level', ctx.cacheDir);
  const raw = (req.rawLevels ?? []).length > 0 ? buildLoader('raw', ctx.cacheDir) : null;
  ensureBpffs();
  const release = hostRelease();
  ctx.progress(`host ${release}: loading ${req.objects.length} object(s) on the running kernel`);
  const dir = outDirFor(ctx, release);
  const tg = Date.now();
  const objects: ObjectCapture[] = [];
  for (const [i, obj] of req.objects.entries()) {
    checkAbort(req);
    const name = objectName(obj);
    const cwd = dirname(obj);
    const file = basename(obj);
    const logPath = join(dir, logFileName(name, req.level));
    // stdout and stderr into one file, in the order they were written (like `> log 2>&1`).
    const fd = openSync(logPath, 'w');
    const pin = `/sys/fs/bpf/kptrscope-${process.pid}-${i}`;
    let r;
    try {
      if (req.level === 7) {
        rmSync(pin, { recursive: true, force: true });
        r = spawnSync(bpftool, ['-d', 'prog', 'loadall', file, pin], { cwd, stdio: ['ignore', fd, fd] });
      } else {
        r = spawnSync(loader, [file, String(req.level)], { cwd, stdio: ['ignore', fd, fd] });
      }
    } finally {
      closeSync(fd);
      rmSync(pin, { recursive: true, force: true });
    }
    if (r.error) throw new CaptureError(`${obj}: cannot run the loader: ${r.error.message}`);
    // The object failed: every program once more on its own (stdout and stderr interleaved as above).
    let eachOutput: Buffer | null = null;
    if (r.status !== 0) {
      const re = spawnSync('sh', ['-c', '"$0" "$1" "$2" --each 2>&1', loader, file, String(req.level)], { cwd, encoding: 'buffer', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
      eachOutput = re.stdout ?? null;
    }
    const rawLogs: string[] = [];
    for (const lv of req.rawLevels ?? []) {
      const p = join(dir, `${name}.L${lv}.log`);
      const rr = spawnSync(raw as string, [file, '--raw', '--level', String(lv)], { cwd, encoding: 'buffer', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
      if (!rr.stdout || rr.stdout.length === 0) continue;
      writeFileSync(p, rr.stdout);
      rawLogs.push(p);
    }
    objects.push(finishObject(dir, obj, name, logPath, req.level, r.status ?? 255, rawLogs, eachOutput));
    ctx.progress(`  ${name}: ${objects[objects.length - 1]!.verdict}`);
  }
  const guestMs = Date.now() - tg;
  const kdir = join(ctx.cacheDir, 'kernels', `host-${release}`);
  mkdirSync(kdir, { recursive: true });
  const table = kfuncTable(readFileSync('/sys/kernel/btf/vmlinux'), release);
  const cachedKfuncs = writeKfuncs(kdir, table);
  const kfuncs = req.outDir ? writeKfuncs(dir, table) : cachedKfuncs;
  writeFileSync(join(dir, 'KERNEL'), release + '\n');
  const bpftoolText = spawnSync(bpftool, ['version'], { encoding: 'utf8' }).stdout ?? '';
  const bpftoolVersion = bpftoolText.split('\n')[0] ?? '';
  const kc: KernelCapture = {
    spec: 'host',
    mode: 'host',
    release,
    package: null,
    version: null,
    accel: null,
    dir,
    kfuncs,
    kfuncCount: table.count,
    kfuncsExact: table.exact,
    bpftool: bpftoolVersion,
    loader: loaderInfoOf(bpftoolText, 'host', hostLibbpfVersion()),
    seconds: { total: (Date.now() - t0) / 1000, kernel: 0, guest: guestMs / 1000 },
    transcript: null,
    objects,
  };
  writeCaptureJson(kc);
  return kc;
}

/** Programs libbpf found in the object (its `found program` lines; `.text` holds subprograms). */
export function programsFound(log: string): number {
  return new Set([...log.matchAll(/^libbpf: sec '(?!\.text')[^']*': found program '([^']+)'/gm)].map((m) => m[1])).size;
}

/** The name of the per-program load's log beside the all-at-once one. */
function eachLogName(name: string): string {
  return `${name}.each.log`;
}

/**
 * `eachOutput`: what kptrscope-load --each printed (empty when it did not run: the object loaded).
 * It becomes the ingested log when the object has several programs — libbpf stopped at the first
 * rejected one, and only the per-program load gives the others the kernel's own verdict.
 */
function finishObject(dir: string, obj: string, name: string, logPath: string, level: CaptureLevel, status: number, rawLogs: string[], eachOutput: Buffer | null): ObjectCapture {
  const verdict = status === 0 ? 'accepted' : 'rejected';
  writeFileSync(join(dir, `${name}.verdict`), verdict + '\n');
  const objectCopy = join(dir, `${name}.bpf.o`);
  if (resolve(objectCopy) !== resolve(obj)) copyFileSync(obj, objectCopy);
  const log = readFileSync(logPath, 'utf8');
  let ingested = logPath;
  let loadAllLog: string | null = null;
  const eachPath = join(dir, eachLogName(name));
  if (status !== 0 && eachOutput !== null && eachOutput.length > 0 && programsFound(log) > 1) {
    writeFileSync(eachPath, eachOutput);
    ingested = eachPath;
    loadAllLog = logPath;
  } else {
    rmSync(eachPath, { force: true });
  }
  return { object: obj, name, log: ingested, loadAllLog, objectCopy, level, exitStatus: status, verdict, loaderReason: verdict === 'rejected' ? loaderReasonOf(log) : null, rawLogs };
}

function writeCaptureJson(kc: KernelCapture): void {
  const doc = {
    kernel: kc.release,
    spec: kc.spec,
    mode: kc.mode,
    package: kc.package,
    version: kc.version,
    accel: kc.accel,
    bpftool: kc.bpftool,
    loader: kc.loader,
    kfuncs: { count: kc.kfuncCount, exact: kc.kfuncsExact },
    seconds: kc.seconds,
    objects: kc.objects.map((o) => ({
      name: o.name,
      log: basename(o.log),
      ...(o.loadAllLog !== null ? { loadAllLog: basename(o.loadAllLog) } : {}),
      level: o.level,
      exitStatus: o.exitStatus,
      verdict: o.verdict,
      loaderReason: o.loaderReason,
      rawLogs: o.rawLogs.map((p) => basename(p)),
    })),
  };
  // A capture into a directory that already holds one of the same kernel (the fixture layout,
  // captured program by program) adds its objects to it: the other objects' entries stay.
  const path = join(kc.dir, 'capture.json');
  try {
    const before = JSON.parse(readFileSync(path, 'utf8')) as { kernel?: string; objects?: { name: string }[] };
    if (before.kernel === kc.release && Array.isArray(before.objects)) {
      const names = new Set(doc.objects.map((o) => o.name));
      const kept = before.objects.filter((o) => !names.has(o.name));
      if (kept.length > 0) (doc as { objects: unknown[] }).objects = [...kept, ...doc.objects].sort((a, b) => String((a as { name: string }).name).localeCompare((b as { name: string }).name));
    }
  } catch {
    /* no capture there yet */
  }
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
}

// ------------------------------------------------------------------------------ guest ----

interface AccelState {
  hostRelease: string;
  kvm: 'ok' | 'broken';
  why?: string;
}

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readAccelState(cacheDir: string): AccelState | null {
  try {
    const s = JSON.parse(readFileSync(join(cacheDir, 'accel.json'), 'utf8')) as AccelState;
    return s.hostRelease === hostRelease() ? s : null;
  } catch {
    return null;
  }
}

function writeAccelState(cacheDir: string, s: AccelState): void {
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(join(cacheDir, 'accel.json'), JSON.stringify(s, null, 2) + '\n');
}

function tailOf(path: string, n: number): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-n).join(' | ');
  } catch {
    return '';
  }
}

async function captureGuest(ctx: Ctx, spec: string): Promise<KernelCapture> {
  const { req } = ctx;
  const t0 = Date.now();
  const qemu = findTool('qemu-system-x86_64', 'to boot Debian kernels');
  const cache = new KernelCache(ctx.cacheDir, (m) => ctx.progress(`[${spec}] ${m}`));
  const kernel: CachedKernel = await cache.ensureKernel(spec);
  const kernelMs = Date.now() - t0;
  checkAbort(req);
  const btfPath = join(kernel.dir, 'vmlinux.btf');
  const sendVmlinuxBtf = !existsSync(btfPath);
  const userland = needsNewUserland(kernel.release) ? ensureUserland(cache, (m) => ctx.progress(`[${spec}] ${m}`)) : null;
  const linking = userland ? 'shared' : 'static';
  // Every level: kptrscope-load --each reloads a failed object program by program.
  const levelLoader = buildLoader('level', ctx.cacheDir, linking);
  const rawLoader = (req.rawLevels ?? []).length > 0 ? buildLoader('raw', ctx.cacheDir, linking) : undefined;
  const base = ensureBaseInitramfs(ctx.cacheDir, collectBaseTools({ levelLoader, rawLoader, ...(userland ? { userland: userlandFiles(userland) } : {}) }));
  if (base.built) ctx.progress(`[${spec}] built the base initramfs ${base.path}`);
  const timeoutSec = req.timeoutSec ?? 300;
  const plan = guestPlan(req.objects, {
    level: req.level,
    rawLevels: req.rawLevels ?? [],
    sendVmlinuxBtf,
    watchdogSec: timeoutSec + 30,
    ...(userland ? { userland: { runWith: runner(), bpftool: GUEST_USERLAND_BPFTOOL } } : {}),
  });
  const work = mkdtempSync(join(tmpdir(), 'kptrscope-guest-'));
  try {
    const initrd = join(work, 'initrd.img');
    writeInitrd(initrd, base.path, plan, req.objects.map((o) => readFileSync(o)), existsSync(kernel.config) ? readFileSync(kernel.config) : undefined);
    let accel: Accel = req.accel === 'kvm' ? 'kvm' : 'tcg';
    if ((req.accel ?? 'auto') === 'auto' && kvmUsable() && readAccelState(ctx.cacheDir)?.kvm !== 'broken') accel = 'kvm';
    let run = await bootOnce(ctx, qemu, spec, kernel, initrd, work, plan, accel, timeoutSec);
    checkAbort(req);
    if (accel === 'kvm' && (req.accel ?? 'auto') === 'auto' && (run.result.end === 'no-hello' || (run.result.end === 'failed' && !run.demux.hello))) {
      const why = run.result.end === 'no-hello' ? 'no output within 20 s' : run.result.stderr.trim().split('\n')[0] ?? 'qemu failed';
      writeAccelState(ctx.cacheDir, { hostRelease: hostRelease(), kvm: 'broken', why });
      ctx.progress(`[${spec}] KVM does not work here (${why}); using software emulation (TCG) from now on`);
      accel = 'tcg';
      run = await bootOnce(ctx, qemu, spec, kernel, initrd, work, plan, accel, timeoutSec);
    } else if (accel === 'kvm' && run.demux.hello) {
      writeAccelState(ctx.cacheDir, { hostRelease: hostRelease(), kvm: 'ok' });
    }
    const { result, demux, transcript } = run;
    if (result.end === 'aborted') throw new CaptureAborted(String(req.signal?.reason ?? 'signal'));
    const consoleLog = join(work, 'console.log');
    if (!demux.done) {
      const how =
        result.end === 'timeout'
          ? `timed out after ${timeoutSec} s`
          : result.end === 'failed'
            ? `qemu failed (exit ${result.exitCode ?? result.exitSignal}): ${result.stderr.trim().split('\n')[0] ?? ''}`
            : 'powered off early';
      throw new CaptureError(`kernel ${kernel.package}: the guest ${how} before finishing; last console lines: ${tailOf(consoleLog, 5) || '(none)'}`);
    }
    const file = (name: string): Buffer => {
      const f = demux.files.get(name);
      if (!f) throw new CaptureError(`kernel ${kernel.package}: the guest did not send ${name}`);
      if (!f.ok) throw new CaptureError(`kernel ${kernel.package}: ${name} arrived damaged over the serial port: ${f.problem}`);
      return f.data;
    };
    const release = file('uname').toString('utf8').trim();
    cache.setRelease(kernel, release);
    if (sendVmlinuxBtf) writeFileSync(btfPath, gunzipSync(file('vmlinux.btf.gz')));
    const kfPath = join(kernel.dir, 'kfuncs.json');
    let table: KfuncTable;
    if (!existsSync(kfPath) || sendVmlinuxBtf) {
      table = kfuncTable(readFileSync(btfPath), release);
      writeKfuncs(kernel.dir, table);
    } else {
      table = JSON.parse(readFileSync(kfPath, 'utf8')) as KfuncTable;
    }
    const dir = outDirFor(ctx, release);
    const kfuncs = req.outDir ? writeKfuncs(dir, table) : kfPath;
    writeFileSync(join(dir, 'KERNEL'), release + '\n');
    const objects = plan.objects.map((o, i) => {
      const steps = plan.steps.filter((s) => s.object === i);
      const main = steps.find((s) => s.kind === 'bpftool' || s.kind === 'load') as GuestStep;
      const each = steps.find((s) => s.kind === 'each');
      const logPath = join(dir, logFileName(o.name, req.level));
      writeFileSync(logPath, file(`${main.id}.out`));
      const status = Number(file(`${main.id}.rc`).toString('utf8').trim());
      const rawLogs: string[] = [];
      for (const s of steps.filter((x) => x.kind === 'raw')) {
        // An object that fails before any program reaches the verifier has no raw log: no file.
        const data = file(`${s.id}.out`);
        if (data.length === 0) continue;
        const p = join(dir, `${o.name}.L${s.level}.log`);
        writeFileSync(p, data);
        rawLogs.push(p);
      }
      return finishObject(dir, req.objects[i] as string, o.name, logPath, req.level, Number.isFinite(status) ? status : 255, rawLogs, each ? file(`${each.id}.out`) : null);
    });
    let transcriptPath: string | null = null;
    if (req.keepTranscript) {
      transcriptPath = join(dir, 'serial.txt');
      writeFileSync(transcriptPath, transcript);
    }
    const kc: KernelCapture = {
      spec,
      mode: 'guest',
      release,
      package: kernel.package,
      version: kernel.version,
      accel,
      dir,
      kfuncs,
      kfuncCount: table.count,
      kfuncsExact: table.exact,
      bpftool: file('bpftool-version').toString('utf8').split('\n')[0] ?? '',
      loader: loaderInfoOf(
        file('bpftool-version').toString('utf8'),
        userland ? 'trixie-backports' : 'host',
        userland ? (userland.versions.libbpf1 ?? '').replace(/^\d+:/, '').replace(/-.*$/, '') : hostLibbpfVersion(),
      ),
      seconds: { total: (Date.now() - t0) / 1000, kernel: kernelMs / 1000, guest: result.ms / 1000 },
      transcript: transcriptPath,
      objects,
    };
    writeCaptureJson(kc);
    return kc;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function bootOnce(
  ctx: Ctx,
  qemu: string,
  spec: string,
  kernel: CachedKernel,
  initrd: string,
  work: string,
  plan: GuestPlan,
  accel: Accel,
  timeoutSec: number,
): Promise<{ result: GuestResult; demux: SerialDemux; transcript: Buffer }> {
  const chunks: Buffer[] = [];
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const demux = new SerialDemux((e) => {
    if (e.kind === 'hello') ctx.progress(`[${spec}] guest up after ${since()}`);
    else if (e.kind === 'step') ctx.progress(`[${spec}] ${e.text}`);
    else if (e.kind === 'done') ctx.progress(`[${spec}] guest finished after ${since()}`);
    else if (e.kind === 'file' && !e.ok) ctx.progress(`[${spec}] ${e.name}: ${e.problem}`);
  });
  ctx.progress(`[${spec}] booting ${kernel.package} (${accel === 'kvm' ? 'KVM' : 'TCG software emulation'}, ${plan.objects.length} object(s))`);
  const result = await runGuest({
    qemu,
    kernel: kernel.vmlinuz,
    initrd,
    append: DEFAULT_APPEND,
    accel,
    memoryMb: ctx.req.memoryMb ?? 512,
    consoleLog: join(work, 'console.log'),
    pidFile: join(work, 'qemu.pid'),
    timeoutMs: timeoutSec * 1000,
    helloTimeoutMs: accel === 'kvm' ? 20_000 : undefined,
    signal: ctx.req.signal,
    onData: (b) => {
      chunks.push(b);
      demux.push(b);
    },
  });
  demux.finish();
  return { result, demux, transcript: Buffer.concat(chunks) };
}
