/**
 * THE contract between kptrscope's hosts (Electron main, the browser host) and its renderer: every
 * request (method name → zod schema of its input, TypeScript type of its output) and every event.
 *
 * - Hosts validate every request payload with `inputSchemas[method]` before doing anything with it
 *   (`src-main/api/dispatch.ts`), whatever the transport (IPC or JSON over HTTP).
 * - The renderer imports TYPES ONLY from this file (lint-enforced): `Client` is what its transport
 *   (the preload bridge or fetch) provides; `AppEvent` is what it hears.
 * - Outputs are plain JSON. Positions in a log are 1-based line numbers of the run; a "step" is one
 *   instruction record of a program's walk, addressed by its line (the model's `Step` carries the
 *   same line), `GraphSnapshot.step` is its ordinal in the program.
 *
 * Add methods, never rename: renderer and hosts are built from the same commit, but tests and
 * scripts (bench-app, e2e) call methods by name.
 */
import { z } from 'zod';
import type { RecordKind } from '../domain/log/records.ts';
import type { Comparison } from '../domain/views/comparison.ts';
import type { GraphSnapshot } from '../domain/views/graph-types.ts';
import type { FindingView, TextSegment } from '../domain/views/finding.ts';

export type { RecordKind, Comparison };
export type * from '../domain/views/graph-types.ts';

// ---------------------------------------------------------------------------------------------
// Input schemas (the only thing hosts trust)

const runId = z.number().int().positive().max(2 ** 31);
/** Program index within its run; -1 = the whole run (every line, run-level ones included). */
const program = z.number().int().min(-1).max(1_000_000);
const line = z.number().int().positive().max(2 ** 31);
const direction = z.enum(['next', 'prev']);

export const fileRefSchema = z.discriminatedUnion('kind', [
  /** A file the browser host received with POST /api/upload (its id is what the upload returned). */
  z.object({ kind: z.literal('upload'), id: z.string().regex(/^[a-f0-9]{32}$/) }).strict(),
  /** A local path (Electron: from a native dialog, a drop, or the recent-files list). */
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }).strict(),
]);
export type FileRef = z.infer<typeof fileRefSchema>;

/** What to export: the graph at a step, an object's lifetime, or a comparison of two runs. */
export const exportRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('graph'), runId, program, line, format: z.enum(['svg', 'png', 'dot', 'mermaid', 'json']) }).strict(),
  z.object({ kind: z.literal('lifetime'), runId, program, objectId: z.string().min(1).max(200), format: z.enum(['svg', 'mermaid']) }).strict(),
  z.object({ kind: z.literal('comparison'), a: runId, b: runId, format: z.enum(['md', 'csv']) }).strict(),
]);
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export const inputSchemas = {
  /** Host name, version, database path, which optional features exist. */
  appInfo: z.object({}).strict(),
  /** The library: every run with its programs' verdicts. */
  listRuns: z.object({}).strict(),
  /** One run with its programs (null when it does not exist). */
  getRun: z.object({ runId }).strict(),
  deleteRun: z.object({ runId }).strict(),
  /** Start ingesting a log (+ BTF) off the request thread; progress comes as events. */
  startIngest: z
    .object({
      log: fileRefSchema,
      btf: z.array(fileRefSchema).max(16),
      kernel: z.string().min(1).max(64).regex(/^[\w.+~-]+$/).optional(),
    })
    .strict(),
  /**
   * Everything the run view's first screen needs in one answer (run, finding, the selected step,
   * the log windows around it, state, graph): program null = the first program with lines; line
   * null = the finding's line, else the program's first instruction. Windows are `windowRows`-aligned.
   */
  firstScreen: z
    .object({
      runId,
      program: program.nullable(),
      line: line.nullable(),
      fold: z.boolean(),
      windowRows: z.number().int().min(16).max(2000),
      visibleRows: z.number().int().min(1).max(2000),
    })
    .strict(),
  /** Ask the host to show its native open dialog (Electron); the browser host answers `null`. */
  pickFiles: z.object({}).strict(),
  /** Recently opened files (Electron); the browser host answers []. */
  recentFiles: z.object({}).strict(),
  /**
   * A window of the log: rows [start, start+count) of the view. The view is the program's lines
   * (or the whole run for program -1), minus source annotations when `fold` is true.
   */
  logWindow: z
    .object({ runId, program, start: z.number().int().min(0).max(2 ** 31), count: z.number().int().min(1).max(2000), fold: z.boolean() })
    .strict(),
  /** Row of a line in the view (the nearest shown row at or before it when folded away). */
  rowOfLine: z.object({ runId, program, line, fold: z.boolean() }).strict(),
  /**
   * Next/previous match of a text or regex, answered server-side over the compressed blocks.
   * Scans for at most `budgetMs`; `match: null, done: false` means "call again from `resumeLine`".
   */
  search: z
    .object({
      runId,
      program,
      query: z.string().min(1).max(500),
      regex: z.boolean(),
      caseSensitive: z.boolean(),
      fromLine: line,
      /** The line the search started from (defaults to fromLine); resumed calls keep it. */
      originLine: line.optional(),
      direction,
      budgetMs: z.number().int().min(10).max(5000).optional(),
      /** Rows in the answer are rows of the folded view (matches in source annotations are skipped). */
      fold: z.boolean().optional(),
    })
    .strict(),
  /** Next/previous line executing instruction `insn` (wraps around the view). */
  findInsn: z.object({ runId, program, insn: z.number().int().min(0).max(1_000_000), fromLine: line, direction, fold: z.boolean().optional() }).strict(),
  /** Step from a line: next/previous instruction, ownership event, error, or path start. */
  stepFrom: z
    .object({ runId, program, line, unit: z.enum(['insn', 'event', 'error', 'path']), direction, fold: z.boolean().optional() })
    .strict(),
  /** The kernel's printed state at a line (and the model's once it exists). */
  stateAt: z.object({ runId, program, line }).strict(),
  /** The ownership graph at a step (addressed by its line). */
  graphAt: z.object({ runId, program, line }).strict(),
  /** What went wrong (or right) in a program, in plain words with instruction links. */
  finding: z.object({ runId, program }).strict(),
  /** Marks for the timeline: ownership events, errors and path starts binned over the view. */
  timeline: z.object({ runId, program, bins: z.number().int().min(10).max(4000) }).strict(),
  /** Everything that happened to one graph object along the current path. */
  lifetime: z.object({ runId, program, line, objectId: z.string().min(1).max(200) }).strict(),
  /** Two runs side by side: the veristat-style table, both findings, the divergence of each program pair. */
  compare: z.object({ a: runId, b: runId }).strict(),
  /**
   * Stepping two runs together: the aligned step pair of program pair `pair` at a line of `side`
   * (the last pair at or before it; `at`: the caller's current pair index, used when it is at that
   * line), or with `direction` the next/previous pair (at least one side moves).
   */
  alignedStep: z
    .object({
      a: runId,
      b: runId,
      pair: z.number().int().min(0).max(1_000_000),
      side: z.enum(['a', 'b']),
      line,
      direction: direction.optional(),
      at: z.number().int().min(0).max(2 ** 31).optional(),
    })
    .strict(),
  /** The bytes of an export (rendered by the host: PNG with resvg); the page saves them itself. */
  renderExport: z.object({ what: exportRequestSchema }).strict(),
  /** Electron: the native save dialog, then main writes the export where the user chose. */
  saveExport: z.object({ what: exportRequestSchema }).strict(),
} as const;

export type Method = keyof typeof inputSchemas;
export type Input<M extends Method> = z.infer<(typeof inputSchemas)[M]>;

// ---------------------------------------------------------------------------------------------
// Outputs

export type Verdict = 'accepted' | 'rejected' | 'truncated' | 'unknown';

export interface ProgramInfo {
  index: number;
  name: string;
  verdict: Verdict;
  error: string | null;
  failInsn: number | null;
  failLine: number | null;
  insnsProcessed: number | null;
  firstLine: number;
  lastLine: number;
  lines: number;
  unknownLines: number;
  truncation: string | null;
  loaderError: string | null;
  logLevel: number | null;
}

export interface RunInfo {
  id: number;
  source: string;
  sourceName: string;
  sizeBytes: number;
  formats: string[];
  kernel: string | null;
  kernelHints: string[];
  lines: number;
  unknownLines: number;
  createdAt: string;
  programs: ProgramInfo[];
  btf: { id: number; source: string; format: string; types: number }[];
}

export interface AppInfo {
  host: 'browser' | 'electron';
  version: string;
  dbPath: string;
  /** Features that exist yet (menus and buttons of the others are disabled). */
  features: { export: boolean; compare: boolean; model: boolean; nativeDialogs: boolean };
}

export interface LogLine {
  /** Row in the view. */
  row: number;
  /** 1-based line of the run. */
  line: number;
  kind: RecordKind;
  /** Instruction index the line refers to, -1 if none. */
  insn: number;
  text: string;
}

export interface LogWindow {
  /** Rows in the whole view. */
  total: number;
  lines: LogLine[];
}

export interface SearchResult {
  match: { line: number; row: number; start: number; end: number } | null;
  /** Where to resume when the budget ran out (`done: false`). */
  resumeLine: number;
  /** The whole view was scanned (with wrap-around) without another match. */
  done: boolean;
  wrapped: boolean;
  scannedLines: number;
}

export interface StepTarget {
  line: number;
  row: number;
  insn: number;
}

export interface RegisterState {
  /** `R0`…`R10`, `fp-8`, `frame1.R6`. */
  name: string;
  /** The value as the kernel printed it. */
  text: string;
  refObjId?: number;
  nonOwning?: boolean;
  maybeNull?: boolean;
  /** Line where this value was printed. */
  line: number;
  /** Printed by the instruction at the selected line. */
  changed: boolean;
}

export interface KernelState {
  frame: number;
  registers: RegisterState[];
  slots: RegisterState[];
  /** Reference ids as last printed (`refs=`), with the line; null when none was printed on this path. */
  refs: { ids: number[]; line: number } | null;
  /** Held lock inferred from bpf_spin_lock/unlock calls on this path (the kernel does not print it). */
  lock: { insn: number; line: number } | null;
  /** First line of the walk this state was rebuilt from (path start or a full state). */
  fromLine: number;
  /** The walk back was cut (too far): registers not printed since `fromLine` are missing. */
  partial: boolean;
}

export interface StateAt {
  line: number;
  insn: number;
  step: number;
  kernel: KernelState;
  /** The ownership model's state; null until the model is wired in ('model: pending'). */
  model: null | { registers: RegisterState[]; slots: RegisterState[]; refs: number[]; lock: string | null };
  /** Holder names where model and kernel disagree (empty until the model exists). */
  divergences: string[];
}

/** A program's finding in words (see domain/views/finding.ts). */
export type Finding = FindingView;
export type { TextSegment };

export interface TimelineBin {
  events: number;
  errors: number;
  paths: number;
}

export interface Timeline {
  /** View rows covered (the bins split [0, total)). */
  total: number;
  bins: TimelineBin[];
  /** The first ownership events (at most 500) with their rows, for ticks and tooltips. */
  events: { row: number; line: number; insn: number; label: string }[];
  /** Instructions counted as ownership events (calls of acquire/release/xchg/push/... helpers). */
  eventInsns: number[];
  /** The scan of the view was cut by its time budget (counts are lower bounds). */
  partial: boolean;
}

export interface Lifetime {
  objectId: string;
  label: string;
  events: { line: number; insn: number; text: string }[];
}

export interface FirstScreen {
  run: RunInfo;
  program: number;
  finding: Finding;
  total: number;
  line: number;
  row: number;
  windows: LogWindow['lines'][];
  windowStarts: number[];
  state: StateAt;
  graph: GraphSnapshot;
}

export interface ComparePair {
  /** Program indexes in run a and run b. */
  programA: number;
  programB: number;
  /** Aligned steps of the pair (for `alignedStep`). */
  steps: number;
  /** Lines of the first divergence on each side (null: the walks agree), with its pair index. */
  divergence: { a: number; b: number; index: number } | null;
  findings: { a: Finding; b: Finding };
}

export interface CompareResult {
  comparison: Comparison;
  runs: { a: RunInfo; b: RunInfo };
  /** One per `comparison.programs` entry, same order. */
  pairs: ComparePair[];
}

export interface AlignedStep {
  /** Index of the pair in the alignment, and the pair's lines. */
  index: number;
  total: number;
  a: number;
  b: number;
}

export interface ExportFile {
  fileName: string;
  mime: string;
  base64: string;
}

export interface Outputs {
  firstScreen: FirstScreen;
  appInfo: AppInfo;
  listRuns: RunInfo[];
  getRun: RunInfo | null;
  deleteRun: { deleted: boolean };
  startIngest: { jobId: string };
  pickFiles: { log: FileRef; btf: FileRef[]; label: string } | null;
  recentFiles: { path: string; openedAt: string }[];
  logWindow: LogWindow;
  rowOfLine: { row: number; total: number };
  search: SearchResult;
  findInsn: StepTarget | null;
  stepFrom: StepTarget | null;
  stateAt: StateAt;
  graphAt: GraphSnapshot;
  finding: Finding;
  timeline: Timeline;
  lifetime: Lifetime;
  compare: CompareResult;
  alignedStep: AlignedStep | null;
  renderExport: ExportFile;
  saveExport: { path: string | null };
}

export type Output<M extends Method> = Outputs[M];

/** What a transport gives the renderer: one async function per method. */
export type Client = { [M in Method]: (input: Input<M>) => Promise<Output<M>> };

/** What a host implements (sync or async). */
export type Handlers<M extends Method = Method> = { [K in M]: (input: Input<K>) => Output<K> | Promise<Output<K>> };

// ---------------------------------------------------------------------------------------------
// Events (host → renderer)

export type AppEvent =
  | { type: 'ingest-progress'; jobId: string; file: string; bytesRead: number; totalBytes: number }
  | { type: 'ingest-done'; jobId: string; file: string; runId: number; duplicate: boolean }
  | { type: 'ingest-failed'; jobId: string; file: string; message: string }
  | { type: 'runs-changed' }
  /** Native menu actions (Electron). */
  | { type: 'menu'; action: 'open' | 'library' | 'compare' | 'export' }
  | { type: 'open-run'; runId: number };

/** Errors crossing the boundary: a code the renderer can act on and one sentence for people. */
export type ApiErrorCode = 'bad-request' | 'not-found' | 'unsupported' | 'ingest' | 'internal';

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** The Electron preload bridge (`window.kptrscope`); the browser host's client has the same shape. */
export interface Bridge {
  call(method: Method, input: unknown): Promise<unknown>;
  onEvent(listener: (e: AppEvent) => void): () => void;
  /** Electron only: the path of a dropped / picked File (webUtils.getPathForFile). */
  pathForFile?(file: File): string;
}

/** Methods answered by the store worker (everything that reads SQLite); the rest are host-level. */
export const STORE_METHODS = [
  'firstScreen',
  'listRuns',
  'getRun',
  'deleteRun',
  'logWindow',
  'rowOfLine',
  'search',
  'findInsn',
  'stepFrom',
  'stateAt',
  'graphAt',
  'finding',
  'timeline',
  'lifetime',
  'compare',
  'alignedStep',
  'renderExport',
] as const satisfies readonly Method[];

export type StoreMethod = (typeof STORE_METHODS)[number];

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(inputSchemas, name);
}
