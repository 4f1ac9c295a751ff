/**
 * Row ⇄ domain mapping of a program summary (the `programs` table), shared by every backend.
 *
 * Contract: `programRowToSummary(row)` rebuilds the ProgramSummary the parser produced at ingest
 * (JSON columns parsed, NULL statistics left out); `programRowValues(runId, summary)` gives the
 * column values in PROGRAM_COLUMNS order.
 */
import type { ProgramSummary } from '../domain/log/program-state.ts';
import type { KernelDiagnostic } from '../domain/log/kernel-diagnostic.ts';

export interface ProgramRow {
  idx: number;
  name: string;
  wrapper: string;
  verdict: string;
  truncation: string | null;
  error: string | null;
  error_classes: string;
  fail_insn: number | null;
  fail_line: number | null;
  insns_processed: number | null;
  insn_limit: number | null;
  max_states_per_insn: number | null;
  total_states: number | null;
  peak_states: number | null;
  mark_read: number | null;
  verification_usec: number | null;
  stack_depth: string | null;
  first_line: number;
  last_line: number;
  line_count: number;
  unknown_lines: number;
  loader_error: string | null;
  errno: number | null;
  log_level: number | null;
  kernel_hints: string;
  /** Columns of migration 0030 (absent from rows written before it: read as their defaults). */
  stack_depth_max?: number | null;
  subprogs?: string | null;
  insns_totals?: string | null;
  kernel_diagnostics?: string;
  btf_refused?: number;
  section?: string | null;
  struct_ops?: string | null;
  /** Migration 0040. */
  blocked_by?: string | null;
}

export const PROGRAM_COLUMNS = [
  'run_id', 'idx', 'name', 'wrapper', 'verdict', 'truncation', 'error', 'error_classes', 'fail_insn', 'fail_line',
  'insns_processed', 'insn_limit', 'max_states_per_insn', 'total_states', 'peak_states', 'mark_read', 'verification_usec',
  'stack_depth', 'first_line', 'last_line', 'line_count', 'unknown_lines', 'loader_error', 'errno', 'log_level', 'kernel_hints',
  'stack_depth_max', 'subprogs', 'insns_totals', 'kernel_diagnostics', 'btf_refused', 'section', 'struct_ops',
  'blocked_by',
] as const;

export function programRowValues(runId: number, p: ProgramSummary): (string | number | null)[] {
  const st = p.stats;
  return [
    runId,
    p.index,
    p.name,
    p.wrapper,
    p.verdict,
    p.truncation,
    p.error,
    JSON.stringify(p.errorClasses),
    p.failInsn,
    p.failLine,
    st.insnsProcessed ?? null,
    st.insnLimit ?? null,
    st.maxStatesPerInsn ?? null,
    st.totalStates ?? null,
    st.peakStates ?? null,
    st.markRead ?? null,
    st.verificationUsec ?? null,
    st.stackDepth ? JSON.stringify(st.stackDepth) : null,
    p.firstLine,
    p.lastLine,
    p.lines,
    p.unknownLines,
    p.loaderError,
    p.errno,
    p.logLevel,
    JSON.stringify(p.kernelHints),
    st.stackDepthMax ?? null,
    st.subprogs ? JSON.stringify(st.subprogs) : null,
    st.insnsTotals ? JSON.stringify(st.insnsTotals) : null,
    JSON.stringify(p.kernelDiagnostics),
    p.btfRefused ? 1 : 0,
    p.section,
    p.structOps ? JSON.stringify(p.structOps) : null,
    p.blockedBy,
  ];
}

/** A run's kernel hints: every hint of its programs, once, in first-seen order. */
export function runHintsOf(programs: readonly ProgramSummary[]): string[] {
  const hints = new Set<string>();
  for (const p of programs) for (const h of p.kernelHints) hints.add(h);
  return [...hints];
}

export function programRowToSummary(r: ProgramRow): ProgramSummary {
  const stats: ProgramSummary['stats'] = {};
  if (r.insns_processed !== null) stats.insnsProcessed = r.insns_processed;
  if (r.insn_limit !== null) stats.insnLimit = r.insn_limit;
  if (r.max_states_per_insn !== null) stats.maxStatesPerInsn = r.max_states_per_insn;
  if (r.total_states !== null) stats.totalStates = r.total_states;
  if (r.peak_states !== null) stats.peakStates = r.peak_states;
  if (r.mark_read !== null) stats.markRead = r.mark_read;
  if (r.verification_usec !== null) stats.verificationUsec = r.verification_usec;
  if (r.stack_depth !== null) stats.stackDepth = JSON.parse(r.stack_depth) as number[];
  if (r.stack_depth_max !== null && r.stack_depth_max !== undefined) stats.stackDepthMax = r.stack_depth_max;
  if (r.subprogs) stats.subprogs = JSON.parse(r.subprogs) as NonNullable<ProgramSummary['stats']['subprogs']>;
  if (r.insns_totals) stats.insnsTotals = JSON.parse(r.insns_totals) as number[];
  return {
    index: r.idx,
    name: r.name,
    wrapper: r.wrapper as ProgramSummary['wrapper'],
    firstLine: r.first_line,
    lastLine: r.last_line,
    lines: r.line_count,
    unknownLines: r.unknown_lines,
    verdict: r.verdict as ProgramSummary['verdict'],
    truncation: r.truncation as ProgramSummary['truncation'],
    error: r.error,
    errorClasses: JSON.parse(r.error_classes) as string[],
    failInsn: r.fail_insn,
    failLine: r.fail_line,
    stats,
    loaderError: r.loader_error,
    errno: r.errno,
    logLevel: r.log_level,
    kernelHints: JSON.parse(r.kernel_hints) as string[],
    kernelDiagnostics: r.kernel_diagnostics ? (JSON.parse(r.kernel_diagnostics) as KernelDiagnostic[]) : [],
    btfRefused: r.btf_refused === 1,
    section: r.section ?? null,
    structOps: r.struct_ops ? (JSON.parse(r.struct_ops) as { type: string; member: string }) : null,
    blockedBy: r.blocked_by ?? null,
  };
}
