/**
 * Read queries over stored runs: the library list, one run with its programs, and windows of log
 * lines rebuilt from the compressed blocks (records are re-read from the exact stored text with the
 * same grammar that ingested them, so a stored run answers like a freshly parsed one).
 */
import { inflateRawSync } from 'node:zlib';
import { corruptDatabase, type Db } from '../db.ts';
import { kindFromCode, type LogRecord, type RecordKind } from '../../ingest/verifier-log/records.ts';
import { classifyKernelLine } from '../../ingest/verifier-log/line-grammar.ts';
import { errorClassOfLine } from '../../ingest/verifier-log/error-catalog.ts';
import { describeWrapperLine, kernelTextOf, matchLibbpf } from '../../ingest/verifier-log/wrappers.ts';
import type { ProgramSummary } from '../../ingest/verifier-log/program-state.ts';
import { programRowToSummary, type ProgramRow } from '../../services/ingest-service.ts';
import { LINE_FLAGS } from '../run-writer.ts';

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

interface RawRunRow {
  id: number;
  source: string;
  source_name: string;
  sha256: string;
  size_bytes: number;
  formats: string;
  kernel: string | null;
  kernel_hints: string;
  line_count: number;
  unknown_lines: number;
  crlf_lines: number;
  created_at: string;
}

function toRun(r: RawRunRow): RunRow {
  return {
    id: r.id,
    source: r.source,
    sourceName: r.source_name,
    sha256: r.sha256,
    sizeBytes: r.size_bytes,
    formats: JSON.parse(r.formats) as string[],
    kernel: r.kernel,
    kernelHints: JSON.parse(r.kernel_hints) as string[],
    lines: r.line_count,
    unknownLines: r.unknown_lines,
    crlfLines: r.crlf_lines,
    createdAt: r.created_at,
  };
}

export function listRuns(db: Db): RunRow[] {
  return (db.prepare('SELECT * FROM runs ORDER BY id').all() as RawRunRow[]).map(toRun);
}

export function getRun(db: Db, id: number): RunRow | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRunRow | undefined;
  return r ? toRun(r) : undefined;
}

export function getPrograms(db: Db, runId: number): ProgramSummary[] {
  return (db.prepare('SELECT * FROM programs WHERE run_id = ? ORDER BY idx').all(runId) as ProgramRow[]).map(programRowToSummary);
}

export function deleteRun(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
}

export interface StoredLine {
  line: number;
  kind: RecordKind;
  insn: number;
  text: string;
  crlf: boolean;
  unterminated: boolean;
}

interface BlockRow {
  first_line: number;
  line_count: number;
  raw_z: Buffer;
  kinds: Buffer;
  insns: Buffer;
  flags: Buffer;
}

/** A block's bytes; a block that does not inflate (damaged file) is reported as a corrupt database. */
/**
 * The last block inflated, by its compressed bytes: a run of 10k small programs is read one program
 * at a time, and each program's lines sit in the block the previous program used.
 */
const lastInflated = new WeakMap<Db, InflatedBlock>();

interface InflatedBlock {
  z: Buffer;
  raw: Buffer;
  /** Start offset of each line in `raw` (line_count + 1 entries: the last is the end). */
  starts: Int32Array;
}

function inflateBlock(db: Db, runId: number, b: BlockRow): InflatedBlock {
  const hit = lastInflated.get(db);
  if (hit !== undefined && Buffer.isBuffer(b.raw_z) && hit.z.equals(b.raw_z) && hit.starts.length === b.line_count + 1) return hit;
  const raw = inflateChecked(db, runId, b);
  const starts = new Int32Array(b.line_count + 1);
  let pos = 0;
  for (let i = 0; i < b.line_count; i++) {
    starts[i] = pos;
    const nl = raw.indexOf(0x0a, pos);
    pos = nl < 0 ? raw.length : nl + 1;
  }
  starts[b.line_count] = Math.min(pos, raw.length);
  const block = { z: b.raw_z, raw, starts };
  lastInflated.set(db, block);
  return block;
}

function inflateChecked(db: Db, runId: number, b: BlockRow): Buffer {
  const ok = [b.raw_z, b.kinds, b.insns, b.flags].every((x) => Buffer.isBuffer(x)) && b.insns.length % 4 === 0 && Number.isSafeInteger(b.first_line) && Number.isSafeInteger(b.line_count);
  if (!ok) throw corruptDatabase(db, `the block of run ${runId} from line ${String(b.first_line)} has damaged columns`);
  try {
    return inflateRawSync(b.raw_z);
  } catch (e) {
    throw corruptDatabase(db, `the block of run ${runId} from line ${b.first_line} does not decompress: ${(e as Error).message}`);
  }
}

interface BlockIndex {
  sha256: string;
  blockNos: number[];
  firstLines: number[];
}

/**
 * Block numbers and first lines of committed runs, so that a window of lines is read with a
 * primary-key range instead of a scan of every block of the run (reading 10k programs one by one
 * scanned 10k × all blocks). Keyed by the run's content hash: a deleted and re-used run id misses.
 */
const blockIndexes = new WeakMap<Db, Map<number, BlockIndex>>();

function blockIndex(db: Db, runId: number): BlockIndex | undefined {
  const run = db.prepare('SELECT sha256 FROM runs WHERE id = ?').get(runId) as { sha256: string } | undefined;
  if (run === undefined || run.sha256.startsWith('pending:')) return undefined;
  let perDb = blockIndexes.get(db);
  if (perDb === undefined) {
    perDb = new Map();
    blockIndexes.set(db, perDb);
  }
  const hit = perDb.get(runId);
  if (hit !== undefined && hit.sha256 === run.sha256) return hit;
  const rows = db.prepare('SELECT block_no, first_line FROM log_blocks WHERE run_id = ? ORDER BY block_no').all(runId) as { block_no: number; first_line: number }[];
  const idx: BlockIndex = { sha256: run.sha256, blockNos: rows.map((r) => r.block_no), firstLines: rows.map((r) => r.first_line) };
  perDb.set(runId, idx);
  return idx;
}

/** Index of the last entry of the ascending `a` that is <= v (-1 if none). */
function lastAtMost(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as number) <= v) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Lines [from, from+count) of a run (1-based), decoded from their blocks. */
export function* readLines(db: Db, runId: number, from = 1, count = Number.MAX_SAFE_INTEGER): Generator<StoredLine> {
  const last = from + count - 1;
  const idx = blockIndex(db, runId);
  let blocks: IterableIterator<BlockRow>;
  if (idx !== undefined) {
    // Blocks are in line order: from the block holding `from` to the block holding `last`.
    const a = Math.max(0, lastAtMost(idx.firstLines, from));
    const b = lastAtMost(idx.firstLines, last);
    blocks = db
      .prepare(
        `SELECT first_line, line_count, raw_z, kinds, insns, flags FROM log_blocks
         WHERE run_id = ? AND block_no BETWEEN ? AND ? AND first_line + line_count > ? AND first_line <= ? ORDER BY block_no`,
      )
      .iterate(runId, idx.blockNos[a] ?? 0, b < 0 ? -1 : (idx.blockNos[b] as number), from, last) as IterableIterator<BlockRow>;
  } else {
    blocks = db
      .prepare(
        `SELECT first_line, line_count, raw_z, kinds, insns, flags FROM log_blocks
         WHERE run_id = ? AND first_line + line_count > ? AND first_line <= ? ORDER BY block_no`,
      )
      .iterate(runId, from, last) as IterableIterator<BlockRow>;
  }
  try {
    for (let next = blocks.next(); !next.done; next = blocks.next()) {
      const b = next.value;
      const { raw, starts } = inflateBlock(db, runId, b);
      const lo = Math.max(0, from - b.first_line);
      const hi = Math.min(b.line_count, last - b.first_line + 1);
      for (let i = lo; i < hi; i++) {
        const pos = starts[i] as number;
        // The line's end: before its LF, or the end of the block for an unterminated last line.
        let end = starts[i + 1] as number;
        if (end > pos && raw[end - 1] === 0x0a) end -= 1;
        const flags = b.flags[i] ?? 0;
        const crlf = (flags & LINE_FLAGS.crlf) !== 0;
        yield {
          line: b.first_line + i,
          kind: kindFromCode(b.kinds[i] ?? 0),
          insn: i * 4 + 4 <= b.insns.length ? b.insns.readInt32LE(i * 4) : -1,
          text: raw.toString('utf8', pos, crlf ? end - 1 : end),
          crlf,
          unterminated: (flags & LINE_FLAGS.unterminated) !== 0,
        };
      }
    }
  } finally {
    // A reader that stops early must not leave the statement open (the connection would stay busy).
    blocks.return?.();
  }
}

const KERNEL_KINDS = new Set<RecordKind>([
  'insn', 'state', 'source', 'branch', 'safe', 'func-info', 'live-regs-header', 'live-regs', 'call-header',
  'call-state', 'stats', 'stats-time', 'stats-stack',
]);

/** Rebuild the typed record of a stored line (same fields the parser produced at ingest). */
export function rebuildRecord(l: StoredLine, program: number): LogRecord {
  const base = { line: l.line, text: l.text, program };
  if (KERNEL_KINDS.has(l.kind)) {
    // A cilium/ebpf line is the kernel's line after one TAB; a TAB-led line reads the same either
    // way except when only the inner text has the stored kind.
    const text = kernelTextOf(l.text);
    let body = classifyKernelLine(text);
    if (body.kind !== l.kind && text.startsWith('\t')) body = classifyKernelLine(text.slice(1));
    if (body.kind === l.kind) return { ...body, ...base } as LogRecord;
    // The stored kind and the text disagree (a damaged file, or a run stored by a build whose
    // grammar differed): a record must carry its kind's fields, so the text decides.
    const fresh = classifyKernelLine(text);
    return (fresh.kind === 'free' ? { kind: 'unknown', ...base } : { ...fresh, ...base }) as LogRecord;
  }
  if (l.kind === 'error') {
    const cls = errorClassOfLine(l.text);
    return cls ? { kind: 'error', errorClass: cls, ...base } : { kind: 'error', ...base };
  }
  if (l.kind === 'libbpf') {
    const lb = matchLibbpf(l.text);
    return lb ? { kind: 'libbpf', ...lb, ...base } : { kind: 'unknown', ...base };
  }
  if (l.kind === 'wrapper') return { kind: 'wrapper', ...describeWrapperLine(l.text), ...base };
  return { kind: l.kind, ...base } as LogRecord;
}

/** Line ranges of the programs that have lines, by first line; null when two ranges overlap. */
const rangeIndex = new WeakMap<readonly ProgramSummary[], ProgramSummary[] | null>();

function rangesOf(programs: readonly ProgramSummary[]): ProgramSummary[] | null {
  let r = rangeIndex.get(programs);
  if (r === undefined) {
    const sorted = programs.filter((p) => p.lines > 0).sort((a, b) => a.firstLine - b.firstLine);
    r = sorted.every((p, i) => i === 0 || (sorted[i - 1] as ProgramSummary).lastLine < p.firstLine) ? sorted : null;
    rangeIndex.set(programs, r);
  }
  return r;
}

/**
 * The program index owning a line, from the programs' line ranges (-1 for run-level lines).
 * Binary search over the ranges (a run may hold 10k programs and a million lines).
 */
export function programOfLine(programs: readonly ProgramSummary[], line: number): number {
  const sorted = rangesOf(programs);
  if (sorted === null) {
    for (const p of programs) if (p.lines > 0 && line >= p.firstLine && line <= p.lastLine) return p.index;
    return -1;
  }
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = sorted[mid] as ProgramSummary;
    if (line < p.firstLine) hi = mid - 1;
    else if (line > p.lastLine) lo = mid + 1;
    else return p.index;
  }
  return -1;
}
