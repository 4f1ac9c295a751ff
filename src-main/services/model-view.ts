/**
 * The ownership model's view of one program for the app: its state at a log line (beside the
 * kernel's printed state), the divergences there, its ownership graph, and its finding in words
 * with instruction links.
 *
 * Contract: `ModelViews.of(runId, program)` replays the program if no replay is stored yet (the
 * stored one is reused: ingest stores replays as it goes) and caches the steps; `stateAt(line)` and
 * `graphAt(line)` use the step at that line or, for a line between instructions, the step before it.
 */
import type { Db } from '../store/db.ts';
import type { Finding as ViewFinding, GraphSnapshot, RegisterState, StateAt, TextSegment } from '../api/contract.ts';
import type { Divergence, ModelObject, OwnershipEvent, StateView, Step } from '../model/index.ts';
import type { BtfSummary } from '../ingest/btf/index.ts';
import { loadReplayState, loadSteps } from '../store/replay-store.ts';
import { buildOwnershipGraph } from '../export/ownership-graph.ts';
import { replayRun, type ProgramReplay } from './replay-service.ts';
import { loadProgramBtf } from '../store/program-btf.ts';

export class ModelView {
  private readonly lines: number[];
  private readonly divergencesByLine = new Map<number, Divergence[]>();
  private readonly eventsByStep = new Map<number, OwnershipEvent[]>();

  constructor(
    private readonly db: Db,
    readonly replay: ProgramReplay,
    readonly steps: Step[],
    private readonly btf: BtfSummary | null,
  ) {
    this.lines = steps.map((s) => s.line);
    for (const d of replay.divergences) this.divergencesByLine.set(d.line, [...(this.divergencesByLine.get(d.line) ?? []), d]);
    for (const e of replay.events) this.eventsByStep.set(e.step, [...(this.eventsByStep.get(e.step) ?? []), e]);
  }

  get objects(): ModelObject[] {
    return this.replay.objects;
  }

  /** The step shown at a log line: the one at the line, else the last one before it (-1: none yet). */
  stepAt(line: number): number {
    let lo = 0;
    let hi = this.lines.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.lines[mid] as number) <= line) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  private stateView(step: number): StateView | null {
    return step < 0 ? null : loadReplayState(this.db, this.replay.replay.id, step);
  }

  /** The model column of the state pane, and the holders where model and kernel disagree at this line. */
  stateAt(line: number): Pick<StateAt, 'model' | 'divergences'> {
    const step = this.stepAt(line);
    const sv = this.stateView(step);
    const divergences = (this.divergencesByLine.get(line) ?? []).map((d) => `${d.what}: model ${d.model}, kernel ${d.kernel}`);
    if (!sv) return { model: null, divergences };
    const at = this.steps[step]?.line ?? line;
    const regs: RegisterState[] = [];
    const slots: RegisterState[] = [];
    sv.frames.forEach((fr, f) => {
      const prefix = f > 0 ? `frame${f}.` : '';
      for (const [name, r] of Object.entries(fr.regs)) {
        const e: RegisterState = { name: prefix + name, text: r.dead ? `${r.text}` : r.text, line: at, changed: false };
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

  graphAt(line: number, step: number, insn: number): GraphSnapshot | null {
    const k = this.stepAt(line);
    const sv = this.stateView(k);
    if (!sv) return null;
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

  /** The model's finding as a sentence with links to the instructions it names; null if accepted. */
  finding(lineOfInsn: (insn: number) => number | null): ViewFinding | null {
    const r = this.replay;
    const f = r.replay.finding;
    const p = r.program;
    if (!f) return null;
    const segs: TextSegment[] = [];
    const text = /[.!?]$/.test(f.explanation) ? f.explanation : `${f.explanation}.`;
    let pos = 0;
    for (const m of text.matchAll(/\b(insns? |at |alloc_insn=)(\d+)\b/g)) {
      const at = (m.index ?? 0) + (m[1] as string).length;
      const insn = Number(m[2]);
      segs.push({ text: text.slice(pos, at) });
      segs.push({ text: String(insn), insn, line: insn === f.insn ? f.line : lineOfInsn(insn) });
      pos = at + (m[2] as string).length;
    }
    segs.push({ text: text.slice(pos) });
    const agree = r.agree === true ? ' The kernel rejected it at the same instruction.' : r.agree === false ? ` The kernel said: ${p.verdict}${p.failInsn !== null ? ` at instruction ${p.failInsn}` : ''}.` : '';
    if (agree) segs.push({ text: agree });
    return {
      program: p.index,
      verdict: p.verdict,
      source: 'model',
      severity: 'error',
      sentence: segs.filter((x) => x.text !== ''),
      insn: f.insn >= 0 ? f.insn : null,
      line: f.insn >= 0 ? f.line : null,
    };
  }
}

export class ModelViews {
  private cache = new Map<string, ModelView | null>();

  constructor(private readonly db: Db) {}

  of(runId: number, program: number): ModelView | null {
    const key = `${runId}:${program}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    let view: ModelView | null = null;
    const res = replayRun(this.db, runId, { programs: [program] });
    const pr = res.programs[0];
    if (pr) view = new ModelView(this.db, pr, loadSteps(this.db, pr.replay.id), loadProgramBtf(this.db, { runId })?.summary ?? null);
    this.cache.set(key, view);
    return view;
  }

  drop(runId: number): void {
    for (const k of [...this.cache.keys()]) if (k.startsWith(`${runId}:`)) this.cache.delete(k);
  }
}
