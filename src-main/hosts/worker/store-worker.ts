/**
 * The store worker thread: owns the database handle the app reads through (SQLite never runs on a
 * request thread or Electron's main thread) and answers `StoreMethod` requests one at a time.
 *
 * Protocol (worker-client.ts is the other side): workerData { dbPath } (a store location); posts { type: 'ready' } or
 * { type: 'fatal', message } once; then for each { id, method, input } (already validated) posts
 * { type: 'started', id } as it begins and { id, ok: true, result } or { id, ok: false, code,
 * message } when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../../store/open-store.ts';
import { createStoreService } from '../../app/handlers.ts';
import { STORE_METHODS, type StoreMethod } from '../../contract/contract.ts';
import { AppError } from '../../contract/errors.ts';

export interface StoreRequest {
  id: number;
  method: StoreMethod;
  input: unknown;
}

export type StoreReply =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  /** Sent when a request starts running (the client's watchdog counts from here, not from the queue). */
  | { type: 'started'; id: number }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; code: string; message: string };

const port = parentPort;
if (!port) throw new Error('store-worker must run in a worker thread');
const { dbPath } = workerData as { dbPath: string };
/** KPTRSCOPE_TRACE=1: one stderr line per request with its time in the worker. */
const trace = process.env.KPTRSCOPE_TRACE === '1';

let handlers: ReturnType<typeof createStoreService>['handlers'];
try {
  const service = createStoreService(await openStore(dbPath));
  handlers = service.handlers;
  port.postMessage({ type: 'ready' } satisfies StoreReply);
  // Before any request arrives: the newest run is the one most likely to be opened first.
  setImmediate(() => {
    service.warmLatest().catch(() => undefined); // a request will report it
  });
} catch (e) {
  port.postMessage({ type: 'fatal', message: (e as Error).message } satisfies StoreReply);
  process.exit(1);
}

port.on('message', async (req: StoreRequest) => {
  port.postMessage({ type: 'started', id: req.id } satisfies StoreReply);
  try {
    if (!(STORE_METHODS as readonly string[]).includes(req.method)) throw new AppError('not-found', `not a store method: ${req.method}`);
    const h = handlers[req.method] as (i: unknown) => unknown;
    const t0 = trace ? performance.now() : 0;
    const result = await h(req.input);
    if (trace) process.stderr.write(`kptrscope store: ${req.method} ${(performance.now() - t0).toFixed(1)} ms\n`);
    port.postMessage({ id: req.id, ok: true, result } satisfies StoreReply);
  } catch (e) {
    const known = e instanceof AppError;
    if (!known) console.error(`kptrscope store worker: ${req.method}:`, e);
    port.postMessage({
      id: req.id,
      ok: false,
      code: known ? e.code : 'internal',
      message: known ? e.message : `internal error in ${req.method}`,
    } satisfies StoreReply);
  }
});
