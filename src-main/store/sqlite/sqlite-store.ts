/**
 * The SQLite store: the `Store` interface (types.ts) over one better-sqlite3 connection — the
 * embedded default, one file per user.
 *
 * Contract: `SqliteStore.open(path)` opens (creating and migrating when needed) the database;
 * every method answers a Promise although SQLite answers synchronously, so callers are the same
 * for every backend. `write(fn)` takes the write lock at once (`BEGIN IMMEDIATE`, waiting up to
 * the busy timeout for another process, then `StoreBusyError`) and commits when `fn` resolves,
 * rolls back when it throws. One connection serves one caller at a time: a host that answers
 * several clients runs the store in its own worker (hosts/worker/store-worker.ts).
 */
import type { ProgramSummary } from '../../domain/log/program-state.ts';
import type { Divergence, ModelObject, OwnershipEvent, Step } from '../../domain/model/types.ts';
import { btfFileOf, chooseProgramBtf, type BtfFileRecord, type Row as BtfRow } from '../btf-summary.ts';
import { programRowToSummary, type ProgramRow } from '../program-rows.ts';
import { tagsByRun, toRun, type RawRunRow } from '../run-rows.ts';
import { ciJobOf, ciObjectOf, type CiJobRow, type CiObjectRow } from '../ci-rows.ts';
import type {
  BtfFileRow,
  CiJob,
  CiObject,
  NewBtfFile,
  NotableLine,
  ProgramBtf,
  ReplayKey,
  ReplayRow,
  ReplayToSave,
  RunColumns,
  RunHeader,
  RunRow,
  RunSink,
  StateChunk,
  Store,
  StoredLine,
  StoreWriter,
} from '../types.ts';
import { StoreBusyError } from '../types.ts';
import { asCorrupt, corruptDatabase, isBusyError, openDatabase, type Db, type OpenOptions } from './connection.ts';
import { readBlock, readLineBatches, runColumns } from './lines.ts';
import { findReplay, listReplays, loadDivergences, loadEvents, loadObjects, loadStateChunk, loadSteps, saveReplay } from './replays.ts';
import { SqliteRunSink } from './run-sink.ts';

export class SqliteStore implements Store, StoreWriter {
  readonly kind = 'sqlite' as const;
  readonly location: string;

  private constructor(readonly db: Db) {
    this.location = db.name;
  }

  static open(path: string, opts: OpenOptions = {}): SqliteStore {
    return new SqliteStore(openDatabase(path, opts));
  }

  /** A store over an open handle (tests that reach the SQL directly). */
  static over(db: Db): SqliteStore {
    return new SqliteStore(db);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async listRuns(): Promise<RunRow[]> {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RawRunRow[]).map(toRun);
  }

  async runTags(runId: number): Promise<string[]> {
    return (this.db.prepare('SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag').all(runId) as { tag: string }[]).map((r) => r.tag);
  }

  async allRunTags(): Promise<Map<number, string[]>> {
    return tagsByRun(this.db.prepare('SELECT run_id, tag FROM run_tags ORDER BY run_id, tag').all() as { run_id: number; tag: string }[]);
  }

  async getRun(id: number): Promise<RunRow | undefined> {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRunRow | undefined;
    return r ? toRun(r) : undefined;
  }

  async latestRunId(): Promise<number | null> {
    return (this.db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number | null }).id;
  }

  async findRunBySha(sha256: string): Promise<number | undefined> {
    return (this.db.prepare('SELECT id FROM runs WHERE sha256 = ?').get(sha256) as { id: number } | undefined)?.id;
  }

  async hasRunOfSize(sizeBytes: number): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM runs WHERE size_bytes = ? LIMIT 1').get(sizeBytes) !== undefined;
  }

  async getPrograms(runId: number): Promise<ProgramSummary[]> {
    return (this.db.prepare('SELECT * FROM programs WHERE run_id = ? ORDER BY idx').all(runId) as ProgramRow[]).map(programRowToSummary);
  }

  async *readLines(runId: number, from = 1, count = Number.MAX_SAFE_INTEGER): AsyncIterable<StoredLine[]> {
    yield* readLineBatches(this.db, runId, from, count);
  }

  async runColumns(runId: number): Promise<RunColumns | null> {
    return runColumns(this.db, runId);
  }

  async readBlock(runId: number, blockNo: number): Promise<Buffer> {
    return readBlock(this.db, runId, blockNo);
  }

  async runBtfFiles(runId: number): Promise<BtfFileRow[]> {
    return (
      this.db
        .prepare('SELECT b.id, coalesce(r.source, b.source) AS source, b.format, b.type_count, b.sha256 FROM run_btf r JOIN btf_files b ON b.id = r.btf_id WHERE r.run_id = ? ORDER BY b.id')
        .all(runId) as { id: number; source: string; format: string; type_count: number; sha256: string }[]
    ).map((b) => ({ id: b.id, source: b.source, format: b.format, typeCount: b.type_count, sha256: b.sha256 }));
  }

  async notableLines(runId: number): Promise<NotableLine[]> {
    return this.db.prepare('SELECT line, program, kind, insn, text FROM notable_records WHERE run_id = ? ORDER BY line').all(runId) as NotableLine[];
  }

  async btfFile(id: number): Promise<NewBtfFile | undefined> {
    const b = this.db.prepare('SELECT sha256, source, format, size_bytes, type_count, summary_json, raw_z, created_at FROM btf_files WHERE id = ?').get(id) as
      | BtfFileRecord
      | undefined;
    return b ? btfFileOf(b, (m) => corruptDatabase(this.db, m)) : undefined;
  }

  async findBtfBySha(sha256: string): Promise<BtfFileRow | undefined> {
    const b = this.db.prepare('SELECT id, source, format, type_count FROM btf_files WHERE sha256 = ?').get(sha256) as
      | { id: number; source: string; format: string; type_count: number }
      | undefined;
    return b ? { id: b.id, source: b.source, format: b.format, typeCount: b.type_count, sha256 } : undefined;
  }

  async programBtf(of: { runId: number } | { btfIds: readonly number[] }): Promise<ProgramBtf | null> {
    const rows = (
      'runId' in of
        ? this.db
            .prepare('SELECT b.id, b.source, b.summary_json FROM run_btf rb JOIN btf_files b ON b.id = rb.btf_id WHERE rb.run_id = ? ORDER BY b.id')
            .iterate(of.runId)
        : this.db.prepare('SELECT id, source, summary_json FROM btf_files WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id').iterate(JSON.stringify(of.btfIds))
    ) as IterableIterator<BtfRow>;
    try {
      const r = chooseProgramBtf(rows, of);
      if (r !== null && 'damaged' in r) throw corruptDatabase(this.db, r.damaged);
      return r;
    } finally {
      rows.return?.();
    }
  }

  async findReplay(key: ReplayKey): Promise<ReplayRow | undefined> {
    return findReplay(this.db, key);
  }

  async listReplays(runId: number): Promise<ReplayRow[]> {
    return listReplays(this.db, runId);
  }

  async loadEvents(replayId: number): Promise<OwnershipEvent[]> {
    return loadEvents(this.db, replayId);
  }

  async loadObjects(replayId: number): Promise<ModelObject[]> {
    return loadObjects(this.db, replayId);
  }

  async loadDivergences(replayId: number): Promise<Divergence[]> {
    return loadDivergences(this.db, replayId);
  }

  async loadSteps(replayId: number, from?: number, count?: number): Promise<Step[]> {
    return loadSteps(this.db, replayId, from, count);
  }

  async loadStateChunk(replayId: number, step: number): Promise<StateChunk | undefined> {
    return loadStateChunk(this.db, replayId, step);
  }

  async ciObject(sha256: string): Promise<CiObject | undefined> {
    const r = this.db.prepare('SELECT sha256, name, bytes, created_at FROM ci_objects WHERE sha256 = ?').get(sha256) as CiObjectRow | undefined;
    return r ? ciObjectOf(r) : undefined;
  }

  async ciJobs(tag: string): Promise<CiJob[]> {
    return (this.db.prepare('SELECT * FROM ci_jobs WHERE tag = ? ORDER BY submitted_at, job_id').all(tag) as CiJobRow[]).map(ciJobOf);
  }

  async jobRun(jobId: string): Promise<number | undefined> {
    return (this.db.prepare('SELECT run_id FROM job_runs WHERE job_id = ?').get(jobId) as { run_id: number } | undefined)?.run_id;
  }

  // ---------------------------------------------------------------- writes

  async putCiObject(o: CiObject): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO ci_objects (sha256, name, size_bytes, bytes, created_at) VALUES (?, ?, ?, ?, ?)').run(o.sha256, o.name, o.bytes.length, o.bytes, o.createdAt);
  }

  async addCiJob(j: CiJob): Promise<void> {
    this.db
      .prepare('INSERT OR IGNORE INTO ci_jobs (job_id, tag, object_sha, object_name, kernel, submitted_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(j.jobId, j.tag, j.objectSha, j.objectName, j.kernel, j.submittedAt);
  }

  async recordJobRun(jobId: string, runId: number): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO job_runs (job_id, run_id, created_at) VALUES (?, ?, ?)').run(jobId, runId, new Date().toISOString());
  }

  async deleteRun(id: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  async write<T>(fn: (w: StoreWriter) => Promise<T>): Promise<T> {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (e) {
      if (!isBusyError(e)) throw asCorrupt(this.db, e);
      throw new StoreBusyError(this.location, this.db.pragma('busy_timeout', { simple: true }) as number);
    }
    try {
      const out = await fn(this);
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw asCorrupt(this.db, e);
    }
  }

  async insertBtf(f: NewBtfFile): Promise<BtfFileRow> {
    const info = this.db
      .prepare(
        `INSERT INTO btf_files (sha256, source, format, size_bytes, type_count, summary_json, raw_z, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(f.sha256, f.source, f.format, f.sizeBytes, f.typeCount, JSON.stringify(f.summary), f.rawZ, f.createdAt);
    return { id: Number(info.lastInsertRowid), source: f.source, format: f.format, typeCount: f.typeCount, sha256: f.sha256 };
  }

  async beginRun(h: RunHeader): Promise<RunSink> {
    return new SqliteRunSink(this.db, h);
  }

  async linkBtf(runId: number, btf: readonly { id: number; source: string }[]): Promise<void> {
    const stmt = this.db.prepare('INSERT OR IGNORE INTO run_btf (run_id, btf_id, source) VALUES (?, ?, ?)');
    for (const b of btf) stmt.run(runId, b.id, b.source);
  }

  async addRunTags(runId: number, tags: readonly string[]): Promise<void> {
    const stmt = this.db.prepare('INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)');
    for (const t of tags) stmt.run(runId, t);
  }

  async setRunKernel(runId: number, kernel: string): Promise<void> {
    this.db.prepare('UPDATE runs SET kernel = ? WHERE id = ? AND kernel IS NULL').run(kernel, runId);
  }

  async saveReplay(key: ReplayKey, r: ReplayToSave, btfId: number | null): Promise<number> {
    return saveReplay(this.db, key, r, btfId);
  }
}
