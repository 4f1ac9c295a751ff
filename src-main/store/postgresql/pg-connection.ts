/**
 * Connecting to a PostgreSQL kptrscope store: the pool, the one-line errors a user sees for a
 * server that cannot be reached, refuses the credentials or drops the connection, and the schema
 * migrations (the PostgreSQL files of the one list, store/migration-list.ts).
 *
 * Contract:
 * - `openPool(url)` gives a pg Pool for a libpq-style URL (`postgresql://user[:password]@host[:port]/db
 *   [?sslmode=…&host=/socket/dir]`); a password missing from the URL comes from `PGPASSWORD` or
 *   `~/.pgpass`, as libpq users expect (node-postgres reads both). 64-bit integers come back as numbers.
 * - `pgError(location, e)` turns a driver error into the one-line error the commands print: the
 *   location always without its password (`redactLocation`), never the driver's stack.
 *   A lost connection is `StoreConnectionError` (retryable: the write it interrupted was rolled back).
 * - `migrate(pool, location)` brings the schema up to date under an advisory lock, so N processes
 *   starting at once migrate once; a schema newer than this build is `NewerDatabaseError` (nothing
 *   is changed).
 */
import pg from 'pg';
import { redactLocation } from '../location.ts';
import { latestVersion, loadMigrations, type Migration } from '../migration-list.ts';
import { DatabaseOpenError, NewerDatabaseError, StoreBusyError, StoreConnectionError } from '../types.ts';

const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The advisory lock key of migrations ('kptrscope migrate'), and of writes (one writer at a time, as SQLite). */
export const MIGRATE_LOCK = 0x6b707472_01;
export const WRITE_LOCK = 0x6b707472_02;

export function openPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types, connectionTimeoutMillis: 15000, idleTimeoutMillis: 10000, application_name: 'kptrscope-store' });
  // An idle client whose server went away must not crash the process: the next query reports it.
  pool.on('error', () => {});
  return pool;
}

/** Driver error codes and messages that mean the connection itself is gone. */
const LOST = /Connection terminated|not queryable|connection .*(closed|reset|ended)|ECONNRESET|EPIPE|server closed the connection|terminating connection/i;
const LOST_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', 'ECONNRESET', 'EPIPE']);

export function pgError(location: string, e: unknown): unknown {
  if (e instanceof DatabaseOpenError || e instanceof NewerDatabaseError || e instanceof StoreBusyError) return e;
  const err = e as { code?: string; message?: string } | null;
  const code = err?.code ?? '';
  const msg = String(err?.message ?? e).replace(/\s+/g, ' ').trim();
  const loc = redactLocation(location);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || /timeout expired/i.test(msg)) {
    return new DatabaseOpenError(`${loc}: cannot reach the PostgreSQL server (${code || msg})`);
  }
  if (code === '28P01' || code === '28000') return new DatabaseOpenError(`${loc}: the PostgreSQL server refused the credentials (${msg})`);
  if (code === '3D000') return new DatabaseOpenError(`${loc}: ${msg} (create it first: createdb)`);
  if (code === '42501') return new DatabaseOpenError(`${loc}: permission denied (${msg})`);
  if (LOST_CODES.has(code) || LOST.test(msg)) return new StoreConnectionError(loc, msg);
  if (/SSL|certificate|self[- ]signed/i.test(msg)) return new DatabaseOpenError(`${loc}: TLS: ${msg} (see sslmode in the URL)`);
  if (/password must be a string|SASL/i.test(msg)) return new DatabaseOpenError(`${loc}: no password for this server (give it in the URL, PGPASSWORD or ~/.pgpass)`);
  return e;
}

async function schemaVersion(c: pg.PoolClient): Promise<number> {
  await c.query('CREATE TABLE IF NOT EXISTS kptrscope_schema (version integer NOT NULL)');
  const r = await c.query<{ version: number }>('SELECT version FROM kptrscope_schema');
  if (r.rows.length === 0) {
    await c.query('INSERT INTO kptrscope_schema (version) VALUES (0)');
    return 0;
  }
  return r.rows[0]!.version;
}

/** Bring the database up to date. Returns the versions applied (empty when another process did it). */
export async function migrate(pool: pg.Pool, location: string, migrations: Migration[] = loadMigrations('postgresql')): Promise<number[]> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      const current = await schemaVersion(c);
      const known = latestVersion(migrations);
      if (current > known) throw new NewerDatabaseError(redactLocation(location), current, known);
      const applied: number[] = [];
      for (const m of migrations) {
        if (m.version <= current) continue;
        await c.query('BEGIN');
        try {
          await c.query(m.sql);
          await c.query('UPDATE kptrscope_schema SET version = $1', [m.version]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        }
        applied.push(m.version);
      }
      return applied;
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
    }
  } finally {
    c.release();
  }
}
