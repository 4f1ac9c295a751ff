/**
 * Starts one of the app's worker threads (`store-worker`, `ingest-worker`) from source (through
 * tsx, via worker-boot.mjs) or from a built bundle (`<name>.js` next to the running module).
 */
import { Worker } from 'node:worker_threads';

export type WorkerName = 'store-worker' | 'ingest-worker';

export function spawnWorker(name: WorkerName, data: Record<string, unknown>): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (fromSource) {
    const entry = new URL(`./${name}.ts`, import.meta.url).href;
    return new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { ...data, entry } });
  }
  return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData: data });
}
