/**
 * The app's store-side handlers: every contract method that reads or changes the database, over
 * one better-sqlite3 handle. Used by the store worker (src-main/api/store-worker.ts) that both the
 * browser host and Electron main run, so SQLite never runs on a request or UI thread.
 *
 * Contract: `createStoreHandlers(db)` → Handlers<StoreMethod>; inputs are already validated by the
 * dispatcher; errors are `AppError` (code + one sentence). Per-run indexes, BTF facts and the last
 * walk are cached here and dropped when a run is deleted.
 */
import type { Db } from '../store/db.ts';
import { deleteRun, getPrograms, getRun, listRuns } from '../store/queries/runs.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';
import { AppError } from '../api/errors.ts';
import type {
  ExportFile,
  ExportRequest,
  Handlers,
  Input,
  KernelState,
  ProgramInfo,
  RegisterState,
  RunInfo,
  StoreMethod,
} from '../api/contract.ts';
import { K, RunIndexCache, type RunIndex, type View } from './run-index.ts';
import { BadQueryError, findInsn, logWindow, search, stepFrom, stepOrdinal, timeline } from './log-service.ts';
import { BtfFacts, loadBtfFacts } from './btf-facts.ts';
import { Walker, WalkState, walkRange, walkStart, type Holder } from './kernel-walk.ts';
import { graphSnapshot } from './graph-service.ts';
import { kernelFinding, runFinding } from './finding-service.ts';
import { ModelViews, type ModelView } from './model-view.ts';
import type { OwnershipEvent } from '../model/index.ts';
import { alignRuns, compareRuns, type AlignedPrograms, type Comparison } from './compare-service.ts';
import { ExportError, objectLifetime } from './export-service.ts';
import { extensionOf, renderComparison, renderGraph, renderLifetime } from '../export/index.ts';

function programInfo(p: ProgramSummary): ProgramInfo {
  return {
    index: p.index,
    name: p.name,
    verdict: p.verdict,
    error: p.error,
    failInsn: p.verdict === 'rejected' ? p.failInsn : null,
    failLine: p.verdict === 'rejected' ? p.failLine : null,
    insnsProcessed: p.stats.insnsProcessed ?? null,
    firstLine: p.firstLine,
    lastLine: p.lastLine,
    lines: p.lines,
    unknownLines: p.unknownLines,
    truncation: p.truncation,
    loaderError: p.loaderError,
    logLevel: p.logLevel,
  };
}

function runBtf(db: Db, runId: number): RunInfo['btf'] {
  return (
    db
      .prepare('SELECT b.id, b.source, b.format, b.type_count FROM run_btf r JOIN btf_files b ON b.id = r.btf_id WHERE r.run_id = ? ORDER BY b.id')
      .all(runId) as { id: number; source: string; format: string; type_count: number }[]
  ).map((b) => ({ id: b.id, source: b.source, format: b.format, types: b.type_count }));
}

function runInfo(db: Db, runId: number): RunInfo | null {
  const r = getRun(db, runId);
  if (!r) return null;
  return {
    id: r.id,
    source: r.source,
    sourceName: r.sourceName,
    sizeBytes: r.sizeBytes,
    formats: r.formats,
    kernel: r.kernel,
    kernelHints: r.kernelHints,
    lines: r.lines,
    unknownLines: r.unknownLines,
    createdAt: r.createdAt,
    programs: getPrograms(db, runId).map(programInfo),
    btf: runBtf(db, runId),
  };
}

function regOrder(name: string): number {
  const m = /^(?:frame(\d+)\.)?(?:R(\d+)|fp(-?\d+))$/.exec(name);
  if (!m) return 1e9;
  const frame = Number(m[1] ?? 0) * 10_000;
  return m[2] !== undefined ? frame + Number(m[2]) : frame + 100 - Number(m[3]);
}

function registerState(h: Holder, changed: Set<string>): RegisterState {
  const v = h.value.kind === 'slot' && h.value.spilled ? h.value.spilled : h.value;
  const r: RegisterState = { name: h.name, text: h.text, line: h.line, changed: changed.has(h.name) };
  if (v.kind === 'typed') {
    if (v.attrs.refObjId !== undefined) r.refObjId = v.attrs.refObjId;
    if (v.attrs.nonOwnRef || h.inferredNonOwning) r.nonOwning = true;
    if (v.maybeNull) r.maybeNull = true;
  }
  return r;
}

function kernelState(w: WalkState, fromLine: number, partial: boolean): KernelState {
  const regs: RegisterState[] = [];
  const slots: RegisterState[] = [];
  for (const f of [...w.frames.keys()].sort((a, b) => a - b)) {
    const fs = w.frames.get(f);
    if (!fs) continue;
    for (const h of fs.regs.values()) regs.push(registerState(h, w.changed));
    for (const h of fs.slots.values()) slots.push(registerState(h, w.changed));
  }
  regs.sort((a, b) => regOrder(a.name) - regOrder(b.name));
  slots.sort((a, b) => regOrder(a.name) - regOrder(b.name));
  return {
    frame: w.frame,
    registers: regs,
    slots,
    refs: w.refs,
    lock: w.lock ? { insn: w.lock.insn, line: w.lock.line } : null,
    fromLine,
    partial,
  };
}

export function createStoreHandlers(db: Db): Handlers<StoreMethod> {
  return createStoreService(db).handlers;
}

export interface StoreService {
  handlers: Handlers<StoreMethod>;
  /** Load the newest run's index ahead of time (the run most likely to be opened next). */
  warmLatest(): void;
}

/** One ownership event in words, for an object's lifetime list. */
function eventText(e: OwnershipEvent): string {
  const from = e.from ?? '—';
  const to = e.to ?? '—';
  switch (e.kind) {
    case 'acquire':
      return `acquired into ${to}`;
    case 'stash':
      return `stashed into ${to} (from ${from})`;
    case 'unstash':
      return `taken out of ${from} into ${to}`;
    case 'push':
      return `pushed into ${to} (from ${from})`;
    case 'add':
      return `added to ${to} (from ${from})`;
    case 'pop':
      return `popped from ${from} into ${to}`;
    case 'remove':
      return `removed from ${from} into ${to}`;
    case 'drop':
      return `dropped (from ${from})`;
    case 'release':
      return to === 'NULL' ? `NULL on this branch (${from})` : `released (from ${from})`;
    case 'invalidate':
      return `invalidated in ${from}`;
    case 'leak':
      return `leaked (last held by ${from})`;
    case 'convert':
      return `became non-owning in ${from}`;
    default:
      return `${e.kind} ${from} → ${to}`;
  }
}

const MIME: Record<string, string> = {
  svg: 'image/svg+xml',
  png: 'image/png',
  dot: 'text/vnd.graphviz',
  mermaid: 'text/plain',
  json: 'application/json',
  md: 'text/markdown',
  csv: 'text/csv',
};

/** A file name from program / type names (no separators, nothing a save dialog would choke on). */
function fileStem(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^\w.-]+/g, '_')).join('-').slice(0, 150);
}

/** The last index i with key(i) <= v in a non-decreasing sequence (-1: none). */
function lastAtOrBefore(n: number, key: (i: number) => number, v: number): number {
  let lo = 0;
  let hi = n - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(mid) <= v) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

export function createStoreService(db: Db): StoreService {
  const indexes = new RunIndexCache(3);
  const btfCache = new Map<number, BtfFacts>();
  const walker = new Walker();
  const models = new ModelViews(db);
  // The ownership model's view of a program (replayed once, or read from the replay stored at
  // ingest). Null when the program has nothing to replay; the kernel's own view is used then.
  const modelOf = (runId: number, program: number): ModelView | null => {
    if (program < 0) return null;
    try {
      const m = models.of(runId, program);
      return m && m.steps.length > 0 ? m : null;
    } catch {
      return null;
    }
  };

  // The last comparison and its step alignment (a compare view steps through one pair of runs).
  let compared: { key: string; comparison: Comparison; aligned: AlignedPrograms[] } | null = null;
  const comparisonOf = (a: number, b: number) => {
    const key = `${a}:${b}`;
    if (compared?.key === key) return compared;
    for (const r of [a, b]) if (!getRun(db, r)) throw new AppError('not-found', `no run ${r} in this database`);
    compared = { key, comparison: compareRuns(db, a, b), aligned: alignRuns(db, a, b) };
    return compared;
  };

  const index = (runId: number): RunIndex => {
    const idx = indexes.get(db, runId);
    if (!idx) throw new AppError('not-found', `no run ${runId} in this database`);
    return idx;
  };
  const viewOf = (idx: RunIndex, program: number, fold: boolean): View => {
    try {
      return idx.view(program, fold);
    } catch (e) {
      throw new AppError('not-found', (e as Error).message);
    }
  };
  const btfOf = (runId: number): BtfFacts => {
    let b = btfCache.get(runId);
    if (!b) btfCache.set(runId, (b = loadBtfFacts(db, runId)));
    return b;
  };
  const clampLine = (v: View, line: number) => Math.min(Math.max(line, v.first), v.last);
  const walkAt = (i: { runId: number; program: number; line: number }) => {
    const idx = index(i.runId);
    const v = viewOf(idx, i.program, false);
    const line = clampLine(v, i.line);
    const walk = walker.walkTo(db, idx, btfOf(i.runId), i.program, v.first, line);
    return { idx, v, line, walk };
  };

  const stateOf = (idx: RunIndex, v: View, line: number, runId: number, program: number) => {
    const walk = walker.walkTo(db, idx, btfOf(runId), program, v.first, line);
    const step = stepOrdinal(idx, v.first, line);
    const m = modelOf(runId, program);
    const model = m ? m.stateAt(line) : { model: null, divergences: [] };
    return {
      state: { line, insn: walk.state.insn, step, kernel: kernelState(walk.state, walk.fromLine, walk.partial), ...model },
      graph: m?.graphAt(line, step, walk.state.insn) ?? graphSnapshot(walk.state, btfOf(runId), { step, line, insn: walk.state.insn }),
    };
  };
  const findingOf = (idx: RunIndex, runId: number, program: number) => {
    if (program < 0) return runFinding(idx);
    const p = idx.programs.find((x) => x.index === program);
    if (!p) throw new AppError('not-found', `run ${runId} has no program ${program}`);
    const kernel = kernelFinding(p, idx);
    // The model's finding says why (who held the object, where ownership was lost); the kernel's
    // error line follows it so both are in view.
    const mf = modelOf(runId, program)?.finding((insn) => {
      for (let l = p.lastLine; l >= p.firstLine; l--) if (idx.kinds[l - 1] === K.insn && idx.insns[l - 1] === insn) return l;
      return null;
    });
    if (!mf) return kernel;
    return { ...mf, sentence: [...mf.sentence, { text: ' — ' }, ...kernel.sentence] };
  };

  const handlers: Handlers<StoreMethod> = {
    firstScreen: ({ runId, program, line, fold, windowRows, visibleRows }) => {
      const run = runInfo(db, runId);
      if (!run) throw new AppError('not-found', `no run ${runId} in this database`);
      const idx = index(runId);
      const prog = program ?? run.programs.find((p) => p.lines > 0)?.index ?? -1;
      const v = viewOf(idx, prog, fold);
      const finding = findingOf(idx, runId, prog);
      let target = line !== null ? clampLine(v, line) : finding.line;
      if (target === null) target = idx.kindAt(v.first) === K.insn ? v.first : (stepFrom(db, idx, v, v.first, 'insn', 'next')?.line ?? v.first);
      const row = idx.rowOfLine(v, target);
      const top = Math.max(0, row - Math.floor(visibleRows / 3));
      const starts: number[] = [];
      for (let w = Math.floor(top / windowRows); w <= Math.floor(Math.min(v.total - 1, top + visibleRows) / windowRows); w++) starts.push(w * windowRows);
      const windows = starts.map((s0) => logWindow(db, idx, v, s0, windowRows).lines);
      const { state, graph } = stateOf(idx, viewOf(idx, prog, false), target, runId, prog);
      return { run, program: prog, finding, total: v.total, line: target, row, windows, windowStarts: starts, state, graph };
    },
    listRuns: () => listRuns(db).map((r) => runInfo(db, r.id)).filter((r): r is RunInfo => r !== null),
    getRun: ({ runId }) => runInfo(db, runId),
    deleteRun: ({ runId }) => {
      indexes.drop(runId);
      models.drop(runId);
      btfCache.delete(runId);
      walker.reset();
      return { deleted: deleteRun(db, runId) };
    },
    logWindow: ({ runId, program, start, count, fold }) => {
      const idx = index(runId);
      return logWindow(db, idx, viewOf(idx, program, fold), start, count);
    },
    rowOfLine: ({ runId, program, line, fold }) => {
      const idx = index(runId);
      const v = viewOf(idx, program, fold);
      return { row: idx.rowOfLine(v, line), total: v.total };
    },
    search: (i: Input<'search'>) => {
      const idx = index(i.runId);
      const v = viewOf(idx, i.program, i.fold ?? false);
      try {
        return search(db, idx, v, {
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
    findInsn: ({ runId, program, insn, fromLine, direction, fold }) => {
      const idx = index(runId);
      return findInsn(idx, viewOf(idx, program, fold ?? false), insn, fromLine, direction);
    },
    stepFrom: ({ runId, program, line, unit, direction, fold }) => {
      const idx = index(runId);
      return stepFrom(db, idx, viewOf(idx, program, fold ?? false), line, unit, direction);
    },
    stateAt: (i) => {
      const { idx, v, line, walk } = walkAt(i);
      const m = modelOf(i.runId, i.program);
      return {
        line,
        insn: walk.state.insn,
        step: stepOrdinal(idx, v.first, line),
        kernel: kernelState(walk.state, walk.fromLine, walk.partial),
        ...(m ? m.stateAt(line) : { model: null, divergences: [] }),
      };
    },
    // The ownership model's graph; the kernel-state graph only where the model has nothing.
    graphAt: (i) => {
      const { idx, v, line, walk } = walkAt(i);
      const step = stepOrdinal(idx, v.first, line);
      return modelOf(i.runId, i.program)?.graphAt(line, step, walk.state.insn) ?? graphSnapshot(walk.state, btfOf(i.runId), { step, line, insn: walk.state.insn });
    },
    finding: ({ runId, program }) => findingOf(index(runId), runId, program),
    timeline: ({ runId, program, bins }) => {
      const idx = index(runId);
      return timeline(db, idx, viewOf(idx, program, false), bins);
    },
    lifetime: ({ runId, program, line, objectId }) => {
      const m = modelOf(runId, program);
      const mo = m && objectId.startsWith('obj:') ? m.objects.find((o) => o.id === Number(objectId.slice(4))) : undefined;
      if (m && mo) {
        const events = m.replay.events.filter((e) => e.object === mo.id);
        return {
          objectId,
          label: `${mo.type}${mo.refId !== undefined ? ` #${mo.refId}` : ''} — ${mo.local ? 'local object' : 'kernel object'} from ${mo.origin} at insn ${mo.allocInsn}`,
          events: events.map((e) => ({ line: e.line, insn: e.insn, text: eventText(e) })),
        };
      }
      const idx = index(runId);
      const v = viewOf(idx, program, false);
      const at = clampLine(v, line);
      const btf = btfOf(runId);
      const { from } = walkStart(idx, v.first, at);
      // A fresh walk (the cached one belongs to stepping): to the line, then on until the object
      // ends or the path does (at most 5000 lines further).
      const w = new WalkState();
      let end = at;
      for (let l = at + 1; l <= Math.min(v.last, at + 5000); l++) {
        if (idx.kinds[l - 1] === K.branch) break;
        end = l;
      }
      walkRange(db, idx, btf, w, from, end, program);
      const ref = objectId.startsWith('obj:') ? Number(objectId.slice(4)) : null;
      const holder = objectId.replace(/^(?:reg|slot):/, '');
      const events = w.events.filter((e) => (ref !== null ? e.refId === ref : e.text.startsWith(`${holder} `) || e.text.includes(` ${holder} `)));
      const o = ref !== null ? w.objects.get(ref) : undefined;
      return {
        objectId,
        label: o ? `${o.type} #${o.refId}` : btf.nodeLabel(objectId, w),
        events: events.map((e) => ({ line: e.line, insn: e.insn, text: e.text })),
      };
    },
    // Defined below (they use the handlers above).
    compare: (i) => compare(i),
    alignedStep: (i) => alignedStep(i),
    renderExport: ({ what }) => renderExport(what),
  };
  const programName = (runId: number, program: number): string =>
    program < 0 ? 'whole-log' : (index(runId).programs.find((p) => p.index === program)?.name ?? `program${program}`);

  const renderExport = async (what: ExportRequest): Promise<ExportFile> => {
    const file = (stem: string, format: string, bytes: Buffer): ExportFile => ({
      fileName: `${stem}.${extensionOf(format === 'mermaid' ? 'mermaid' : (format as 'svg'))}`,
      mime: MIME[format] ?? 'application/octet-stream',
      base64: bytes.toString('base64'),
    });
    try {
      if (what.kind === 'graph') {
        const snapshot = await handlers.graphAt({ runId: what.runId, program: what.program, line: what.line });
        const run = getRun(db, what.runId);
        const name = programName(what.runId, what.program);
        const m = modelOf(what.runId, what.program);
        const p = index(what.runId).programs.find((x) => x.index === what.program);
        const verdict = m
          ? m.replay.replay.finding && m.replay.replay.finding.insn === snapshot.insn
            ? `rejected (${m.replay.replay.finding.kind})`
            : m.replay.replay.modelVerdict
          : (p?.verdict ?? 'unknown');
        const title = { program: name, kernel: run?.kernel ?? null, insn: snapshot.insn, verdict, step: snapshot.step };
        return file(fileStem(name, `insn${snapshot.insn}`), what.format, await renderGraph(what.format, snapshot, title));
      }
      if (what.kind === 'lifetime') {
        const m = /^obj:(\d+)$/.exec(what.objectId);
        if (!m || !modelOf(what.runId, what.program)) throw new AppError('unsupported', 'only objects of the ownership model have a lifetime to export');
        const name = programName(what.runId, what.program);
        const lt = objectLifetime(db, { runId: what.runId, program: name, object: Number(m[1]) });
        return file(fileStem(name, lt.object.type, `obj${lt.object.id}`, 'lifetime'), what.format, renderLifetime(what.format, lt));
      }
      const c = comparisonOf(what.a, what.b).comparison;
      return file(fileStem('compare', `run${what.a}`, `run${what.b}`), what.format, renderComparison(what.format, c));
    } catch (e) {
      if (e instanceof ExportError) throw new AppError('bad-request', e.message);
      throw e;
    }
  };

  const compare: Handlers<'compare'>['compare'] = ({ a, b }) => {
    const ra = runInfo(db, a);
    const rb = runInfo(db, b);
    if (!ra || !rb) throw new AppError('not-found', `no run ${!ra ? a : b} in this database`);
    const { comparison, aligned } = comparisonOf(a, b);
    return {
      comparison,
      runs: { a: ra, b: rb },
      pairs: aligned.map((al) => {
        const d = al.lines[al.divergence];
        return {
          programA: al.programA,
          programB: al.programB,
          steps: al.lines.length,
          divergence: d ? { a: d[0], b: d[1], index: al.divergence } : null,
          findings: { a: findingOf(index(a), a, al.programA), b: findingOf(index(b), b, al.programB) },
        };
      }),
    };
  };
  const alignedStep: Handlers<'alignedStep'>['alignedStep'] = ({ a, b, pair, side, line, direction, at }) => {
    const al = comparisonOf(a, b).aligned[pair];
    if (!al) throw new AppError('not-found', `the comparison of runs ${a} and ${b} has no program pair ${pair}`);
    const k = side === 'a' ? 0 : 1;
    const key = (i: number) => (al.lines[i] as [number, number])[k];
    const n = al.lines.length;
    if (n === 0) return null;
    // Start from the caller's current pair when it is still at this line, else the last pair at or
    // before the line; consecutive pairs always differ (at least one side moves).
    let i = at !== undefined && at < n && key(at) === line ? at : Math.max(0, lastAtOrBefore(n, key, line));
    if (direction === 'next') i++;
    else if (direction === 'prev') i--;
    if (i < 0 || i >= n) return null;
    const [la, lb] = al.lines[i] as [number, number];
    return { index: i, total: n, a: la, b: lb };
  };

  return {
    handlers,
    warmLatest() {
      const row = db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number | null };
      if (row.id !== null) indexes.get(db, row.id);
    },
  };
}
