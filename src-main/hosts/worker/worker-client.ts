/**
 * Main-thread side of the store worker: `StoreClient.start(dbPath)` resolves once the worker has
 * opened (and migrated) the database, or rejects with its error; `handlers()` gives the contract's
 * store methods as async functions that post to the worker. Requests are answered in order.
 *
 * Watchdog: a `search` runs the user's regular expression over the whole log, and a pattern
 * that backtracks (`(a+)+$` on a long line) cannot be interrupted from inside. When one has been
 * RUNNING (counted from the worker's `started`, not from the queue) past its budget (10 s,
 * KPTRSCOPE_SEARCH_BUDGET_MS), the worker is terminated, that search fails with a plain
 * `bad-request` message, a fresh worker opens the same database, and every other request still
 * waiting is sent to it — none of them had started (the worker runs one at a time and the blocked
 * search holds it), so nothing runs twice, nothing is lost, and the host stays responsive.
 * `close()` answers whatever is still waiting with an error and stops the worker.
 */
import type { Worker } from 'node:worker_threads';
import { STORE_METHODS, type Handlers, type StoreMethod } from '../../contract/contract.ts';
import { AppError } from '../../contract/errors.ts';
import { spawnWorker } from '../../app/threads/spawn-worker.ts';
import type { StoreReply, StoreRequest } from './store-worker.ts';
import type { ApiErrorCode } from '../../contract/contract.ts';

const BUDGETED: ReadonlySet<StoreMethod> = new Set<StoreMethod>(['search']);

function searchBudgetMs(): number {
  const v = Number(process.env.KPTRSCOPE_SEARCH_BUDGET_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

interface Pending {
  method: StoreMethod;
  input: unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

function openWorker(dbPath: string): Promise<Worker> {
  const worker = spawnWorker(new URL('./store-worker.ts', import.meta.url), { dbPath });
  return new Promise((resolve, reject) => {
    const onMessage = (m: StoreReply) => {
      if ('type' in m && m.type === 'ready') {
        worker.off('message', onMessage);
        resolve(worker);
      } else if ('type' in m && m.type === 'fatal') {
        worker.off('message', onMessage);
        reject(new Error(m.message));
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

export class StoreClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  /** The worker requests go to; replaced after a runaway search. */
  private current: Promise<Worker>;
  private closed = false;

  private constructor(
    private readonly dbPath: string,
    worker: Worker,
  ) {
    this.current = Promise.resolve(this.attach(worker));
  }

  static async start(dbPath: string): Promise<StoreClient> {
    return new StoreClient(dbPath, await openWorker(dbPath));
  }

  private attach(worker: Worker): Worker {
    worker.on('message', (m: StoreReply) => {
      if ('type' in m && m.type === 'started') {
        const p = this.pending.get(m.id);
        if (p && BUDGETED.has(p.method) && !p.timer && !this.closed) {
          p.timer = setTimeout(() => void this.runaway(m.id, worker), searchBudgetMs());
          p.timer.unref();
        }
        return;
      }
      if (!('id' in m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (p.timer) clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new AppError(m.code as ApiErrorCode, m.message));
    });
    worker.on('exit', () => {
      if (this.replacing === worker) return;
      for (const p of this.pending.values()) {
        if (p.timer) clearTimeout(p.timer);
        p.reject(new AppError('internal', 'the store worker stopped'));
      }
      this.pending.clear();
    });
    return worker;
  }

  /** The worker being replaced (its exit is expected, not a failure). */
  private replacing: Worker | null = null;

  private post(id: number, p: Pending): void {
    void this.current.then(
      (w) => {
        if (!this.pending.has(id) || this.closed) return;
        w.postMessage({ id, method: p.method, input: p.input } satisfies StoreRequest);
      },
      (e: Error) => {
        this.pending.delete(id);
        p.reject(new AppError('internal', `the store worker could not restart: ${e.message}`));
      },
    );
  }

  private async runaway(id: number, worker: Worker): Promise<void> {
    const p = this.pending.get(id);
    if (!p || this.closed) return;
    this.pending.delete(id);
    p.reject(
      new AppError('bad-request', `the search was stopped after ${(searchBudgetMs() / 1000).toFixed(1)} s (a regular expression that backtracks?); try a simpler pattern`),
    );
    this.replacing = worker;
    this.current = worker.terminate().then(() => openWorker(this.dbPath).then((w) => this.attach(w)));
    // Everything else still waiting was queued in the old worker: send it to the new one, in order.
    for (const [otherId, other] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      if (other.timer) clearTimeout(other.timer);
      other.timer = null;
      this.post(otherId, other);
    }
  }

  call(method: StoreMethod, input: unknown): Promise<unknown> {
    const id = this.nextId++;
    if (this.closed) return Promise.reject(new AppError('internal', 'the store is closed'));
    return new Promise((resolve, reject) => {
      const p: Pending = { method, input, resolve, reject, timer: null };
      this.pending.set(id, p);
      this.post(id, p);
    });
  }

  handlers(): Handlers<StoreMethod> {
    const out: Partial<Record<StoreMethod, (i: unknown) => Promise<unknown>>> = {};
    for (const m of STORE_METHODS) out[m] = (i: unknown) => this.call(m, i);
    return out as unknown as Handlers<StoreMethod>;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new AppError('internal', 'the store was closed'));
    }
    this.pending.clear();
    const w = await this.current.catch(() => null);
    await w?.terminate();
  }
}
