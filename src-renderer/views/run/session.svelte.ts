/**
 * One open run in the window: the chosen program, the selected line (the step everything else
 * follows), fold state, and what the host answered about them (finding, state, graph, timeline).
 *
 * Contract: `select(line, row?)` is the only way the selection changes; state and graph are then
 * fetched latest-wins (a request in flight is not cancelled, but only the newest answer is shown,
 * and stepping faster than the host answers coalesces to the last step). Navigation (`step`,
 * `jumpInsn`, `search`) asks the host, which answers from its indexes — never the whole log.
 */
import type { Client, Finding, GraphSnapshot, LogLine, RunInfo, SearchResult, StateAt, StepTarget, Timeline } from '../../../src-main/contract/contract.ts';
import { tick } from 'svelte';
import { WINDOW } from '../../log/rows.svelte.ts';

export type StepUnit = 'insn' | 'event' | 'error' | 'path';

export class RunSession {
  run = $state.raw<RunInfo | null>(null);
  program = $state(0);
  fold = $state(false);
  line = $state<number | null>(null);
  row = $state<number | null>(null);
  /** Rows of the current view (program lines, minus source lines when folded). */
  total = $state(0);
  /** Bumped to ask the log pane to bring `row` into view. */
  scrollSeq = $state(0);
  finding = $state.raw<Finding | null>(null);
  state = $state.raw<StateAt | null>(null);
  graph = $state.raw<GraphSnapshot | null>(null);
  timeline = $state.raw<Timeline | null>(null);
  status = $state('');
  error = $state<string | null>(null);
  searchQuery = $state('');
  searchRegex = $state(false);
  searchCase = $state(false);
  searching = $state(false);
  /** Timing of the last answers (ms), for the status line and bench-app. */
  timings = $state.raw<Record<string, number>>({});

  private inflight = false;
  private pendingLine: number | null = null;
  private searchSeq = 0;

  constructor(
    readonly client: Client,
    readonly runId: number,
  ) {}

  get base() {
    return { runId: this.runId, program: this.program };
  }

  /** Log windows that came with the first screen, for the log pane's cache. */
  seed: { program: number; fold: boolean; starts: number[]; windows: LogLine[][] } | null = null;

  /** Open the run: one request for the whole first screen (program null = the first one). */
  async load(program: number | null, line: number | null, visibleRows: number): Promise<void> {
    const t0 = performance.now();
    let fs;
    try {
      fs = await this.client.firstScreen({ runId: this.runId, program, line, fold: this.fold, windowRows: WINDOW, visibleRows });
    } catch (e) {
      this.error = (e as Error).message;
      return;
    }
    this.seed = { program: fs.program, fold: this.fold, starts: fs.windowStarts, windows: fs.windows };
    this.run = fs.run;
    this.program = fs.program;
    this.finding = fs.finding;
    this.total = fs.total;
    this.line = fs.line;
    this.row = fs.row;
    this.state = fs.state;
    this.graph = fs.graph;
    this.scrollSeq++;
    this.timings = { ...this.timings, open: performance.now() - t0 };
    // After the first screen has painted and the first keystrokes are answered.
    setTimeout(() => void this.loadTimeline(), 300);
  }

  async setProgram(program: number, line: number | null = null): Promise<void> {
    this.program = program;
    this.state = null;
    this.graph = null;
    this.timeline = null;
    const [finding, rows] = await Promise.all([
      this.client.finding(this.base),
      this.client.rowOfLine({ ...this.base, line: 1, fold: this.fold }),
    ]);
    this.finding = finding;
    this.total = rows.total;
    let target = line ?? finding?.line ?? null;
    if (target === null) {
      const p = this.run?.programs.find((x) => x.index === program);
      const first = await this.client.stepFrom({ ...this.base, line: p?.firstLine ?? 1, unit: 'insn', direction: 'next', fold: this.fold });
      target = first?.line ?? p?.firstLine ?? 1;
    }
    await this.select(target);
    void this.loadTimeline();
  }

  async loadTimeline(): Promise<void> {
    this.timeline = await this.client.timeline({ ...this.base, bins: 400 });
  }

  async setFold(fold: boolean): Promise<void> {
    this.fold = fold;
    const r = await this.client.rowOfLine({ ...this.base, line: this.line ?? 1, fold });
    this.total = r.total;
    this.row = r.row;
    this.scrollSeq++;
  }

  /** Select a line (row if known, else asked for) and refresh state + graph for it. */
  async select(line: number, row?: number, scroll = true): Promise<void> {
    this.line = line;
    // Unfolded views map line → row by subtraction; folded ones ask the host.
    const first = this.program === -1 ? 1 : this.run?.programs.find((p) => p.index === this.program)?.firstLine;
    if (row === undefined && !this.fold && first !== undefined) row = line - first;
    if (row === undefined) row = (await this.client.rowOfLine({ ...this.base, line, fold: this.fold })).row;
    this.row = row;
    if (scroll) this.scrollSeq++;
    // Let the log pane ask for its rows first (the host answers in order): the selected line
    // shows before the state and graph, which may need a walk back along the path.
    await tick();
    this.refresh(line);
  }

  private refresh(line: number): void {
    if (this.inflight) {
      this.pendingLine = line;
      return;
    }
    this.inflight = true;
    const t0 = performance.now();
    void Promise.all([this.client.stateAt({ ...this.base, line }), this.client.graphAt({ ...this.base, line })])
      .then(([s, g]) => {
        if (this.pendingLine === null) {
          this.state = s;
          this.graph = g;
          this.timings = { ...this.timings, step: performance.now() - t0 };
        }
      })
      .catch((e: unknown) => (this.error = (e as Error).message))
      .finally(() => {
        this.inflight = false;
        const next = this.pendingLine;
        this.pendingLine = null;
        if (next !== null) this.refresh(next);
      });
  }

  private async go(p: Promise<StepTarget | null>, what: string): Promise<boolean> {
    const t0 = performance.now();
    const t = await p;
    this.timings = { ...this.timings, [what]: performance.now() - t0 };
    if (!t) {
      this.status = `no ${what} in that direction`;
      return false;
    }
    this.status = '';
    await this.select(t.line, t.row);
    return true;
  }

  step(unit: StepUnit, direction: 'next' | 'prev'): Promise<boolean> {
    const names: Record<StepUnit, string> = { insn: 'instruction', event: 'ownership event', error: 'error', path: 'path start' };
    return this.go(this.client.stepFrom({ ...this.base, line: this.line ?? 1, unit, direction, fold: this.fold }), names[unit]);
  }

  jumpInsn(insn: number, direction: 'next' | 'prev' = 'next'): Promise<boolean> {
    return this.go(this.client.findInsn({ ...this.base, insn, fromLine: this.line ?? 1, direction, fold: this.fold }), `instruction ${insn}`);
  }

  async jumpLine(line: number): Promise<void> {
    const p = this.run?.programs.find((x) => x.index === this.program);
    if (p && (line < p.firstLine || line > p.lastLine) && this.program !== -1) await this.setProgram(-1, line);
    else await this.select(line);
  }

  /** Next/previous match; keeps asking while the host says "not done yet" (budgeted scans). */
  async search(direction: 'next' | 'prev'): Promise<SearchResult | null> {
    const query = this.searchQuery;
    if (query === '') return null;
    const seq = ++this.searchSeq;
    const origin = this.line ?? 1;
    let from = origin;
    this.searching = true;
    const t0 = performance.now();
    try {
      for (;;) {
        const r = await this.client.search({
          ...this.base,
          query,
          regex: this.searchRegex,
          caseSensitive: this.searchCase,
          fromLine: from,
          originLine: origin,
          direction,
          fold: this.fold,
        });
        if (seq !== this.searchSeq) return null;
        if (r.match) {
          this.timings = { ...this.timings, search: performance.now() - t0 };
          this.status = r.wrapped ? 'search wrapped around' : '';
          await this.select(r.match.line, r.match.row);
          return r;
        }
        if (r.done) {
          this.timings = { ...this.timings, search: performance.now() - t0 };
          this.status = `no match for ${this.searchRegex ? '/' + query + '/' : `"${query}"`}`;
          return r;
        }
        from = r.resumeLine;
        this.status = `searching… ${r.scannedLines.toLocaleString('en-US')} lines`;
      }
    } catch (e) {
      this.status = (e as Error).message;
      return null;
    } finally {
      if (seq === this.searchSeq) this.searching = false;
    }
  }
}
