/**
 * In-memory index of one stored run for the app: the per-line kind and instruction columns of all
 * its blocks (1 + 4 bytes a line: ~46 MB for the 9.2M-line log), block boundaries, its programs,
 * and views (a program's lines, or the whole run; with or without source annotations).
 *
 * Contract: `RunIndexCache.get(store, runId)` loads an index once (kept for the last few runs
 * opened; dropped when the run is deleted). Everything here answers from memory except the block
 * reads (`block`, `rawBlock`, `textAt`), which fetch only the blocks of the lines asked for (a few
 * decoded blocks are cached). Lines are 1-based; view rows 0-based.
 */
import type { Store } from '../store/types.ts';
import { KIND_CODES } from '../domain/log/records.ts';
import type { ProgramSummary } from '../domain/log/program-state.ts';
import { lowerBound, upperBound } from '../lib/sorted.ts';

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
  private unfolded: Int32Array | null = null;
  private blockCache = new Map<number, DecodedBlock>();
  private insnPrefix: Int32Array | null = null;

  constructor(
    private readonly store: Store,
    readonly runId: number,
    readonly lineCount: number,
    readonly programs: ProgramSummary[],
    readonly kinds: Uint8Array,
    readonly insns: Int32Array,
    /** first_line of each block, ascending, and its block_no. */
    readonly blockFirst: Int32Array,
    readonly blockNo: Int32Array,
  ) {}

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
  async block(b: number): Promise<DecodedBlock> {
    const hit = this.blockCache.get(b);
    if (hit) {
      this.blockCache.delete(b);
      this.blockCache.set(b, hit);
      return hit;
    }
    const raw = await this.rawBlock(b);
    const first = this.blockFirst[b] ?? 1;
    const count = (this.blockFirst[b + 1] ?? this.lineCount + 1) - first;
    const decoded = new DecodedBlock(first, raw.length === 0 ? 0 : count, raw.toString('utf8'));
    this.blockCache.set(b, decoded);
    if (this.blockCache.size > 32) {
      const oldest = this.blockCache.keys().next().value;
      if (oldest !== undefined) this.blockCache.delete(oldest);
    }
    return decoded;
  }

  /** Block `b`'s raw bytes (inflated, not decoded): cheap pre-filtering for search. */
  rawBlock(b: number): Promise<Buffer> {
    return this.store.readBlock(this.runId, this.blockNo[b] ?? -1);
  }

  /** Whether block `b` is decoded already. */
  hasBlock(b: number): boolean {
    return this.blockCache.has(b);
  }

  /** Text of one line (without its terminator). */
  async textAt(line: number): Promise<string> {
    const b = await this.block(this.blockOf(line));
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

export async function loadRunIndex(store: Store, runId: number): Promise<RunIndex | null> {
  const cols = await store.runColumns(runId);
  if (!cols) return null;
  return new RunIndex(store, runId, cols.lineCount, await store.getPrograms(runId), cols.kinds, cols.insns, cols.blockFirst, cols.blockNo);
}

/** The last few run indexes (each can be tens of MB). */
export class RunIndexCache {
  private cache = new Map<number, RunIndex>();
  constructor(private readonly max = 3) {}

  async get(store: Store, runId: number): Promise<RunIndex | null> {
    const hit = this.cache.get(runId);
    if (hit) {
      this.cache.delete(runId);
      this.cache.set(runId, hit);
      return hit;
    }
    const idx = await loadRunIndex(store, runId);
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
