/**
 * Compare two runs side by side (the same program on two kernels, before/after a fix, level 1
 * against level 2): programs matched by name, then by position; a veristat-style table of the
 * kernel's figures with absolute and % deltas; the first point where the two replayed walks part
 * ways (aligned by instruction index and, where instructions shifted, by source line); both findings.
 *
 * Contract: `compareRuns(db, a, b, opts)` takes two stored run ids (replaying them if needed, with
 * the same kernel profile) and returns plain JSON (the CLI's `compare --json` document).
 */
import type { Db } from '../store/db.ts';
import { getRun, readLines, rebuildRecord } from '../store/queries/runs.ts';
import { loadSteps } from '../store/replay-store.ts';
import type { Finding, OwnershipEvent } from '../model/index.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';
import { replayRun, type ProgramReplay } from './replay-service.ts';

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

function figures(runId: number, pr: ProgramReplay): SideFigures {
  const p = pr.program;
  const st = p.stats;
  return {
    run: runId,
    program: p.name,
    verdict: p.verdict,
    modelVerdict: pr.replay.modelVerdict,
    failInsn: p.failInsn,
    insnsProcessed: st.insnsProcessed ?? null,
    maxStatesPerInsn: st.maxStatesPerInsn ?? null,
    totalStates: st.totalStates ?? null,
    peakStates: st.peakStates ?? null,
    verificationUsec: st.verificationUsec ?? null,
    stackDepth: st.stackDepth ? st.stackDepth.reduce((x, y) => x + y, 0) : null,
    stackDepths: st.stackDepth ?? null,
    finding: pr.replay.finding,
  };
}

function deltas(a: SideFigures, b: SideFigures): ProgramComparison['delta'] {
  const d = { verdict: a.verdict === b.verdict ? null : `${a.verdict} → ${b.verdict}` } as ProgramComparison['delta'];
  for (const m of METRICS) {
    const x = a[m];
    const y = b[m];
    if (x === null || y === null) d[m] = null;
    else d[m] = { abs: y - x, pct: x === 0 ? (y === 0 ? 0 : null) : Math.round(((y - x) / x) * 10000) / 100 };
  }
  return d;
}

interface WalkStep {
  insn: number;
  line: number;
  path: number;
  asm: string;
  source: string | null;
  events: string[];
}

/** The replayed walk of a program with, per step, its disassembly, source line and ownership events. */
function walkOf(db: Db, runId: number, pr: ProgramReplay): WalkStep[] {
  const p: ProgramSummary = pr.program;
  const asmByLine = new Map<number, { asm: string; source: string | null }>();
  let source: string | null = null;
  if (p.lines > 0) {
    for (const l of readLines(db, runId, p.firstLine, p.lastLine - p.firstLine + 1)) {
      const r = rebuildRecord(l, p.index);
      // The source key is the line's text (and number when printed): two versions of a program in
      // differently named files still align on the lines they share.
      if (r.kind === 'source') source = r.sourceLine !== undefined ? `${r.sourceLine}: ${r.source.trim()}` : r.source.trim();
      else if (r.kind === 'insn') asmByLine.set(r.line, { asm: r.asm, source });
      else if (r.kind === 'branch') source = null;
    }
  }
  const byStep = new Map<number, OwnershipEvent[]>();
  for (const e of pr.events) byStep.set(e.step, [...(byStep.get(e.step) ?? []), e]);
  const label = (e: OwnershipEvent) => {
    const o = pr.objects.find((x) => x.id === e.object);
    return `${e.kind} ${o ? o.type : `obj${e.object}`} ${e.from ?? '—'} → ${e.to ?? '—'}`;
  };
  return loadSteps(db, pr.replay.id).map((s, i) => ({
    insn: s.insn,
    line: s.line,
    path: s.pathIndex,
    asm: asmByLine.get(s.line)?.asm ?? '',
    source: asmByLine.get(s.line)?.source ?? null,
    events: (byStep.get(i) ?? []).map(label),
  }));
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

/** Programs of two replayed runs matched by name, then by position. */
function pairPrograms(A: { programs: ProgramReplay[] }, B: { programs: ProgramReplay[] }) {
  const pairs: [ProgramReplay, ProgramReplay, 'name' | 'position'][] = [];
  const usedB = new Set<number>();
  const leftA: ProgramReplay[] = [];
  for (const pa of A.programs) {
    const k = B.programs.findIndex((pb, idx) => !usedB.has(idx) && pb.program.name === pa.program.name);
    if (k >= 0) {
      usedB.add(k);
      pairs.push([pa, B.programs[k] as ProgramReplay, 'name']);
    } else leftA.push(pa);
  }
  const leftB = B.programs.filter((_, idx) => !usedB.has(idx));
  while (leftA.length > 0 && leftB.length > 0) pairs.push([leftA.shift() as ProgramReplay, leftB.shift() as ProgramReplay, 'position']);
  return { pairs, leftA, leftB };
}

export interface AlignedPrograms {
  /** Program indexes (within their runs) of the pair, in the order of `Comparison.programs`. */
  programA: number;
  programB: number;
  /** Aligned steps as log lines: [line in a, line in b], in walk order (each side non-decreasing). */
  lines: [number, number][];
  /** Index into `lines` of the first divergence (-1: none). */
  divergence: number;
}

/**
 * The step alignment behind `compareRuns`' first divergence, for stepping two runs together:
 * one entry per matched program pair (same order as `Comparison.programs`).
 */
export function alignRuns(db: Db, runA: number, runB: number, opts: { kernelProfile?: string } = {}): AlignedPrograms[] {
  const A = replayRun(db, runA, { kernelProfile: opts.kernelProfile });
  const B = replayRun(db, runB, { kernelProfile: opts.kernelProfile });
  return pairPrograms(A, B).pairs.map(([pa, pb]) => {
    const wa = walkOf(db, runA, pa);
    const wb = walkOf(db, runB, pb);
    const { pairs, first } = alignWalks(wa, wb);
    const lines = pairs.map(([i, j]) => [(wa[i] as WalkStep).line, (wb[j] as WalkStep).line] as [number, number]);
    const divergence = first ? pairs.findIndex(([i, j]) => i === first.a.step && j === first.b.step) : -1;
    return { programA: pa.program.index, programB: pb.program.index, lines, divergence };
  });
}

export function compareRuns(db: Db, runA: number, runB: number, opts: { kernelProfile?: string } = {}): Comparison {
  const ra = getRun(db, runA);
  const rb = getRun(db, runB);
  if (!ra || !rb) throw new Error(`no run ${!ra ? runA : runB} in this database`);
  const A = replayRun(db, runA, { kernelProfile: opts.kernelProfile });
  const B = replayRun(db, runB, { kernelProfile: opts.kernelProfile });
  const { pairs, leftA, leftB } = pairPrograms(A, B);
  return {
    a: { run: runA, source: ra.source, kernel: ra.kernel },
    b: { run: runB, source: rb.source, kernel: rb.kernel },
    kernelProfile: A.kernelProfile,
    programs: pairs.map(([pa, pb, how]) => {
      const fa = figures(runA, pa);
      const fb = figures(runB, pb);
      return {
        name: pa.program.name === pb.program.name ? pa.program.name : `${pa.program.name} ↔ ${pb.program.name}`,
        matchedBy: how,
        a: fa,
        b: fb,
        delta: deltas(fa, fb),
        firstDivergence: firstDivergence(walkOf(db, runA, pa), walkOf(db, runB, pb)),
      };
    }),
    unmatched: { a: leftA.map((p) => p.program.name), b: leftB.map((p) => p.program.name) },
  };
}
