// Crash safety with real processes: `kill -9` of `kptrscope ingest` in the middle of a large log
// (generated from real captures; KPTRSCOPE_CRASH_LOG=<file> uses another, e.g. the 645 MB
// bench-out/big-24.log), two writers at once, a reader during a write, a writer that cannot get the
// lock, corrupt / foreign / truncated / newer database files. After each: the database opens, passes
// `PRAGMA integrity_check`, holds the earlier runs unchanged and no trace of a partial run.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src-main/store/sqlite/connection.ts';
import { readLineBatches } from '../../src-main/store/sqlite/lines.ts';
import { LOGS_618, ROOT } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { realCaptures, writeRepeated } from './big-log.ts';
import { STACK_TRACE, start, waitForProgress } from './proc.ts';

const dir = tempDir('kptrscope-crash-');
const BIG_MB = Number(process.env.KPTRSCOPE_CRASH_MB ?? 80);
let bigLog = '';
let bigLines = 0;
const small = ['leak_obj.L2.log', 'rbtree_add_remove.bpftool.log'].map((f) => join(LOGS_618, f));

beforeAll(() => {
  const given = process.env.KPTRSCOPE_CRASH_LOG;
  if (given && existsSync(given)) {
    bigLog = given;
    bigLines = readFileSync(given).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
  } else {
    bigLog = join(dir, 'big.log');
    bigLines = writeRepeated(bigLog, BIG_MB << 20).lines;
  }
}, 120_000);

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Everything a user could see of the stored runs (rows, programs, every stored byte). */
function snapshot(dbPath: string): string {
  const db = openDatabase(dbPath);
  try {
    const runs = db.prepare('SELECT id, source, sha256, size_bytes, line_count, unknown_lines, block_count FROM runs ORDER BY id').all() as { id: number }[];
    const programs = db.prepare('SELECT * FROM programs ORDER BY run_id, idx').all();
    const bytes = createHash('sha256');
    for (const r of runs) for (const batch of readLineBatches(db, r.id)) for (const l of batch) bytes.update(`${l.line}\0${l.kind}\0${l.text}\n`);
    return JSON.stringify({ runs, programs, bytes: bytes.digest('hex') });
  } finally {
    db.close();
  }
}

/** The database opens, is intact, and no row belongs to a run that is not in `runs`. */
function assertConsistent(dbPath: string): void {
  const db = openDatabase(dbPath);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    for (const t of ['programs', 'log_blocks', 'notable_records', 'run_btf']) {
      const orphans = db.prepare(`SELECT count(*) AS n FROM ${t} WHERE run_id NOT IN (SELECT id FROM runs)`).get() as { n: number };
      expect(orphans.n, t).toBe(0);
    }
    // Every stored run is complete: its blocks hold exactly its lines.
    for (const r of db.prepare('SELECT id, line_count, block_count FROM runs').all() as { id: number; line_count: number; block_count: number }[]) {
      const b = db.prepare('SELECT count(*) AS n, coalesce(sum(line_count), 0) AS lines FROM log_blocks WHERE run_id = ?').get(r.id) as { n: number; lines: number };
      expect(b).toEqual({ n: r.block_count, lines: r.line_count });
      expect(r.id).toBeGreaterThan(0);
    }
    expect((db.prepare("SELECT count(*) AS n FROM runs WHERE sha256 LIKE 'pending:%'").get() as { n: number }).n).toBe(0);
  } finally {
    db.close();
  }
}

function ingestSmall(dbPath: string): void {
  const r = kptrscope(['ingest', ...small, '--db', dbPath, '--json']);
  expect(r.status, r.stderr).toBe(0);
}

describe('kill -9 in the middle of an ingest', () => {
  it('leaves the database opening cleanly, intact, with the earlier runs and no partial run', async () => {
    const db = join(dir, 'killed.db');
    ingestSmall(db);
    const before = snapshot(db);
    const kills: string[] = [];
    for (const at of [5, 50, 99]) {
      const r = start(['ingest', bigLog, '--db', db]);
      const reached = await waitForProgress(r, at);
      r.child.kill('SIGKILL');
      const { signal } = await r.exited;
      kills.push(`${at}%: ${reached ? `killed at ${r.progress()}%` : 'finished first'}`);
      assertConsistent(db);
      const after = JSON.parse(snapshot(db)) as { runs: { sha256: string; line_count: number }[] };
      if (signal === 'SIGKILL') {
        // Killed: exactly the earlier runs, byte for byte.
        expect(snapshot(db), `kill at ${at}%`).toBe(before);
      } else {
        // It committed before the kill arrived: then the run is complete.
        expect(after.runs).toHaveLength(3);
        expect(after.runs[2]?.line_count).toBe(bigLines);
        break;
      }
    }
    expect(kills.filter((k) => k.includes('killed')).length, kills.join(', ')).toBeGreaterThanOrEqual(2);
    // The database still takes the same log, completely.
    const again = kptrscope(['ingest', bigLog, '--db', db, '--json']);
    expect(again.status, again.stderr).toBe(0);
    const doc = JSON.parse(again.stdout) as { runs: { lines: number }[] };
    expect(doc.runs[0]?.lines).toBe(bigLines);
    assertConsistent(db);
  }, 240_000);
});

describe('several processes on one database (WAL, busy timeout)', () => {
  it('a reader lists the runs while a writer is in the middle of a large ingest', async () => {
    const db = join(dir, 'reader.db');
    ingestSmall(db);
    const w = start(['ingest', bigLog, '--db', db]);
    expect(await waitForProgress(w, 10)).toBe(true);
    const t0 = Date.now();
    const runs = kptrscope(['runs', '--db', db, '--json']);
    const readMs = Date.now() - t0;
    const writerStillRunning = w.child.exitCode === null;
    expect(runs.status, runs.stderr).toBe(0);
    // Only committed runs are visible: the two earlier ones.
    expect((JSON.parse(runs.stdout) as { runs: unknown[] }).runs).toHaveLength(2);
    const done = await w.exited;
    expect(done.code, w.stderr()).toBe(0);
    if (writerStillRunning) expect(readMs).toBeLessThan(done.ms);
    assertConsistent(db);
  }, 120_000);

  it('two processes ingesting into one database at once both succeed (the second waits)', async () => {
    const db = join(dir, 'two.db');
    ingestSmall(db);
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    const la = writeRepeated(a, 24 << 20, realCaptures(), 'libbpf: kptrscope test copy A').lines;
    const lb = writeRepeated(b, 24 << 20, realCaptures('6.12'), 'libbpf: kptrscope test copy B').lines;
    const pa = start(['ingest', a, '--db', db, '--json']);
    const pb = start(['ingest', b, '--db', db, '--json']);
    const [ra, rb] = await Promise.all([pa.exited, pb.exited]);
    expect(ra.code, pa.stderr()).toBe(0);
    expect(rb.code, pb.stderr()).toBe(0);
    expect(pa.stderr() + pb.stderr()).not.toMatch(STACK_TRACE);
    const lines = [pa, pb].map((p) => (JSON.parse(p.stdout()) as { runs: { lines: number }[] }).runs[0]?.lines).sort();
    expect(lines).toEqual([la, lb].sort());
    assertConsistent(db);
    const h = new Database(db, { readonly: true });
    expect((h.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(4);
    h.close();
  }, 120_000);

  it('a writer that cannot get the lock within the busy timeout says so in one line and stores nothing', async () => {
    const db = join(dir, 'busy.db');
    ingestSmall(db);
    const before = snapshot(db);
    // Another process holds the write lock for 3 s.
    const holder = spawn(
      process.execPath,
      ['-e', "const D=require('better-sqlite3');const d=new D(process.argv[1]);d.exec('BEGIN IMMEDIATE');console.log('locked');setTimeout(()=>{d.exec('ROLLBACK');d.close();},3000);", db],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((res) => holder.stdout.on('data', () => res()));
    const log = join(LOGS_618, 'local_kptr_stash.bpftool.log');
    const impatient = kptrscope(['ingest', log, '--db', db], { KPTRSCOPE_BUSY_TIMEOUT_MS: '300' });
    expect(impatient.status).toBe(1);
    expect(impatient.stderr).toMatch(/^kptrscope: .*local_kptr_stash\.bpftool\.log: database is busy: another kptrscope has been writing to it for more than 0\.3 s; nothing was stored, try again\n$/);
    // With the default timeout (15 s) the same command waits for the lock and succeeds.
    const patient = kptrscope(['ingest', log, '--db', db, '--json']);
    expect(patient.status, patient.stderr).toBe(0);
    await new Promise((res) => holder.on('exit', res));
    const h = new Database(db, { readonly: true });
    expect((h.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n).toBe(3);
    h.close();
    expect(before).not.toBe(snapshot(db));
    assertConsistent(db);
  }, 60_000);
});

describe('damaged and foreign database files, with the real command', () => {
  function damaged(name: string, make: (p: string) => void): string {
    const p = join(dir, name);
    make(p);
    return p;
  }
  function goodDb(p: string): void {
    ingestSmall(p);
    // Fold the WAL into the file so that the damage below hits real pages.
    const h = new Database(p);
    h.pragma('wal_checkpoint(TRUNCATE)');
    h.close();
  }

  const cases: [string, (p: string) => void, RegExp][] = [
    ['random.db', (p) => writeFileSync(p, randomBytes(64 << 10)), /not a SQLite database \(bad header\); refusing to use or overwrite it/],
    ['text.db', (p) => writeFileSync(p, '0: R1=ctx() R10=fp0\n'), /not a SQLite database/],
    [
      'pages.db',
      (p) => {
        goodDb(p);
        const b = readFileSync(p);
        b.fill(0xa5, 100, 8192);
        writeFileSync(p, b);
      },
      /database is corrupt .*it was not modified|not a database/,
    ],
    [
      'newer.db',
      (p) => {
        goodDb(p);
        const h = new Database(p);
        h.pragma('user_version = 9999');
        h.close();
      },
      /schema version 9999 is newer than this kptrscope understands .*the file was not modified/,
    ],
  ];

  for (const [name, make, message] of cases) {
    it(`${name}: every command reports it in one line (exit 1) and never writes to it`, () => {
      const p = damaged(name, make);
      const before = sha(p);
      const size = statSync(p).size;
      for (const args of [['ingest', small[0] as string], ['runs'], ['show', '1'], ['replay', small[0] as string]]) {
        const r = kptrscope([...args, '--db', p]);
        expect(r.status, `${args[0]}: ${r.stderr}`).toBe(1);
        expect(r.stderr, args[0]).toMatch(message);
        expect(r.stderr.trimEnd().split('\n'), args[0]).toHaveLength(1);
        expect(r.stderr).not.toMatch(STACK_TRACE);
        expect(sha(p), args[0]).toBe(before);
        expect(statSync(p).size).toBe(size);
      }
    });
  }

  it('a database cut short (a copy interrupted half way) is reported, never overwritten', () => {
    const p = join(dir, 'cut.db');
    goodDb(p);
    // More than a few pages, so that the cut loses real data.
    const big = kptrscope(['ingest', join(LOGS_618, 'local_kptr_stash.L7.log'), join(LOGS_618, 'multi_ok.L7.log'), '--db', p]);
    expect(big.status, big.stderr).toBe(0);
    const h = new Database(p);
    h.pragma('wal_checkpoint(TRUNCATE)');
    h.close();
    truncateSync(p, Math.floor(statSync(p).size / 2 / 4096) * 4096);
    const before = sha(p);
    for (const args of [['runs'], ['show', '1'], ['ingest', join(LOGS_618, 'leak_task.L2.log')]]) {
      const r = kptrscope([...args, '--db', p]);
      expect(r.stderr, args[0]).not.toMatch(STACK_TRACE);
      if (r.status !== 0) {
        expect(r.status).toBe(1);
        expect(r.stderr, args[0]).toMatch(/corrupt|malformed|not a database/i);
        expect(sha(p), args[0]).toBe(before);
      }
    }
    expect(sha(p)).toBe(before);
  });

  it('the copy used for the tests above is a working database (control)', () => {
    const p = join(dir, 'control.db');
    goodDb(p);
    copyFileSync(p, `${p}.copy`);
    const r = kptrscope(['runs', '--db', `${p}.copy`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { runs: unknown[] }).runs).toHaveLength(2);
  });
});
