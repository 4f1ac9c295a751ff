/**
 * Main-thread side of the store worker: `StoreClient.start(dbPath)` resolves once the worker has
 * opened (and migrated) the database, or rejects with its error; `handlers()` gives the contract's
 * store methods as async functions that post to the worker. Requests are answered in order.
 */
import type { Worker } from 'node:worker_threads';
import { STORE_METHODS, type Handlers, type StoreMethod } from './contract.ts';
import { AppError } from './errors.ts';
import { spawnWorker } from './spawn-worker.ts';
import type { StoreReply, StoreRequest } from './store-worker.ts';
import type { ApiErrorCode } from './contract.ts';

export class StoreClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: StoreReply) => {
      if (!('id' in m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new AppError(m.code as ApiErrorCode, m.message));
    });
    worker.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new AppError('internal', 'the store worker stopped'));
      this.pending.clear();
    });
  }

  static start(dbPath: string): Promise<StoreClient> {
    const worker = spawnWorker('store-worker', { dbPath });
    return new Promise((resolve, reject) => {
      const onMessage = (m: StoreReply) => {
        if ('type' in m && m.type === 'ready') {
          worker.off('message', onMessage);
          resolve(new StoreClient(worker));
        } else if ('type' in m && m.type === 'fatal') {
          worker.off('message', onMessage);
          reject(new Error(m.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  call(method: StoreMethod, input: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, input } satisfies StoreRequest);
    });
  }

  handlers(): Handlers<StoreMethod> {
    const out: Partial<Record<StoreMethod, (i: unknown) => Promise<unknown>>> = {};
    for (const m of STORE_METHODS) out[m] = (i: unknown) => this.call(m, i);
    return out as unknown as Handlers<StoreMethod>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
