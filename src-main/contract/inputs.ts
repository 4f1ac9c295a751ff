/**
 * The contract's requests: every method's name and the zod schema of its input — the only thing
 * the hosts trust. Hosts validate every payload with `inputSchemas[method]` (dispatch.ts) before
 * doing anything with it, whatever the transport (IPC or JSON over HTTP); outputs and events are in
 * contract.ts.
 *
 * Contract: add methods, never rename; `.strict()` objects refuse unknown keys.
 */
import { z } from 'zod';


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
  /** One program across kernels: the runs' programs by object, one column per kernel series, each verdict change explained. */
  matrix: z.object({ runs: z.array(runId).min(1).max(64) }).strict(),
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

