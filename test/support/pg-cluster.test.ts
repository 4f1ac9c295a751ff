/**
 * The PostgreSQL test server itself (test/support/pg-global-setup.ts, scripts/pg-cluster.ts): it is a
 * real PostgreSQL, reached with a password over TCP (SCRAM: a wrong password is refused), and
 * freshPgDatabase() creates a database the role owns and drops it again.
 */
import { expect, it } from 'vitest';
import pg from 'pg';
import { describePg, freshPgDatabase, pgUrl, withDatabase } from './pg.ts';

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describePg('PostgreSQL test server', () => {
  it('is a real PostgreSQL server', async () => {
    const [row] = await query<{ version: string; user: string }>(pgUrl()!, 'SELECT version(), current_user AS user');
    expect(row!.version).toMatch(/^PostgreSQL \d+/);
    expect(row!.user).not.toBe('');
  });

  it('freshPgDatabase creates an empty database and drop() removes it, even with a connection open', async () => {
    const db = await freshPgDatabase();
    expect(db.name).toMatch(/^kt_[0-9a-f]{16}$/);
    expect(db.url).toBe(withDatabase(pgUrl()!, db.name));
    const open = new pg.Client({ connectionString: db.url });
    await open.connect();
    open.on('error', () => {}); // drop() terminates this backend
    const [here] = (await open.query<{ db: string; tables: string }>("SELECT current_database() AS db, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables")).rows;
    expect(here).toEqual({ db: db.name, tables: '0' });
    await open.query('CREATE TABLE t (x int)');

    await db.drop();
    await db.drop(); // idempotent
    const left = await query(pgUrl()!, 'SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
    expect(left).toEqual([]);
    await open.end().catch(() => {});
  });

  it('refuses a wrong password', async () => {
    const u = new URL(pgUrl()!);
    if (u.password === '') return; // KPTRSCOPE_TEST_PG without a password (e.g. a socket): nothing to check
    u.password = 'wrong';
    const c = new pg.Client({ connectionString: u.toString() });
    await expect(c.connect()).rejects.toThrow(/password authentication failed/);
    await c.end().catch(() => {});
  });
});
