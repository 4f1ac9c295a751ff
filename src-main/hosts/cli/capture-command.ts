/**
 * `kptrscope capture`: load BPF objects on real kernels and ingest what the kernels said.
 *
 *   kptrscope capture <obj.bpf.o>... [--kernel host|<release or Debian kernel package>]...
 *                     [--level 1|2|7] [--db <path>] [--json] [--out <dir>] [--raw-levels <list>]
 *                     [--accel auto|kvm|tcg] [--timeout <sec>] [--transcript]
 *   kptrscope capture --list-kernels [--json]
 *
 * `--list-kernels` needs no object: it prints the Debian kernels that can be had (series, flavor,
 * release, Debian version, suite, the specs that pick each, cached or not) and the cached ones; with
 * `--json`, `{"kernels":[{package, version, suite, release, series, flavor, releaseCandidate, cached,
 * pickedBy}], "cached":[{package, version, release, suite}]}`.
 * Contract: `registerCaptureCommand(program, io, setStatus)` adds the command to the `kptrscope`
 * commander program. stdout carries results only: per kernel and object the same run lines as
 * `ingest`, or with `--json` one document of the `ingest --json` shape (`{"runs":[…]}`, one run per
 * kernel per object) whose runs also carry a `capture` object (kernel spec and release, Debian
 * package, accel, exit status, verdict, loaderReason, log, kfuncs table path, seconds). Progress goes
 * to stderr. SIGINT/SIGTERM kill the guest and end with status 130/143; status 1 for a failed
 * capture or ingest (one line on stderr), 2 for a usage error.
 */
import { collect, programJson, runBtfRefused } from './json-shapes.ts';
import type { Command } from 'commander';
import { isKnownError, withStore, type CliIo } from './io.ts';
import {
  captureObjects,
  ingestCaptures,
  CaptureAborted,
  type AccelChoice,
  type CaptureLevel,
  type IngestedCapture,
  type KernelCapture,
} from '../../app/capture.ts';
import { defaultCacheDir, KernelCache } from '../../capture/kernel-cache.ts';
import { killAllGuests } from '../../capture/qemu.ts';
import type { ProgramSummary } from '../../domain/log/program-state.ts';

interface CaptureOpts {
  kernel?: string[];
  level?: string;
  db?: string;
  json?: boolean;
  out?: string;
  rawLevels?: string;
  accel?: string;
  timeout?: string;
  transcript?: boolean;
  listKernels?: boolean;
  tag?: string[];
}

class UsageError extends Error {}



function captureJson(c: IngestedCapture) {
  return {
    kernelSpec: c.kernel.spec,
    release: c.kernel.release,
    mode: c.kernel.mode,
    package: c.kernel.package,
    packageVersion: c.kernel.version,
    accel: c.kernel.accel,
    object: c.object.object,
    name: c.object.name,
    level: c.object.level,
    exitStatus: c.object.exitStatus,
    verdict: c.object.verdict,
    loaderReason: c.object.loaderReason,
    log: c.object.log,
    loadAllLog: c.object.loadAllLog,
    rawLogs: c.object.rawLogs,
    kfuncs: c.kernel.kfuncs,
    kfuncCount: c.kernel.kfuncCount,
    kfuncsExact: c.kernel.kfuncsExact,
    loader: c.kernel.loader,
    seconds: c.kernel.seconds,
  };
}

function listKernels(io: CliIo, json: boolean): number {
  const cache = new KernelCache(defaultCacheDir(), (m) => io.err(`capture: ${m}\n`));
  const { kernels, cached } = cache.availableKernels();
  if (json) {
    io.out(JSON.stringify({ kernels, cached: cached.map((k) => ({ package: k.package, version: k.version, release: k.release, suite: k.suite ?? null })) }, null, 2) + '\n');
    return 0;
  }
  io.out('series  flavor   release                        debian version            suite              picked by           cached\n');
  for (const k of kernels) {
    io.out(
      `${k.series.padEnd(7)} ${k.flavor.padEnd(8)} ${k.release.padEnd(30)} ${k.version.padEnd(25)} ${(k.suite ?? '').padEnd(18)} ${(k.pickedBy.join(' ') || '-').padEnd(19)} ${k.cached ? 'yes' : ''}\n`,
    );
  }
  io.out(`\n${kernels.length} kernel image(s); --kernel X.Y picks the newest generic one of a series, X.Y-cloud / X.Y-rt a flavor, X.Y-rc a release candidate\n`);
  io.out(cached.length === 0 ? 'cache: empty\n' : `cache (${defaultCacheDir()}):\n${cached.map((k) => `  ${k.package} ${k.version} → ${k.release}\n`).join('')}`);
  return 0;
}

function fmtProgram(p: ProgramSummary): string {
  const parts = [
    `  ${p.name.padEnd(24)} ${p.verdict.padEnd(9)}`,
    p.verdict === 'rejected' && p.failInsn !== null ? `insn ${p.failInsn}` : '',
    p.stats.insnsProcessed !== undefined ? `processed ${p.stats.insnsProcessed}` : '',
    `lines ${p.lines}`,
    `unknown ${p.unknownLines}`,
  ].filter((s) => s !== '');
  let s = parts.join('  ') + '\n';
  if (p.error) s += p.error.split('\n').map((l, i) => `      ${i === 0 ? 'error: ' : '       '}${l}\n`).join('');
  else if (p.loaderError && p.verdict !== 'accepted') s += `      loader: ${p.loaderError}\n`;
  return s;
}

function fmtKernel(k: KernelCapture): string {
  const what = k.mode === 'host' ? 'running kernel' : `${k.package} ${k.version}, ${k.accel === 'kvm' ? 'KVM' : 'TCG'}`;
  return (
    `kernel ${k.spec} → ${k.release} (${what}): ${k.objects.length} object(s) in ${k.seconds.total.toFixed(1)} s` +
    `${k.mode === 'guest' ? ` (kernel ready ${k.seconds.kernel.toFixed(1)} s, guest ${k.seconds.guest.toFixed(1)} s)` : ''}\n` +
    `  files: ${k.dir}\n  kfuncs: ${k.kfuncs} (${k.kfuncCount}${k.kfuncsExact ? '' : ', every bpf_* FUNC: this BTF has no bpf_kfunc tags'})\n`
  );
}

function parseLevel(v: string | undefined): CaptureLevel {
  if (v === undefined) return 7;
  if (v === '1' || v === '2' || v === '7') return Number(v) as CaptureLevel;
  throw new UsageError(`--level must be 1, 2 or 7 (7 = bpftool -d's 1|2|4), got "${v}"`);
}

function parseRawLevels(v: string | undefined): number[] {
  if (v === undefined) return [];
  const out = v.split(',').map((x) => x.trim());
  for (const x of out) if (!/^(1|2|4|7)$/.test(x)) throw new UsageError(`--raw-levels takes a comma-separated list of 1, 2, 4, 7; got "${x}"`);
  return out.map(Number);
}

async function runCapture(io: CliIo, objects: string[], o: CaptureOpts): Promise<number> {
  if (o.listKernels) {
    try {
      return listKernels(io, Boolean(o.json));
    } catch (e) {
      if (isKnownError(e)) {
        io.err(`kptrscope: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  if (objects.length === 0) throw new UsageError('capture: give at least one BPF object (or --list-kernels)');
  const level = parseLevel(o.level);
  const rawLevels = parseRawLevels(o.rawLevels);
  const accel = (o.accel ?? 'auto') as AccelChoice;
  if (!['auto', 'kvm', 'tcg'].includes(accel)) throw new UsageError(`--accel must be auto, kvm or tcg, got "${o.accel}"`);
  const timeoutSec = o.timeout === undefined ? 300 : Number(o.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec < 10) throw new UsageError(`--timeout must be a number of seconds ≥ 10, got "${o.timeout}"`);

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    io.err(`\nkptrscope: ${sig}: stopping the guest\n`);
    controller.abort(sig);
    killAllGuests();
    if (signals > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = () => killAllGuests();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  const t0 = Date.now();
  try {
    const captures = await captureObjects({
      objects,
      kernels: o.kernel ?? [],
      level,
      rawLevels,
      outDir: o.out,
      cacheDir: defaultCacheDir(),
      accel,
      timeoutSec,
      keepTranscript: Boolean(o.transcript),
      progress: (m) => io.err(`capture: ${m}\n`),
      signal: controller.signal,
    });
    const ingested: IngestedCapture[] = await withStore(o.db, (store) => ingestCaptures(store, captures, { tags: o.tag ?? [] }));
    if (o.json) {
      const doc = {
        runs: ingested.map((c) => ({
          id: c.result.runId,
          source: c.result.source,
          kernel: c.result.kernel,
          duplicate: c.result.duplicate,
          lines: c.result.lines,
          unknownLines: c.result.unknownLines,
          btfRefused: runBtfRefused(c.result.programs),
          programs: c.result.programs.map(programJson),
          btf: c.result.btf.map((b) => ({ id: b.id, source: b.source, format: b.format, types: b.typeCount })),
          capture: captureJson(c),
        })),
      };
      io.out(JSON.stringify(doc, null, 2) + '\n');
    } else {
      for (const k of captures) {
        io.out(fmtKernel(k));
        for (const c of ingested.filter((x) => x.kernel === k)) {
          const r = c.result;
          io.out(`run ${r.runId}  ${r.source}  kernel ${r.kernel}  ${r.lines} lines, ${r.unknownLines} unknown\n`);
          for (const p of r.programs) io.out(fmtProgram(p));
          if (r.programs.length === 0) io.out(`  (no program log)          ${c.object.verdict}\n`);
          if (c.object.verdict === 'rejected' && c.object.loaderReason && !r.programs.some((p) => p.error)) {
            io.out(`      loader: ${c.object.loaderReason}\n`);
          }
        }
      }
    }
    io.err(`capture: done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (e) {
    if (e instanceof CaptureAborted) {
      io.err(`kptrscope: ${e.message}\n`);
      return controller.signal.reason === 'SIGTERM' ? 143 : 130;
    }
    if (controller.signal.aborted) {
      io.err(`kptrscope: interrupted by ${String(controller.signal.reason)}: guest stopped\n`);
      return controller.signal.reason === 'SIGTERM' ? 143 : 130;
    }
    if (isKnownError(e)) {
      io.err(`kptrscope: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    killAllGuests();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }
}

export function registerCaptureCommand(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  program
    .command('capture')
    .description('load BPF objects on the running kernel or on Debian kernels under QEMU, and ingest the verifier logs')
    .argument('[obj...]', 'BPF object files (clang -target bpf)')
    .option('--kernel <spec>', 'host, a Debian kernel version (6.1, 7.3), flavor (7.3-cloud), release candidate (7.3-rc7), release (7.3.4+deb13-cloud-amd64) or linux-image-… package (repeatable; default host)', collect)
    .option('--list-kernels', 'list the Debian kernels that can be captured on (and the cached ones); no object needed')
    .option('--level <n>', 'verifier log level: 7 = bpftool -d (1|2|4, default), 1 or 2 = the bundled libbpf loader')
    .option('--tag <name>', 'store this tag on every run, e.g. a git commit (repeatable)', collect)
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--json', 'print one JSON document on stdout (the ingest --json shape, one run per kernel per object)')
    .option('--out <dir>', 'write the capture files to <dir>/<major.minor>/ (fixture layout) instead of the cache')
    .option('--raw-levels <list>', 'also keep raw kernel logs from scripts/loader.c at these levels, e.g. 1,2,7')
    .option('--accel <mode>', 'QEMU acceleration: auto (KVM when it works, else TCG), kvm, tcg', 'auto')
    .option('--timeout <sec>', 'give up on a guest after this many seconds', '300')
    .option('--transcript', "keep the guest's serial data transcript as serial.txt")
    .action(async (objects: string[], o: CaptureOpts) => {
      try {
        setStatus(await runCapture(io, objects, o));
      } catch (e) {
        if (e instanceof UsageError) {
          io.err(`kptrscope: ${e.message}\n`);
          setStatus(2);
          return;
        }
        throw e;
      }
    });
}
