// Faults in the fleet, on a real PostgreSQL server with real host captures:
// - a worker killed with kill -9 while its run is written but not committed leaves no run, and
//   its job, expired, is retried by another worker, which stores it once;
// - a database connection dropped mid-write (the server ends the worker's backend) is a clear
//   one-line error, the write is rolled back, and the job is retried and stored once;
// - four workers writing at once lose nothing: every job of two tags stored, once each.
// Short expiry and maintenance intervals stand in for the capture timeout (minutes) here; workers
// wait 20 s for work before they exit (longer than an expiry plus the queue's retry delay).
import { it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import pg from 'pg';
import { FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope, startKptrscope } from '../helpers/cli.ts';
import { describePg, freshPgDatabase, type FreshPgDatabase } from '../support/pg.ts';

const OBJ = (name: string) => join(FIXTURES, 'logs', '6.18', `${name}.bpf.o`);
const FAST = { KPTRSCOPE_JOB_EXPIRE_SECONDS: '6', KPTRSCOPE_QUEUE_MAINTENANCE_SECONDS: '1' };

describePg('the fleet under faults', () => {
  let db: FreshPgDatabase;
  let sql: pg.Client;
  beforeAll(async () => {
    db = await freshPgDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  const count = async (q: string, params: unknown[] = []) => Number((await sql.query(q, params)).rows[0].n);
  const runsTagged = (tag: string) => count('SELECT count(*) AS n FROM run_tags WHERE tag = $1', [tag]);
  const submit = (tag: string, objects: string[]) => {
    const r = kptrscope(['ci', 'submit', ...objects, '--kernel', 'host', '--tag', tag, '--db', db.url, '--json'], FAST);
    expect(r.status, r.stderr).toBe(0);
  };
  // Asynchronous: the workers' output keeps being read meanwhile.
  const wait = async (tag: string) => {
    const r = await startKptrscope(['ci', 'wait', '--tag', tag, '--timeout', '180', '--db', db.url, '--json'], FAST).done;
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { total: number; completed: number; failed: number };
  };

  it('kill -9 mid-write: no partial run; the expired job is retried elsewhere and stored once', async () => {
    submit('k9', [OBJ('leak_obj')]);
    const runsBefore = await count('SELECT count(*) AS n FROM runs');
    const a = startKptrscope(['worker', '--db', db.url], { ...FAST, KPTRSCOPE_FAILPOINTS: 'pg-before-commit=120000' });
    // Its run is written (blocks, programs, replays) and not committed when it stops here.
    await a.waitFor(/failpoint pg-before-commit: pausing/, 60_000);
    expect(await count("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kptrscope-store' AND state = 'idle in transaction'")).toBe(1);
    a.child.kill('SIGKILL');
    await a.done;
    expect(await count('SELECT count(*) AS n FROM runs')).toBe(runsBefore);
    expect(await count("SELECT count(*) AS n FROM runs WHERE sha256 LIKE 'pending:%'")).toBe(0);
    const b = startKptrscope(['worker', '--db', db.url, '--idle-exit', '20'], FAST);
    expect(await wait('k9')).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const rb = await b.done;
    expect(rb.stderr).toMatch(/worker: capturing leak_obj\.bpf\.o on host \(tag k9, job [0-9a-f]{8}, attempt 2\)/);
    expect(rb.stderr).toMatch(/worker: stored run \d+ for leak_obj\.bpf\.o on host/);
    expect(await runsTagged('k9')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM job_runs')).toBe(1);
  }, 240_000);

  it('a dropped connection: a clear error, nothing stored, the job retried and stored once', async () => {
    const r0 = kptrscope(['ci', 'submit', OBJ('double_drop'), '--kernel', 'host', '--tag', 'drop', '--db', db.url], { ...FAST, KPTRSCOPE_JOB_EXPIRE_SECONDS: '300' });
    expect(r0.status, r0.stderr).toBe(0);
    // A long expiry: this job is retried because its write failed, not because it expired.
    const w = startKptrscope(['worker', '--db', db.url, '--idle-exit', '20'], { ...FAST, KPTRSCOPE_JOB_EXPIRE_SECONDS: '300', KPTRSCOPE_FAILPOINTS: 'pg-before-commit=8000x1' });
    await w.waitFor(/failpoint pg-before-commit: pausing/, 60_000);
    const killed = await sql.query(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kptrscope-store' AND state = 'idle in transaction'",
    );
    expect(killed.rows).toEqual([{ ok: true }]);
    await w.waitFor(/the connection to the database was lost \([^)]*\); nothing of the interrupted write was stored, try again; the queue retries it/, 90_000);
    expect(w.stderr()).not.toContain(/:\/\/[^:]+:([^@]+)@/.exec(db.url)![1]!);
    expect(await runsTagged('drop')).toBe(0);
    expect(await wait('drop')).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const r = await w.done;
    expect(r.stderr).toMatch(/attempt 2\)/);
    expect(await runsTagged('drop')).toBe(1);
  }, 240_000);

  it('four workers writing at once lose nothing', async () => {
    const objects = ['leak_obj_fixed', 'leak_two', 'list_push_pop', 'local_in_map', 'local_kptr_stash', 'map_kptr_stash', 'multi_ok', 'own_cycle'].map(OBJ);
    submit('four-a', objects);
    submit('four-b', objects);
    const jobsBefore = await count('SELECT count(*) AS n FROM job_runs');
    const workers = [0, 1, 2, 3].map(() => startKptrscope(['worker', '--db', db.url, '--idle-exit', '20'], FAST));
    expect(await wait('four-a')).toMatchObject({ total: 8, completed: 8, failed: 0 });
    expect(await wait('four-b')).toMatchObject({ total: 8, completed: 8, failed: 0 });
    const ended = await Promise.all(workers.map((w) => w.done));
    for (const r of ended) expect(r.status, r.stderr).toBe(0);
    expect(ended.filter((r) => /stored run/.test(r.stderr)).length).toBeGreaterThan(1);
    expect(await runsTagged('four-a')).toBe(8);
    expect(await runsTagged('four-b')).toBe(8);
    expect(await count('SELECT count(*) AS n FROM job_runs') - jobsBefore).toBe(16);
    // every run whole: its programs and replays are there
    expect(await count("SELECT count(*) AS n FROM runs r WHERE NOT EXISTS (SELECT 1 FROM programs p WHERE p.run_id = r.id)")).toBe(0);
  }, 300_000);
});
