/**
 * Log navigation over a RunIndex: windows of rows, row ↔ line, text/regex search, jump to an
 * instruction, stepping by instruction / ownership event / error / path, and timeline bins.
 *
 * Contract: every function answers from the in-memory kind/insn columns plus the few blocks it has
 * to read; nothing reads a whole log at once. Search scans block by block within a time budget and
 * says where to resume. Ownership events are the model's (the caller passes their lines): this
 * module never reads ownership from the log text.
 */
import type { LogLine, LogWindow, SearchResult, StepTarget, Timeline } from '../contract/contract.ts';
import { kindFromCode } from '../domain/log/records.ts';
import { K, lineText, type DecodedBlock, type RunIndex, type View } from './run-index.ts';

export class BadQueryError extends Error {}

export async function logWindow(idx: RunIndex, v: View, start: number, count: number): Promise<LogWindow> {
  const lines: LogLine[] = [];
  const end = Math.min(v.total, start + count);
  for (let row = start; row < end; row++) {
    const line = idx.lineOfRow(v, row);
    lines.push({ row, line, kind: kindFromCode(idx.kindAt(line)), insn: idx.insnAt(line), text: await idx.textAt(line) });
  }
  return { total: v.total, lines };
}

function target(idx: RunIndex, v: View, line: number): StepTarget {
  return { line, row: idx.rowOfLine(v, line), insn: idx.insnAt(line) };
}

function shown(idx: RunIndex, v: View, line: number): boolean {
  return !(v.lines && idx.kindAt(line) === K.source);
}

/** Next/previous line in [v.first, v.last] (no wrap) satisfying `pred`. */
function scan(v: View, from: number, dir: 'next' | 'prev', pred: (line: number) => boolean): number | null {
  if (dir === 'next') {
    for (let l = Math.max(from + 1, v.first); l <= v.last; l++) if (pred(l)) return l;
  } else {
    for (let l = Math.min(from - 1, v.last); l >= v.first; l--) if (pred(l)) return l;
  }
  return null;
}

export function findInsn(idx: RunIndex, v: View, insn: number, fromLine: number, dir: 'next' | 'prev'): StepTarget | null {
  const pred = (l: number) => idx.kinds[l - 1] === K.insn && idx.insns[l - 1] === insn;
  let hit = scan(v, fromLine, dir, pred);
  // Wrap around once, like an editor's find.
  if (hit === null) hit = scan(v, dir === 'next' ? v.first - 1 : v.last + 1, dir, pred);
  return hit === null ? null : target(idx, v, hit);
}

/** An ownership event of the model, placed on its log line (for stepping and the timeline). */
export interface EventMark {
  line: number;
  insn: number;
  label: string;
}

/** `events`: the lines of the model's ownership events in the view, ascending (for unit 'event'). */
export function stepFrom(
  idx: RunIndex,
  v: View,
  fromLine: number,
  unit: 'insn' | 'event' | 'error' | 'path',
  dir: 'next' | 'prev',
  events: readonly number[] = [],
): StepTarget | null {
  let pred: (l: number) => boolean;
  switch (unit) {
    case 'insn':
      pred = (l) => idx.kinds[l - 1] === K.insn;
      break;
    case 'error':
      pred = (l) => idx.kinds[l - 1] === K.error;
      break;
    case 'path':
      pred = (l) => idx.kinds[l - 1] === K.branch;
      break;
    case 'event': {
      const ev = new Set(events);
      pred = (l) => ev.has(l) || idx.kinds[l - 1] === K.error;
      break;
    }
  }
  const hit = scan(v, fromLine, dir, (l) => shown(idx, v, l) && pred(l));
  return hit === null ? null : target(idx, v, hit);
}

/** Ordinal of the instruction record at or before `line` within the view's range (-1: none). */
export function stepOrdinal(idx: RunIndex, first: number, line: number): number {
  return idx.insnCountTo(line) - idx.insnCountTo(first - 1) - 1;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface SearchOptions {
  query: string;
  regex: boolean;
  caseSensitive: boolean;
  /** Where this search started (the cycle ends there); `fromLine` moves on when resuming. */
  originLine: number;
  fromLine: number;
  direction: 'next' | 'prev';
  budgetMs: number;
}

/** A compiled query: plain text goes through indexOf (on lower-cased block text if case-insensitive). */
type Matcher = { kind: 'plain'; needle: string; ci: boolean; prefilter: Buffer | null } | { kind: 're'; re: RegExp };

/**
 * Bytes every matching block must contain, found without decoding it: the whole query when
 * case-sensitive, else its longest run without ASCII letters (e.g. the digits of "processed 55018")
 * when at least 3 characters long.
 */
function prefilterOf(query: string, caseSensitive: boolean): Buffer | null {
  if (caseSensitive) return Buffer.from(query, 'utf8');
  const runs = query.split(/[A-Za-z]+/).filter((r) => r.length >= 3);
  const best = runs.sort((a, b) => b.length - a.length)[0];
  return best ? Buffer.from(best, 'utf8') : null;
}

function compile(o: SearchOptions): Matcher {
  if (!o.regex) return { kind: 'plain', needle: o.caseSensitive ? o.query : o.query.toLowerCase(), ci: !o.caseSensitive, prefilter: prefilterOf(o.query, o.caseSensitive) };
  try {
    return { kind: 're', re: new RegExp(o.query, `g${o.caseSensitive ? '' : 'i'}m`) };
  } catch (e) {
    throw new BadQueryError(`invalid regular expression: ${(e as Error).message}`);
  }
}

const lowered = new WeakMap<DecodedBlock, string>();

/** Next match at or after offset `from` in the block's text: [index, length] or null. */
function nextMatch(m: Matcher, b: DecodedBlock, from: number): [number, number] | null {
  if (m.kind === 'plain') {
    let text = b.text;
    if (m.ci) {
      let low = lowered.get(b);
      if (low === undefined) lowered.set(b, (low = b.text.toLowerCase()));
      // toLowerCase can change lengths for a few non-ASCII characters; fall back to a regex then.
      if (low.length === b.text.length) text = low;
      else return nextMatch({ kind: 're', re: new RegExp(escapeRe(m.needle), 'gi') }, b, from);
    }
    const i = text.indexOf(m.needle, from);
    return i < 0 ? null : [i, m.needle.length];
  }
  m.re.lastIndex = from;
  const r = m.re.exec(b.text);
  return r ? [r.index, r[0].length] : null;
}

/** The ranges still to scan, in scan order: after `from` up to the end, then wrapped back to the origin. */
function searchRanges(v: View, origin: number, from: number, forward: boolean): { lo: number; hi: number; wrapped: boolean }[] {
  const o = Math.min(Math.max(origin, v.first), v.last);
  const f = Math.min(Math.max(from, v.first), v.last);
  const out: { lo: number; hi: number; wrapped: boolean }[] = [];
  if (forward) {
    // Cycle: o+1 … last, first … o.
    const inFirstLeg = f >= o;
    if (inFirstLeg) {
      if (f + 1 <= v.last) out.push({ lo: f + 1, hi: v.last, wrapped: false });
      out.push({ lo: v.first, hi: o, wrapped: true });
    } else if (f + 1 <= o) out.push({ lo: f + 1, hi: o, wrapped: true });
  } else {
    // Cycle: o-1 … first, last … o.
    const inFirstLeg = f <= o;
    if (inFirstLeg) {
      if (f - 1 >= v.first) out.push({ lo: v.first, hi: f - 1, wrapped: false });
      out.push({ lo: o, hi: v.last, wrapped: true });
    } else if (f - 1 >= o) out.push({ lo: o, hi: f - 1, wrapped: true });
  }
  return out;
}

/**
 * Next/previous match after/before `fromLine`, wrapping around the view once (back to
 * `originLine`). Matches inside a line only. Reads one block at a time; stops when over budget.
 */
export async function search(idx: RunIndex, v: View, o: SearchOptions): Promise<SearchResult> {
  const matcher = compile(o);
  const t0 = performance.now();
  const forward = o.direction === 'next';
  let scanned = 0;
  let wrapped = false;
  for (const r of searchRanges(v, o.originLine, o.fromLine, forward)) {
    wrapped = r.wrapped;
    let line = forward ? r.lo : r.hi;
    while (forward ? line <= r.hi : line >= r.lo) {
      const bi = idx.blockOf(line);
      if (matcher.kind === 'plain' && matcher.prefilter && !idx.hasBlock(bi) && (await idx.rawBlock(bi)).indexOf(matcher.prefilter) < 0) {
        // No match possible in this block: skip it without decoding.
        const bFirst = idx.blockFirst[bi] ?? 1;
        const bLast = (idx.blockFirst[bi + 1] ?? idx.lineCount + 1) - 1;
        const lo = forward ? line : Math.max(r.lo, bFirst);
        const hi = forward ? Math.min(r.hi, bLast) : line;
        scanned += hi - lo + 1;
        line = forward ? hi + 1 : lo - 1;
        if (performance.now() - t0 > o.budgetMs && (forward ? line <= r.hi : line >= r.lo)) {
          return { match: null, resumeLine: forward ? hi : lo, done: false, wrapped, scannedLines: scanned };
        }
        continue;
      }
      const b = await idx.block(bi);
      const blockLast = b.firstLine + b.lineCount - 1;
      const lo = forward ? line : Math.max(r.lo, b.firstLine);
      const hi = forward ? Math.min(r.hi, blockLast) : line;
      const hit = matchInBlock(idx, v, b, matcher, lo, hi, forward);
      if (hit) {
        return {
          match: { line: hit.line, row: idx.rowOfLine(v, hit.line), start: hit.start, end: hit.end },
          resumeLine: hit.line,
          done: false,
          wrapped,
          scannedLines: scanned + (forward ? hit.line - lo : hi - hit.line) + 1,
        };
      }
      scanned += hi - lo + 1;
      line = forward ? hi + 1 : lo - 1;
      const more = forward ? line <= r.hi : line >= r.lo;
      if (performance.now() - t0 > o.budgetMs && (more || r.wrapped === false)) {
        return { match: null, resumeLine: forward ? hi : lo, done: false, wrapped, scannedLines: scanned };
      }
    }
  }
  return { match: null, resumeLine: o.fromLine, done: true, wrapped, scannedLines: scanned };
}

function matchInBlock(
  idx: RunIndex,
  v: View,
  b: DecodedBlock,
  m: Matcher,
  lo: number,
  hi: number,
  forward: boolean,
): { line: number; start: number; end: number } | null {
  if (hi < lo) return null;
  const iLo = lo - b.firstLine;
  const iHi = hi - b.firstLine;
  // A whole block without any match costs one indexOf/regex pass and no line table.
  if (iLo === 0 && iHi === b.lineCount - 1 && nextMatch(m, b, 0) === null) return null;
  let best: { line: number; start: number; end: number } | null = null;
  const endOff = (b.starts[iHi + 1] ?? b.text.length + 1) - 1;
  let li = iLo;
  let pos = b.starts[iLo] ?? 0;
  for (;;) {
    const hit = nextMatch(m, b, pos);
    if (!hit || hit[0] >= endOff) break;
    const [at, len] = hit;
    while (li + 1 <= iHi && (b.starts[li + 1] ?? Infinity) <= at) li++;
    const line = b.firstLine + li;
    const start = at - (b.starts[li] ?? 0);
    const text = lineText(b, li);
    // A match must lie inside one line's text (not across its terminator) and be shown.
    if (shown(idx, v, line) && start + len <= text.length && (len > 0 || start < text.length)) {
      best = { line, start, end: start + len };
      if (forward) return best;
      // Backward: keep the last match of the range; go on from the next line.
      pos = b.starts[li + 1] ?? b.text.length;
      continue;
    }
    pos = at + Math.max(1, len === 0 ? 1 : 1);
  }
  return best;
}

const timelineCache = new WeakMap<RunIndex, Map<string, Timeline>>();

/**
 * Timeline bins over the view: the model's ownership events (`events`, in line order), errors and
 * path starts. Async: scans 256k rows at a time and yields in between, so requests that arrive
 * meanwhile (a keystroke's step, a search) are answered first.
 */
export async function timeline(idx: RunIndex, v: View, nBins: number, events: readonly EventMark[], budgetMs = 2000): Promise<Timeline> {
  let perRun = timelineCache.get(idx);
  if (!perRun) timelineCache.set(idx, (perRun = new Map()));
  const key = `${v.first}:${v.last}:${v.lines ? 'f' : 'u'}:${nBins}:${events.length}`;
  const hit = perRun.get(key);
  if (hit) return hit;
  const t0 = performance.now();
  const evBins = new Int32Array(nBins);
  const errBins = new Int32Array(nBins);
  const pathBins = new Int32Array(nBins);
  const ticks: Timeline['events'] = [];
  const per = v.total / nBins;
  const binOf = (row: number) => Math.min(nBins - 1, Math.floor(row / per));
  for (const e of events) {
    if (e.line < v.first || e.line > v.last) continue;
    const row = idx.rowOfLine(v, e.line);
    evBins[binOf(row)] = (evBins[binOf(row)] ?? 0) + 1;
    if (ticks.length < 500) ticks.push({ row, line: e.line, insn: e.insn, label: e.label });
  }
  const { kinds } = idx;
  const kErr = K.error;
  const kBranch = K.branch;
  let partial = false;
  for (let row = 0; row < v.total; row++) {
    if ((row & 0x3ffff) === 0 && row > 0) {
      if (performance.now() - t0 > budgetMs) {
        partial = true;
        break;
      }
      await new Promise((r) => setImmediate(r));
    }
    const k = kinds[(v.lines ? (v.lines[row] ?? 1) : v.first + row) - 1];
    if (k === kErr) errBins[binOf(row)] = (errBins[binOf(row)] ?? 0) + 1;
    else if (k === kBranch) pathBins[binOf(row)] = (pathBins[binOf(row)] ?? 0) + 1;
  }
  const bins = Array.from({ length: nBins }, (_, b) => ({ events: evBins[b] ?? 0, errors: errBins[b] ?? 0, paths: pathBins[b] ?? 0 }));
  const eventInsns = [...new Set(events.map((e) => e.insn))].sort((a, b) => a - b);
  const out = { total: v.total, bins, events: ticks, eventInsns, partial };
  if (!partial) perRun.set(key, out);
  return out;
}
