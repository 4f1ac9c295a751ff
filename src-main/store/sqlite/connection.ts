/**
 * Opening an SQLite kptrscope database: pragmas, migrations, and clear errors for files that are
 * not (or no longer) kptrscope databases. Only the SQLite store (sqlite-store.ts) and tests use it.
 *
 * Contract: `openDatabase(path)` returns a migrated better-sqlite3 handle in WAL mode with a busy
 * timeout (a second process waits instead of failing), foreign keys on. A corrupt or foreign file
 * raises `DatabaseOpenError` and is never written to; a newer schema raises `NewerDatabaseError`.
 * Damage found later, by any query on the handle, raises the same one-line `DatabaseOpenError`.
 */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { migrate } from './migrations.ts';
import { DatabaseOpenError, NewerDatabaseError } from '../types.ts';
import { defaultBusyTimeoutMs } from '../busy-timeout.ts';

export { DatabaseOpenError, NewerDatabaseError };
export type Db = Database.Database;

/** SQLite's "this file is damaged" errors (the commands report them instead of a stack trace). */
const CORRUPT_CODES = /^SQLITE_(CORRUPT|NOTADB)/;

/** The one-line error for a database found damaged while reading it. */
export function corruptDatabase(db: Db, detail: string): DatabaseOpenError {
  return new DatabaseOpenError(`${db.name}: database is corrupt (${detail}); it was not modified`);
}

/**
 * Run a store query; a damaged file (SQLITE_CORRUPT / SQLITE_NOTADB, found only when the damaged
 * page is read) becomes the same one-line DatabaseOpenError an open reports.
 */
export function guardCorrupt<T>(db: Db, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asCorrupt(db, e);
  }
}

/** `e`, or the one-line DatabaseOpenError when `e` is SQLite saying the file is damaged. */
export function asCorrupt(db: Db, e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CORRUPT_CODES.test(code) ? corruptDatabase(db, (e as Error).message) : e;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

function checkHeader(path: string): void {
  if (!existsSync(path)) return;
  const size = statSync(path).size;
  if (size === 0) return; // an empty file becomes a new database
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, 0);
    if (buf.toString('latin1') !== SQLITE_MAGIC) {
      throw new DatabaseOpenError(`${path}: not a SQLite database (bad header); refusing to use or overwrite it`);
    }
  } finally {
    closeSync(fd);
  }
}

export interface OpenOptions {
  readonly?: boolean;
  /** Milliseconds to wait for another process's write lock (default 15 s, or $KPTRSCOPE_BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

export { defaultBusyTimeoutMs };

/** True for SQLite's "another connection holds the lock" errors (SQLITE_BUSY / SQLITE_LOCKED). */
export function isBusyError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? /^SQLITE_(BUSY|LOCKED)/.test(code) : /database is locked|database is busy/i.test(String((e as Error)?.message));
}

/**
 * Make every statement of `db` report a damaged file as the one-line DatabaseOpenError: SQLite finds
 * damage only when it reads the damaged page, which may be in any query of any service, long after
 * the open succeeded.
 */
function reportCorruption(db: Db): void {
  const guard =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      try {
        return f(...a);
      } catch (e) {
        throw asCorrupt(db, e);
      }
    };
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const st = prepare(source) as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['run', 'get', 'all']) st[m] = guard((st[m] as (...a: unknown[]) => unknown).bind(st));
    const iterate = (st.iterate as (...a: unknown[]) => IterableIterator<unknown>).bind(st);
    st.iterate = guard((...a: unknown[]) => {
      const it = iterate(...a);
      const wrapped: IterableIterator<unknown> = {
        next: guard(() => it.next()),
        return: (v?: unknown) => it.return?.(v) ?? { done: true, value: v },
        [Symbol.iterator]() {
          return wrapped;
        },
      };
      return wrapped;
    });
    return st;
  }) as unknown as Db['prepare'];
  db.exec = guard(db.exec.bind(db)) as Db['exec'];
  db.pragma = guard(db.pragma.bind(db)) as Db['pragma'];
}

export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  const abs = resolve(path);
  checkHeader(abs);
  if (!opts.readonly) mkdirSync(dirname(abs), { recursive: true });
  let db: Db;
  try {
    db = new Database(abs, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (e) {
    throw new DatabaseOpenError(`${abs}: cannot open database: ${(e as Error).message}`);
  }
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? defaultBusyTimeoutMs()}`);
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // Reading the schema fails fast on a damaged header or schema (a full integrity_check would
    // read every page, which is too slow for a large database at every start).
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (!opts.readonly) migrate(db, abs);
    reportCorruption(db);
  } catch (e) {
    db.close();
    if (e instanceof DatabaseOpenError || e instanceof NewerDatabaseError) throw e;
    const msg = (e as Error).message;
    if (/not a database|malformed|corrupt/i.test(msg)) {
      throw new DatabaseOpenError(`${abs}: database is corrupt (${msg}); it was not modified`);
    }
    if (isBusyError(e)) {
      throw new DatabaseOpenError(`${abs}: database is busy (another kptrscope is writing to it); try again`);
    }
    throw e;
  }
  return db;
}
