/**
 * Streaming verifier-log parser: lines in, typed records and per-program summaries out.
 *
 * Contract: feed every line of a file, in order, to `push(line)`; call `finish()` once. The parser
 * calls `sink.record(record, line)` exactly once per input line, in input order (a few free-text
 * lines may be held back until the next line tells whether they are the kernel's error text), and
 * `sink.program(summary)` once per program from `finish()`. Memory is bounded by the held-back lines
 * (at most 4096 lines and 8 MiB) and the per-program summaries (kept to the end: a loader line
 * after a program can still change its verdict), never by the log size. The number of programs is
 * capped (`maxPrograms`, default 100 000, ~2.5 KB each): one more throws a `TooManyProgramsError`
 * naming the line, so a crafted file of millions of one-line programs is refused, not a crash.
 *
 * It understands, in one pass and in any mix: raw kernel text (one or several programs; a new program
 * starts after each `processed ...` line), libbpf/bpftool output with BEGIN/END brackets, veristat -v,
 * and cilium/ebpf `%+v` / one-line errors. Program names come from the wrapper; raw kernel text gets
 * `prog0`, `prog1`, … in order.
 */
import type { LineInfo } from './line-reader.ts';
import type { LogRecord } from './records.ts';
import { ANALYSIS_BODY_RE, classifyKernelLine, NOTICE_OR_ERROR_RES, type KernelLineBody } from './line-grammar.ts';
import { errorClassOfLine } from './error-catalog.ts';
import { ProgramState, type ProgramSummary, type Wrapper } from './program-state.ts';
import { DIAGNOSTIC_SECTION_RE } from './kernel-diagnostic.ts';
import {
  errnoFromStrerror,
  kernelTextOf,
  matchBpftool,
  matchCiliumHeader,
  matchCiliumMarker,
  matchCiliumSummary,
  matchLibbpf,
  matchLibbpfEnd,
  matchVeristatHeader,
  matchVeristatTable,
} from './wrappers.ts';

export interface LogSink {
  record(rec: LogRecord, line: LineInfo): void;
  program(summary: ProgramSummary): void;
}

/** What the loader said about a program before its log (see LogParser.programInfo). */
export interface ProgramInfo {
  section: string | null;
  btfRefused: boolean;
  structOps: { type: string; member: string } | null;
}

export interface ParseTotals {
  lines: number;
  unknownLines: number;
  programs: number;
  /** The wrappers seen, e.g. ['libbpf'] for bpftool -d output. */
  formats: Wrapper[];
}

/** Programs one file may hold (see the contract above). */
export const MAX_PROGRAMS = 100_000;

export class TooManyProgramsError extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`more than ${limit} programs in one file (program ${limit + 1} starts here); split the log and ingest the parts`);
    this.name = 'TooManyProgramsError';
  }
}

/** libbpf's report that the kernel refused the object's BTF (errno as a number or, from libbpf 1.5, a name). */
const BTF_REFUSED_RE = /^Error loading \.BTF into kernel: -?\w+\. BTF is (?:optional|mandatory)/;

/** libbpf: a program whose autoload is off (`SEC("?…")`, or kptrscope-load --each loading another). */
const SKIPPED_RE = /^prog '([^']+)': skipped (?:auto-)?loading$/;
const STRUCT_OPS_TYPE_RE = /^struct_ops init: struct (\w+)\(type_id=\d+\) (\w+) found/;
const STRUCT_OPS_MEMBER_RE = /^struct_ops init_kern (\w+): func ptr (\w+) is set to prog (\w+)/;


/** How many free-text lines may be held back before they are released as unknown. */
const MAX_HELD = 4096;
/** … and how many bytes of them (4096 free lines of 10 MB each must not sit in memory). */
export const MAX_HELD_BYTES = 8 << 20;

type Section =
  | { kind: 'none' }
  | { kind: 'raw'; prog: ProgramState }
  | { kind: 'libbpf'; prog: ProgramState }
  | { kind: 'btf-log' }
  | { kind: 'veristat'; prog: ProgramState }
  | { kind: 'cilium'; prog: ProgramState };

interface Held {
  line: LineInfo;
  body: string;
  prog: ProgramState | null;
  /** A blank line held with the free text around it (see kernelLineBody). */
  blank?: boolean;
}

export class LogParser {
  private section: Section = { kind: 'none' };
  private programs: ProgramState[] = [];
  private byName = new Map<string, ProgramState>();
  /** Loader lines about `name` refer to the newest program of that name. */
  private latestByName = new Map<string, ProgramState>();
  private held: Held[] = [];
  private heldBytes = 0;
  private wrapperSeen = new Set<Wrapper>();
  /** Loader failures of programs whose log has not begun (or never will): `reason` is the loader's
   * complaint before the failure line (libbpf's own, when the kernel never saw the program). */
  private pendingLoader = new Map<string, { message: string; errno?: number; blockedBy?: string; reason?: string }>();
  private rawCount = 0;
  private totals = { lines: 0, unknownLines: 0 };
  /** The program that the last `processed` line closed in raw mode (later blank lines stay run-level). */
  private closedRaw = false;

  private readonly maxPrograms: number;

  constructor(
    private readonly sink: LogSink,
    opts: { maxPrograms?: number } = {},
  ) {
    this.maxPrograms = opts.maxPrograms ?? MAX_PROGRAMS;
  }

  push(line: LineInfo): void {
    this.totals.lines += 1;
    const text = line.text;
    const sec = this.section;

    // Inside a libbpf bracket: everything is kernel text until the END marker.
    if (sec.kind === 'libbpf') {
      const end = matchLibbpfEnd(text);
      if (end) {
        if (end.before !== '') {
          // The log's last line had no newline (a cut log): the line is that kernel line, and the
          // END marker glued to it closes the program.
          this.kernelLine(line, end.before, sec.prog);
          this.flushHeld(false);
        } else {
          this.flushHeld(false);
          this.emit({ kind: 'wrapper', tool: 'libbpf', event: 'end-log' }, line, sec.prog);
        }
        this.section = { kind: 'none' };
        return;
      }
      this.kernelLine(line, text, sec.prog);
      return;
    }
    if (sec.kind === 'btf-log') {
      const lb = matchLibbpf(text);
      if (lb?.event === 'btf-end' || text.startsWith('-- END BTF LOAD LOG')) {
        this.emitLibbpf(line, lb ?? { message: text }, null);
        this.section = { kind: 'none' };
      } else {
        this.emit({ kind: 'btf-log' }, line, null);
      }
      return;
    }
    if (sec.kind === 'cilium') {
      if (text.startsWith('\t')) {
        const inner = text.slice(1);
        const mk = matchCiliumMarker(inner);
        if (mk) {
          this.flushHeld(false);
          if (mk.truncated) sec.prog.wrapperTruncation = sec.prog.wrapperTruncation ?? 'tail';
          if (mk.omitted !== undefined) sec.prog.wrapperTruncation = sec.prog.summary.lines <= 1 ? 'head' : 'tail';
          this.emit({ kind: 'wrapper', tool: 'cilium', event: mk.truncated ? 'truncated' : 'omitted' }, line, sec.prog);
          return;
        }
        const innerText = kernelTextOf(inner);
        if (this.inDiagnostic(sec.prog, innerText)) {
          this.emitDiagnosticBody(line, innerText, sec.prog);
          return;
        }
        const body = classifyKernelLine(innerText);
        // The class an error line gets from its text alone (what the store rebuilds).
        if (body.kind === 'error') body.errorClass = errorClassOfLine(line.text);
        this.kernelLineBody(line, body, sec.prog);
        return;
      }
      this.flushHeld(true);
      this.section = { kind: 'none' };
      // fall through: this line is outside the cilium block
    }

    // Wrapper lines (any section other than a bracket).
    const lb = matchLibbpf(text);
    if (lb) {
      this.wrapperSeen.add('libbpf');
      // A loader line outside a bracket ends the kernel text before it: held free text is settled
      // now (records stay in input order) and each program keeps one contiguous line range.
      this.endOpenSection();
      this.handleLibbpf(line, lb);
      return;
    }
    const vh = text.charCodeAt(0) === 80 /* P */ ? matchVeristatHeader(text) : null;
    if (vh) {
      this.wrapperSeen.add('veristat');
      this.endOpenSection();
      const prog = this.openProgram(vh.prog, 'veristat', line.no);
      prog.wrapperVerdict = vh.verdict;
      this.section = { kind: 'veristat', prog };
      this.emit({ kind: 'wrapper', tool: 'veristat', event: 'begin-log' }, line, prog);
      return;
    }
    const cur = this.section;
    if (cur.kind === 'none' || (cur.kind === 'veristat' && cur.prog.complete)) {
      if (this.wrapperSeen.has('veristat') && matchVeristatTable(text)) {
        this.endOpenSection();
        this.emit({ kind: 'wrapper', tool: 'veristat', event: 'table' }, line, null);
        return;
      }
      if (matchBpftool(text)) {
        this.emit({ kind: 'wrapper', tool: 'bpftool' }, line, null);
        return;
      }
      const ch = matchCiliumHeader(text);
      if (ch) {
        this.wrapperSeen.add('cilium');
        this.endOpenSection();
        const prog = this.openProgram(ch.prog ?? `prog${this.rawCount++}`, 'cilium', line.no);
        prog.noteLoaderError(`load program: ${ch.errnoText}`, errnoFromStrerror(ch.errnoText));
        this.section = { kind: 'cilium', prog };
        this.emit({ kind: 'wrapper', tool: 'cilium', event: 'begin-log' }, line, prog);
        return;
      }
      const cs = matchCiliumSummary(text);
      if (cs) {
        this.wrapperSeen.add('cilium');
        this.endOpenSection();
        const prog = this.openProgram(cs.prog ?? `prog${this.rawCount++}`, 'cilium', line.no);
        prog.noteLoaderError(`load program: ${cs.errnoText}`, errnoFromStrerror(cs.errnoText));
        prog.wrapperTruncation = 'summary-only';
        this.emit({ kind: 'wrapper', tool: 'cilium', event: 'summary' }, line, prog);
        // The summary's message is the kernel's last line(s), joined by ': '.
        prog.addExternalError(cs.message);
        return;
      }
    }

    // Kernel text.
    if (cur.kind === 'raw' || cur.kind === 'veristat') {
      if (cur.prog.complete) {
        // After `processed ...`: blank lines stay with the run; anything else starts a new program.
        if (text.trim() === '') {
          this.emit({ kind: 'blank' }, line, null);
          return;
        }
        this.endOpenSection();
      } else {
        this.kernelLine(line, text, cur.prog);
        return;
      }
    }
    // No open program.
    if (text.trim() === '') {
      this.emit({ kind: 'blank' }, line, null);
      return;
    }
    const body = classifyKernelLine(kernelTextOf(text));
    const wrapped = this.wrapperSeen.size > 0;
    if (wrapped && (body.kind === 'free' || body.kind === 'unknown')) {
      // Text around a tool's output that is not kernel text: kept, counted as unknown.
      this.emit({ kind: 'unknown' }, line, null);
      return;
    }
    const prog = this.openProgram(`prog${this.rawCount++}`, 'raw', line.no);
    this.section = { kind: 'raw', prog };
    this.kernelLineBody(line, body, prog);
  }

  /** What the loader said about program `idx` before its log (known from its first record on):
   * its ELF section, and whether its object's BTF was refused. */
  programInfo(idx: number): ProgramInfo {
    const s = this.programs[idx]?.summary;
    return { section: s?.section ?? null, btfRefused: s?.btfRefused ?? false, structOps: s?.structOps ?? null };
  }

  finish(): ParseTotals {
    this.endOpenSection();
    this.flushHeld(true);
    // Loader failures for programs that never printed a log (e.g. a kfunc missing from the kernel).
    // None reached the kernel: blocked by another program of the object, or unsupported here.
    for (const [name, info] of this.pendingLoader) {
      const p = this.openProgram(name, 'libbpf', 0);
      if (info.blockedBy !== undefined) p.markNotLoaded(info.blockedBy, info.message);
      else p.markUnsupported(info.reason ?? info.message);
      if (info.errno !== undefined) p.noteLoaderError(info.message, info.errno);
    }
    this.pendingLoader.clear();
    for (const p of this.programs) this.sink.program(p.finish());
    return {
      lines: this.totals.lines,
      unknownLines: this.totals.unknownLines,
      programs: this.programs.length,
      formats: this.wrapperSeen.size > 0 ? [...this.wrapperSeen] : ['raw'],
    };
  }

  // --- helpers ---------------------------------------------------------------------------------

  private handleLibbpf(line: LineInfo, lb: ReturnType<typeof matchLibbpf> & object): void {
    switch (lb.event) {
      case 'begin-log': {
        this.endOpenSection();
        const name = lb.progName ?? this.lastMentionedProg ?? `prog${this.rawCount++}`;
        const prog = this.openProgram(name, 'libbpf', line.no);
        const pending = this.pendingLoader.get(name);
        // A program an earlier load of the object never reached (blockedBy) reaches the kernel in
        // this one (kptrscope-load --each): that earlier load says nothing about it.
        if (pending && pending.blockedBy === undefined) prog.noteLoaderError(pending.message, pending.errno);
        if (pending) this.pendingLoader.delete(name);
        this.emitLibbpf(line, lb, prog);
        this.section = { kind: 'libbpf', prog };
        return;
      }
      case 'btf-begin':
        this.endOpenSection();
        this.emitLibbpf(line, lb, null);
        this.section = { kind: 'btf-log' };
        return;
      case 'load-failed':
      case 'failed-errno': {
        const name = lb.progName ?? this.lastMentionedProg;
        const errno = lb.errno ?? errnoFromStrerror(lb.message);
        const prog = name !== undefined ? this.latestByName.get(name) : undefined;
        if (name !== undefined) this.failedInObject ??= name;
        if (prog) prog.noteLoaderError(lb.message, errno);
        else if (name !== undefined) {
          // What an earlier load of the object said of a program it never reached does not count.
          const earlier = this.pendingLoader.get(name);
          const prev = earlier?.blockedBy === undefined ? earlier : undefined;
          const reason = prev?.reason ?? this.lastLoaderProblem;
          this.pendingLoader.set(name, { message: prev?.message ?? lb.message, errno: errno ?? prev?.errno, ...(reason !== undefined ? { reason } : {}) });
        }
        // Loader lines stay run-level so that each program's lines are one contiguous range.
        this.emitLibbpf(line, lb, null);
        return;
      }
      case 'object-failed': {
        // libbpf gave up before the kernel saw some programs it found. After a program failed, the
        // others were never tried: not-loaded, blocked by it. Before any (a kfunc or struct_ops type
        // missing from this kernel: 6.1, a qdisc on 6.12) none could be: unsupported, with the
        // loader's last complaint. Programs the loader skipped on purpose (autoload off) are neither.
        const reason = this.lastLoaderProblem ?? lb.message;
        const blocker = this.failedInObject;
        for (const name of this.foundPrograms) {
          if (name === blocker || this.skipped.has(name) || this.latestByName.has(name) || this.pendingLoader.has(name)) continue;
          this.pendingLoader.set(name, blocker !== undefined ? { message: `not loaded: the loader stopped at '${blocker}'`, blockedBy: blocker } : { message: reason });
        }
        this.emitLibbpf(line, lb, null);
        return;
      }
      default: {
        if (lb.progName !== undefined) this.lastMentionedProg = lb.progName;
        // Functions in `.text` are subprograms, loaded with the programs that call them.
        const found = /^sec '(?!\.text')([^']*)': found program '([^']+)'/.exec(lb.message);
        let so: RegExpExecArray | null;
        if (found) {
          this.foundPrograms.push(found[2] as string);
          this.sectionByName.set(found[2] as string, found[1] as string);
        } else if ((so = STRUCT_OPS_TYPE_RE.exec(lb.message))) {
          this.structOpsType.set(so[2] as string, so[1] as string);
        } else if ((so = STRUCT_OPS_MEMBER_RE.exec(lb.message))) {
          const type = this.structOpsType.get(so[1] as string);
          if (type !== undefined) this.structOpsOf.set(so[3] as string, { type, member: so[2] as string });
        } else if (/^loading (?:object from )?\S+\.o$/.test(lb.message)) {
          // A new object (bpftool output of several objects, concatenated, or one load per program
          // as kptrscope-load --each does): what libbpf said of the previous one does not carry over.
          this.btfRefused = false;
          this.foundPrograms = [];
          this.skipped.clear();
          this.failedInObject = undefined;
          this.lastLoaderProblem = undefined;
        } else if ((so = SKIPPED_RE.exec(lb.message))) {
          this.skipped.add(so[1] as string);
        } else if (BTF_REFUSED_RE.test(lb.message)) {
          // The object's BTF was refused: every program loaded after this line was judged without it.
          this.btfRefused = true;
          for (const p of this.programs) if (p.summary.firstLine >= line.no) p.summary.btfRefused = true;
          // `BTF is mandatory, can't proceed`: the reason the object then fails to load.
          this.lastLoaderProblem = lb.message;
        }
        else if (/not found|failed|error|invalid|unsupported|cannot|can't/i.test(lb.message) && !/skipping optional step/.test(lb.message)) this.lastLoaderProblem = lb.message;
        this.emitLibbpf(line, lb, null);
      }
    }
  }

  private lastMentionedProg: string | undefined;
  /** Programs libbpf reported finding in the object (`sec '…': found program 'NAME'`), in order. */
  private foundPrograms: string[] = [];
  /** Programs of this object the loader did not try on purpose (`prog 'X': skipped loading`). */
  private skipped = new Set<string>();
  /** The first program of this object whose load failed: libbpf stops there. */
  private failedInObject: string | undefined;
  /** The loader said the kernel refused the object's BTF (libbpf: `Error loading .BTF into kernel: -40.
   * BTF is optional, ignoring.`, or `… BTF is mandatory, can't proceed.`). */
  private btfRefused = false;
  /** struct_ops map name → its type, and program → the struct_ops member it implements (libbpf's
   * `struct_ops init: struct T(type_id=N) NAME found`, `struct_ops init_kern NAME: func ptr M is set to prog P`). */
  private structOpsType = new Map<string, string>();
  private structOpsOf = new Map<string, { type: string; member: string }>();
  /** The ELF section of each program libbpf found (its program type: prog-types.ts). */
  private sectionByName = new Map<string, string>();
  /** The last libbpf line that reads like a problem, the reason for an object that failed to load. */
  private lastLoaderProblem: string | undefined;

  private emitLibbpf(line: LineInfo, lb: { message: string; progName?: string; event?: string; errno?: number }, prog: ProgramState | null): void {
    const rec: Record<string, unknown> = { kind: 'libbpf', message: lb.message };
    if (lb.progName !== undefined) rec.progName = lb.progName;
    if (lb.event !== undefined) rec.event = lb.event;
    if (lb.errno !== undefined) rec.errno = lb.errno;
    this.emit(rec as unknown as KernelLineBody, line, prog);
  }

  private openProgram(name: string, wrapper: Wrapper, firstLine: number): ProgramState {
    // The same name twice in one file (e.g. a log pasted twice) gets `name#2`, `name#3`, …
    if (this.programs.length >= this.maxPrograms) throw new TooManyProgramsError(firstLine || this.totals.lines, this.maxPrograms);
    let unique = name;
    for (let i = 2; this.byName.has(unique); i++) unique = `${name}#${i}`;
    const p = new ProgramState(this.programs.length, unique, wrapper, firstLine);
    p.summary.section = this.sectionByName.get(name) ?? null;
    p.summary.btfRefused = this.btfRefused;
    p.summary.structOps = this.structOpsOf.get(name) ?? null;
    this.programs.push(p);
    this.byName.set(unique, p);
    this.latestByName.set(name, p);
    return p;
  }

  private endOpenSection(): void {
    const sec = this.section;
    if (sec.kind === 'raw' || sec.kind === 'veristat' || sec.kind === 'cilium' || sec.kind === 'libbpf') {
      this.flushHeld(true);
    }
    this.section = { kind: 'none' };
  }

  private kernelLine(line: LineInfo, text: string, prog: ProgramState): void {
    const k = kernelTextOf(text);
    if (this.inDiagnostic(prog, k)) {
      this.emitDiagnosticBody(line, k, prog);
      return;
    }
    if (this.analysisOf === prog) {
      const m = ANALYSIS_BODY_RE.exec(k);
      if (m) {
        this.kernelLineBody(line, m[1] !== undefined ? { kind: 'analysis', section: 'insn', insn: Number(m[1]) } : { kind: 'analysis', section: 'insn' }, prog);
        return;
      }
    }
    const body = classifyKernelLine(k);
    this.analysisOf = body.kind === 'analysis' ? prog : null;
    this.kernelLineBody(line, body, prog);
  }

  /** The program whose pre-walk analysis sections (7.x level 2) are being read: inside them an
   * instruction row is the analysis's, however it is padded (`%3d: ` loses its padding from 100). */
  private analysisOf: ProgramState | null = null;

  /** The program whose diagnostic block (7.3: `Verification failed: …`) is being read, if any. */
  private diagnosticOf: ProgramState | null = null;

  /** True when `text` continues the open diagnostic block of `prog`: the block's lines after its
   * first are blank, indented, or one of its section headings at column 0. Anything else ends it. */
  private inDiagnostic(prog: ProgramState, text: string): boolean {
    if (this.diagnosticOf !== prog) return false;
    if (text === '' || text.charCodeAt(0) === 32 || text.charCodeAt(0) === 9 || DIAGNOSTIC_SECTION_RE.test(text)) return true;
    this.diagnosticOf = null;
    return false;
  }

  private emitDiagnosticBody(line: LineInfo, text: string, prog: ProgramState): void {
    this.emit(text.trim() === '' ? { kind: 'blank' } : { kind: 'diagnostic', part: 'body' }, line, prog);
  }

  private kernelLineBody(line: LineInfo, body: KernelLineBody, prog: ProgramState): void {
    if (body.kind === 'diagnostic') {
      // The block follows the kernel's one-line message (and a blank line): free text held before
      // it is that message.
      if (this.held.length > 0) this.flushHeld(true, true, true);
      this.diagnosticOf = prog;
      this.emit(body, line, prog);
      return;
    }
    if (body.kind === 'blank' && this.held.length > 0) {
      // Held too: a diagnostic block may follow (7.3 prints `message`, a blank line, the block).
      this.held.push({ line, body: '', prog, blank: true });
      return;
    }
    if (body.kind === 'free') {
      this.held.push({ line, body: line.text, prog });
      this.heldBytes += line.raw.length;
      if (this.held.length > MAX_HELD || this.heldBytes > MAX_HELD_BYTES) this.flushHeld(false);
      return;
    }
    // A structured line: held free text before it is unknown — unless this is the statistics
    // block, which follows the error text.
    const endsProgram =
      body.kind === 'stats' || body.kind === 'stats-time' || body.kind === 'stats-stack' || body.kind === 'stats-stack-max' || body.kind === 'stats-insns' || body.kind === 'stats-subprog';
    if (this.held.length > 0) this.flushHeld(endsProgram, endsProgram);
    this.emit(body, line, prog);
  }

  /**
   * Release held free-text lines as error text (`asError`) or as unknown lines. Free text right
   * before the statistics is the kernel's error even when the program printed nothing else (a
   * load rejected before the walk, e.g. "multiple exception callback tags for main subprog"):
   * the statistics prove it is a verifier log (`beforeStats`).
   */
  private flushHeld(asError: boolean, beforeStats = false, throughBlanks = false): void {
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.flushing = true;
    // A held blank line ends the text before it as unknown (what it did before blanks were held),
    // unless a diagnostic block follows (`throughBlanks`).
    let lastBlank = -1;
    if (!throughBlanks) for (let i = held.length - 1; i >= 0 && lastBlank < 0; i--) if (held[i]?.blank) lastBlank = i;
    for (const [i, h] of held.entries()) {
      if (h.blank) {
        this.emit({ kind: 'blank' }, h.line, h.prog);
        continue;
      }
      // Free text is the kernel's error only inside a program that has verifier lines: a text
      // file that is not a log does not become "errors".
      const isError = i > lastBlank && asError && h.prog !== null && (beforeStats || h.prog.hasStructure);
      const errorClass = isError ? errorClassOfLine(h.line.text) : undefined;
      const notice = !isError && h.prog !== null && NOTICE_OR_ERROR_RES.some((re) => re.test(kernelTextOf(h.line.text)));
      this.emit(isError ? (errorClass !== undefined ? { kind: 'error', errorClass } : { kind: 'error' }) : { kind: notice ? 'info' : 'unknown' }, h.line, h.prog);
    }
    this.flushing = false;
  }

  private flushing = false;

  private emit(body: KernelLineBody | { kind: 'unknown' }, line: LineInfo, prog: ProgramState | null): void {
    // Records leave in line order: free text still held back (waiting to learn whether it is the
    // kernel's error) goes first — as error text if its program has verifier lines.
    if (!this.flushing && this.held.length > 0) this.flushHeld(true);
    // Bodies are fresh objects from the grammar: completing them in place is much cheaper than a
    // spread copy on the hot path (millions of lines).
    const rec = body as unknown as LogRecord;
    rec.line = line.no;
    rec.text = line.text;
    rec.program = prog ? prog.summary.index : -1;
    if (rec.kind === 'unknown') this.totals.unknownLines += 1;
    if (prog) prog.add(rec);
    this.sink.record(rec, line);
  }
}
