// The SQLite store with real files: migrations, refusal of newer/corrupt databases (never modified),
// lossless storage of the log bytes, duplicate recognition, all-or-nothing ingest.
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, DatabaseOpenError, NewerDatabaseError } from '../../src-main/store/sqlite/connection.ts';
import { latestVersion, loadMigrations } from '../../src-main/store/sqlite/migrations.ts';
import { ingestLog, IngestError } from '../../src-main/app/ingest.ts';
import { recordFromStored } from '../../src-main/domain/log/stored-lines.ts';
import { programOfLine } from '../../src-main/domain/log/program-ranges.ts';
import { linesOf, testStore } from '../helpers/store.ts';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir();
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
let n = 0;
const freshDb = () => join(dir, `db${n++}.sqlite`);

function tableCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  const out: Record<string, number> = {};
  for (const t of ['runs', 'programs', 'log_blocks', 'notable_records', 'btf_files', 'run_btf']) {
    out[t] = (db.prepare(`SELECT count(*) AS c FROM ${t}`).get() as { c: number }).c;
  }
  db.close();
  return out;
}

describe('migrations', () => {
  it('a new database is at the latest schema version, every migration applied once', () => {
    const path = freshDb();
    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(latestVersion());
    expect(loadMigrations().length).toBeGreaterThan(0);
    db.close();
    // reopening applies nothing new and keeps data
    const again = openDatabase(path);
    expect(again.pragma('user_version', { simple: true })).toBe(latestVersion());
    again.close();
  });

  it('refuses a database from a newer version, without modifying it', () => {
    const path = freshDb();
    openDatabase(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 9999');
    raw.close();
    const before = sha(path);
    expect(() => openDatabase(path)).toThrow(NewerDatabaseError);
    expect(() => openDatabase(path)).toThrow(/schema version 9999 is newer than this kptrscope understands/);
    expect(sha(path)).toBe(before);
  });

  it('reports a corrupt or foreign file clearly and never overwrites it', () => {
    const path = freshDb();
    writeFileSync(path, randomBytes(8192));
    const before = sha(path);
    expect(() => openDatabase(path)).toThrow(DatabaseOpenError);
    expect(() => openDatabase(path)).toThrow(/not a SQLite database/);
    expect(sha(path)).toBe(before);

    // a real database whose pages were damaged after the header
    const good = freshDb();
    const db = openDatabase(good);
    db.close();
    const bytes = readFileSync(good);
    bytes.fill(0xff, 100, Math.min(bytes.length, 4096));
    writeFileSync(good, bytes);
    const before2 = sha(good);
    expect(() => openDatabase(good)).toThrow(/corrupt|malformed|not a database/i);
    expect(sha(good)).toBe(before2);
  });
});

describe('ingest into SQLite', () => {
  it('stores the log losslessly and answers like a fresh parse', async () => {
    const path = freshDb();
    const db = testStore(path);
    for (const f of ['local_kptr_stash.bpftool.log', 'use_after_unlock.L2.log', 'multi_ok.L7.log']) {
      const file = join(LOGS_618, f);
      const r = await ingestLog(db, file, { chunkSize: 64 });
      const bytes = Buffer.concat((await linesOf(db, r.runId)).map((l) => Buffer.from(l.text + (l.crlf ? '\r' : '') + (l.unterminated ? '' : '\n'))));
      expect(bytes.equals(readFileSync(file))).toBe(true);
      const fresh = await parseFile(file);
      const programs = await db.getPrograms(r.runId);
      expect(programs).toEqual(fresh.programs);
      const rebuilt = (await linesOf(db, r.runId)).map((l) => recordFromStored(l, programOfLine(programs, l.line)));
      expect(rebuilt).toEqual(fresh.records);
    }
    expect(await db.listRuns()).toHaveLength(3);
    await db.close();
  });

  it('a file ingested twice is one run (content hash), even under another name', async () => {
    const path = freshDb();
    const db = testStore(path);
    const a = await ingestLog(db, join(LOGS_618, 'leak_obj.bpftool.log'));
    const copy = join(dir, 'renamed.log');
    copyFileSync(join(LOGS_618, 'leak_obj.bpftool.log'), copy);
    const b = await ingestLog(db, copy);
    expect(b.duplicate).toBe(true);
    expect(b.runId).toBe(a.runId);
    expect(b.programs).toEqual(a.programs);
    expect(await db.listRuns()).toHaveLength(1);
    await db.close();
  });

  it('a failure in the middle of an ingest leaves the database exactly as it was', async () => {
    const path = freshDb();
    const db = testStore(path);
    await ingestLog(db, join(LOGS_618, 'list_push_pop.bpftool.log'));
    const before = tableCounts(path);
    let calls = 0;
    await expect(
      ingestLog(db, join(LOGS_618, 'rbtree_add_remove.L2.log'), {
        chunkSize: 256,
        onProgress: () => {
          if (++calls === 5) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(db.db.inTransaction).toBe(false);
    expect(tableCounts(path)).toEqual(before);
    // and the database still works
    const ok = await ingestLog(db, join(LOGS_618, 'rbtree_add_remove.L2.log'));
    expect(ok.programs[0]!.verdict).toBe('accepted');
    await db.close();
  });

  it('a bad BTF file fails the ingest cleanly, nothing stored', async () => {
    const path = freshDb();
    const db = testStore(path);
    const empty = join(dir, 'empty.btf');
    writeFileSync(empty, '');
    const before = tableCounts(path);
    await expect(ingestLog(db, join(LOGS_618, 'leak_obj.bpftool.log'), { btf: [empty] })).rejects.toThrow(/empty/i);
    expect(tableCounts(path)).toEqual(before);
    await db.close();
  });

  it('rejects non-logs with a one-line reason', async () => {
    const db = testStore(freshDb());
    const cases: [string, Buffer | string, RegExp][] = [
      ['empty.log', '', /empty file/],
      ['random.bin', randomBytes(4096), /binary data/],
      ['btf-as-log.txt', readFileSync(join(LOGS_618, 'leak_obj.btf.txt')), /BTF dump .*--btf/],
      ['btf-as-log.json', readFileSync(join(LOGS_618, 'leak_obj.btf.json')), /BTF dump in JSON/],
      ['obj.o', readFileSync(join(LOGS_618, 'leak_obj.bpf.o')), /ELF object/],
      ['prose.txt', 'hello\nthis is not a log\n', /no verifier log found/],
    ];
    for (const [name, content, re] of cases) {
      const p = join(dir, name);
      writeFileSync(p, content);
      const err = await ingestLog(db, p).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(IngestError);
      expect((err as Error).message, name).toMatch(re);
      expect((err as Error).message.split('\n')).toHaveLength(1);
    }
    expect(await db.listRuns()).toHaveLength(0);
    await db.close();
  });
});
