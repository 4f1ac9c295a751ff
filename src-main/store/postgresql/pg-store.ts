/**
 * The PostgreSQL store: the `Store` interface (types.ts) over a pg connection pool — a team's
 * store that every runner writes to and every developer's app reads.
 *
 * Contract: `PgStore.open(url)` connects, migrates (under an advisory lock) and answers every call
 * with the same results as the SQLite store (the store suite runs on both). `write(fn)` runs `fn`
 * in one transaction on one connection that first takes the store's write lock (an advisory lock:
 * one writer at a time, as SQLite, so an ingest's "same content stored meanwhile" check holds),
 * waiting up to the busy timeout (then `StoreBusyError`); a thrown error, a killed process or a
 * dropped connection leaves nothing of it. Errors name the location without its password. Text
 * is ordered bytewise (COLLATE "C"), as SQLite orders it.
 */
import type pg from 'pg';
import type { ProgramSummary } from '../../domain/log/program-state.ts';
import type { Divergence, ModelObject, OwnershipEvent, Step } from '../../domain/model/types.ts';
import { btfFileOf, chooseProgramBtf, type BtfFileRecord, type Row as BtfRow } from '../btf-summary.ts';
import { programRowToSummary, type ProgramRow } from '../program-rows.ts';
import { tagsByRun, toRun, type RawRunRow } from '../run-rows.ts';
import { ciJobOf, ciObjectOf, type CiJobRow, type CiObjectRow } from '../ci-rows.ts';
import { assembleColumns, blockLines, DamagedBlock, inflateRaw, type BlockRow, type ColumnsRow, type InflateCache } from '../log-blocks.ts';
import {
  divergenceRowValues,
  eventRowValues,
  objectRowValues,
  REPLAY_COLUMNS,
  replayRow,
  replayRowValues,
  stateChunkOf,
  stateChunks,
  stepsOfChunks,
  type RawReplay,
  type StepChunkRow,
} from '../replay-rows.ts';
import { redactLocation } from '../location.ts';
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
  StoreReader,
  StoreWriter,
} from '../types.ts';
import { DatabaseOpenError, StoreBusyError } from '../types.ts';
import { migrate, openPool, pgError, WRITE_LOCK } from './pg-connection.ts';
import { failpoint } from '../../lib/failpoints.ts';
import { defaultBusyTimeoutMs } from '../busy-timeout.ts';
import { PgRunSink } from './pg-run-sink.ts';
import { insertRows, type Queryable, type Value } from './pg-rows.ts';

/** Blocks read per query when streaming a run's lines (bounded memory on a 650 MB log). */
const BLOCKS_PER_QUERY = 8;

/** Reads, over the pool (a store) or over a write transaction's connection (a writer). */
abstract class PgReader implements Omit<StoreReader, "ciObject" | "ciJobs" | "jobRun"> {
  protected readonly cache: InflateCache = {};

  constructor(
    protected readonly q: Queryable,
    readonly location: string,
  ) {}

  protected damaged(detail: string): DatabaseOpenError {
    return new DatabaseOpenError(`${this.location}: database is corrupt (${detail}); it was not modified`);
  }

  protected async rows<T extends object>(sql: string, params: readonly Value[] = []): Promise<T[]> {
    try {
      return (await this.q.query<T>(sql, params as Value[])).rows;
    } catch (e) {
      throw pgError(this.location, e);
    }
  }

  protected decoded<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DamagedBlock) throw this.damaged(e.message);
      throw this.damaged(`${what} cannot be read: ${(e as Error).message}`);
    }
  }

  async listRuns(): Promise<RunRow[]> {
    return (await this.rows<RawRunRow>('SELECT * FROM runs ORDER BY id')).map(toRun);
  }

  async runTags(runId: number): Promise<string[]> {
    return (await this.rows<{ tag: string }>('SELECT tag FROM run_tags WHERE run_id = $1 ORDER BY tag COLLATE "C"', [runId])).map((r) => r.tag);
  }

  async allRunTags(): Promise<Map<number, string[]>> {
    return tagsByRun(await this.rows<{ run_id: number; tag: string }>('SELECT run_id, tag FROM run_tags ORDER BY run_id, tag COLLATE "C"'));
  }

  async getRun(id: number): Promise<RunRow | undefined> {
    const [r] = await this.rows<RawRunRow>('SELECT * FROM runs WHERE id = $1', [id]);
    return r ? toRun(r) : undefined;
  }

  async latestRunId(): Promise<number | null> {
    return (await this.rows<{ id: number | null }>('SELECT max(id) AS id FROM runs'))[0]?.id ?? null;
  }

  async findRunBySha(sha256: string): Promise<number | undefined> {
    return (await this.rows<{ id: number }>('SELECT id FROM runs WHERE sha256 = $1', [sha256]))[0]?.id;
  }

  async hasRunOfSize(sizeBytes: number): Promise<boolean> {
    return (await this.rows('SELECT 1 FROM runs WHERE size_bytes = $1 LIMIT 1', [sizeBytes])).length > 0;
  }

  async getPrograms(runId: number): Promise<ProgramSummary[]> {
    return (await this.rows<ProgramRow>('SELECT * FROM programs WHERE run_id = $1 ORDER BY idx', [runId])).map(programRowToSummary);
  }

  async *readLines(runId: number, from = 1, count = Number.MAX_SAFE_INTEGER): AsyncIterable<StoredLine[]> {
    const last = Math.min(from + count - 1, 2 ** 31 - 1);
    let afterBlock = -1;
    for (;;) {
      const blocks = await this.rows<BlockRow & { block_no: number }>(
        `SELECT block_no, first_line, line_count, raw_z, kinds, insns, flags FROM log_blocks
         WHERE run_id = $1 AND block_no > $2 AND first_line + line_count > $3 AND first_line <= $4 ORDER BY block_no LIMIT ${BLOCKS_PER_QUERY}`,
        [runId, afterBlock, from, last],
      );
      for (const b of blocks) {
        const batch = this.decoded(`the block of run ${runId}`, () => blockLines(this.cache, runId, b, from, last));
        if (batch.length > 0) yield batch;
      }
      if (blocks.length < BLOCKS_PER_QUERY) return;
      afterBlock = blocks[blocks.length - 1]!.block_no;
    }
  }

  async runColumns(runId: number): Promise<RunColumns | null> {
    const [run] = await this.rows<{ line_count: number }>('SELECT line_count FROM runs WHERE id = $1', [runId]);
    if (!run) return null;
    const rows = await this.rows<ColumnsRow>('SELECT block_no, first_line, line_count, kinds, insns FROM log_blocks WHERE run_id = $1 ORDER BY block_no', [runId]);
    return assembleColumns(run.line_count, rows);
  }

  async readBlock(runId: number, blockNo: number): Promise<Buffer> {
    const [row] = await this.rows<{ raw_z: Buffer }>('SELECT raw_z FROM log_blocks WHERE run_id = $1 AND block_no = $2', [runId, blockNo]);
    if (!row) return Buffer.alloc(0);
    return this.decoded(`block ${blockNo} of run ${runId}`, () => inflateRaw(runId, blockNo, row.raw_z));
  }

  async runBtfFiles(runId: number): Promise<BtfFileRow[]> {
    return (
      await this.rows<{ id: number; source: string; format: string; type_count: number; sha256: string }>(
        'SELECT b.id, coalesce(r.source, b.source) AS source, b.format, b.type_count, b.sha256 FROM run_btf r JOIN btf_files b ON b.id = r.btf_id WHERE r.run_id = $1 ORDER BY b.id',
        [runId],
      )
    ).map((b) => ({ id: b.id, source: b.source, format: b.format, typeCount: b.type_count, sha256: b.sha256 }));
  }

  async notableLines(runId: number): Promise<NotableLine[]> {
    return this.rows<NotableLine>('SELECT line, program, kind, insn, text FROM notable_records WHERE run_id = $1 ORDER BY line', [runId]);
  }

  async btfFile(id: number): Promise<NewBtfFile | undefined> {
    const [b] = await this.rows<BtfFileRecord>('SELECT sha256, source, format, size_bytes, type_count, summary_json, raw_z, created_at FROM btf_files WHERE id = $1', [id]);
    return b ? btfFileOf(b, (m) => this.damaged(m)) : undefined;
  }

  async findBtfBySha(sha256: string): Promise<BtfFileRow | undefined> {
    const [b] = await this.rows<{ id: number; source: string; format: string; type_count: number }>('SELECT id, source, format, type_count FROM btf_files WHERE sha256 = $1', [sha256]);
    return b ? { id: b.id, source: b.source, format: b.format, typeCount: b.type_count, sha256 } : undefined;
  }

  async programBtf(of: { runId: number } | { btfIds: readonly number[] }): Promise<ProgramBtf | null> {
    const rows =
      'runId' in of
        ? await this.rows<BtfRow>('SELECT b.id, b.source, b.summary_json FROM run_btf rb JOIN btf_files b ON b.id = rb.btf_id WHERE rb.run_id = $1 ORDER BY b.id', [of.runId])
        : await this.rows<BtfRow>('SELECT id, source, summary_json FROM btf_files WHERE id = ANY($1::bigint[]) ORDER BY id', [of.btfIds.map(String)]);
    const r = chooseProgramBtf(rows, of);
    if (r !== null && 'damaged' in r) throw this.damaged(r.damaged);
    return r;
  }

  async findReplay(key: ReplayKey): Promise<ReplayRow | undefined> {
    const [r] = await this.rows<RawReplay>('SELECT * FROM replays WHERE run_id = $1 AND program_idx = $2 AND kernel_profile = $3', [key.runId, key.programIdx, key.kernelProfile]);
    return r ? this.decoded(`replay ${r.id}`, () => replayRow(r)) : undefined;
  }

  async listReplays(runId: number): Promise<ReplayRow[]> {
    return (await this.rows<RawReplay>('SELECT * FROM replays WHERE run_id = $1 ORDER BY program_idx, kernel_profile COLLATE "C"', [runId])).map((r) =>
      this.decoded(`replay ${r.id}`, () => replayRow(r)),
    );
  }

  async loadEvents(replayId: number): Promise<OwnershipEvent[]> {
    return (
      await this.rows<{ step: number; insn: number; line: number; kind: OwnershipEvent['kind']; object: number; from_holder: string | null; to_holder: string | null }>(
        'SELECT step, insn, line, kind, object, from_holder, to_holder FROM replay_events WHERE replay_id = $1 ORDER BY seq',
        [replayId],
      )
    ).map((e) => ({ step: e.step, insn: e.insn, line: e.line, kind: e.kind, object: e.object, from: e.from_holder, to: e.to_holder }));
  }

  async loadObjects(replayId: number): Promise<ModelObject[]> {
    return (await this.rows<{ json: string }>('SELECT json FROM replay_objects WHERE replay_id = $1 ORDER BY object_id', [replayId])).map((r) =>
      this.decoded(`an object of replay ${replayId}`, () => JSON.parse(r.json) as ModelObject),
    );
  }

  async loadDivergences(replayId: number): Promise<Divergence[]> {
    return this.rows<Divergence>('SELECT insn, line, what, model, kernel FROM replay_divergences WHERE replay_id = $1 ORDER BY seq', [replayId]);
  }

  async loadSteps(replayId: number, from = 0, count = Number.MAX_SAFE_INTEGER): Promise<Step[]> {
    const to = Math.min(from + count, 2 ** 31 - 1);
    const rows = await this.rows<StepChunkRow>(
      'SELECT first_step, step_count, steps FROM replay_steps WHERE replay_id = $1 AND first_step + step_count > $2 AND first_step < $3 ORDER BY first_step',
      [replayId, from, to],
    );
    return stepsOfChunks(rows, from, count);
  }

  async loadStateChunk(replayId: number, step: number): Promise<StateChunk | undefined> {
    const [c] = await this.rows<{ first_step: number; step_count: number; states_z: Buffer }>(
      'SELECT first_step, step_count, states_z FROM replay_steps WHERE replay_id = $1 AND first_step <= $2 ORDER BY first_step DESC LIMIT 1',
      [replayId, step],
    );
    if (!c || step >= c.first_step + c.step_count) return undefined;
    return this.decoded(`the states of replay ${replayId}`, () => stateChunkOf(c));
  }
}

/** Reads of the CI fleet's records (objects, submitted jobs, job → run). */
class PgFleetReader extends PgReader implements StoreReader {
  async ciObject(sha256: string): Promise<CiObject | undefined> {
    const [r] = await this.rows<CiObjectRow>('SELECT sha256, name, bytes, created_at FROM ci_objects WHERE sha256 = $1', [sha256]);
    return r ? ciObjectOf(r) : undefined;
  }

  async ciJobs(tag: string): Promise<CiJob[]> {
    return (await this.rows<CiJobRow>('SELECT * FROM ci_jobs WHERE tag = $1 ORDER BY submitted_at COLLATE "C", job_id COLLATE "C"', [tag])).map(ciJobOf);
  }

  async jobRun(jobId: string): Promise<number | undefined> {
    return (await this.rows<{ run_id: number }>('SELECT run_id FROM job_runs WHERE job_id = $1', [jobId]))[0]?.run_id;
  }
}

/** Writes, on the one connection of a write transaction. */
class PgWriter extends PgFleetReader implements StoreWriter {
  private async exec(sql: string, params: readonly Value[] = []): Promise<number> {
    try {
      return (await this.q.query(sql, params as Value[])).rowCount ?? 0;
    } catch (e) {
      throw pgError(this.location, e);
    }
  }

  private async insert(table: string, columns: readonly string[], rows: Value[][], onConflict = ''): Promise<void> {
    try {
      await insertRows(this.q, table, columns, rows, onConflict);
    } catch (e) {
      throw pgError(this.location, e);
    }
  }

  async insertBtf(f: NewBtfFile): Promise<BtfFileRow> {
    const [r] = await this.rows<{ id: number }>(
      `INSERT INTO btf_files (sha256, source, format, size_bytes, type_count, summary_json, raw_z, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [f.sha256, f.source, f.format, f.sizeBytes, f.typeCount, JSON.stringify(f.summary), f.rawZ, f.createdAt],
    );
    return { id: r!.id, source: f.source, format: f.format, typeCount: f.typeCount, sha256: f.sha256 };
  }

  async beginRun(h: RunHeader): Promise<RunSink> {
    try {
      return await PgRunSink.begin(this.q, h);
    } catch (e) {
      throw pgError(this.location, e);
    }
  }

  async linkBtf(runId: number, btf: readonly { id: number; source: string }[]): Promise<void> {
    await this.insert('run_btf', ['run_id', 'btf_id', 'source'], btf.map((b) => [runId, b.id, b.source]), 'ON CONFLICT DO NOTHING');
  }

  async addRunTags(runId: number, tags: readonly string[]): Promise<void> {
    await this.insert('run_tags', ['run_id', 'tag'], [...new Set(tags)].map((t) => [runId, t]), 'ON CONFLICT DO NOTHING');
  }

  async putCiObject(o: CiObject): Promise<void> {
    await this.insert('ci_objects', ['sha256', 'name', 'size_bytes', 'bytes', 'created_at'], [[o.sha256, o.name, o.bytes.length, o.bytes, o.createdAt]], 'ON CONFLICT DO NOTHING');
  }

  async addCiJob(j: CiJob): Promise<void> {
    await this.insert('ci_jobs', ['job_id', 'tag', 'object_sha', 'object_name', 'kernel', 'submitted_at'], [[j.jobId, j.tag, j.objectSha, j.objectName, j.kernel, j.submittedAt]], 'ON CONFLICT DO NOTHING');
  }

  async recordJobRun(jobId: string, runId: number): Promise<void> {
    await this.insert('job_runs', ['job_id', 'run_id', 'created_at'], [[jobId, runId, new Date().toISOString()]], 'ON CONFLICT DO NOTHING');
  }

  async deleteRunNow(id: number): Promise<boolean> {
    return (await this.exec('DELETE FROM runs WHERE id = $1', [id])) > 0;
  }

  async setRunKernel(runId: number, kernel: string): Promise<void> {
    await this.exec('UPDATE runs SET kernel = $1 WHERE id = $2 AND kernel IS NULL', [kernel, runId]);
  }

  async saveReplay(key: ReplayKey, r: ReplayToSave, btfId: number | null): Promise<number> {
    await this.exec('DELETE FROM replays WHERE run_id = $1 AND program_idx = $2 AND kernel_profile = $3', [key.runId, key.programIdx, key.kernelProfile]);
    const marks = REPLAY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
    const [row] = await this.rows<{ id: number }>(`INSERT INTO replays (${REPLAY_COLUMNS.join(', ')}) VALUES (${marks}) RETURNING id`, replayRowValues(key, r, btfId, new Date().toISOString()));
    const id = row!.id;
    await this.insert('replay_events', ['replay_id', 'seq', 'step', 'insn', 'line', 'kind', 'object', 'from_holder', 'to_holder'], eventRowValues(r).map((v) => [id, ...v]));
    await this.insert('replay_objects', ['replay_id', 'object_id', 'ref_id', 'type', 'origin', 'local', 'alloc_insn', 'end_insn', 'end_kind', 'json'], objectRowValues(r).map((v) => [id, ...v]));
    await this.insert('replay_divergences', ['replay_id', 'seq', 'insn', 'line', 'what', 'model', 'kernel'], divergenceRowValues(r).map((v) => [id, ...v]));
    for (const c of stateChunks(r)) {
      await this.insert('replay_steps', ['replay_id', 'chunk_no', 'first_step', 'step_count', 'steps', 'states_z'], [[id, c.chunkNo, c.firstStep, c.stepCount, c.steps, c.statesZ]]);
    }
    return id;
  }
}

export class PgStore extends PgFleetReader implements Store {
  readonly kind = 'postgresql' as const;

  private constructor(
    private readonly pool: pg.Pool,
    location: string,
  ) {
    super(pool, location);
  }

  static async open(url: string): Promise<PgStore> {
    const location = redactLocation(url);
    const pool = openPool(url);
    try {
      await migrate(pool, location);
    } catch (e) {
      await pool.end().catch(() => {});
      throw pgError(location, e);
    }
    return new PgStore(pool, location);
  }

  async deleteRun(id: number): Promise<boolean> {
    return this.write(async (w) => (w as PgWriter).deleteRunNow(id));
  }

  async write<T>(fn: (w: StoreWriter) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      throw pgError(this.location, e);
    }
    let broken = false;
    // The server may end this connection while it is checked out and idle in the transaction (a
    // restart, pg_terminate_backend, a network cut): pg then emits 'error' on the client, which
    // must not crash the process — the next query fails, and is reported as a lost connection.
    const onError = () => {
      broken = true;
    };
    c.on('error', onError);
    try {
      const waited = defaultBusyTimeoutMs();
      try {
        await c.query('BEGIN');
        await c.query(`SET LOCAL lock_timeout = ${waited}`);
        await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
        await c.query('SET LOCAL lock_timeout = 0');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        if ((e as { code?: string }).code === '55P03') throw new StoreBusyError(this.location, waited);
        throw e;
      }
      try {
        const out = await fn(new PgWriter(c, this.location));
        await failpoint('pg-before-commit');
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw e;
      }
    } catch (e) {
      throw pgError(this.location, e);
    } finally {
      c.off('error', onError);
      c.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
