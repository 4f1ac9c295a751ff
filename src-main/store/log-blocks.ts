/**
 * The stored form of a log, for every backend: consecutive lines packed into blocks — the exact
 * bytes deflate-compressed, and per-line kind (uint8), instruction (int32 LE) and flag (uint8)
 * columns — and the way back from a block to its lines.
 *
 * Contract:
 * - `BlockBuilder.add(line)` buffers a line and answers true when the block is full
 *   (BLOCK_LINES lines or BLOCK_BYTES bytes); `take()` packs what is buffered into a `PackedBlock`
 *   (numbered and positioned in order) and starts the next. Nothing holds more than one block.
 * - `blockLines(cache, runId, row, from, last)` decodes lines [from, last] of a stored block row;
 *   a row that does not inflate or has damaged columns gives a `DamagedBlock` error carrying the
 *   message the backend reports as "database is corrupt".
 * - `assembleColumns(lineCount, rows)` joins the per-line columns of a run's blocks.
 */
import { deflateRawSync, inflateRawSync, constants as zc } from 'node:zlib';
import type { LineColumns, RunColumns, StoredLine } from './types.ts';

export const BLOCK_LINES = 4096;
export const BLOCK_BYTES = 1 << 20;

/** Per-line flag bits stored in log_blocks.flags. */
export const LINE_FLAGS = { crlf: 1, unterminated: 2 } as const;

export interface PackedBlock {
  blockNo: number;
  firstLine: number;
  lineCount: number;
  rawBytes: number;
  rawZ: Buffer;
  kinds: Buffer;
  insns: Buffer;
  flags: Buffer;
}

export class BlockBuilder {
  private raws: Buffer[] = [];
  private rawBytes = 0;
  private kinds = new Uint8Array(BLOCK_LINES);
  private insns = new Int32Array(BLOCK_LINES);
  private flags = new Uint8Array(BLOCK_LINES);
  private count = 0;
  private firstLine = 1;
  /** Blocks taken so far (the next block's number). */
  blockCount = 0;
  crlfLines = 0;

  get empty(): boolean {
    return this.count === 0;
  }

  add(l: LineColumns): boolean {
    const i = this.count;
    this.kinds[i] = l.kind;
    this.insns[i] = l.insn;
    let f = 0;
    if (l.crlf) {
      f |= LINE_FLAGS.crlf;
      this.crlfLines += 1;
    }
    if (l.unterminated) f |= LINE_FLAGS.unterminated;
    this.flags[i] = f;
    this.raws.push(l.raw);
    this.rawBytes += l.raw.length;
    this.count = i + 1;
    return this.count === BLOCK_LINES || this.rawBytes >= BLOCK_BYTES;
  }

  take(): PackedBlock {
    const n = this.count;
    const raw = Buffer.concat(this.raws, this.rawBytes);
    const block: PackedBlock = {
      blockNo: this.blockCount,
      firstLine: this.firstLine,
      lineCount: n,
      rawBytes: this.rawBytes,
      rawZ: deflateRawSync(raw, { level: 1, strategy: zc.Z_DEFAULT_STRATEGY }),
      // Copies: the next block gets fresh arrays.
      kinds: Buffer.from(this.kinds.slice(0, n).buffer),
      insns: Buffer.from(this.insns.slice(0, n).buffer),
      flags: Buffer.from(this.flags.slice(0, n).buffer),
    };
    this.blockCount += 1;
    this.firstLine += n;
    this.raws = [];
    this.rawBytes = 0;
    this.count = 0;
    return block;
  }
}

/** A stored block, as both backends' rows name its columns. */
export interface BlockRow {
  first_line: number;
  line_count: number;
  raw_z: Buffer;
  kinds: Buffer;
  insns: Buffer;
  flags: Buffer;
}

/** A block that cannot be decoded: `message` is what the backend reports (naming run and line). */
export class DamagedBlock extends Error {}

interface InflatedBlock {
  z: Buffer;
  raw: Buffer;
  /** Start offset of each line in `raw` (line_count + 1 entries: the last is the end). */
  starts: Int32Array;
}

/**
 * The last block inflated, per connection, by its compressed bytes: a run of 10k small programs is
 * read one program at a time, and each program's lines sit in the block the previous one used.
 */
export type InflateCache = { last?: InflatedBlock };

function inflateChecked(runId: number, b: BlockRow): Buffer {
  const ok = [b.raw_z, b.kinds, b.insns, b.flags].every((x) => Buffer.isBuffer(x)) && b.insns.length % 4 === 0 && Number.isSafeInteger(b.first_line) && Number.isSafeInteger(b.line_count);
  if (!ok) throw new DamagedBlock(`the block of run ${runId} from line ${String(b.first_line)} has damaged columns`);
  try {
    return inflateRawSync(b.raw_z);
  } catch (e) {
    throw new DamagedBlock(`the block of run ${runId} from line ${b.first_line} does not decompress: ${(e as Error).message}`);
  }
}

function inflateBlock(cache: InflateCache, runId: number, b: BlockRow): InflatedBlock {
  const hit = cache.last;
  if (hit !== undefined && Buffer.isBuffer(b.raw_z) && hit.z.equals(b.raw_z) && hit.starts.length === b.line_count + 1) return hit;
  const raw = inflateChecked(runId, b);
  const starts = new Int32Array(b.line_count + 1);
  let pos = 0;
  for (let i = 0; i < b.line_count; i++) {
    starts[i] = pos;
    const nl = raw.indexOf(0x0a, pos);
    pos = nl < 0 ? raw.length : nl + 1;
  }
  starts[b.line_count] = Math.min(pos, raw.length);
  const block = { z: b.raw_z, raw, starts };
  cache.last = block;
  return block;
}

/** Lines [from, last] (1-based) of one stored block, decoded. */
export function blockLines(cache: InflateCache, runId: number, b: BlockRow, from: number, last: number): StoredLine[] {
  const { raw, starts } = inflateBlock(cache, runId, b);
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
  return batch;
}

/** A block's exact bytes, inflated (DamagedBlock when they do not inflate). */
export function inflateRaw(runId: number, blockNo: number, rawZ: Buffer): Buffer {
  try {
    return inflateRawSync(rawZ);
  } catch (e) {
    throw new DamagedBlock(`block ${blockNo} of run ${runId} does not decompress: ${(e as Error).message}`);
  }
}

export interface ColumnsRow {
  block_no: number;
  first_line: number;
  line_count: number;
  kinds: Buffer;
  insns: Buffer;
}

/** The per-line kind and instruction columns of a run of `lineCount` lines, from its block rows in order. */
export function assembleColumns(lineCount: number, rows: Iterable<ColumnsRow>): RunColumns {
  const kinds = new Uint8Array(lineCount);
  const insns = new Int32Array(lineCount);
  const firsts: number[] = [];
  const nos: number[] = [];
  for (const r of rows) {
    firsts.push(r.first_line);
    nos.push(r.block_no);
    kinds.set(r.kinds.subarray(0, r.line_count), r.first_line - 1);
    const aligned = r.insns.byteOffset % 4 === 0 ? r.insns : Buffer.from(r.insns);
    insns.set(new Int32Array(aligned.buffer, aligned.byteOffset, r.line_count), r.first_line - 1);
  }
  return { lineCount, kinds, insns, blockFirst: Int32Array.from(firsts), blockNo: Int32Array.from(nos) };
}
