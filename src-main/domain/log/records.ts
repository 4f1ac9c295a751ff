/**
 * Typed records of a verifier log: one record per physical line, nothing dropped.
 *
 * Every record keeps the line's text verbatim (`text`); the kind-specific fields are what the
 * line grammar could read from it. A line nobody recognises is `unknown` and is counted.
 * `KIND_CODES` gives each kind a stable small number for compact storage (never renumber).
 */

export const RECORD_KINDS = [
  'unknown', // 0: kept verbatim, counted
  'blank',
  'insn', // N: (op) disasm [; compact state]
  'state', // N: <full state>
  'source', // ; source line [@ file:line]
  'branch', // from X to Y: <state> | safe
  'safe', // N: safe
  'func-info', // func#N @M
  'live-regs-header', // Live regs before insn:
  'live-regs', //      N: .1..... (op) disasm
  'call-header', // caller: / callee: / returning from callee: / to caller at N:
  'call-state', //  R10=fp0 (indented state inside a call block)
  'precision', // mark_precise / last_idx / regs=.. before / propagating
  'stack-liveness', // (0) frame 0 insn 40 +live -16 (6.18)
  'info', // func 'x' arg0 has btf_id ..., Validating ..., Func#N ... global ...
  'error', // the kernel's error text
  'stats-time', // verification time N usec
  'stats-stack', // stack depth A+B [max M]
  'stats', // processed N insns (limit ...) ...
  'libbpf', // libbpf: ... (loader debug/warn lines)
  'wrapper', // markers of the tool that printed the log (bpftool, veristat, cilium/ebpf)
  'btf-log', // BTF load log lines inside libbpf's BEGIN/END BTF LOAD LOG
  'stats-stack-max', // stack depth max N (7.x)
  'stats-subprog', // subprog N (name) main|global|static insns_self A insns_total B stack C (7.x)
  'analysis', // 7.x level 2: the analysis before the walk (topo_order, subprog#N listings, stack use/def)
  'diagnostic', // 7.3: a line of the kernel's diagnostic block (Verification failed: … Suggestion:)
  'stats-insns', // insns processed A+B (≤ 7.2: main and each global subprogram's insns_total)
] as const;

export type RecordKind = (typeof RECORD_KINDS)[number];

export const KIND_CODES: Readonly<Record<RecordKind, number>> = Object.fromEntries(
  RECORD_KINDS.map((k, i) => [k, i]),
) as Record<RecordKind, number>;

export function kindFromCode(code: number): RecordKind {
  return RECORD_KINDS[code] ?? 'unknown';
}

interface Base {
  /** 1-based line number in the ingested file. */
  line: number;
  /** The line as it is in the file (without its line terminator). */
  text: string;
  /** Index of the program this line belongs to within its run, or -1 (run-level line). */
  program: number;
}

export interface InsnRecord extends Base {
  kind: 'insn';
  insn: number;
  opcode: string;
  /** Disassembly, e.g. `call bpf_kptr_xchg#194`. */
  asm: string;
  /** Compact state after the instruction (text after `;`), '' for an empty suffix, undefined if none. */
  suffix?: string;
  /**
   * Level-1 rewind artefact: `<insn line> <N>: <state>` glued on one physical line.
   * The glued part is a full state line for insn `glued.insn`.
   */
  glued?: { insn: number; state: string; safe?: boolean };
}

export interface StateRecord extends Base {
  kind: 'state';
  insn: number;
  /** Full-state text after `N: ` (may start with `frameK: `). */
  state: string;
}

export interface SourceRecord extends Base {
  kind: 'source';
  source: string;
  file?: string;
  sourceLine?: number;
}

export interface BranchRecord extends Base {
  kind: 'branch';
  from: number;
  to: number;
  speculative: boolean;
  safe: boolean;
  state: string;
}

export interface SafeRecord extends Base {
  kind: 'safe';
  insn: number;
}

export interface FuncInfoRecord extends Base {
  kind: 'func-info';
  subprog: number;
  insn: number;
}

export interface LiveRegsRecord extends Base {
  kind: 'live-regs';
  insn: number;
  /** 10 chars for r0..r9: '.' dead, digit live. */
  mask: string;
  scc?: number;
  opcode: string;
  asm: string;
}

export interface CallHeaderRecord extends Base {
  kind: 'call-header';
  which: 'caller' | 'callee' | 'returning' | 'to-caller';
  /** For `to caller at N:` */
  insn?: number;
}

export interface CallStateRecord extends Base {
  kind: 'call-state';
  state: string;
}

export interface ErrorRecord extends Base {
  kind: 'error';
  /** Id of the matching entry of the error catalog, if any. */
  errorClass?: string;
}

export interface StatsRecord extends Base {
  kind: 'stats';
  insnsProcessed: number;
  insnLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  markRead?: number;
}

export interface StatsTimeRecord extends Base {
  kind: 'stats-time';
  usec: number;
}

export interface StatsStackRecord extends Base {
  kind: 'stats-stack';
  depths: number[];
  /** ` max N` after the depths (7.x before 7.3). */
  max?: number;
}

export interface StatsInsnsRecord extends Base {
  kind: 'stats-insns';
  totals: number[];
}

export interface StatsStackMaxRecord extends Base {
  kind: 'stats-stack-max';
  depth: number;
}

export type SubprogKind = 'main' | 'global' | 'static';

export interface StatsSubprogRecord extends Base {
  kind: 'stats-subprog';
  index: number;
  name: string;
  subprogKind: SubprogKind;
  insnsSelf: number;
  insnsTotal: number;
  stack: number;
}

export interface AnalysisRecord extends Base {
  kind: 'analysis';
  /** Which part of the pre-walk analysis the line belongs to. */
  section: 'topo-order' | 'analyzing' | 'listing-header' | 'use-def-header' | 'insn';
  /** The instruction of an `insn` row. */
  insn?: number;
}

export interface DiagnosticRecord extends Base {
  kind: 'diagnostic';
  /** The block's first line (`Verification failed: …`) or one of the lines after it. */
  part: 'header' | 'body';
}

export interface LibbpfRecord extends Base {
  kind: 'libbpf';
  /** Text after `libbpf: `. */
  message: string;
  /** Program named in the line (`prog 'x': ...`), if any. */
  progName?: string;
  event?: 'begin-log' | 'end-log' | 'load-failed' | 'failed-errno' | 'btf-begin' | 'btf-end' | 'object-failed';
  errno?: number;
}

export interface WrapperRecord extends Base {
  kind: 'wrapper';
  tool: 'bpftool' | 'veristat' | 'cilium' | 'libbpf';
  event?: 'begin-log' | 'end-log' | 'summary' | 'omitted' | 'truncated' | 'table';
}

interface PlainRecord extends Base {
  kind: 'unknown' | 'blank' | 'live-regs-header' | 'precision' | 'stack-liveness' | 'info' | 'btf-log';
}

export type LogRecord =
  | InsnRecord
  | StateRecord
  | SourceRecord
  | BranchRecord
  | SafeRecord
  | FuncInfoRecord
  | LiveRegsRecord
  | CallHeaderRecord
  | CallStateRecord
  | ErrorRecord
  | StatsRecord
  | StatsTimeRecord
  | StatsStackRecord
  | StatsStackMaxRecord
  | StatsInsnsRecord
  | StatsSubprogRecord
  | AnalysisRecord
  | DiagnosticRecord
  | LibbpfRecord
  | WrapperRecord
  | PlainRecord;

/** The instruction index a record refers to, for indexing (-1 if none). */
export function recordInsn(r: LogRecord): number {
  switch (r.kind) {
    case 'insn':
    case 'state':
    case 'safe':
    case 'live-regs':
      return r.insn;
    case 'branch':
      return r.to;
    case 'call-header':
      return r.insn ?? -1;
    default:
      return -1;
  }
}
