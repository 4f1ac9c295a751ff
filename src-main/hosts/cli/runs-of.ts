/**
 * What `matrix` and `ci run` take as input, turned into stored runs: an object (`*.o`) is captured
 * on every `--kernel` (as `kptrscope capture` does; `host` when none is given) and ingested; a log is
 * ingested with the `KERNEL` file and the `<name>.bpf.o` beside it, when there are (the fixture and
 * capture layout); a number is a stored run. Every run captured or ingested gets `tags`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError, type CliIo } from './io.ts';
import { captureObjects, ingestCaptures } from '../../app/capture.ts';
import { defaultCacheDir } from '../../capture/kernel-cache.ts';
import { ingestLog } from '../../app/ingest.ts';
import { objectOfLog } from '../../app/matrix.ts';
import type { Store } from '../../store/types.ts';
import { killAllGuests } from '../../capture/qemu.ts';

/** A log's kernel and object from the files beside it (`KERNEL`, `NAME.bpf.o`), when present. */
function besideLog(log: string): { kernel?: string; btf: string[] } {
  const dir = dirname(log);
  const k = join(dir, 'KERNEL');
  const name = objectOfLog(basename(log));
  const obj = join(dir, `${name}.bpf.o`);
  return { ...(existsSync(k) ? { kernel: readFileSync(k, 'utf8').trim() } : {}), btf: existsSync(obj) ? [obj] : [] };
}

/** The items that are BPF objects to capture (an existing `*.o` file); the rest are logs or run ids. */
export function objectsAmong(items: readonly string[]): string[] {
  return items.filter((x) => /\.o$/.test(x) && existsSync(x));
}

export async function runsOf(io: CliIo, store: Store, items: string[], o: { kernel?: string[]; tag?: string[] }, signal: AbortSignal): Promise<number[]> {
  const ids: number[] = [];
  const objects = objectsAmong(items);
  if (objects.length > 0) {
    const captures = await captureObjects({ objects, kernels: o.kernel ?? [], level: 7, cacheDir: defaultCacheDir(), progress: (m) => io.err(`capture: ${m}\n`), signal });
    for (const c of await ingestCaptures(store, captures, { tags: o.tag ?? [] })) ids.push(c.result.runId);
  } else if ((o.kernel ?? []).length > 0) {
    throw new UsageError('matrix: --kernel captures objects (*.bpf.o); none was given');
  }
  for (const x of items) {
    if (objects.includes(x)) continue;
    if (/^\d+$/.test(x) && !existsSync(x)) {
      ids.push(Number(x));
      continue;
    }
    if (!existsSync(x)) throw new UsageError(`matrix: ${x}: no such file (expected a BPF object, a log or a run id)`);
    const beside = besideLog(x);
    const r = await ingestLog(store, x, { btf: beside.btf, ...(beside.kernel ? { kernel: beside.kernel } : {}), replay: {}, tags: o.tag ?? [] });
    ids.push(r.runId);
  }
  return ids;
}


/** Runs `fn` with SIGINT/SIGTERM stopping any QEMU guest at once (the signal aborts `fn`'s captures),
 * and no guest left behind when it ends, however it ends. */
export async function withCaptureSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    controller.abort(sig);
    killAllGuests();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    killAllGuests();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
