// A database damaged anywhere: every page of a real database (three runs, stored replays) is
// overwritten in turn (0xA5 bytes, zeros, two seeded noise patterns) and everything the commands do is run on
// it — open, list, show every line, read the stored replays, replay again, ingest. Each either works
// or fails with the one-line DatabaseOpenError ("database is corrupt … it was not modified"), never
// with a zlib / SQLite / JSON error and its stack trace.
import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseOpenError, NewerDatabaseError } from '../../src-main/store/types.ts';
import type { SqliteStore } from '../../src-main/store/sqlite/sqlite-store.ts';
import { recordFromStored } from '../../src-main/domain/log/stored-lines.ts';
import { storedState } from '../../src-main/app/export.ts';
import { linesOf, testStore } from '../helpers/store.ts';
import { KIND_CODES, type LogRecord } from '../../src-main/domain/log/records.ts';
import { ingestLog, IngestError } from '../../src-main/app/ingest.ts';
import { replayRun } from '../../src-main/app/replay.ts';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('kptrscope-damage-');
const good = join(dir, 'good.db');
const PAGE = 4096;

beforeAll(async () => {
  const db = testStore(good);
  for (const f of ['leak_obj.L2.log', 'local_kptr_stash.L7.log', 'rbtree_add_remove.bpftool.log']) {
    await ingestLog(db, join(LOGS_618, f), { btf: [join(LOGS_618, `${f.replace(/\..*$/, '')}.btf`)] });
  }
  for (const r of await db.listRuns()) await replayRun(db, r.id);
  await db.close();
  const h = new Database(good);
  h.pragma('wal_checkpoint(TRUNCATE)');
  h.close();
});

type Outcome = 'ok' | 'reported';

/** Run `fn`; a DatabaseOpenError (or the errors ingest reports in one line) counts as reported. */
async function attempt(what: string, fn: () => unknown): Promise<Outcome> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e instanceof DatabaseOpenError || e instanceof NewerDatabaseError || e instanceof IngestError) {
      expect(e.message.split('\n'), what).toHaveLength(1);
      return 'reported';
    }
    throw new Error(`${what}: ${String((e as Error)?.stack ?? e)}`);
  }
}

async function everything(path: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let db: SqliteStore | undefined;
  out.push(await attempt('open', () => (db = testStore(path))));
  if (!db) return out;
  const d: SqliteStore = db;
  try {
    let runs: { id: number }[] = [];
    out.push(await attempt('runs', async () => (runs = await d.listRuns())));
    for (const r of runs) {
      out.push(await attempt(`programs of ${r.id}`, () => d.getPrograms(r.id)));
      out.push(await attempt(`lines of ${r.id}`, () => linesOf(d, r.id)));
      let replays: { id: number; stepCount: number }[] = [];
      out.push(await attempt(`replays of ${r.id}`, async () => (replays = await d.listReplays(r.id))));
      for (const rp of replays) {
        out.push(await attempt(`replay ${rp.id}`, () => Promise.all([d.loadEvents(rp.id), d.loadObjects(rp.id), d.loadDivergences(rp.id), d.loadSteps(rp.id)])));
        if (rp.stepCount > 0) out.push(await attempt(`state of replay ${rp.id}`, () => storedState(d, rp.id, rp.stepCount - 1)));
      }
      // Damage inside the stored BTF summary text (JSON or its shape) included: the store's
      // programBtf reports it as the one-line DatabaseOpenError like any other damage.
      out.push(await attempt(`replay run ${r.id}`, () => replayRun(d, r.id, { force: true })));
    }
    out.push(await attempt('ingest', () => ingestLog(d, join(LOGS_618, 'leak_task.bpftool.log'))));
  } finally {
    await d.close();
  }
  return out;
}

describe('a database damaged on any page', () => {
  it('every command works or reports "database is corrupt" in one line', async () => {
    const bytes = readFileSync(good);
    const pages = Math.ceil(bytes.length / PAGE);
    expect(pages).toBeGreaterThan(10);
    const tally = { ok: 0, reported: 0 };
    // Pseudo-random bytes from a fixed seed: the same damage on every run.
    let state = 0x2545f491;
    const noise = (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        b[i] = state & 0xff;
      }
      return b;
    };
    const fills: [string, (n: number) => Buffer][] = [
      ['0xA5', (n) => Buffer.alloc(n, 0xa5)],
      ['zeros', (n) => Buffer.alloc(n, 0)],
      ['noise', noise],
      ['noise2', noise],
    ];
    for (let p = 0; p < pages; p++) {
      for (const [name, fill] of fills) {
        const copy = join(dir, `p${p}-${name}.db`);
        const b = Buffer.from(bytes);
        fill(PAGE).copy(b, p * PAGE);
        writeFileSync(copy, b);
        const outcomes = await everything(copy);
        for (const o of outcomes) tally[o]++;
      }
    }
    // Damage was both survived (untouched runs still read) and reported.
    expect(tally.ok).toBeGreaterThan(0);
    expect(tally.reported).toBeGreaterThan(0);
  }, 120_000);

  it('lines whose stored kinds were damaged are read from their text: well-formed records, the replay runs', async () => {
    const copy = join(dir, 'kinds.db');
    copyFileSync(good, copy);
    const st = testStore(copy);
    const db = st.db;
    try {
      // Every line of every run labelled `branch` (and then `libbpf`): the text must decide.
      for (const kind of ['branch', 'libbpf'] as const) {
        const code = KIND_CODES[kind];
        for (const b of db.prepare('SELECT run_id, block_no, length(kinds) AS n FROM log_blocks').all() as { run_id: number; block_no: number; n: number }[]) {
          db.prepare('UPDATE log_blocks SET kinds = ? WHERE run_id = ? AND block_no = ?').run(Buffer.alloc(b.n, code), b.run_id, b.block_no);
        }
        for (const r of await st.listRuns()) {
          for (const l of await linesOf(st, r.id)) {
            const rec = recordFromStored(l, 0) as LogRecord & Record<string, unknown>;
            if (rec.kind === 'branch') expect(typeof rec.from === 'number' && typeof rec.state === 'string', l.text).toBe(true);
            if (rec.kind === 'libbpf') expect(typeof rec.message, l.text).toBe('string');
          }
          await expect(replayRun(st, r.id, { force: true }), kind).resolves.toBeDefined();
        }
      }
    } finally {
      await st.close();
    }
  });

  it('the undamaged database answers everything (control)', async () => {
    const copy = join(dir, 'control.db');
    copyFileSync(good, copy);
    expect(new Set(await everything(copy))).toEqual(new Set(['ok']));
  });
});
