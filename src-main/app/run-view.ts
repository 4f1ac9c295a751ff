/**
 * The run view's use cases: the first screen of a run, log windows, search and stepping, the
 * state at a line (the kernel's printed state beside the model's), the ownership graph, the
 * finding, the timeline and an object's lifetime.
 *
 * Contract: `RunViews` answers the contract's run-view methods over one Store (inputs already
 * validated; errors are `AppError`). The graph, the events, the finding and the lifetimes come
 * only from the ownership model's replay (app/model-view.ts); the kernel's column is what the log
 * printed (app/printed-states.ts). Per-run indexes and model views are cached and dropped with
 * `drop(runId)`.
 */
import type { Store } from '../store/types.ts';
import type { FirstScreen, GraphSnapshot, Handlers, Input, Lifetime, StateAt, StoreMethod } from '../contract/contract.ts';
import { AppError } from '../contract/errors.ts';
import type { OwnershipEvent } from '../domain/model/index.ts';
import { programFinding, runFinding, type FindingView, type InsnLines } from '../domain/views/finding.ts';
import { eventText } from '../domain/views/story.ts';
import { K, RunIndexCache, type RunIndex, type View } from './run-index.ts';
import { BadQueryError, findInsn, logWindow, search, stepFrom, stepOrdinal, timeline, type EventMark } from './log-navigation.ts';
import { PrintedStates } from './printed-states.ts';
import { ModelViews, emptyGraph, type ModelView } from './model-view.ts';
import { runInfo } from './library.ts';

type RunViewMethod = 'firstScreen' | 'logWindow' | 'rowOfLine' | 'search' | 'findInsn' | 'stepFrom' | 'stateAt' | 'graphAt' | 'finding' | 'timeline' | 'lifetime';

/** Lines of a run's programs from its in-memory index. */
function insnLines(idx: RunIndex): InsnLines {
  return {
    lineOfInsn(p, insn, before) {
      const last = Math.min(before ?? p.lastLine, p.lastLine);
      for (let l = last; l >= p.firstLine; l--) if (idx.kinds[l - 1] === K.insn && idx.insns[l - 1] === insn) return l;
      for (let l = p.firstLine; l <= p.lastLine; l++) if (idx.kinds[l - 1] === K.insn && idx.insns[l - 1] === insn) return l;
      return null;
    },
  };
}

function eventLabel(m: ModelView, e: OwnershipEvent): string {
  const o = m.objects.find((x) => x.id === e.object);
  return `${e.kind} ${o?.type ?? `object ${e.object}`}`;
}

export class RunViews {
  private readonly indexes = new RunIndexCache(3);
  private readonly models: ModelViews;
  private readonly printed = new PrintedStates();

  constructor(private readonly store: Store) {
    this.models = new ModelViews(store);
  }

  drop(runId: number): void {
    this.indexes.drop(runId);
    this.models.drop(runId);
    this.printed.reset();
  }

  async index(runId: number): Promise<RunIndex> {
    const idx = await this.indexes.get(this.store, runId);
    if (!idx) throw new AppError('not-found', `no run ${runId} in this database`);
    return idx;
  }

  private viewOf(idx: RunIndex, program: number, fold: boolean): View {
    try {
      return idx.view(program, fold);
    } catch (e) {
      throw new AppError('not-found', (e as Error).message);
    }
  }

  /** The ownership model's view of a program (null: the program has no replayed step). */
  async modelOf(runId: number, program: number): Promise<ModelView | null> {
    if (program < 0) return null;
    const m = await this.models.of(runId, program);
    return m && m.steps.length > 0 ? m : null;
  }

  /** The model views of the programs a view covers (every program of the run for program -1). */
  private async modelsOf(idx: RunIndex, program: number): Promise<ModelView[]> {
    const progs = program < 0 ? idx.programs.filter((p) => p.lines > 0).map((p) => p.index) : [program];
    const out: ModelView[] = [];
    for (const p of progs) {
      const m = await this.modelOf(idx.runId, p);
      if (m) out.push(m);
    }
    return out;
  }

  private async eventLinesOf(idx: RunIndex, program: number): Promise<number[]> {
    const lines = (await this.modelsOf(idx, program)).flatMap((m) => m.eventLines);
    return program < 0 ? lines.sort((a, b) => a - b) : lines;
  }

  private clampLine(v: View, line: number): number {
    return Math.min(Math.max(line, v.first), v.last);
  }

  private async stateOf(idx: RunIndex, v: View, line: number, runId: number, program: number): Promise<{ state: StateAt; graph: GraphSnapshot }> {
    const { insn, kernel } = await this.printed.at(idx, program, v.first, line);
    const step = stepOrdinal(idx, v.first, line);
    const m = await this.modelOf(runId, program);
    const model = m ? await m.stateAt(line) : { model: null, divergences: [] };
    const graph = m ? await m.graphAt(line, step, insn) : emptyGraph(step, line, insn, 'the ownership model has no step for this program (a log without an instruction trace)');
    return { state: { line, insn, step, kernel, ...model }, graph };
  }

  async findingOf(idx: RunIndex, program: number): Promise<FindingView> {
    const lines = insnLines(idx);
    if (program < 0) return runFinding(idx.programs, lines);
    const p = idx.programs.find((x) => x.index === program);
    if (!p) throw new AppError('not-found', `run ${idx.runId} has no program ${program}`);
    const m = await this.modelOf(idx.runId, program);
    return programFinding(p, m ? { finding: m.replay.replay.finding, agree: m.replay.agree } : null, lines);
  }

  private async lifetime({ runId, program, objectId }: Input<'lifetime'>): Promise<Lifetime> {
    const m = await this.modelOf(runId, program);
    if (!m) throw new AppError('not-found', `the ownership model has no replay of program ${program} of run ${runId}`);
    const obj = /^obj:(\d+)$/.exec(objectId);
    if (obj) {
      const mo = m.objects.find((o) => o.id === Number(obj[1]));
      if (!mo) throw new AppError('not-found', `program ${program} of run ${runId} has no object ${obj[1]}`);
      return {
        objectId,
        label: `${mo.type}${mo.refId !== undefined ? ` #${mo.refId}` : ''} — ${mo.local ? 'local object' : 'kernel object'} from ${mo.origin} at insn ${mo.allocInsn}`,
        events: m.replay.events.filter((e) => e.object === mo.id).map((e) => ({ line: e.line, insn: e.insn, text: eventText(e) })),
      };
    }
    // A holder (register, slot, root, map value): the model's events that move an object from or to it.
    const holder = objectId.replace(/^(?:reg|slot):\d+:/, '').replace(/^(?:root|glob|map|mv|holder):/, '');
    const mentions = (h: string | null) => h !== null && h.split(',').some((x) => x === holder || x.endsWith(`.${holder}`) || x.includes(holder));
    return {
      objectId,
      label: holder,
      events: m.replay.events
        .filter((e) => mentions(e.from) || mentions(e.to))
        .map((e) => ({ line: e.line, insn: e.insn, text: `${eventLabel(m, e)}: ${eventText(e)}` })),
    };
  }

  handlers(): Handlers<RunViewMethod> {
    return {
      firstScreen: async ({ runId, program, line, fold, windowRows, visibleRows }): Promise<FirstScreen> => {
        const run = await runInfo(this.store, runId);
        if (!run) throw new AppError('not-found', `no run ${runId} in this database`);
        const idx = await this.index(runId);
        const prog = program ?? run.programs.find((p) => p.lines > 0)?.index ?? -1;
        const v = this.viewOf(idx, prog, fold);
        const finding = await this.findingOf(idx, prog);
        let target = line !== null ? this.clampLine(v, line) : finding.line;
        if (target === null) target = idx.kindAt(v.first) === K.insn ? v.first : (stepFrom(idx, v, v.first, 'insn', 'next')?.line ?? v.first);
        const row = idx.rowOfLine(v, target);
        const top = Math.max(0, row - Math.floor(visibleRows / 3));
        const starts: number[] = [];
        for (let w = Math.floor(top / windowRows); w <= Math.floor(Math.min(v.total - 1, top + visibleRows) / windowRows); w++) starts.push(w * windowRows);
        const windows = [];
        for (const s0 of starts) windows.push((await logWindow(idx, v, s0, windowRows)).lines);
        const { state, graph } = await this.stateOf(idx, this.viewOf(idx, prog, false), target, runId, prog);
        return { run, program: prog, finding, total: v.total, line: target, row, windows, windowStarts: starts, state, graph };
      },
      logWindow: async ({ runId, program, start, count, fold }) => {
        const idx = await this.index(runId);
        return logWindow(idx, this.viewOf(idx, program, fold), start, count);
      },
      rowOfLine: async ({ runId, program, line, fold }) => {
        const idx = await this.index(runId);
        const v = this.viewOf(idx, program, fold);
        return { row: idx.rowOfLine(v, line), total: v.total };
      },
      search: async (i) => {
        const idx = await this.index(i.runId);
        const v = this.viewOf(idx, i.program, i.fold ?? false);
        try {
          return await search(idx, v, {
            query: i.query,
            regex: i.regex,
            caseSensitive: i.caseSensitive,
            fromLine: i.fromLine,
            originLine: i.originLine ?? i.fromLine,
            direction: i.direction,
            budgetMs: i.budgetMs ?? 150,
          });
        } catch (e) {
          if (e instanceof BadQueryError) throw new AppError('bad-request', e.message);
          throw e;
        }
      },
      findInsn: async ({ runId, program, insn, fromLine, direction, fold }) => {
        const idx = await this.index(runId);
        return findInsn(idx, this.viewOf(idx, program, fold ?? false), insn, fromLine, direction);
      },
      stepFrom: async ({ runId, program, line, unit, direction, fold }) => {
        const idx = await this.index(runId);
        const events = unit === 'event' ? await this.eventLinesOf(idx, program) : [];
        return stepFrom(idx, this.viewOf(idx, program, fold ?? false), line, unit, direction, events);
      },
      stateAt: async (i) => {
        const idx = await this.index(i.runId);
        const v = this.viewOf(idx, i.program, false);
        return (await this.stateOf(idx, v, this.clampLine(v, i.line), i.runId, i.program)).state;
      },
      graphAt: async (i) => {
        const idx = await this.index(i.runId);
        const v = this.viewOf(idx, i.program, false);
        return (await this.stateOf(idx, v, this.clampLine(v, i.line), i.runId, i.program)).graph;
      },
      finding: async ({ runId, program }) => this.findingOf(await this.index(runId), program),
      timeline: async ({ runId, program, bins }) => {
        const idx = await this.index(runId);
        const marks: EventMark[] = (await this.modelsOf(idx, program)).flatMap((m) => m.replay.events.map((e) => ({ line: e.line, insn: e.insn, label: eventLabel(m, e) })));
        marks.sort((a, b) => a.line - b.line);
        return timeline(idx, this.viewOf(idx, program, false), bins, marks);
      },
      lifetime: (i) => this.lifetime(i),
    };
  }
}

export type { StoreMethod };
