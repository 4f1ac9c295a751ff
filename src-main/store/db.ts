/**
 * Opening the kptrscope database: default location (XDG data dir), pragmas, migrations, and clear
 * errors for files that are not (or no longer) kptrscope databases.
 *
 * Contract: `openDatabase(path)` returns a migrated better-sqlite3 handle in WAL mode with a busy
 * timeout (a second process waits instead of failing), foreign keys on. A corrupt or foreign file
 * raises `DatabaseOpenError` and is never written to; a newer schema raises `NewerDatabaseError`.
 */
import Database from 'better-sqlite3';
import { mkdirSync, existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { migrate, NewerDatabaseError } from './migrations.ts';

export { NewerDatabaseError };
export type Db = Database.Database;

export class DatabaseOpenError extends Error {}

export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'kptrscope', 'kptrscope.db');
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
  /** Milliseconds to wait for another process's write lock (default 15 s). */
  busyTimeoutMs?: number;
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
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 15000}`);
    if (!opts.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // Reading the schema fails fast on a damaged header or schema (a full integrity_check would
    // read every page, which is too slow for a large database at every start).
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (!opts.readonly) migrate(db, abs);
  } catch (e) {
    db.close();
    if (e instanceof DatabaseOpenError || e instanceof NewerDatabaseError) throw e;
    const msg = (e as Error).message;
    if (/not a database|malformed|corrupt/i.test(msg)) {
      throw new DatabaseOpenError(`${abs}: database is corrupt (${msg}); it was not modified`);
    }
    if (/database is locked|busy/i.test(msg)) {
      throw new DatabaseOpenError(`${abs}: database is busy (another kptrscope is writing to it); try again`);
    }
    throw e;
  }
  return db;
}
