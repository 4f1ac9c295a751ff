/**
 * Replays a log on a second core while it is ingested: the main thread keeps parsing and storing,
 * a worker (replay-worker.ts) parses the same bytes and replays them, and its per-program results are
 * saved here, in the ingest's transaction, as they arrive.
 *
 * Contract: `begin(runId)`, then `chunk(buf)` for every chunk read (awaits when the worker falls more
 * than MAX_INFLIGHT bytes behind, so memory stays bounded), then `finish()` which resolves when every
 * program's replay is saved; `abort()` stops the worker. Errors in the worker reject `finish()`.
 * Small logs (below PARALLEL_MIN_BYTES) are replayed on this thread by `InlineReplays` instead: a
 * worker's start-up would cost more than it saves.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from './threads/spawn-worker.ts';
import type { StoreWriter } from '../store/types.ts';
import type { StoredBtf } from './btf.ts';
import { ReplayRouter, type PlainReplayResult, type RouterOptions } from './replay-router.ts';
import type { LogRecord } from '../domain/log/records.ts';
import type { ProgramInfo } from '../domain/log/log-parser.ts';
import { profileForRun } from './profiles.ts';
import { logKernelOf } from './replay.ts';

const MAX_INFLIGHT = 64 << 20;
export const PARALLEL_MIN_BYTES = 8 << 20;

export interface ReplaySetup {
  router: RouterOptions;
  btfId: number | null;
}

/** What the replays of an ingest use: the same choice as a later replay of the stored run (by stored id, not by --btf order). */
export async function replaySetup(w: StoreWriter, stored: StoredBtf[], kernel: string | null, kernelProfile: string | undefined): Promise<ReplaySetup> {
  const btf = await w.programBtf({ btfIds: stored.map((b) => b.id) });
  const logKernel = logKernelOf(kernel);
  const router: RouterOptions = { btf: btf?.summary ?? null, kernelProfile: profileForRun(kernel, kernelProfile), profileIsDefault: kernelProfile === undefined && logKernel === undefined };
  if (logKernel) router.logKernel = logKernel;
  return { router, btfId: btf?.id ?? null };
}

/** Saves of one ingest's replays, in arrival order, inside its transaction; `settled()` waits for all. */
class ReplaySaves {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private stopped = false;

  constructor(
    private readonly w: StoreWriter,
    private readonly setup: ReplaySetup,
  ) {}

  save(runId: number, idx: number, plain: PlainReplayResult): void {
    const key = { runId, programIdx: idx, kernelProfile: this.setup.router.kernelProfile };
    this.chain = this.chain
      .then(async () => {
        if (!this.stopped) await this.w.saveReplay(key, plain, this.setup.btfId);
      })
      .catch((e) => {
        this.failure ??= e;
      });
  }

  /** Drop every save not made yet (the ingest's transaction is being rolled back). */
  stop(): void {
    this.stopped = true;
  }

  async settled(): Promise<void> {
    await this.chain;
    if (this.failure !== null) throw this.failure;
  }
}

/** Replays on this thread, fed the parser's records (for small logs). */
export class InlineReplays {
  private readonly router: ReplayRouter;
  private runId = -1;

  private readonly saves: ReplaySaves;

  constructor(w: StoreWriter, setup: ReplaySetup) {
    this.saves = new ReplaySaves(w, setup);
    this.router = new ReplayRouter(
      setup.router,
      (idx, plain) => this.saves.save(this.runId, idx, plain),
      (idx) => this.info?.(idx) ?? { section: null, btfRefused: false, structOps: null },
    );
  }

  private info: ((idx: number) => ProgramInfo) | undefined;

  /** Where what the loader said of each program is known (the ingest's parser). */
  programInfo(fn: (idx: number) => ProgramInfo): void {
    this.info = fn;
  }

  begin(runId: number): void {
    this.runId = runId;
  }

  record(rec: LogRecord): void {
    this.router.record(rec);
  }

  async finish(): Promise<void> {
    this.router.finish();
    await this.saves.settled();
  }

  abort(): void {
    this.saves.stop();
  }
}

function spawnReplayWorker(router: RouterOptions): Worker {
  return spawnWorker(new URL('./threads/replay-worker.ts', import.meta.url), { router });
}

export class ParallelReplays {
  private readonly worker: Worker;
  private readonly saves: ReplaySaves;
  private runId = -1;
  private inflight = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private done: Promise<void>;

  constructor(w: StoreWriter, setup: ReplaySetup) {
    this.saves = new ReplaySaves(w, setup);
    this.worker = spawnReplayWorker(setup.router);
    this.done = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: { type: string; bytes?: number; idx?: number; result?: PlainReplayResult; message?: string }) => {
        if (m.type === 'ack') {
          this.inflight -= m.bytes ?? 0;
          if (this.inflight <= MAX_INFLIGHT) for (const w of this.waiters.splice(0)) w();
        } else if (m.type === 'program' && m.result && m.idx !== undefined) {
          this.saves.save(this.runId, m.idx, m.result);
        } else if (m.type === 'done') resolve();
        else if (m.type === 'error') this.fail(new Error(`replay worker: ${m.message}`), reject);
      });
      this.worker.on('error', (e) => this.fail(e, reject));
    });
    this.done.catch(() => undefined);
  }

  private fail(e: Error, reject: (e: Error) => void): void {
    this.failure = e;
    for (const w of this.waiters.splice(0)) w();
    reject(e);
  }

  begin(runId: number): void {
    this.runId = runId;
  }

  async chunk(buf: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    const copy = new Uint8Array(buf.length);
    copy.set(buf);
    this.inflight += copy.byteLength;
    this.worker.postMessage({ type: 'chunk', buf: copy.buffer }, [copy.buffer]);
    if (this.inflight > MAX_INFLIGHT) await new Promise<void>((r) => this.waiters.push(r));
  }

  async finish(): Promise<void> {
    this.worker.postMessage({ type: 'end' });
    try {
      await this.done;
    } finally {
      await this.worker.terminate();
    }
    await this.saves.settled();
  }

  /** Stop now: results the worker already posted are dropped (the ingest's transaction is being
   * rolled back and the database may be closed next). */
  abort(): void {
    this.saves.stop();
    this.worker.removeAllListeners('message');
    this.worker.on('error', () => undefined);
    void this.worker.terminate();
  }
}
