/**
 * Log lines of stored runs in SQLite: windows of lines rebuilt from the compressed blocks (exact
 * text, stored kind code and instruction, line terminator flags), the per-line columns of a whole
 * run, and single blocks.
 *
 * Contract: `readLineBatches(db, runId, from, count)` yields the lines in order, one block's worth
 * per batch, reading only the blocks that hold them (block boundaries of committed runs are
 * cached, keyed by the run's content hash). A block that does not inflate or has damaged columns
 * is a `DatabaseOpenError` naming the run and line.
 */
import { inflateRawSync } from 'node:zlib';
import { corruptDatabase, type Db } from './connection.ts';
import { lastAtMost } from '../../lib/sorted.ts';
import type { RunColumns, StoredLine } from '../types.ts';
import { LINE_FLAGS } from './run-sink.ts';

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

/** Lines [from, from+count) of a run (1-based), decoded from their blocks, one block's lines at a time. */
export function* readLineBatches(db: Db, runId: number, from = 1, count = Number.MAX_SAFE_INTEGER): Generator<StoredLine[]> {
  const last = from + count - 1;
  const idx = blockIndex(db, runId);
  let blocks: IterableIterator<BlockRow>;
  if (idx !== undefined) {
    // Blocks are in line order: from the block holding `from` to the block holding `last`.
    const a = Math.max(0, lastAtMost(idx.firstLines.length, (i) => idx.firstLines[i] as number, from));
    const b = lastAtMost(idx.firstLines.length, (i) => idx.firstLines[i] as number, last);
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
      const batch: StoredLine[] = [];
      for (let i = lo; i < hi; i++) {
        const pos = starts[i] as number;
        // The line's end: before its LF, or the end of the block for an unterminated last line.
        let end = starts[i + 1] as number;
        if (end > pos && raw[end - 1] === 0x0a) end -= 1;
        const flags = b.flags[i] ?? 0;
        const crlf = (flags & LINE_FLAGS.crlf) !== 0;
        batch.push({
          line: b.first_line + i,
          kind: b.kinds[i] ?? 0,
          insn: i * 4 + 4 <= b.insns.length ? b.insns.readInt32LE(i * 4) : -1,
          text: raw.toString('utf8', pos, crlf ? end - 1 : end),
          crlf,
          unterminated: (flags & LINE_FLAGS.unterminated) !== 0,
        });
      }
      if (batch.length > 0) yield batch;
    }
  } finally {
    // A reader that stops early must not leave the statement open (the connection would stay busy).
    blocks.return?.();
  }
}

interface IndexBlockRow {
  block_no: number;
  first_line: number;
  line_count: number;
  kinds: Buffer;
  insns: Buffer;
}

/** The per-line kind and instruction columns of a whole run (null: no such run). */
export function runColumns(db: Db, runId: number): RunColumns | null {
  const run = db.prepare('SELECT line_count FROM runs WHERE id = ?').get(runId) as { line_count: number } | undefined;
  if (!run) return null;
  const kinds = new Uint8Array(run.line_count);
  const insns = new Int32Array(run.line_count);
  const firsts: number[] = [];
  const nos: number[] = [];
  const rows = db
    .prepare('SELECT block_no, first_line, line_count, kinds, insns FROM log_blocks WHERE run_id = ? ORDER BY block_no')
    .iterate(runId) as IterableIterator<IndexBlockRow>;
  for (const r of rows) {
    firsts.push(r.first_line);
    nos.push(r.block_no);
    kinds.set(r.kinds.subarray(0, r.line_count), r.first_line - 1);
    const aligned = r.insns.byteOffset % 4 === 0 ? r.insns : Buffer.from(r.insns);
    insns.set(new Int32Array(aligned.buffer, aligned.byteOffset, r.line_count), r.first_line - 1);
  }
  return { lineCount: run.line_count, kinds, insns, blockFirst: Int32Array.from(firsts), blockNo: Int32Array.from(nos) };
}

/** One block's exact bytes (an empty buffer when there is no such block). */
export function readBlock(db: Db, runId: number, blockNo: number): Buffer {
  const row = db.prepare('SELECT raw_z FROM log_blocks WHERE run_id = ? AND block_no = ?').get(runId, blockNo) as { raw_z: Buffer } | undefined;
  if (!row) return Buffer.alloc(0);
  try {
    return inflateRawSync(row.raw_z);
  } catch (e) {
    throw corruptDatabase(db, `block ${blockNo} of run ${runId} does not decompress: ${(e as Error).message}`);
  }
}
