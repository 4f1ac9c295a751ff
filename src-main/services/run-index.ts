/**
 * In-memory index of one stored run for the app: the per-line kind and instruction columns of all
 * its blocks (1 + 4 bytes a line: ~46 MB for the 9.2M-line log), block boundaries, its programs,
 * and views (a program's lines, or the whole run; with or without source annotations).
 *
 * Contract: `RunIndexCache.get(db, runId)` loads an index once (kept for the last few runs opened;
 * dropped when the run is deleted). Everything here answers from memory except `readText`, which
 * inflates only the blocks of the lines asked for. Lines are 1-based; view rows 0-based.
 */
import { inflateRawSync } from 'node:zlib';
import type { Db } from '../store/db.ts';
import { KIND_CODES } from '../ingest/verifier-log/records.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';
import { getPrograms } from '../store/queries/runs.ts';

export const K = KIND_CODES;

export interface View {
  /** First and last line of the range (inclusive). */
  first: number;
  last: number;
  /** Folded views list their shown lines; null = every line of [first, last]. */
  lines: Int32Array | null;
  total: number;
}

export class RunIndex {
  readonly kinds: Uint8Array;
  readonly insns: Int32Array;
  /** first_line of each block, ascending, and its block_no. */
  readonly blockFirst: Int32Array;
  readonly blockNo: Int32Array;
  private unfolded: Int32Array | null = null;
  private blockCache = new Map<number, DecodedBlock>();

  constructor(
    readonly runId: number,
    readonly lineCount: number,
    readonly programs: ProgramSummary[],
    kinds: Uint8Array,
    insns: Int32Array,
    blockFirst: Int32Array,
    blockNo: Int32Array,
  ) {
    this.kinds = kinds;
    this.insns = insns;
    this.blockFirst = blockFirst;
    this.blockNo = blockNo;
  }

  private insnPrefix: Int32Array | null = null;

  /** Instruction records in lines [1, line] (per-block prefix counts + one partial block). */
  insnCountTo(line: number): number {
    if (!this.insnPrefix) {
      const p = new Int32Array(this.blockFirst.length + 1);
      let n = 0;
      for (let b = 0; b < this.blockFirst.length; b++) {
        p[b] = n;
        const end = (this.blockFirst[b + 1] ?? this.lineCount + 1) - 1;
        for (let l = this.blockFirst[b] ?? 1; l <= end; l++) if (this.kinds[l - 1] === K.insn) n++;
      }
      p[this.blockFirst.length] = n;
      this.insnPrefix = p;
    }
    const b = this.blockOf(line);
    let n = this.insnPrefix[b] ?? 0;
    for (let l = this.blockFirst[b] ?? 1; l <= Math.min(line, this.lineCount); l++) if (this.kinds[l - 1] === K.insn) n++;
    return n;
  }

  kindAt(line: number): number {
    return this.kinds[line - 1] ?? 0;
  }

  insnAt(line: number): number {
    return this.insns[line - 1] ?? -1;
  }

  /** Line range of a program (-1: the whole run). */
  range(program: number): { first: number; last: number } {
    if (program < 0) return { first: 1, last: Math.max(1, this.lineCount) };
    const p = this.programs.find((x) => x.index === program);
    if (!p || p.lines === 0) throw new RangeError(`run ${this.runId} has no program ${program}`);
    return { first: p.firstLine, last: p.lastLine };
  }

  view(program: number, fold: boolean): View {
    const { first, last } = this.range(program);
    if (!fold) return { first, last, lines: null, total: last - first + 1 };
    const all = this.foldedLines();
    const lo = lowerBound(all, first);
    const hi = lowerBound(all, last + 1);
    return { first, last, lines: all.subarray(lo, hi), total: hi - lo };
  }

  lineOfRow(v: View, row: number): number {
    if (v.lines) return v.lines[row] ?? v.last;
    return v.first + row;
  }

  /** Row of a line; in a folded view, the row of the nearest shown line at or before it. */
  rowOfLine(v: View, line: number): number {
    if (!v.lines) return Math.min(Math.max(line, v.first), v.last) - v.first;
    const i = lowerBound(v.lines, line + 1) - 1;
    return Math.max(0, Math.min(i, v.total - 1));
  }

  /** Lines that are not source annotations, for folded views (built once). */
  private foldedLines(): Int32Array {
    if (this.unfolded) return this.unfolded;
    let n = 0;
    const src = K.source;
    for (let i = 0; i < this.lineCount; i++) if (this.kinds[i] !== src) n++;
    const out = new Int32Array(n);
    let j = 0;
    for (let i = 0; i < this.lineCount; i++) if (this.kinds[i] !== src) out[j++] = i + 1;
    this.unfolded = out;
    return out;
  }

  /** Block (array index) holding a line. */
  blockOf(line: number): number {
    return Math.max(0, upperBound(this.blockFirst, line) - 1);
  }

  /** Block `b` (array index) decoded once: its text and where each line starts (a few blocks cached). */
  block(db: Db, b: number): DecodedBlock {
    const hit = this.blockCache.get(b);
    if (hit) {
      this.blockCache.delete(b);
      this.blockCache.set(b, hit);
      return hit;
    }
    const row = db
      .prepare('SELECT raw_z, line_count FROM log_blocks WHERE run_id = ? AND block_no = ?')
      .get(this.runId, this.blockNo[b]) as { raw_z: Buffer; line_count: number } | undefined;
    const text = row ? inflateRawSync(row.raw_z).toString('utf8') : '';
    const decoded = new DecodedBlock(this.blockFirst[b] ?? 1, row?.line_count ?? 0, text);
    this.blockCache.set(b, decoded);
    if (this.blockCache.size > 32) {
      const oldest = this.blockCache.keys().next().value;
      if (oldest !== undefined) this.blockCache.delete(oldest);
    }
    return decoded;
  }

  /** Block `b`'s raw bytes (inflated, not decoded): cheap pre-filtering for search. */
  rawBlock(db: Db, b: number): Buffer {
    const row = db.prepare('SELECT raw_z FROM log_blocks WHERE run_id = ? AND block_no = ?').get(this.runId, this.blockNo[b]) as { raw_z: Buffer } | undefined;
    return row ? inflateRawSync(row.raw_z) : Buffer.alloc(0);
  }

  /** Whether block `b` is decoded already. */
  hasBlock(b: number): boolean {
    return this.blockCache.has(b);
  }

  /** Text of one line (without its terminator). */
  textAt(db: Db, line: number): string {
    const b = this.block(db, this.blockOf(line));
    return lineText(b, line - b.firstLine);
  }
}

/** A block's text; where each line starts is computed on first use (a search scan may not need it). */
export class DecodedBlock {
  private lineStarts: Int32Array | null = null;

  constructor(
    readonly firstLine: number,
    readonly lineCount: number,
    readonly text: string,
  ) {}

  /** starts[i] = offset of line i in `text`; starts[lineCount] = end of the last line + 1. */
  get starts(): Int32Array {
    if (this.lineStarts) return this.lineStarts;
    const n = this.lineCount;
    const starts = new Int32Array(n + 1);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      starts[i] = pos;
      const nl = this.text.indexOf('\n', pos);
      pos = nl < 0 ? this.text.length + 1 : nl + 1;
    }
    starts[n] = pos;
    this.lineStarts = starts;
    return starts;
  }
}

export function lineText(b: DecodedBlock, i: number): string {
  const s = b.starts[i];
  const e = b.starts[i + 1];
  if (s === undefined || e === undefined) return '';
  let end = e - 1;
  if (end > s && b.text.charCodeAt(end - 1) === 13) end -= 1;
  return b.text.slice(s, end);
}

export function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function upperBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] ?? 0) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface IndexBlockRow {
  block_no: number;
  first_line: number;
  line_count: number;
  kinds: Buffer;
  insns: Buffer;
}

export function loadRunIndex(db: Db, runId: number): RunIndex | null {
  const run = db.prepare('SELECT line_count, block_count FROM runs WHERE id = ?').get(runId) as
    | { line_count: number; block_count: number }
    | undefined;
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
  return new RunIndex(runId, run.line_count, getPrograms(db, runId), kinds, insns, Int32Array.from(firsts), Int32Array.from(nos));
}

/** The last few run indexes (each can be tens of MB). */
export class RunIndexCache {
  private cache = new Map<number, RunIndex>();
  constructor(private readonly max = 3) {}

  get(db: Db, runId: number): RunIndex | null {
    const hit = this.cache.get(runId);
    if (hit) {
      this.cache.delete(runId);
      this.cache.set(runId, hit);
      return hit;
    }
    const idx = loadRunIndex(db, runId);
    if (!idx) return null;
    this.cache.set(runId, idx);
    while (this.cache.size > this.max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return idx;
  }

  drop(runId: number): void {
    this.cache.delete(runId);
  }
}
