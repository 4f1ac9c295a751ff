/**
 * Two runs side by side, as pure data: a veristat-style table of the kernel's figures with
 * absolute and % deltas, programs matched by name then by position, and the first point where two
 * replayed walks part ways (aligned by instruction index and, where instructions shifted, by
 * source line). The `Comparison` is the CLI's `compare --json` document.
 *
 * Contract: pure functions over what the app loads (app/compare.ts): `figures`, `deltas`,
 * `pairPrograms`, `alignWalks` (every aligned pair of steps and the first divergence).
 */
import { diagnosticOneLine } from './kernel-diagnostic-view.ts';
import type { KernelDiagnostic } from '../log/kernel-diagnostic.ts';
import type { Finding } from '../model/types.ts';
import { neverLoaded, type ProgramSummary } from '../log/program-state.ts';

export const METRICS = ['insnsProcessed', 'maxStatesPerInsn', 'totalStates', 'peakStates', 'verificationUsec', 'stackDepth'] as const;
export type Metric = (typeof METRICS)[number];

export interface SideFigures {
  run: number;
  program: string;
  verdict: string;
  modelVerdict: string;
  failInsn: number | null;
  insnsProcessed: number | null;
  maxStatesPerInsn: number | null;
  totalStates: number | null;
  peakStates: number | null;
  verificationUsec: number | null;
  /** Sum over subprograms (the per-subprogram list is in stackDepths). */
  stackDepth: number | null;
  stackDepths: number[] | null;
  finding: Finding | null;
  /** The kernel's own diagnostic (7.3+) in one line, null when it printed none. */
  kernelDiagnostic: string | null;
}

export interface DivergencePoint {
  step: number;
  insn: number | null;
  line: number | null;
  asm: string | null;
  source: string | null;
  events: string[];
}

export interface FirstDivergence {
  a: DivergencePoint;
  b: DivergencePoint;
  reason: string;
}

export interface ProgramComparison {
  name: string;
  matchedBy: 'name' | 'position';
  a: SideFigures;
  b: SideFigures;
  delta: Record<Metric, { abs: number; pct: number | null } | null> & { verdict: string | null };
  firstDivergence: FirstDivergence | null;
}

export interface Comparison {
  a: { run: number; source: string; kernel: string | null };
  b: { run: number; source: string; kernel: string | null };
  kernelProfile: string;
  programs: ProgramComparison[];
  unmatched: { a: string[]; b: string[] };
}

/** The kernel's figures of one program and the model's verdict and finding on it. */
export function figures(runId: number, p: ProgramSummary, model: { modelVerdict: string; finding: Finding | null }): SideFigures {
  const st = p.stats;
  return {
    run: runId,
    program: p.name,
    verdict: p.verdict,
    // A program the kernel never saw was not replayed: no verdict of the model's.
    modelVerdict: neverLoaded(p.verdict) ? 'not replayed' : model.modelVerdict,
    failInsn: p.failInsn,
    insnsProcessed: st.insnsProcessed ?? null,
    maxStatesPerInsn: st.maxStatesPerInsn ?? null,
    totalStates: st.totalStates ?? null,
    peakStates: st.peakStates ?? null,
    verificationUsec: st.verificationUsec ?? null,
    stackDepth: st.stackDepth ? st.stackDepth.reduce((x, y) => x + y, 0) : null,
    stackDepths: st.stackDepth ?? null,
    finding: neverLoaded(p.verdict) ? null : model.finding,
    kernelDiagnostic: p.kernelDiagnostics.length > 0 ? diagnosticOneLine(p.kernelDiagnostics[p.kernelDiagnostics.length - 1] as KernelDiagnostic) : null,
  };
}

export function deltas(a: SideFigures, b: SideFigures): ProgramComparison['delta'] {
  const d = { verdict: a.verdict === b.verdict ? null : `${a.verdict} → ${b.verdict}` } as ProgramComparison['delta'];
  for (const m of METRICS) {
    const x = a[m];
    const y = b[m];
    if (x === null || y === null) d[m] = null;
    else d[m] = { abs: y - x, pct: x === 0 ? (y === 0 ? 0 : null) : Math.round(((y - x) / x) * 10000) / 100 };
  }
  return d;
}

export interface WalkStep {
  insn: number;
  line: number;
  path: number;
  asm: string;
  source: string | null;
  events: string[];
}

function point(w: WalkStep[], k: number): DivergencePoint {
  const s = w[k];
  if (!s) return { step: k, insn: null, line: null, asm: null, source: null, events: [] };
  return { step: k, insn: s.insn, line: s.line, asm: s.asm, source: s.source, events: s.events };
}

/** One aligned pair of steps: indexes into walk a and walk b (a side that ended stays on its last step). */
export type StepPair = [number, number];

/**
 * Walk both step lists in order; instructions that differ but stand for the same source line are
 * aligned. Returns every aligned pair of step indexes and the first point where the walks diverge.
 * Past a divergence the walk goes on in lock step (the rest of the pairs are for stepping together).
 */
export function alignWalks(a: WalkStep[], b: WalkStep[]): { pairs: StepPair[]; first: FirstDivergence | null } {
  const sameSource = (x: WalkStep, y: WalkStep) => x.source !== null && x.source === y.source;
  const pairs: StepPair[] = [];
  let first: FirstDivergence | null = null;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as WalkStep;
    const y = b[j] as WalkStep;
    pairs.push([i, j]);
    const sameInsn = x.insn === y.insn && x.asm === y.asm;
    if (!sameInsn && !sameSource(x, y)) {
      const reason =
        x.asm === y.asm
          ? `the same instruction at a different index (${x.insn} vs ${y.insn}) on a different source line`
          : x.path !== (a[i - 1]?.path ?? x.path) || y.path !== (b[j - 1]?.path ?? y.path)
            ? 'the walks continue with different branches'
            : 'different instructions on different source lines';
      first ??= { a: point(a, i), b: point(b, j), reason };
      i++;
      j++;
      continue;
    }
    if (x.events.join('; ') !== y.events.join('; ')) {
      first ??= { a: point(a, i), b: point(b, j), reason: 'different ownership events at the aligned instruction' };
    }
    if (sameInsn || !sameSource(x, y)) {
      i++;
      j++;
      continue;
    }
    // Same source line, shifted instructions: advance whichever side stays on this source line longer.
    const nx = a[i + 1];
    const ny = b[j + 1];
    if (nx && ny && sameSource(nx, y) && !sameSource(ny, x)) i++;
    else if (nx && ny && sameSource(ny, x) && !sameSource(nx, y)) j++;
    else {
      i++;
      j++;
    }
  }
  if (i < a.length || j < b.length) {
    const which = i < a.length ? 'b' : 'a';
    const empty = which === 'a' ? a.length === 0 : b.length === 0;
    const reason = empty
      ? `the log of ${which} shows no instructions (log level 1 prints only the statistics of an accepted program; level 4 alone prints no trace)`
      : `the walk of ${which} ends here while the other goes on`;
    first ??= { a: point(a, i), b: point(b, j), reason };
    if (!empty) {
      for (; i < a.length; i++) pairs.push([i, b.length - 1]);
      for (; j < b.length; j++) pairs.push([a.length - 1, j]);
    }
  }
  return { pairs, first };
}

/** The first point where two walks diverge (null: they agree step for step). */
export function firstDivergence(a: WalkStep[], b: WalkStep[]): FirstDivergence | null {
  return alignWalks(a, b).first;
}

/** Programs of two runs matched by name, then by position. */
export function pairPrograms<P extends { program: { name: string } }>(A: readonly P[], B: readonly P[]) {
  const pairs: [P, P, 'name' | 'position'][] = [];
  const usedB = new Set<number>();
  const leftA: P[] = [];
  for (const pa of A) {
    const k = B.findIndex((pb, idx) => !usedB.has(idx) && pb.program.name === pa.program.name);
    if (k >= 0) {
      usedB.add(k);
      pairs.push([pa, B[k] as P, 'name']);
    } else leftA.push(pa);
  }
  const leftB = B.filter((_, idx) => !usedB.has(idx));
  while (leftA.length > 0 && leftB.length > 0) pairs.push([leftA.shift() as P, leftB.shift() as P, 'position']);
  return { pairs, leftA, leftB };
}
