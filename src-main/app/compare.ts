/**
 * Compare use case: two stored runs side by side (the same program on two kernels, before/after a
 * fix, level 1 against level 2) — both replayed with the same kernel profile, compared by the
 * pure functions of domain/views/comparison.ts.
 *
 * Contract: `compareRuns(store, a, b, opts)` → the `compare --json` document; `alignRuns` → the
 * step alignment behind it (for stepping two runs together in the app).
 */
import type { Store } from '../store/types.ts';
import type { OwnershipEvent } from '../domain/model/index.ts';
import type { ProgramSummary } from '../domain/log/program-state.ts';
import { recordFromStored } from '../domain/log/stored-lines.ts';
import { alignWalks, deltas, figures, pairPrograms, type Comparison, type ProgramComparison, type WalkStep } from '../domain/views/comparison.ts';
import { replayRun, type ProgramReplay } from './replay.ts';

export { METRICS, type Comparison, type Metric } from '../domain/views/comparison.ts';

/** The replayed walk of a program with, per step, its disassembly, source line and ownership events. */
async function walkOf(store: Store, runId: number, pr: ProgramReplay): Promise<WalkStep[]> {
  const p: ProgramSummary = pr.program;
  const asmByLine = new Map<number, { asm: string; source: string | null }>();
  let source: string | null = null;
  if (p.lines > 0) {
    for await (const batch of store.readLines(runId, p.firstLine, p.lastLine - p.firstLine + 1)) for (const l of batch) {
      const r = recordFromStored(l, p.index);
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
  return (await store.loadSteps(pr.replay.id)).map((s, i) => ({
    insn: s.insn,
    line: s.line,
    path: s.pathIndex,
    asm: asmByLine.get(s.line)?.asm ?? '',
    source: asmByLine.get(s.line)?.source ?? null,
    events: (byStep.get(i) ?? []).map(label),
  }));
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
export async function alignRuns(store: Store, runA: number, runB: number, opts: { kernelProfile?: string } = {}): Promise<AlignedPrograms[]> {
  const A = await replayRun(store, runA, { kernelProfile: opts.kernelProfile });
  const B = await replayRun(store, runB, { kernelProfile: opts.kernelProfile });
  const out: AlignedPrograms[] = [];
  for (const [pa, pb] of pairPrograms(A.programs, B.programs).pairs) {
    const wa = await walkOf(store, runA, pa);
    const wb = await walkOf(store, runB, pb);
    const { pairs, first } = alignWalks(wa, wb);
    const lines = pairs.map(([i, j]) => [(wa[i] as WalkStep).line, (wb[j] as WalkStep).line] as [number, number]);
    const divergence = first ? pairs.findIndex(([i, j]) => i === first.a.step && j === first.b.step) : -1;
    out.push({ programA: pa.program.index, programB: pb.program.index, lines, divergence });
  }
  return out;
}

export async function compareRuns(store: Store, runA: number, runB: number, opts: { kernelProfile?: string } = {}): Promise<Comparison> {
  const ra = await store.getRun(runA);
  const rb = await store.getRun(runB);
  if (!ra || !rb) throw new Error(`no run ${!ra ? runA : runB} in this database`);
  const A = await replayRun(store, runA, { kernelProfile: opts.kernelProfile });
  const B = await replayRun(store, runB, { kernelProfile: opts.kernelProfile });
  const { pairs, leftA, leftB } = pairPrograms(A.programs, B.programs);
  const programs: ProgramComparison[] = [];
  for (const [pa, pb, how] of pairs) {
    const fa = figures(runA, pa.program, pa.replay);
    const fb = figures(runB, pb.program, pb.replay);
    programs.push({
      name: pa.program.name === pb.program.name ? pa.program.name : `${pa.program.name} ↔ ${pb.program.name}`,
      matchedBy: how,
      a: fa,
      b: fb,
      delta: deltas(fa, fb),
      firstDivergence: alignWalks(await walkOf(store, runA, pa), await walkOf(store, runB, pb)).first,
    });
  }
  return {
    a: { run: runA, source: ra.source, kernel: ra.kernel },
    b: { run: runB, source: rb.source, kernel: rb.kernel },
    kernelProfile: A.kernelProfile,
    programs,
    unmatched: { a: leftA.map((p) => p.program.name), b: leftB.map((p) => p.program.name) },
  };
}
