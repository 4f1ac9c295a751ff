/**
 * One ingest in its own worker thread (a 650 MB log takes seconds: never on a request or UI
 * thread). workerData { dbPath, log, btf, kernel }; posts { type: 'progress', bytesRead,
 * totalBytes } at most 10×/s, then { type: 'done', runId, duplicate } or { type: 'failed', message }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { statSync } from 'node:fs';
import { openStore } from '../../store/open-store.ts';
import { ingestLog, IngestError } from '../../app/ingest.ts';
import { BtfFileError } from '../../app/btf.ts';
import { DatabaseOpenError, NewerDatabaseError } from '../../store/types.ts';

export type IngestReply =
  | { type: 'progress'; bytesRead: number; totalBytes: number }
  | { type: 'done'; runId: number; duplicate: boolean }
  | { type: 'failed'; message: string };

const port = parentPort;
if (!port) throw new Error('ingest-worker must run in a worker thread');
const job = workerData as { dbPath: string; log: string; btf: string[]; kernel: string | null };

function known(e: unknown): e is Error {
  return e instanceof IngestError || e instanceof BtfFileError || e instanceof DatabaseOpenError || e instanceof NewerDatabaseError || (e instanceof Error && e.name === 'BtfParseError');
}

async function run(): Promise<IngestReply> {
  let totalBytes = 0;
  try {
    totalBytes = statSync(job.log).size;
  } catch {
    /* ingestLog reports it */
  }
  const store = await openStore(job.dbPath);
  let last = 0;
  try {
    const r = await ingestLog(store, job.log, {
      replay: {},
      btf: job.btf,
      kernel: job.kernel,
      onProgress: (p) => {
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        port?.postMessage({ type: 'progress', bytesRead: p.bytesRead, totalBytes } satisfies IngestReply);
      },
    });
    return { type: 'done', runId: r.runId, duplicate: r.duplicate };
  } finally {
    await store.close();
  }
}

run().then(
  (r) => port.postMessage(r),
  (e: unknown) => {
    if (!known(e)) console.error('kptrscope ingest worker:', e);
    port.postMessage({ type: 'failed', message: known(e) ? e.message : `internal error: ${(e as Error).message}` } satisfies IngestReply);
  },
);
