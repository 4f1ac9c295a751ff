/**
 * Test helpers for PostgreSQL: the server that test/support/pg-global-setup.ts provides (a real
 * throw-away cluster, or KPTRSCOPE_TEST_PG), a fresh database per test file, and `describePg` that
 * skips a suite, saying why, when there is no server.
 *
 *   describePg('postgres store', () => {
 *     let db: FreshPgDatabase;
 *     beforeAll(async () => { db = await freshPgDatabase(); });
 *     afterAll(() => db.drop());
 *     it('…', async () => { … db.url … });
 *   });
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';

export interface FreshPgDatabase {
  /** The provided url with its database replaced by the new one. */
  url: string;
  /** The new database's name (kt_<hex>). */
  name: string;
  /** Drops the database, ending any connection still open on it. Idempotent. */
  drop(): Promise<void>;
}

/** The provided server's url (role with CREATEDB, database kptrscope), or null when there is none. */
export function pgUrl(): string | null {
  return inject('pgUrl') ?? null;
}

/** Why PostgreSQL tests are skipped when pgUrl() is null. */
export const PG_SKIP_REASON = 'no PostgreSQL: apt-get install postgresql, or set KPTRSCOPE_TEST_PG=<url>';

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** `url` with its database (the path) replaced; works for the socket form postgresql://u@/db?host=… too. */
export function withDatabase(url: string, database: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/i.exec(url);
  if (!m) throw new Error(`not a postgresql:// url: ${url}`);
  return `${m[1]}/${encodeURIComponent(database)}${m[3]}`;
}

/** A new, empty database on the provided server, owned by its role. Throws when there is no server. */
export async function freshPgDatabase(): Promise<FreshPgDatabase> {
  const base = pgUrl();
  if (base === null) throw new Error(`freshPgDatabase: ${PG_SKIP_REASON}`);
  const name = `kt_${randomBytes(8).toString('hex')}`;
  await withClient(base, (c) => c.query(`CREATE DATABASE ${name}`));
  let dropped = false;
  return {
    url: withDatabase(base, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * `describe`, skipped when there is no PostgreSQL server; the skipped suite's name says why
 * (under KPTRSCOPE_REQUIRE_PG=1 the run fails in globalSetup instead of skipping).
 */
export function describePg(name: string, fn: () => void): void {
  const missing = pgUrl() === null;
  describe.skipIf(missing)(missing ? `${name} (skipped: ${PG_SKIP_REASON})` : name, fn);
}
