/**
 * Which program of a run a log line belongs to, from the programs' line ranges.
 *
 * Contract: `programOfLine(programs, line)` → the owning program's index, or -1 for run-level
 * lines (wrapper and loader lines between programs). A binary search over the ranges (a run may
 * hold 10k programs and millions of lines); overlapping ranges (never produced by the parser) fall
 * back to a scan. Pure.
 */
import { lastAtMost } from '../../lib/sorted.ts';
import type { ProgramSummary } from './program-state.ts';

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

export function programOfLine(programs: readonly ProgramSummary[], line: number): number {
  const sorted = rangesOf(programs);
  if (sorted === null) {
    for (const p of programs) if (p.lines > 0 && line >= p.firstLine && line <= p.lastLine) return p.index;
    return -1;
  }
  const i = lastAtMost(sorted.length, (k) => (sorted[k] as ProgramSummary).firstLine, line);
  const p = sorted[i];
  return p !== undefined && line <= p.lastLine ? p.index : -1;
}
