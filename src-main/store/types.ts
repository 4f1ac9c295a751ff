/**
 * The store's interface: every read and write kptrscope makes of its database, as Promises, so
 * that SQLite (the embedded default) and PostgreSQL (a team's store) sit behind the same calls.
 *
 * Contract:
 * - `Store` is opened with `openStore(location)` (open-store.ts) and owns its connection(s);
 *   `close()` ends them.
 * - Rows come back as plain data; the domain's types are used where a row is a domain value
 *   (ProgramSummary, a replay's findings/objects/events, a BTF summary). Log lines come back as
 *   stored: the kind as its numeric code, the exact text — turning them into typed records is the
 *   domain's job (domain/log/stored-lines.ts), not the store's.
 * - `write(fn)` runs `fn` in ONE transaction that holds the write lock from its start: everything
 *   `fn` does through its `StoreWriter` commits together or not at all (a thrown error, a crash or
 *   a killed process leaves the database as it was). Reads made through the writer see the
 *   transaction's own writes.
 * - A damaged database found by any call raises `DatabaseOpenError` (one line, names the file,
 *   the file is not modified); a lock held by another writer past the busy timeout raises
 *   `StoreBusyError`.
 */
import type { ProgramSummary } from '../domain/log/program-state.ts';
import type { BtfSummary } from '../domain/btf/special-fields.ts';
import type { Divergence, Finding, ModelObject, OwnershipEvent, StateDelta, Step, StoredStates } from '../domain/model/types.ts';

export interface RunRow {
  id: number;
  source: string;
  sourceName: string;
  sha256: string;
  sizeBytes: number;
  formats: string[];
  kernel: string | null;
  kernelHints: string[];
  lines: number;
  unknownLines: number;
  crlfLines: number;
  createdAt: string;
}

export interface RunHeader {
  source: string;
  sourceName: string;
  sizeBytes: number;
  kernel: string | null;
  createdAt: string;
}

/** One stored log line: its kind as stored (a record-kind code), its instruction (-1: none), its exact text. */
export interface StoredLine {
  line: number;
  kind: number;
  insn: number;
  text: string;
  crlf: boolean;
  unterminated: boolean;
}

/** A line handed to a RunSink: what the log parser made of it, as the columns the store keeps. */
export interface LineColumns {
  kind: number;
  insn: number;
  raw: Buffer;
  crlf: boolean;
  unterminated: boolean;
}

/** A line also kept as its own row (errors, statistics, loader lines, the first unknown lines). */
export interface NotableLine {
  line: number;
  program: number;
  kind: string;
  insn: number | null;
  text: string;
}

/** The per-line kind and instruction columns of a whole run, and its block boundaries (for the app's run index). */
export interface RunColumns {
  lineCount: number;
  kinds: Uint8Array;
  insns: Int32Array;
  /** first line of each block, ascending, and its block number. */
  blockFirst: Int32Array;
  blockNo: Int32Array;
}

export interface BtfFileRow {
  id: number;
  source: string;
  format: string;
  typeCount: number;
  sha256: string;
}

export interface NewBtfFile {
  sha256: string;
  source: string;
  format: string;
  sizeBytes: number;
  typeCount: number;
  summary: BtfSummary;
  /** The file's exact bytes, deflate-raw compressed. */
  rawZ: Buffer;
  createdAt: string;
}

export interface ProgramBtf {
  /** btf_files.id (stored with each replay). */
  id: number;
  summary: BtfSummary;
}

export interface ReplayKey {
  runId: number;
  programIdx: number;
  kernelProfile: string;
}

export interface ReplayRow extends ReplayKey {
  id: number;
  modelVerdict: 'accepted' | 'rejected';
  failInsn: number | null;
  finding: Finding | null;
  findings: Finding[];
  divergenceCount: number;
  eventCount: number;
  objectCount: number;
  stepCount: number;
  chunkSteps: number;
  createdAt: string;
}

/** What is saved of a replay: the model's result as plain data. */
export interface ReplayToSave {
  verdict: 'accepted' | 'rejected';
  failInsn: number | null;
  finding: Finding | null;
  findings: Finding[];
  events: OwnershipEvent[];
  objects: ModelObject[];
  divergences: Divergence[];
  steps: Step[];
  stateStore: StoredStates;
}

/** One stored chunk of a replay's per-step states: the state at `firstStep` and the deltas after it. */
export interface StateChunk {
  firstStep: number;
  stepCount: number;
  checkpoint: [string, string][];
  /** deltas[j] turns the state after step firstStep+j into the state after step firstStep+j+1. */
  deltas: StateDelta[];
}

/** A BPF object submitted for capture, stored by content. */
export interface CiObject {
  sha256: string;
  name: string;
  bytes: Buffer;
  createdAt: string;
}

/** A capture job submitted under a tag: one object on one kernel (its state is the queue's). */
export interface CiJob {
  jobId: string;
  tag: string;
  objectSha: string;
  objectName: string;
  kernel: string;
  submittedAt: string;
}

/** Reads, on the store or inside a write transaction. */
export interface StoreReader {
  listRuns(): Promise<RunRow[]>;
  /** The tags of a run, sorted. */
  runTags(runId: number): Promise<string[]>;
  /** Every run's tags, sorted per run, in one read (runs without tags are absent). */
  allRunTags(): Promise<Map<number, string[]>>;
  getRun(id: number): Promise<RunRow | undefined>;
  latestRunId(): Promise<number | null>;
  findRunBySha(sha256: string): Promise<number | undefined>;
  hasRunOfSize(sizeBytes: number): Promise<boolean>;
  getPrograms(runId: number): Promise<ProgramSummary[]>;
  /** Lines [from, from+count) of a run (1-based), in order, a block's worth at a time. */
  readLines(runId: number, from?: number, count?: number): AsyncIterable<StoredLine[]>;
  runColumns(runId: number): Promise<RunColumns | null>;
  /** One block's exact bytes (inflated). */
  readBlock(runId: number, blockNo: number): Promise<Buffer>;
  runBtfFiles(runId: number): Promise<BtfFileRow[]>;
  /** The notable lines kept as rows at ingest, by line (for copying a run whole). */
  notableLines(runId: number): Promise<NotableLine[]>;
  /** A stored BTF file whole: its summary and exact bytes (for copying). */
  btfFile(id: number): Promise<NewBtfFile | undefined>;
  findBtfBySha(sha256: string): Promise<BtfFileRow | undefined>;
  /** The BTF the model replays a run (or an ingest's stored BTF files) with: see program-btf.ts. */
  programBtf(of: { runId: number } | { btfIds: readonly number[] }): Promise<ProgramBtf | null>;
  findReplay(key: ReplayKey): Promise<ReplayRow | undefined>;
  /** A submitted object, by content. */
  ciObject(sha256: string): Promise<CiObject | undefined>;
  /** The jobs submitted under a tag, in submission order. */
  ciJobs(tag: string): Promise<CiJob[]>;
  /** The run a job stored (undefined: none yet). */
  jobRun(jobId: string): Promise<number | undefined>;
  listReplays(runId: number): Promise<ReplayRow[]>;
  loadEvents(replayId: number): Promise<OwnershipEvent[]>;
  loadObjects(replayId: number): Promise<ModelObject[]>;
  loadDivergences(replayId: number): Promise<Divergence[]>;
  loadSteps(replayId: number, from?: number, count?: number): Promise<Step[]>;
  /** The chunk holding step `step` (undefined when the replay has no such step). */
  loadStateChunk(replayId: number, step: number): Promise<StateChunk | undefined>;
}

/** A run being written: lines go in as they are parsed (buffered into blocks), then its programs. */
export interface RunSink {
  readonly runId: number;
  /** Buffer one line (synchronous: the parser calls it for every line). */
  line(l: LineColumns, notable: NotableLine | null): void;
  /** Write what is buffered; awaited between chunks of the input (backpressure). */
  flush(): Promise<void>;
  /** Write the last block, the programs and the run's totals. */
  finish(programs: readonly ProgramSummary[], totals: { formats: string[]; lines: number; unknownLines: number }, sha256: string): Promise<void>;
}

export interface StoreWriter extends StoreReader {
  insertBtf(f: NewBtfFile): Promise<BtfFileRow>;
  beginRun(h: RunHeader): Promise<RunSink>;
  /** Links BTF files to a run, each under the name (path) this run was given it by. */
  linkBtf(runId: number, btf: readonly { id: number; source: string }[]): Promise<void>;
  /** Records the kernel release of a run stored without one (a run that has one keeps it). */
  setRunKernel(runId: number, kernel: string): Promise<void>;
  /** Adds tags to a run (a tag it has already is kept once). */
  addRunTags(runId: number, tags: readonly string[]): Promise<void>;
  /** Stores an object (kept once per content). */
  putCiObject(o: CiObject): Promise<void>;
  /** Records a submitted job (a job submitted before is kept as it was). */
  addCiJob(j: CiJob): Promise<void>;
  /** Records the run a job stored (the first record stays). */
  recordJobRun(jobId: string, runId: number): Promise<void>;
  /** Replaces any earlier replay of the same key. Returns the replay id. */
  saveReplay(key: ReplayKey, r: ReplayToSave, btfId: number | null): Promise<number>;
}

export interface Store extends StoreReader {
  readonly kind: 'sqlite' | 'postgresql';
  /** The database file, or the server URL without its password. */
  readonly location: string;
  deleteRun(id: number): Promise<boolean>;
  write<T>(fn: (w: StoreWriter) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DatabaseOpenError extends Error {}

/**
 * The connection to a database server was lost mid-call (the server restarted, a network dropped):
 * whatever the interrupted write did was rolled back by the server; trying again is safe.
 */
export class StoreConnectionError extends DatabaseOpenError {
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(`${location}: the connection to the database was lost (${detail}); nothing of the interrupted write was stored, try again`);
  }
}

export class NewerDatabaseError extends Error {
  constructor(
    readonly path: string,
    readonly dbVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `${path}: database schema version ${dbVersion} is newer than this kptrscope understands (${knownVersion}); ` +
        `open it with a newer kptrscope (the ${/^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? 'database' : 'file'} was not modified)`,
    );
  }
}

/** Another writer held the database past the busy timeout. */
export class StoreBusyError extends Error {
  constructor(
    readonly location: string,
    readonly waitedMs: number,
  ) {
    super(`${location}: database is busy: another kptrscope has been writing to it for more than ${(waitedMs / 1000).toFixed(1)} s`);
  }
}
