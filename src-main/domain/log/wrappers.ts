/**
 * Recognisers for the wrappers tools put around the kernel's verifier log.
 *
 * - libbpf debug/warn lines (`libbpf: ...`), its `prog 'X': -- BEGIN PROG LOAD LOG --` / `-- END PROG
 *   LOAD LOG --` brackets (and libbpf < 0.7's `-- BEGIN DUMP LOG ---` / `-- END LOG --`), its BTF load log
 *   brackets, load-failure lines with errno;
 * - bpftool's own lines (`Error: ...`, `Warning: ...` and its strict-mode notice);
 * - veristat -v (`PROCESSING file/prog, DURATION US: N, VERDICT: success|failure, VERIFIER LOG:` and
 *   its results table);
 * - cilium/ebpf `VerifierError` text: `%+v` (a `...load program: <errno>:` header, then the log lines
 *   indented by one TAB, `(N line(s) omitted)`, `(truncated)`) and the one-line summary
 *   `...load program: <errno>: <last lines> (truncated, N line(s) omitted)`.
 * Each function returns null for a line that is not its own ("not mine"), never throws.
 */

export interface LibbpfLine {
  message: string;
  progName?: string;
  event?: 'begin-log' | 'end-log' | 'load-failed' | 'failed-errno' | 'btf-begin' | 'btf-end' | 'object-failed';
  errno?: number;
}

const PROG_RE = /^prog '([^']+)': (.*)$/;

export function matchLibbpf(text: string): LibbpfLine | null {
  if (!text.startsWith('libbpf: ')) return null;
  const message = text.slice(8);
  const out: LibbpfLine = { message };
  const pm = PROG_RE.exec(message);
  const rest = pm ? (pm[2] as string) : message;
  if (pm) out.progName = pm[1] as string;
  if (rest === '-- BEGIN PROG LOAD LOG --' || rest.startsWith('-- BEGIN DUMP LOG ---')) out.event = 'begin-log';
  else if (rest.startsWith('-- END LOG --')) out.event = 'end-log';
  else if (rest.startsWith('-- BEGIN BTF LOAD LOG')) out.event = 'btf-begin';
  else if (rest.startsWith('-- END BTF LOAD LOG')) out.event = 'btf-end';
  else {
    let m: RegExpExecArray | null;
    if ((m = /^failed to load: (-?\d+)$/.exec(rest))) {
      out.event = 'failed-errno';
      out.errno = Math.abs(Number(m[1]));
    } else if (/^(?:BPF program load failed|load bpf program failed): /.test(rest)) {
      out.event = 'load-failed';
    } else if (/^failed to load object /.test(rest)) {
      out.event = 'object-failed';
    }
  }
  return out;
}

/** The line that closes a libbpf log bracket (not prefixed by `libbpf: `), possibly glued to a cut line. */
export function matchLibbpfEnd(text: string): { before: string } | null {
  for (const marker of ['-- END PROG LOAD LOG --', '-- END LOG --']) {
    if (text.endsWith(marker)) return { before: text.slice(0, text.length - marker.length) };
  }
  return null;
}

/**
 * The kernel's part of a line: without a libbpf END marker glued to its end (the log's last line
 * had no newline). The parser classifies this part; the store rebuilds records from it too.
 */
export function kernelTextOf(text: string): string {
  for (;;) {
    const end = matchLibbpfEnd(text);
    if (end === null || end.before === '') return text;
    text = end.before;
  }
}

/** Names of programs are libbpf identifiers; errno text in `BPF program load failed: <strerror>`. */
export function errnoFromStrerror(msg: string): number | undefined {
  const table: Record<string, number> = {
    'Operation not permitted': 1,
    'No such file or directory': 2,
    'Argument list too long': 7,
    'Permission denied': 13,
    'Invalid argument': 22,
    'No space left on device': 28,
    'Operation not supported': 95,
    'Unknown error 524': 524,
  };
  const lower = msg.toLowerCase();
  for (const [k, v] of Object.entries(table)) if (lower.includes(k.toLowerCase())) return v;
  return undefined;
}

export function matchBpftool(text: string): boolean {
  return (
    /^Error: /.test(text) ||
    /^Warning: bpftool is now running in libbpf strict mode/.test(text) ||
    /^If it used to work for this object file but now doesn't, see --legacy option/.test(text)
  );
}

export interface VeristatHeader {
  file: string;
  prog: string;
  durationUs: number;
  verdict: 'success' | 'failure';
}

const VERISTAT_RE = /^PROCESSING (.*)\/([^/]+), DURATION US: (\d+), VERDICT: (success|failure), VERIFIER LOG:$/;

export function matchVeristatHeader(text: string): VeristatHeader | null {
  const m = VERISTAT_RE.exec(text);
  if (!m) return null;
  return { file: m[1] as string, prog: m[2] as string, durationUs: Number(m[3]), verdict: m[4] as 'success' | 'failure' };
}

/** veristat's results table (header, dashes, rows) and its `Done. Processed ...` line. */
export function matchVeristatTable(text: string): boolean {
  return (
    /^File\s+Program\s+Verdict\b/.test(text) ||
    // `^----[\s-]*$`, not `^-{4,}[\s-]*$`: the two quantifiers overlap, which backtracks
    // quadratically on a long line of dashes (see test/hardening/regex-linear.test.ts).
    /^----[\s-]*$/.test(text) ||
    /^Done\. Processed \d+ files?, \d+ programs?\./.test(text) ||
    /^\S+\.o\s+\S+\s+(?:success|failure)\s+\d+/.test(text)
  );
}

export interface CiliumHeader {
  prog?: string;
  errnoText: string;
}

/*
 * The cilium lines read as `^(?:.*?program (\S+): )?(?:.*?)load program: <tail>$`. As one regex
 * that is quadratic (each `program X: ` found by the first lazy scan restarts the second one over
 * the rest of the line: minutes on a crafted 1 MB line), so it is matched in two linear steps with
 * the same result: the tail is searched first, then the program name before it.
 * test/hardening/regex-linear.test.ts checks the equivalence against the one-regex form.
 */
const LOAD_PROGRAM = 'load program: ';
const PROG_NAME_RE = /program (\S+): /;
const HEADER_TAIL_RE = /load program: ([^:]+):$/;
/** `.` does not match these: a line holding one cannot match across it. */
const LINE_TERMINATOR_RE = /[\n\r\u2028\u2029]/;

export function matchCiliumHeader(text: string): CiliumHeader | null {
  if (!text.endsWith(':') || !text.includes(LOAD_PROGRAM)) return null;
  // Only the last `load program: ` can be followed by a colon-free tail: the match is unique.
  const m = HEADER_TAIL_RE.exec(text);
  if (!m) return null;
  const before = text.slice(0, m.index + LOAD_PROGRAM.length);
  if (LINE_TERMINATOR_RE.test(before)) return null;
  const h: CiliumHeader = { errnoText: m[1] as string };
  // A `program X: ` can only end before the tail (the tail has no `: `).
  const p = PROG_NAME_RE.exec(before);
  if (p) h.prog = p[1] as string;
  return h;
}

export interface CiliumSummary {
  prog?: string;
  errnoText: string;
  message: string;
  truncated: boolean;
  omitted?: number;
}

const SUMMARY_TAIL_RE =
  /load program: ([a-z][a-z ]*[a-z]): (.+?)(?: \(((?:truncated)?(?:, )?(?:(\d+) line\(s\) omitted)?)\))?$/g;

/** The first summary tail starting at or after `from`. */
function summaryTail(text: string, from: number): RegExpExecArray | null {
  SUMMARY_TAIL_RE.lastIndex = from;
  return SUMMARY_TAIL_RE.exec(text);
}

export function matchCiliumSummary(text: string): CiliumSummary | null {
  // Every part of the one-regex form is `.`, a literal or a letter class: no line terminators.
  if (!text.includes(LOAD_PROGRAM) || LINE_TERMINATOR_RE.test(text)) return null;
  // The regex tries the earliest `program X: ` first and then the earliest tail after it; if no
  // tail follows the earliest one, none follows a later one, and the name is left out.
  const p = PROG_NAME_RE.exec(text);
  let m = p ? summaryTail(text, p.index + p[0].length) : null;
  const prog = m ? p?.[1] : undefined;
  m ??= summaryTail(text, 0);
  if (!m) return null;
  const s: CiliumSummary = {
    errnoText: m[1] as string,
    message: m[2] as string,
    truncated: (m[3] ?? '').includes('truncated'),
  };
  if (prog !== undefined) s.prog = prog;
  if (m[4] !== undefined) s.omitted = Number(m[4]);
  return s;
}

/** Inside a cilium `%+v` block: `\t(N line(s) omitted)` / `\t(truncated)`. */
export function matchCiliumMarker(inner: string): { omitted?: number; truncated?: boolean } | null {
  let m: RegExpExecArray | null;
  if ((m = /^\((\d+) line\(s\) omitted\)$/.exec(inner))) return { omitted: Number(m[1]) };
  if (inner === '(truncated)') return { truncated: true };
  return null;
}

export interface WrapperInfo {
  tool: 'bpftool' | 'veristat' | 'cilium' | 'libbpf';
  event?: 'begin-log' | 'end-log' | 'summary' | 'omitted' | 'truncated' | 'table';
}

/** The tool and event of a line already known to be a wrapper line (used to rebuild stored records). */
export function describeWrapperLine(text: string): WrapperInfo {
  // In the parser's order of precedence: an END marker is a wrapper line only on its own (glued to
  // text it belongs to the kernel line), and bpftool's `Error: …` wins over cilium's shapes.
  if (matchLibbpfEnd(text)?.before === '') return { tool: 'libbpf', event: 'end-log' };
  if (matchVeristatHeader(text)) return { tool: 'veristat', event: 'begin-log' };
  if (matchVeristatTable(text)) return { tool: 'veristat', event: 'table' };
  if (matchBpftool(text)) return { tool: 'bpftool' };
  if (matchCiliumHeader(text)) return { tool: 'cilium', event: 'begin-log' };
  if (text.startsWith('\t')) {
    const mk = matchCiliumMarker(text.slice(1));
    if (mk) return { tool: 'cilium', event: mk.truncated ? 'truncated' : 'omitted' };
  }
  if (matchCiliumSummary(text)) return { tool: 'cilium', event: 'summary' };
  return { tool: 'bpftool' };
}
