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
import { corruptDatabase, type Db } from './connection.ts';
import { lastAtMost } from '../../lib/sorted.ts';
import type { RunColumns, StoredLine } from '../types.ts';
import { assembleColumns, blockLines, DamagedBlock, inflateRaw, type BlockRow, type ColumnsRow, type InflateCache } from '../log-blocks.ts';

const inflateCaches = new WeakMap<Db, InflateCache>();

/** `fn`, with a damaged block reported as this database's one-line corrupt error. */
function guardBlock<T>(db: Db, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DamagedBlock) throw corruptDatabase(db, e.message);
    throw e;
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
    let cache = inflateCaches.get(db);
    if (cache === undefined) inflateCaches.set(db, (cache = {}));
    for (let next = blocks.next(); !next.done; next = blocks.next()) {
      const b = next.value;
      const c = cache;
      const batch = guardBlock(db, () => blockLines(c, runId, b, from, last));
      if (batch.length > 0) yield batch;
    }
  } finally {
    // A reader that stops early must not leave the statement open (the connection would stay busy).
    blocks.return?.();
  }
}

/** The per-line kind and instruction columns of a whole run (null: no such run). */
export function runColumns(db: Db, runId: number): RunColumns | null {
  const run = db.prepare('SELECT line_count FROM runs WHERE id = ?').get(runId) as { line_count: number } | undefined;
  if (!run) return null;
  const rows = db
    .prepare('SELECT block_no, first_line, line_count, kinds, insns FROM log_blocks WHERE run_id = ? ORDER BY block_no')
    .iterate(runId) as IterableIterator<ColumnsRow>;
  return assembleColumns(run.line_count, rows);
}

/** One block's exact bytes (an empty buffer when there is no such block). */
export function readBlock(db: Db, runId: number, blockNo: number): Buffer {
  const row = db.prepare('SELECT raw_z FROM log_blocks WHERE run_id = ? AND block_no = ?').get(runId, blockNo) as { raw_z: Buffer } | undefined;
  if (!row) return Buffer.alloc(0);
  return guardBlock(db, () => inflateRaw(runId, blockNo, row.raw_z));
}
