/**
 * What every `kptrscope` command shares: where it writes (stdout for results, stderr for progress
 * and errors), which errors are the user's input (one line, exit 1) rather than a bug, and how it
 * opens the store.
 *
 * Contract: `isKnownError(e)` is true for errors whose message is a complete one-line answer
 * (naming the file or run); `withStore(location, fn)` opens the store (default location when
 * undefined), runs `fn` and always closes it.
 */
import { CaptureError } from '../../capture/errors.ts';
import { IngestError } from '../../app/ingest.ts';
import { BtfFileError } from '../../app/btf.ts';
import { ReplayError } from '../../app/replay.ts';
import { ExportError } from '../../app/export.ts';
import { ExportFileError } from '../../render/index.ts';
import { MatrixError } from '../../app/matrix.ts';
import { openStore } from '../../store/open-store.ts';
import { DatabaseOpenError, NewerDatabaseError, type Store } from '../../store/types.ts';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  stderrIsTty: boolean;
}

/** A usage error (exit status 2). */
export class UsageError extends Error {}

export function isKnownError(e: unknown): e is Error {
  return (
    e instanceof IngestError ||
    e instanceof BtfFileError ||
    e instanceof DatabaseOpenError ||
    e instanceof NewerDatabaseError ||
    e instanceof ReplayError ||
    e instanceof ExportError ||
    e instanceof ExportFileError ||
    e instanceof CaptureError ||
    e instanceof MatrixError ||
    (e instanceof Error && e.name === 'BtfParseError')
  );
}

export async function withStore<T>(location: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(location);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
