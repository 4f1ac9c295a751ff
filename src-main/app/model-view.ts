/**
 * The ownership model's view of one program for the app: its state at a log line (beside the
 * kernel's printed state), the divergences there, its ownership graph, its events by line.
 *
 * Contract: `ModelViews.of(store, runId, program)` replays the program if no replay is stored yet
 * (the stored one is reused: ingest stores replays as it goes) and caches its steps; `stateAt(line)`
 * and `graphAt(line)` use the step at that line or, for a line between instructions, the step
 * before it (`stepAt`: -1 before the first step). The graph comes only from the model; before its
 * first step it is empty.
 */
import type { GraphSnapshot, RegisterState, StateAt } from '../contract/contract.ts';
import type { Divergence, ModelObject, OwnershipEvent, StateView, Step } from '../domain/model/index.ts';
import type { BtfSummary } from '../domain/btf/index.ts';
import type { Store } from '../store/types.ts';
import { buildOwnershipGraph } from '../domain/views/ownership-graph.ts';
import { lastAtMost } from '../lib/sorted.ts';
import { replayRun, type ProgramReplay } from './replay.ts';
import { storedState } from './export.ts';

export class ModelView {
  private readonly lines: number[];
  private readonly divergencesByLine = new Map<number, Divergence[]>();
  private readonly eventsByStep = new Map<number, OwnershipEvent[]>();
  /** Lines of the steps that have ownership events, ascending (for stepping by event). */
  readonly eventLines: number[];

  constructor(
    private readonly store: Store,
    readonly replay: ProgramReplay,
    readonly steps: Step[],
    private readonly btf: BtfSummary | null,
  ) {
    this.lines = steps.map((s) => s.line);
    for (const d of replay.divergences) this.divergencesByLine.set(d.line, [...(this.divergencesByLine.get(d.line) ?? []), d]);
    for (const e of replay.events) this.eventsByStep.set(e.step, [...(this.eventsByStep.get(e.step) ?? []), e]);
    this.eventLines = [...new Set(replay.events.map((e) => e.line))].sort((a, b) => a - b);
  }

  get objects(): ModelObject[] {
    return this.replay.objects;
  }

  /** The step shown at a log line: the one at the line, else the last one before it (-1: none yet). */
  stepAt(line: number): number {
    return lastAtMost(this.lines.length, (i) => this.lines[i] as number, line);
  }

  private stateView(step: number): Promise<StateView | null> {
    return step < 0 ? Promise.resolve(null) : storedState(this.store, this.replay.replay.id, step);
  }

  /** The model column of the state pane, and the holders where model and kernel disagree at this line. */
  async stateAt(line: number): Promise<Pick<StateAt, 'model' | 'divergences'>> {
    const step = this.stepAt(line);
    const sv = await this.stateView(step);
    const divergences = (this.divergencesByLine.get(line) ?? []).map((d) => `${d.what}: model ${d.model}, kernel ${d.kernel}`);
    if (!sv) return { model: null, divergences };
    const at = this.steps[step]?.line ?? line;
    const regs: RegisterState[] = [];
    const slots: RegisterState[] = [];
    sv.frames.forEach((fr, f) => {
      const prefix = f > 0 ? `frame${f}.` : '';
      for (const [name, r] of Object.entries(fr.regs)) {
        const e: RegisterState = { name: prefix + name, text: r.text, line: at, changed: false };
        if (r.refId !== undefined) e.refObjId = r.refId;
        if (r.own === 'nonown') e.nonOwning = true;
        if (r.text.includes('or_null')) e.maybeNull = true;
        regs.push(e);
      }
      for (const [name, r] of Object.entries(fr.slots)) {
        const e: RegisterState = { name: prefix + name, text: r.text, line: at, changed: false };
        if (r.refId !== undefined) e.refObjId = r.refId;
        if (r.own === 'nonown') e.nonOwning = true;
        slots.push(e);
      }
    });
    const refs = sv.refs.filter((r) => r.kind === 'ptr').map((r) => r.id);
    return { model: { registers: regs, slots, refs, lock: sv.lock }, divergences };
  }

  /** The ownership graph at a line (`step`/`insn`: the app's own numbering of the line shown). */
  async graphAt(line: number, step: number, insn: number): Promise<GraphSnapshot> {
    const k = this.stepAt(line);
    const sv = await this.stateView(k);
    if (!sv) return emptyGraph(step, line, insn, 'the ownership model has not reached this line yet');
    const s = this.steps[k] as Step;
    const g = buildOwnershipGraph({
      state: sv,
      objects: this.replay.objects,
      events: this.eventsByStep.get(k) ?? [],
      btf: this.btf,
      step: k,
      insn: s.insn,
      line: s.line,
      finding: this.replay.replay.finding,
    });
    // The app numbers steps by its own view of the log; keep its step/insn for the line shown.
    return { ...g, step, insn: s.line === line ? s.insn : insn, line };
  }
}

/** A graph with nothing in it, and why (a program the model has no step for). */
export function emptyGraph(step: number, line: number, insn: number, why: string): GraphSnapshot {
  return { step, line, insn, source: 'model', nodes: [], edges: [], notes: [why] };
}

export class ModelViews {
  private cache = new Map<string, Promise<ModelView | null>>();

  constructor(private readonly store: Store) {}

  of(runId: number, program: number): Promise<ModelView | null> {
    const key = `${runId}:${program}`;
    let v = this.cache.get(key);
    if (!v) {
      v = this.load(runId, program);
      this.cache.set(key, v);
      v.catch(() => this.cache.delete(key));
    }
    return v;
  }

  private async load(runId: number, program: number): Promise<ModelView | null> {
    const res = await replayRun(this.store, runId, { programs: [program] });
    const pr = res.programs[0];
    if (!pr) return null;
    return new ModelView(this.store, pr, await this.store.loadSteps(pr.replay.id), (await this.store.programBtf({ runId }))?.summary ?? null);
  }

  drop(runId: number): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${runId}:`)) this.cache.delete(k);
  }
}
