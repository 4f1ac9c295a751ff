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
import { Worker } from 'node:worker_threads';
import type { Db } from '../store/db.ts';
import { saveReplay } from '../store/replay-store.ts';
import { loadProgramBtf } from '../store/program-btf.ts';
import type { ReplayResult } from '../model/index.ts';
import type { StoredBtf } from './btf-service.ts';
import { ReplayRouter, type PlainReplayResult, type RouterOptions } from './replay-router.ts';
import type { LogRecord } from '../ingest/verifier-log/records.ts';
import { normaliseProfile, profileForRun } from './profiles.ts';

const MAX_INFLIGHT = 64 << 20;
export const PARALLEL_MIN_BYTES = 8 << 20;

function routerOptions(db: Db, stored: StoredBtf[], kernel: string | null, kernelProfile: string | undefined) {
  // The same choice as a later replay of the stored run: by stored id, not by --btf order.
  const btf = loadProgramBtf(db, { btfIds: stored.map((b) => b.id) });
  const router: RouterOptions = { btf: btf?.summary ?? null, kernelProfile: profileForRun(kernel, kernelProfile) };
  if (kernel && /^\d+\.\d+/.test(kernel)) router.logKernel = normaliseProfile(kernel);
  return { router, btfId: btf?.id ?? null };
}

function save(db: Db, runId: number, profile: string, idx: number, plain: PlainReplayResult, btfId: number | null): void {
  const result = { ...plain, stateAt: () => ({}) } as unknown as ReplayResult;
  saveReplay(db, { runId, programIdx: idx, kernelProfile: profile }, result, btfId);
}

/** Replays on this thread, fed the parser's records (for small logs). */
export class InlineReplays {
  private readonly router: ReplayRouter;
  private runId = -1;

  constructor(db: Db, stored: StoredBtf[], kernel: string | null, kernelProfile: string | undefined) {
    const { router, btfId } = routerOptions(db, stored, kernel, kernelProfile);
    this.router = new ReplayRouter(router, (idx, plain) => save(db, this.runId, router.kernelProfile, idx, plain, btfId));
  }

  begin(runId: number): void {
    this.runId = runId;
  }

  record(rec: LogRecord): void {
    this.router.record(rec);
  }

  finish(): void {
    this.router.finish();
  }
}

function spawnReplayWorker(router: RouterOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (fromSource) {
    const entry = new URL('./replay-worker.ts', import.meta.url).href;
    return new Worker(new URL('../api/worker-boot.mjs', import.meta.url), { workerData: { router, entry } });
  }
  return new Worker(new URL('./replay-worker.js', import.meta.url), { workerData: { router } });
}

export class ParallelReplays {
  readonly kernelProfile: string;
  private readonly worker: Worker;
  private readonly btfId: number | null;
  private runId = -1;
  private inflight = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private done: Promise<void>;

  constructor(
    private readonly db: Db,
    stored: StoredBtf[],
    kernel: string | null,
    kernelProfile: string | undefined,
  ) {
    const { router, btfId } = routerOptions(db, stored, kernel, kernelProfile);
    this.kernelProfile = router.kernelProfile;
    this.btfId = btfId;
    this.worker = spawnReplayWorker(router);
    this.done = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: { type: string; bytes?: number; idx?: number; result?: PlainReplayResult; message?: string }) => {
        if (m.type === 'ack') {
          this.inflight -= m.bytes ?? 0;
          if (this.inflight <= MAX_INFLIGHT) for (const w of this.waiters.splice(0)) w();
        } else if (m.type === 'program' && m.result && m.idx !== undefined) {
          save(this.db, this.runId, this.kernelProfile, m.idx, m.result, this.btfId);
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
  }

  /** Stop now: results the worker already posted are dropped (the ingest's transaction is being
   * rolled back and the database may be closed next). */
  abort(): void {
    this.worker.removeAllListeners('message');
    this.worker.on('error', () => undefined);
    void this.worker.terminate();
  }
}
