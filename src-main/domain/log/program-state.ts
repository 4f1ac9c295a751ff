/**
 * Per-program accumulator: reads the kernel's own verdict, error, failing instruction and statistics
 * from the records of one program's log, and detects truncation.
 *
 * Verdict rules (from the log alone):
 * - `truncated`: the loader reported -ENOSPC (errno 28), or the log has no `processed ...` line (the
 *   tail was cut: every complete log at any level ends with it), or its head is missing (a rotated
 *   buffer of kernels ≥ 6.4 starts mid-line / mid-program);
 * - `rejected`: error text present, or the loader/wrapper says the load failed;
 * - `accepted`: complete log, no error, no load failure;
 * - `unknown`: nothing to judge from (e.g. an empty section);
 * - `not-loaded`: the kernel never saw the program because the loader stopped at another one of the
 *   same object (libbpf loads an object's programs in order and gives up at the first rejection);
 *   `blockedBy` names that program;
 * - `unsupported`: the loader could not even attempt the program on this kernel (a kfunc, a
 *   struct_ops type or an attach target the kernel lacks: a bpf qdisc before 6.16), or the kernel
 *   refused it with ENOTSUPP before verifying any instruction; `loaderError` holds the reason.
 * The last two come from the loader's lines (log-parser.ts calls `markNotLoaded` / `markUnsupported`).
 * The failing instruction is the last instruction line executed before the first error line.
 */
import type { LogRecord } from './records.ts';
import { matchError } from './error-catalog.ts';
import { parseKernelDiagnostics, type DiagnosticLine, type KernelDiagnostic } from './kernel-diagnostic.ts';

export type Verdict = 'accepted' | 'rejected' | 'truncated' | 'unknown' | 'not-loaded' | 'unsupported';
export const VERDICTS: readonly Verdict[] = ['accepted', 'rejected', 'truncated', 'unknown', 'not-loaded', 'unsupported'];

/** The kernel never saw the program (not-loaded, unsupported): there is nothing to replay. */
export function neverLoaded(v: Verdict): boolean {
  return v === 'not-loaded' || v === 'unsupported';
}
export type Wrapper = 'raw' | 'libbpf' | 'veristat' | 'cilium';

export interface ProgramStats {
  insnsProcessed?: number;
  insnLimit?: number;
  maxStatesPerInsn?: number;
  totalStates?: number;
  peakStates?: number;
  markRead?: number;
  verificationUsec?: number;
  /** Per-subprogram stack depths: `stack depth A+B` (≤ 7.2), or the subprog lines' `stack` (7.3+). */
  stackDepth?: number[];
  /** The deepest stack of a call chain: `stack depth max N` (7.3+), `stack depth A+B max N` (7.x). */
  stackDepthMax?: number;
  /** `insns processed A+B` (7.x before 7.3): insns_total of the main program and each global subprogram. */
  insnsTotals?: number[];
  /** One per `subprog N (name) kind insns_self A insns_total B stack C` line (7.3+), in order. */
  subprogs?: SubprogStats[];
}

export interface SubprogStats {
  index: number;
  name: string;
  kind: 'main' | 'global' | 'static';
  insnsSelf: number;
  insnsTotal: number;
  stack: number;
}

export interface ProgramSummary {
  index: number;
  name: string;
  wrapper: Wrapper;
  firstLine: number;
  lastLine: number;
  lines: number;
  unknownLines: number;
  verdict: Verdict;
  /** What was lost, for truncated logs: the head (rotated buffer), the tail (full buffer), or only a summary exists. */
  truncation: 'head' | 'tail' | 'head+tail' | 'summary-only' | null;
  error: string | null;
  errorClasses: string[];
  failInsn: number | null;
  failLine: number | null;
  stats: ProgramStats;
  /** Loader's own failure text (libbpf/veristat/cilium), if any. */
  loaderError: string | null;
  errno: number | null;
  /** Guessed log_level bits from what the log contains (1, 2, 4), null when undeterminable. */
  logLevel: number | null;
  /** Kernel-version hints from the log's spellings, e.g. "≥6.9 (source annotations with @ file:line)". */
  kernelHints: string[];
  /** The kernel's own diagnostic blocks (7.3+), in log order; the last is the one that rejected. */
  kernelDiagnostics: KernelDiagnostic[];
  /** The loader says the kernel refused the object's BTF: the program was loaded (judged) without it. */
  btfRefused: boolean;
  /** The program's ELF section when the loader named it (`tp_btf/task_newtask`): its program type. */
  section: string | null;
  /** The struct_ops callback the program implements (`Qdisc_ops` `enqueue`), when libbpf said so. */
  structOps: { type: string; member: string } | null;
  /** For a `not-loaded` program: the program of the same object whose rejection stopped the loader. */
  blockedBy: string | null;
}

const MAX_ERROR_CHARS = 64 * 1024;
/** Subprogram statistics kept per program (a program has at most BPF_MAX_SUBPROGS = 256). */
const MAX_SUBPROGS = 1024;
/** Lines of diagnostic blocks kept per program (a block is ~40–300 lines; a leak prints one per reference). */
const MAX_DIAGNOSTIC_LINES = 20_000;
const HINT_LINES = 4000;

const HINTS: readonly { re: RegExp; hint: string; kinds: readonly string[] }[] = [
  { re: /=inv(?:P)?[-\d(]|=inv\b/, hint: '≤5.17 (scalars printed as inv)', kinds: ['state', 'insn', 'branch'] },
  { re: /R\d+_[rwD]+=/, hint: '≤6.17 (liveness marks like _w)', kinds: ['state', 'insn', 'branch'] },
  { re: / @ [^ ]+:\d+$/, hint: '≥6.9 (source annotations with @ file:line)', kinds: ['source'] },
  { re: /non_own_ref/, hint: '≥6.3 (non-owning references)', kinds: ['state', 'insn', 'branch'] },
  { re: /\brcu_ptr_/, hint: '≥6.2 (rcu_ pointers)', kinds: ['state', 'insn', 'branch'] },
  { re: /^Live regs before insn/, hint: '≥6.15 (live-regs table)', kinds: ['live-regs-header'] },
  { re: /^BPF_EXIT instruction in main prog/, hint: '≥6.13 (consolidated leak/lock messages)', kinds: ['error'] },
  { re: /\(map=/, hint: '≥6.8 (map= in map_value attributes)', kinds: ['state', 'insn', 'branch'] },
  { re: /\(id=0,/, hint: '≤5.17 (zero ids printed)', kinds: ['state', 'insn', 'branch'] },
];

const HEAD_OK_KINDS = new Set([
  'func-info',
  'live-regs-header',
  'info',
  'stats',
  'stats-time',
  'stats-stack',
  'stats-stack-max',
  'stats-insns',
  'stats-subprog',
  'analysis',
  'error',
  'precision',
]);

export class ProgramState {
  readonly summary: ProgramSummary;
  private firstContentSeen = false;
  private structured = 0;
  private headLost = false;
  private lastInsn: number | null = null;
  private errorParts: string[] = [];
  private errorChars = 0;
  private sawStats = false;
  private level1 = false;
  private level2 = false;
  private level4 = false;
  private hints = new Set<string>();
  private hintBudget = HINT_LINES;
  private diagnosticLines: DiagnosticLine[] = [];
  wrapperVerdict: 'success' | 'failure' | null = null;
  /** Set by wrappers that know lines are missing (cilium `(N line(s) omitted)`, `(truncated)`). */
  wrapperTruncation: 'head' | 'tail' | 'summary-only' | null = null;

  constructor(index: number, name: string, wrapper: Wrapper, firstLine: number) {
    this.summary = {
      index,
      name,
      wrapper,
      firstLine,
      lastLine: firstLine,
      lines: 0,
      unknownLines: 0,
      verdict: 'unknown',
      truncation: null,
      error: null,
      errorClasses: [],
      failInsn: null,
      failLine: null,
      stats: {},
      loaderError: null,
      errno: null,
      logLevel: null,
      kernelHints: [],
      kernelDiagnostics: [],
      btfRefused: false,
      section: null,
      structOps: null,
      blockedBy: null,
    };
  }

  /** What the loader said of a program it never handed to the kernel (see the verdict rules). */
  private loaderOutcome: { kind: 'not-loaded'; blockedBy: string } | { kind: 'unsupported' } | null = null;

  markNotLoaded(blockedBy: string, message: string): void {
    this.loaderOutcome = { kind: 'not-loaded', blockedBy };
    this.noteLoaderError(message, undefined);
  }

  markUnsupported(reason: string): void {
    this.loaderOutcome = { kind: 'unsupported' };
    this.noteLoaderError(reason, undefined);
  }

  /** True once the program has a line of the verifier's trace/statistics grammar. */
  get hasStructure(): boolean {
    return this.structured > 0;
  }

  get complete(): boolean {
    return this.sawStats;
  }

  /** Account one record of this program (kernel text or wrapper lines inside the program's section). */
  add(r: LogRecord): void {
    const s = this.summary;
    s.lines += 1;
    s.lastLine = r.line;
    if (r.kind === 'unknown') s.unknownLines += 1;
    else if (r.kind !== 'blank' && r.kind !== 'wrapper' && r.kind !== 'libbpf') this.structured += 1;
    if (!this.firstContentSeen && r.kind !== 'blank' && r.kind !== 'wrapper' && r.kind !== 'libbpf') {
      this.firstContentSeen = true;
      this.headLost = !this.headLooksIntact(r);
    }
    if (this.hintBudget > 0) {
      this.hintBudget -= 1;
      for (const h of HINTS) if (h.kinds.includes(r.kind) && h.re.test(r.text)) this.hints.add(h.hint);
    }
    switch (r.kind) {
      case 'insn':
        this.level1 = true;
        // A glued `N: state` (level-1 rewind) belongs to a popped branch; the instruction itself ran.
        this.lastInsn = r.insn;
        break;
      case 'state':
      case 'source':
        this.level1 = true;
        break;
      case 'func-info':
      case 'live-regs-header':
      case 'branch':
      case 'precision':
      case 'stack-liveness':
        this.level2 = true;
        break;
      case 'error':
        if (s.failLine === null) {
          s.failLine = r.line;
          s.failInsn = this.lastInsn;
        }
        if (r.errorClass && !s.errorClasses.includes(r.errorClass)) s.errorClasses.push(r.errorClass);
        if (this.errorChars < MAX_ERROR_CHARS) {
          // cilium/ebpf indents the kernel's lines by one TAB; the error text is the kernel's own.
          const t = s.wrapper === 'cilium' && r.text.startsWith('\t') ? r.text.slice(1) : r.text;
          this.errorParts.push(t);
          this.errorChars += t.length + 1;
        }
        break;
      case 'stats':
        this.sawStats = true;
        s.stats.insnsProcessed = r.insnsProcessed;
        if (r.insnLimit !== undefined) s.stats.insnLimit = r.insnLimit;
        if (r.maxStatesPerInsn !== undefined) s.stats.maxStatesPerInsn = r.maxStatesPerInsn;
        if (r.totalStates !== undefined) s.stats.totalStates = r.totalStates;
        if (r.peakStates !== undefined) s.stats.peakStates = r.peakStates;
        if (r.markRead !== undefined) s.stats.markRead = r.markRead;
        break;
      case 'stats-time':
        this.level4 = true;
        s.stats.verificationUsec = r.usec;
        break;
      case 'stats-stack':
        this.level4 = true;
        s.stats.stackDepth = r.depths;
        if (r.max !== undefined) s.stats.stackDepthMax = r.max;
        break;
      case 'stats-insns':
        this.level4 = true;
        s.stats.insnsTotals = r.totals;
        break;
      case 'stats-stack-max':
        this.level4 = true;
        s.stats.stackDepthMax = r.depth;
        break;
      case 'stats-subprog': {
        this.level4 = true;
        const subs = (s.stats.subprogs ??= []);
        if (subs.length < MAX_SUBPROGS) subs.push({ index: r.index, name: r.name, kind: r.subprogKind, insnsSelf: r.insnsSelf, insnsTotal: r.insnsTotal, stack: r.stack });
        break;
      }
      case 'analysis':
        this.level2 = true;
        break;
      case 'diagnostic':
        if (this.diagnosticLines.length < MAX_DIAGNOSTIC_LINES) this.diagnosticLines.push({ line: r.line, text: r.text });
        break;
      default:
        break;
    }
  }

  private headLooksIntact(r: LogRecord): boolean {
    if (HEAD_OK_KINDS.has(r.kind)) return true;
    if (r.kind === 'state' || r.kind === 'insn') return r.insn === 0;
    // ≤5.16 level 1 may start with a branch snapshot only after insn 0 was printed; a source line
    // of the function signature precedes insn 0 on ≥6.9 only after the `0: R1=...` state.
    return false;
  }

  /** Error text known from a wrapper rather than from a kernel line (cilium's one-line summary). */
  addExternalError(message: string): void {
    for (const part of message.split(': ')) {
      const cls = matchError(part);
      if (cls && !this.summary.errorClasses.includes(cls)) this.summary.errorClasses.push(cls);
    }
    this.errorParts.push(message);
    this.errorChars += message.length;
  }

  noteLoaderError(message: string, errno: number | undefined): void {
    const s = this.summary;
    if (s.loaderError === null) s.loaderError = message;
    if (errno !== undefined) s.errno = errno;
  }

  finish(): ProgramSummary {
    const s = this.summary;
    s.error = this.errorParts.length > 0 ? this.errorParts.join('\n') : null;
    s.kernelHints = [...this.hints];
    // 7.3 prints no `stack depth A+B`: the same depths, one per subprogram, from its subprog lines.
    if (s.stats.subprogs && s.stats.stackDepth === undefined) s.stats.stackDepth = s.stats.subprogs.map((x) => x.stack);
    s.kernelDiagnostics = parseKernelDiagnostics(this.diagnosticLines);
    this.diagnosticLines = [];
    const bits = (this.level1 ? 1 : 0) | (this.level2 ? 2 : 0) | (this.level4 ? 4 : 0);
    s.logLevel = bits === 0 ? null : bits | (this.level2 ? 1 : 0);

    const outcome = this.loaderOutcome;
    if (outcome !== null && s.lines === 0 && this.errorParts.length === 0) {
      // Never reached the kernel: nothing of the kernel's to judge, the loader's word is the verdict.
      s.verdict = outcome.kind;
      s.blockedBy = outcome.kind === 'not-loaded' ? outcome.blockedBy : null;
      s.failInsn = null;
      return s;
    }
    const loadFailed = s.loaderError !== null || s.errno !== null || this.wrapperVerdict === 'failure';
    // ENOTSUPP (524) after verifying nothing, with no error of the verifier's: the kernel cannot
    // take this program at all (a struct_ops type it was built without: sched_ext on 6.18 here).
    if (loadFailed && s.errno === 524 && this.errorParts.length === 0 && s.stats.insnsProcessed === 0) {
      s.verdict = 'unsupported';
      s.loaderError = `${s.loaderError ?? 'load failed'}: the kernel verified no instruction (ENOTSUPP): it does not support this program's type or struct_ops target`;
      s.failInsn = null;
      return s;
    }
    const tailLost = !this.sawStats && (s.lines > 0 || this.wrapperTruncation === 'tail');
    const enospc = s.errno === 28;
    if (this.wrapperTruncation === 'summary-only') {
      s.truncation = 'summary-only';
    } else if (this.headLost && tailLost) {
      s.truncation = 'head+tail';
    } else if (this.headLost || this.wrapperTruncation === 'head') {
      s.truncation = 'head';
    } else if (tailLost || this.wrapperTruncation === 'tail') {
      s.truncation = 'tail';
    } else if (enospc) {
      s.truncation = 'tail';
    }

    if (s.truncation === 'summary-only') {
      s.verdict = s.error !== null || loadFailed ? 'rejected' : 'unknown';
    } else if (s.truncation !== null || enospc) {
      s.verdict = s.lines === 0 && !loadFailed ? 'unknown' : 'truncated';
    } else if (s.error !== null || loadFailed) {
      s.verdict = 'rejected';
      if (s.error === null && s.loaderError !== null) s.error = s.loaderError;
    } else if (this.sawStats) {
      s.verdict = 'accepted';
    } else {
      s.verdict = 'unknown';
    }
    if (s.verdict !== 'rejected') s.failInsn = null;
    return s;
  }
}
