/**
 * Chooses what to draw and builds it: the ownership graph of a stored run's program at an
 * instruction (default: the error if the model rejects, else the end of the longest path), or the
 * lifetime of one object, with a title (program, kernel, instruction, verdict).
 *
 * Contract: `ownershipDiagram(store, opts)` replays the run if needed (same kernel profile) and
 * returns plain data for the renderers in src-main/render; it never writes files. Errors are
 * `ExportError` with a one-line message.
 */
import { diagnosticOneLine } from '../domain/views/kernel-diagnostic-view.ts';
import type { Store } from '../store/types.ts';
import type { GraphSnapshot } from '../domain/views/graph-types.ts';
import type { ModelObject, OwnershipEvent, Step } from '../domain/model/index.ts';
import { stateFromChunk } from '../domain/model/index.ts';
import { buildOwnershipGraph } from '../domain/views/ownership-graph.ts';
import { replayRun, type ProgramReplay } from './replay.ts';

export class ExportError extends Error {}

export type StepChoice = { at: number } | { final: true } | { error: true } | 'default';

export interface DiagramTitle {
  program: string;
  kernel: string | null;
  kernelProfile: string;
  insn: number;
  step: number;
  verdict: string;
  /** "leak_sample — kernel 6.18.44 — insn 15 — rejected (leak)" */
  text: string;
  /** The kernel's own diagnostic in one line (7.3+). */
  kernelDiagnostic?: string;
  /** The kernel refused the object's BTF. */
  btfRefused?: boolean;
}

export interface OwnershipDiagram {
  title: DiagramTitle;
  snapshot: GraphSnapshot;
  objects: ModelObject[];
  events: OwnershipEvent[];
  program: ProgramReplay;
}

export function pickProgram(res: { programs: ProgramReplay[] }, name: string | undefined): ProgramReplay {
  if (name === undefined) {
    const first = res.programs.find((p) => p.replay.modelVerdict === 'rejected') ?? res.programs[0];
    if (!first) throw new ExportError('this run has no programs');
    return first;
  }
  const p = res.programs.find((x) => x.program.name === name);
  if (!p) throw new ExportError(`no program "${name}" (programs: ${res.programs.map((x) => x.program.name).join(', ')})`);
  return p;
}

/** The step to draw. */
export function chooseStep(steps: readonly Step[], pr: ProgramReplay, choice: StepChoice): number {
  if (steps.length === 0) throw new ExportError(`program ${pr.program.name} has no replayed instructions (a log without a trace, e.g. level 1 of an accepted program)`);
  const finding = pr.replay.finding;
  const wantError = choice === 'default' ? pr.replay.modelVerdict === 'rejected' : typeof choice === 'object' && 'error' in choice;
  if (typeof choice === 'object' && 'at' in choice) {
    const i = steps.findIndex((s) => s.insn === choice.at);
    if (i < 0) throw new ExportError(`instruction ${choice.at} was not executed on any replayed path of ${pr.program.name}`);
    return i;
  }
  if (wantError) {
    if (!finding) throw new ExportError(`${pr.program.name} was accepted by the model: there is no error to draw (use --final or --at)`);
    let best = -1;
    steps.forEach((s, i) => {
      if (s.line === finding.line || (best < 0 && s.insn === finding.insn)) best = i;
    });
    if (best < 0) steps.forEach((s, i) => s.insn === finding.insn && (best = i));
    return best >= 0 ? best : steps.length - 1;
  }
  // the end of the longest path
  const count = new Map<number, number>();
  for (const s of steps) count.set(s.pathIndex, (count.get(s.pathIndex) ?? 0) + 1);
  let longest = 0;
  let most = -1;
  for (const [p, n] of count) {
    if (n > most || (n === most && p < longest)) {
      longest = p;
      most = n;
    }
  }
  let last = 0;
  steps.forEach((s, i) => s.pathIndex === longest && (last = i));
  return last;
}

export function ownershipDiagram(
  store: Store,
  opts: { runId: number; program?: string; choice?: StepChoice; kernelProfile?: string },
): Promise<OwnershipDiagram> {
  return diagram(store, opts);
}

/** The model's state after step `step` of a stored replay. */
export async function storedState(store: Store, replayId: number, step: number) {
  const c = await store.loadStateChunk(replayId, step);
  if (!c) throw new RangeError(`replay ${replayId} has no step ${step}`);
  return stateFromChunk(c, step);
}

async function diagram(store: Store, opts: { runId: number; program?: string; choice?: StepChoice; kernelProfile?: string }): Promise<OwnershipDiagram> {
  const run = await store.getRun(opts.runId);
  if (!run) throw new ExportError(`no run ${opts.runId} in this database (see: kptrscope runs)`);
  const res = await replayRun(store, opts.runId, { kernelProfile: opts.kernelProfile });
  const pr = pickProgram(res, opts.program);
  const steps = await store.loadSteps(pr.replay.id);
  const step = chooseStep(steps, pr, opts.choice ?? 'default');
  const s = steps[step] as Step;
  const btf = (await store.programBtf({ runId: opts.runId }))?.summary ?? null;
  const snapshot = buildOwnershipGraph({
    state: await storedState(store, pr.replay.id, step),
    objects: pr.objects,
    events: pr.events.filter((e) => e.step === step),
    btf,
    step,
    insn: s.insn,
    line: s.line,
    finding: pr.replay.finding,
  });
  const verdict = pr.replay.finding && pr.replay.finding.insn === s.insn ? `rejected (${pr.replay.finding.kind})` : pr.replay.modelVerdict;
  const title: DiagramTitle = {
    program: pr.program.name,
    kernel: run.kernel,
    kernelProfile: res.kernelProfile,
    insn: s.insn,
    step,
    verdict,
    text: `${pr.program.name} — kernel ${run.kernel ?? 'unknown'} — insn ${s.insn} — ${verdict}`,
  };
  const diag = pr.program.kernelDiagnostics[pr.program.kernelDiagnostics.length - 1];
  if (diag) title.kernelDiagnostic = diagnosticOneLine(diag);
  if (pr.program.btfRefused) title.btfRefused = true;
  return { title, snapshot, objects: pr.objects, events: pr.events, program: pr };
}

/** The lifetime of one model object: its events in order (for the sequence diagram). */
export async function objectLifetime(
  store: Store,
  opts: { runId: number; program?: string; object: number; kernelProfile?: string },
): Promise<{ title: DiagramTitle; object: ModelObject; events: OwnershipEvent[] }> {
  const d = await replayRun(store, opts.runId, { kernelProfile: opts.kernelProfile });
  const pr = pickProgram(d, opts.program);
  const object = pr.objects.find((o) => o.id === opts.object);
  if (!object) throw new ExportError(`no object ${opts.object} in ${pr.program.name} (objects: ${pr.objects.map((o) => `${o.id}=${o.type}`).join(', ')})`);
  const run = await store.getRun(opts.runId);
  const events = pr.events.filter((e) => e.object === object.id);
  return {
    title: {
      program: pr.program.name,
      kernel: run?.kernel ?? null,
      kernelProfile: d.kernelProfile,
      insn: object.allocInsn,
      step: events[0]?.step ?? 0,
      verdict: pr.replay.modelVerdict,
      text: `${object.type}${object.refId !== undefined ? ` #${object.refId}` : ''} in ${pr.program.name} — from ${object.origin} at insn ${object.allocInsn}`,
    },
    object,
    events,
  };
}
