/**
 * The Electron app's backend: a plain Node child process (forked by backend-client.ts with the
 * system Node, so better-sqlite3 needs no rebuild for Electron's ABI) that owns all SQLite work —
 * the store worker thread and the ingest worker threads, exactly as the browser host runs them.
 *
 * Protocol over the fork IPC channel: argv[2] = database path; sends { type: 'ready' } or
 * { type: 'fatal', message }; answers { id, method, input } (validated by the main process, and
 * again here) with { id, ok, result | code+message }; pushes { type: 'event', event: AppEvent }.
 * Only `startIngest` with `path` FileRefs and the store methods are served here.
 */
import { existsSync, statSync } from 'node:fs';
import type { AppEvent, FileRef, Handlers } from '../../contract/contract.ts';
import { dispatch } from '../../contract/dispatch.ts';
import { AppError } from '../../contract/errors.ts';
import { StoreClient } from '../worker/worker-client.ts';
import { IngestQueue } from '../worker/ingest-jobs.ts';

export type BackendMessage =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'event'; event: AppEvent }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; code: string; message: string };

export interface BackendRequest {
  id: number;
  method: string;
  input: unknown;
}

const send = (m: BackendMessage) => process.send?.(m);

function pathOf(ref: FileRef): string {
  if (ref.kind !== 'path') throw new AppError('unsupported', 'the desktop app opens files by path');
  if (!existsSync(ref.path) || !statSync(ref.path).isFile()) throw new AppError('not-found', `${ref.path}: not a readable file`);
  return ref.path;
}

async function main(): Promise<void> {
  const dbPath = process.argv[2];
  if (!dbPath || !process.send) throw new Error('usage: backend-process <db> (forked with an IPC channel)');
  const store = await StoreClient.start(dbPath);
  const queue = new IngestQueue(dbPath, (event) => send({ type: 'event', event }));
  const handlers: Partial<Handlers> = {
    ...store.handlers(),
    startIngest: ({ log, btf, kernel }) => ({ jobId: queue.submit({ log: pathOf(log), btf: btf.map(pathOf), kernel: kernel ?? null }) }),
  };
  process.on('message', (req: BackendRequest) => {
    dispatch(handlers, req.method, req.input).then(
      (result) => send({ type: 'reply', id: req.id, ok: true, result }),
      (e: unknown) => {
        if (!(e instanceof AppError)) process.stderr.write(`kptrscope backend: ${(e as Error).stack ?? String(e)}\n`);
        send({ type: 'reply', id: req.id, ok: false, code: e instanceof AppError ? e.code : 'internal', message: e instanceof AppError ? e.message : 'internal error' });
      },
    );
  });
  process.on('disconnect', () => {
    queue.stop();
    void store.close().finally(() => process.exit(0));
  });
  send({ type: 'ready' });
}

main().catch((e: unknown) => {
  send({ type: 'fatal', message: (e as Error).message });
  process.exit(1);
});
