/**
 * Starts one of kptrscope's worker threads from its TypeScript entry module: through tsx (via
 * worker-boot.mjs) when running from the sources, or the module itself when it is already
 * JavaScript. Every worker (the store worker, ingest workers, the replay-while-ingesting worker)
 * is started here.
 *
 * Contract: `spawnWorker(entry, data)`: `entry` is the worker module's URL (e.g.
 * `new URL('./store-worker.ts', import.meta.url)`), `data` its workerData.
 */
import { Worker } from 'node:worker_threads';

export function spawnWorker(entry: URL, data: Record<string, unknown>): Worker {
  if (entry.pathname.endsWith('.ts')) {
    return new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { ...data, entry: entry.href } });
  }
  return new Worker(entry, { workerData: data });
}
