// The store's contract on both backends: the same real captures ingested (with their BTF, replayed)
// into SQLite and into a real PostgreSQL give the same answers to every read of the Store interface;
// and on PostgreSQL, as on SQLite: a failed ingest stores nothing, the same content is one run,
// tags and deletes behave, a newer schema is refused, N processes opening a new database at once
// migrate it once, and a password never appears in an error.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { openStore } from '../../src-main/store/open-store.ts';
import type { Store } from '../../src-main/store/types.ts';
import { DatabaseOpenError, NewerDatabaseError } from '../../src-main/store/types.ts';
import { ingestLog, IngestError } from '../../src-main/app/ingest.ts';
import { latestVersion } from '../../src-main/store/migration-list.ts';
import { FIXTURES, ROOT } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';
import { dumpStore } from '../helpers/store-dump.ts';
import { describePg, freshPgDatabase, type FreshPgDatabase } from '../support/pg.ts';

const dir = tempDir();

/** Real captures of several shapes: 6.18 levels 1/2/7 and bpftool logs, 7.3 struct_ops (qdisc, sched_ext), with their objects' BTF. */
function corpus(): { log: string; btf: string[]; kernel: string }[] {
  const out: { log: string; btf: string[]; kernel: string }[] = [];
  for (const rel of ['6.18', '7.3']) {
    const d = join(FIXTURES, 'logs', rel);
    const kernel = readFileSync(join(d, 'KERNEL'), 'utf8').trim();
    const pick = readdirSync(d).filter((f) => (rel === '6.18' ? /\.(L1|L2|L7|bpftool)\.log$/ : /^(qdisc_fifo|qdisc_fq|scx_deadline|leak_obj)[a-z_]*\.(L2|each|bpftool)\.log$/).test(f));
    for (const f of pick.sort()) {
      const obj = join(d, `${f.replace(/\..*$/, '')}.bpf.o`);
      out.push({ log: join(d, f), btf: existsSync(obj) ? [obj] : [], kernel });
    }
  }
  return out;
}

/** The error opening `url` gives (failing the test when it opens). */
async function openError(url: string): Promise<Error> {
  const r = await openStore(url).then(
    async (s) => {
      await s.close();
      return new Error(`opened ${url}`);
    },
    (e: unknown) => e as Error,
  );
  return r;
}

async function fill(store: Store): Promise<void> {
  for (const c of corpus()) await ingestLog(store, c.log, { btf: c.btf, kernel: c.kernel, replay: {}, tags: ['t1'] });
  const first = (await store.listRuns())[0]!;
  await store.write((w) => w.addRunTags(first.id, ['zeta', 'Alpha', 'alpha', 't1']));
}

describePg('the store on SQLite and on PostgreSQL', () => {
  let db: FreshPgDatabase;
  let pgs: Store;
  let lite: Store;
  beforeAll(async () => {
    db = await freshPgDatabase();
    pgs = await openStore(db.url);
    lite = await openStore(join(dir, 'same.db'));
  }, 300_000);
  afterAll(async () => {
    await pgs?.close();
    await lite?.close();
    await db?.drop();
  });

  it('the same captures give the same answers to every read', async () => {
    expect(pgs.kind).toBe('postgresql');
    expect(corpus().length).toBeGreaterThan(30);
    await fill(lite);
    await fill(pgs);
    const [a, b] = [await dumpStore(lite, { times: false }), await dumpStore(pgs, { times: false })];
    expect(Object.keys(b).length).toBe(corpus().length);
    // Every program of every run came through, replayed, with its lines.
    for (const run of Object.values(b) as { programs: unknown[]; replays: unknown[]; lines: unknown[] }[]) {
      expect(run.lines.length).toBeGreaterThan(0);
    }
    expect(b).toEqual(a);
    // ids as SQLite gives them (1, 2, …, in ingest order)
    expect((await pgs.listRuns()).map((r) => r.id)).toEqual((await lite.listRuns()).map((r) => r.id));
    expect(await pgs.latestRunId()).toBe(await lite.latestRunId());
    expect(await pgs.runTags(1)).toEqual(['Alpha', 'alpha', 't1', 'zeta']);
  }, 600_000);

  it('the same content is one run; a failed ingest stores nothing', async () => {
    const c = corpus()[0]!;
    const before = await dumpStore(pgs);
    const again = await ingestLog(pgs, c.log, { kernel: c.kernel });
    expect(again.duplicate).toBe(true);
    const bad = join(dir, 'not-a-log.txt');
    writeFileSync(bad, 'hello\nworld\n'.repeat(100));
    await expect(ingestLog(pgs, bad)).rejects.toThrow(IngestError);
    // a BTF that is not one fails the ingest before anything is kept
    await expect(ingestLog(pgs, corpus()[1]!.log.replace(/L\d\.log$/, 'L2.log'), { btf: [bad] })).rejects.toThrow();
    expect(await dumpStore(pgs)).toEqual(before);
  }, 300_000);

  it('a write that throws midway leaves nothing; a deleted run takes its rows with it', async () => {
    const n = (await pgs.listRuns()).length;
    await expect(
      pgs.write(async (w) => {
        const sink = await w.beginRun({ source: '/x', sourceName: 'x', sizeBytes: 1, kernel: null, createdAt: new Date().toISOString() });
        sink.line({ kind: 0, insn: -1, raw: Buffer.from('x\n'), crlf: false, unterminated: false }, null);
        await sink.flush();
        throw new Error('midway');
      }),
    ).rejects.toThrow('midway');
    expect((await pgs.listRuns()).length).toBe(n);
    const last = (await pgs.latestRunId())!;
    expect(await pgs.deleteRun(last)).toBe(true);
    expect(await pgs.getRun(last)).toBeUndefined();
    expect(await pgs.listReplays(last)).toEqual([]);
    expect(await pgs.deleteRun(last)).toBe(false);
  });
});

describePg('PostgreSQL: schema, migrations and credentials', () => {
  let db: FreshPgDatabase;
  beforeAll(async () => {
    db = await freshPgDatabase();
  });
  afterAll(() => db?.drop());

  it('four processes opening a new database at once migrate it once', async () => {
    const script = `import { openStore } from ${JSON.stringify(join(ROOT, 'src-main/store/open-store.ts'))};
      const s = await openStore(process.env.URL); console.log((await s.listRuns()).length); await s.close();`;
    const runs = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, URL: db.url }, cwd: ROOT });
            let out = '';
            p.stdout.on('data', (d) => (out += String(d)));
            p.stderr.on('data', (d) => (out += String(d)));
            p.on('close', (code) => resolve({ code, out }));
          }),
      ),
    );
    for (const r of runs) expect(r, r.out).toMatchObject({ code: 0 });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      expect((await c.query('SELECT version FROM kptrscope_schema')).rows).toEqual([{ version: latestVersion() }]);
      const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename);
      expect(tables).toEqual(expect.arrayContaining(['runs', 'programs', 'log_blocks', 'replays', 'run_tags', 'btf_files']));
      // a schema from a newer kptrscope is refused, and left as it was
      await c.query('UPDATE kptrscope_schema SET version = 9999');
      await expect(openStore(db.url)).rejects.toThrow(NewerDatabaseError);
      await expect(openStore(db.url)).rejects.toThrow(/schema version 9999 is newer than this kptrscope understands/);
      expect((await c.query('SELECT version FROM kptrscope_schema')).rows).toEqual([{ version: 9999 }]);
      await c.query('UPDATE kptrscope_schema SET version = $1', [latestVersion()]);
    } finally {
      await c.end();
    }
  }, 120_000);

  it('a wrong password, a missing database and an unreachable server are one-line errors without the password', async () => {
    const wrong = db.url.replace(/:\/\/([^:]+):[^@]+@/, '://$1:hunter2-wrong@');
    const e1 = await openError(wrong);
    expect(e1).toBeInstanceOf(DatabaseOpenError);
    expect(e1.message).toMatch(/refused the credentials/);
    expect(e1.message).not.toContain('hunter2');
    expect(e1.message).toContain(':***@');
    const missing = db.url.replace(/\/[^/?]+(\?|$)/, '/kt_no_such_db$1');
    const e2 = await openError(missing);
    expect(e2).toBeInstanceOf(DatabaseOpenError);
    expect(e2.message).toMatch(/kt_no_such_db.*does not exist/);
    const password = /:\/\/[^:]+:([^@]+)@/.exec(db.url)![1]!;
    expect(e2.message).not.toContain(password);
    const nowhere = db.url.replace(/@[^/]+\//, '@127.0.0.1:1/');
    const e3 = await openError(nowhere);
    expect(e3).toBeInstanceOf(DatabaseOpenError);
    expect(e3.message).toMatch(/cannot reach the PostgreSQL server \(ECONNREFUSED\)/);
    expect(e3.message).not.toContain(password);
  });

  it('the password may come from PGPASSWORD instead of the URL', async () => {
    const password = decodeURIComponent(/:\/\/[^:]+:([^@]+)@/.exec(db.url)![1]!);
    const bare = db.url.replace(/:\/\/([^:]+):[^@]+@/, '://$1@');
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = password;
    try {
      const s = await openStore(bare);
      expect(s.location).toBe(bare);
      await s.close();
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
  });

  it('a password from ~/.pgpass (PGPASSFILE); sslmode=require on a server without TLS is a clear error', async () => {
    const m = /:\/\/([^:]+):([^@]+)@([^:/]+):(\d+)\/([^?]+)/.exec(db.url)!;
    const [, user, password, hostName, port, name] = m as unknown as string[];
    const pgpass = join(dir, 'pgpass');
    writeFileSync(pgpass, `${hostName}:${port}:${name}:${user}:${decodeURIComponent(password!)}\n`, { mode: 0o600 });
    const bare = db.url.replace(/:\/\/([^:]+):[^@]+@/, '://$1@');
    const saved = { f: process.env.PGPASSFILE, p: process.env.PGPASSWORD };
    process.env.PGPASSFILE = pgpass;
    delete process.env.PGPASSWORD;
    try {
      const s = await openStore(bare);
      expect(await s.listRuns()).toEqual([]);
      await s.close();
    } finally {
      if (saved.f === undefined) delete process.env.PGPASSFILE;
      else process.env.PGPASSFILE = saved.f;
      if (saved.p !== undefined) process.env.PGPASSWORD = saved.p;
    }
    const e = await openError(`${db.url}?sslmode=require`);
    expect(e).toBeInstanceOf(DatabaseOpenError);
    expect(e.message).toMatch(/TLS: .*SSL/);
    expect(e.message).not.toContain(password);
  });
});

describe('the migration list', () => {
  it('every version has its SQLite and its PostgreSQL file', async () => {
    const { loadMigrations } = await import('../../src-main/store/migration-list.ts');
    expect(loadMigrations('sqlite').map((m) => m.version)).toEqual(loadMigrations('postgresql').map((m) => m.version));
    const bad = join(dir, 'migrations');
    mkdirSync(bad);
    writeFileSync(join(bad, '0010-a.sql'), 'SELECT 1;');
    expect(() => loadMigrations('sqlite', bad)).toThrow(/migration 0010 has no postgresql file/);
  });
});
