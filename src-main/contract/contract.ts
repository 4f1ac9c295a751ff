/**
 * THE contract between kptrscope's hosts (Electron main, the browser host) and its renderer: every
 * request (method name → zod schema of its input in inputs.ts, TypeScript type of its output) and
 * every event.
 *
 * - Hosts validate every request payload with `inputSchemas[method]` before doing anything with it
 *   (`src-main/contract/dispatch.ts`), whatever the transport (IPC or JSON over HTTP).
 * - The renderer imports TYPES ONLY from this file (lint-enforced; values only from legend.ts): `Client` is what its transport
 *   (the preload bridge or fetch) provides; `AppEvent` is what it hears.
 * - Outputs are plain JSON. Positions in a log are 1-based line numbers of the run; a "step" is one
 *   instruction record of a program's walk, addressed by its line (the model's `Step` carries the
 *   same line), `GraphSnapshot.step` is its ordinal in the program.
 *
 * Add methods, never rename: renderer and hosts are built from the same commit, but tests and
 * scripts (bench-app, e2e) call methods by name.
 */
import type { RecordKind } from '../domain/log/records.ts';
import type { Comparison } from '../domain/views/comparison.ts';
import type { GraphSnapshot } from '../domain/views/graph-types.ts';
import type { FindingView, TextSegment } from '../domain/views/finding.ts';
import type { FindingKind } from '../domain/model/types.ts';
import type { Matrix } from '../domain/views/matrix.ts';

export type { RecordKind, Comparison };
export type * from '../domain/views/matrix.ts';
export type * from '../domain/views/graph-types.ts';

export { inputSchemas, fileRefSchema, exportRequestSchema, type Method, type Input, type FileRef, type ExportRequest } from './inputs.ts';
import { inputSchemas, type FileRef, type Input, type Method } from './inputs.ts';

// ---------------------------------------------------------------------------------------------
// Outputs

/** The kernel's verdict on a program, read from its log: one definition (domain/log/program-state.ts). */
export type { Verdict } from '../domain/log/program-state.ts';
import type { Verdict } from '../domain/log/program-state.ts';

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
  /** The ownership model's finding kind for this program (its stored replay); null: no finding, or not replayed yet. */
  findingKind?: FindingKind | null;
  /** For a `not-loaded` program: the program of its object whose rejection stopped the loader. */
  blockedBy?: string | null;
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
  /** The program object the log is of (the library groups runs by it): see app/library.ts objectOf. */
  object?: string;
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
  matrix: Matrix;
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
  'matrix',
  'alignedStep',
  'renderExport',
] as const satisfies readonly Method[];

export type StoreMethod = (typeof STORE_METHODS)[number];

export function isMethod(name: string): name is Method {
  return Object.prototype.hasOwnProperty.call(inputSchemas, name);
}
