/**
 * The kernel's own diagnostic (Linux 7.3, kernel/bpf/diagnostics.c) as data.
 *
 * After its one-line message a 7.3 verifier prints a block:
 *
 *   Verification failed: <Category>[: <Title>]
 *   Reason:            wrapped text, indented 2
 *   At:                a location block (below)
 *   Active lock:       a location block (optional)
 *   Causal path:       location blocks in program order, blank-separated, and
 *                      `  N intermediate causal-history events omitted`
 *   Suggestion:        wrapped text
 *
 * A location block is a location line (`  func @ file:line:col`, `  file:line:col` or `  insn N`), an
 * optional `  Source context:` with lanes (`  >>> 21 | text` marks the line), an annotation
 * `  <pad> | <pad>^-- <label>: <text>` with wrapped continuations `  <pad> | <pad>    <text>`, and
 * `  Instruction context:` rows (`  >>> 15 | (95) exit` marks the instruction). The label is the
 * event kind: error, acquired, released, branch, update, spilled, invalidated, context (note when
 * none is given). Text is wrapped at 100 columns: wrapped lines are joined with one space.
 *
 * Contract: `parseKernelDiagnostics(lines)` is pure; it takes the lines the log parser marked
 * `diagnostic` (plus the blank lines between them, optional), in order, and returns one
 * `KernelDiagnostic` per `Verification failed:` header. Lines it cannot place are kept in `extra`.
 */

export type CausalKind = 'acquired' | 'released' | 'branch' | 'update' | 'spilled' | 'invalidated' | 'context';

export interface DiagnosticLocation {
  /** The instruction: the `>>>` row of the instruction context, else the `insn N` location. */
  insn: number | null;
  func: string | null;
  file: string | null;
  line: number | null;
  col: number | null;
}

export interface CausalEvent {
  kind: CausalKind | 'note';
  insn: number | null;
  /** The annotation's text after its label, wrapped lines joined. */
  text: string;
  file: string | null;
  line: number | null;
  func: string | null;
  /** Log line of the event's location line. */
  logLine: number;
}

export interface KernelDiagnostic {
  category: string;
  title: string | null;
  reason: string | null;
  suggestion: string | null;
  at: (DiagnosticLocation & { text: string | null }) | null;
  activeLock: (DiagnosticLocation & { text: string | null }) | null;
  causalPath: CausalEvent[];
  /** `N intermediate causal-history events omitted`, summed. */
  omittedEvents: number;
  /** First and last log line of the block. */
  firstLine: number;
  lastLine: number;
  /** Lines of the block that fit none of the shapes above, verbatim. */
  extra: string[];
}

export interface DiagnosticLine {
  line: number;
  text: string;
}

const HEADER_RE = /^Verification failed: (.*)$/;
/** The block's first line (the line grammar and the log parser use it too). */
export const DIAGNOSTIC_HEADER_RE = /^Verification failed: /;
/** The block's section headings, at column 0 (diagnostics.c `diag_section`). */
export const DIAGNOSTIC_SECTION_RE = /^(Reason|At|Causal path|Suggestion|Active lock):$/;
const LOC_FUNC_RE = /^ {2}(\S.*) @ (\S+):(\d+):(\d+)$/;
const LOC_FILE_RE = /^ {2}(\S+):(\d+):(\d+)$/;
const LOC_INSN_RE = /^ {2}insn (\d+)$/;
const LANE_RE = /^ {2}(?:>>> | {4})\s*(\d+) \| ?(.*)$/;
const ANNOTATION_RE = /^ {2}\s*\| *\^-- (\w+): (.*)$/;
const ANNOTATION_MORE_RE = /^ {2}\s*\| {4,}(\S.*)$/;
const OMITTED_RE = /^ {2}(\d+) intermediate causal-history events omitted$/;
const CAUSAL_KINDS = new Set<string>(['acquired', 'released', 'branch', 'update', 'spilled', 'invalidated', 'context']);

interface Block {
  loc: DiagnosticLocation;
  label: string | null;
  text: string | null;
  logLine: number;
  context: 'none' | 'source' | 'insn';
  /** Set once an annotation line was read; continuations extend it. */
  inAnnotation: boolean;
}

function newBlock(logLine: number, loc: Partial<DiagnosticLocation>): Block {
  return { loc: { insn: null, func: null, file: null, line: null, col: null, ...loc }, label: null, text: null, logLine, context: 'none', inAnnotation: false };
}

function locationOf(text: string): Partial<DiagnosticLocation> | null {
  let m = LOC_FUNC_RE.exec(text);
  if (m) return { func: m[1] as string, file: m[2] as string, line: Number(m[3]), col: Number(m[4]) };
  m = LOC_FILE_RE.exec(text);
  if (m) return { file: m[1] as string, line: Number(m[2]), col: Number(m[3]) };
  m = LOC_INSN_RE.exec(text);
  if (m) return { insn: Number(m[1]) };
  return null;
}

export function parseKernelDiagnostics(lines: readonly DiagnosticLine[]): KernelDiagnostic[] {
  const out: KernelDiagnostic[] = [];
  let d: KernelDiagnostic | null = null;
  let section: 'reason' | 'at' | 'causal' | 'suggestion' | 'lock' | null = null;
  let prose: string[] = [];
  let block: Block | null = null;

  const endProse = () => {
    if (!d || prose.length === 0) return;
    const text = prose.join(' ');
    if (section === 'reason') d.reason = text;
    else if (section === 'suggestion') d.suggestion = text;
    prose = [];
  };
  const endBlock = () => {
    if (!d || !block) return;
    const b = block;
    block = null;
    const loc = { ...b.loc, text: b.text };
    if (section === 'at') d.at = loc;
    else if (section === 'lock') d.activeLock = loc;
    else if (section === 'causal') {
      const kind = b.label && CAUSAL_KINDS.has(b.label) ? (b.label as CausalKind) : 'note';
      d.causalPath.push({ kind, insn: b.loc.insn, text: b.text ?? '', file: b.loc.file, line: b.loc.line, func: b.loc.func, logLine: b.logLine });
    }
  };

  for (const { line, text } of lines) {
    const h = HEADER_RE.exec(text);
    if (h) {
      endProse();
      endBlock();
      const rest = h[1] as string;
      const colon = rest.indexOf(': ');
      d = {
        category: colon >= 0 ? rest.slice(0, colon) : rest,
        title: colon >= 0 ? rest.slice(colon + 2) : null,
        reason: null,
        suggestion: null,
        at: null,
        activeLock: null,
        causalPath: [],
        omittedEvents: 0,
        firstLine: line,
        lastLine: line,
        extra: [],
      };
      out.push(d);
      section = null;
      continue;
    }
    if (!d) continue;
    if (text.trim() === '') {
      // A blank line ends prose and a causal event's block; the next block starts with a location.
      endProse();
      endBlock();
      continue;
    }
    d.lastLine = line;
    const s = DIAGNOSTIC_SECTION_RE.exec(text);
    if (s) {
      endProse();
      endBlock();
      const name = s[1] as string;
      section = name === 'Reason' ? 'reason' : name === 'At' ? 'at' : name === 'Causal path' ? 'causal' : name === 'Suggestion' ? 'suggestion' : 'lock';
      continue;
    }
    if (section === 'reason' || section === 'suggestion') {
      prose.push(text.trim());
      continue;
    }
    if (section === 'at' || section === 'causal' || section === 'lock') {
      const om = OMITTED_RE.exec(text);
      if (om) {
        endBlock();
        d.omittedEvents += Number(om[1]);
        continue;
      }
      const loc = block === null || (block as Block).context === 'insn' ? locationOf(text) : null;
      if (loc) {
        endBlock();
        block = newBlock(line, loc);
        continue;
      }
      const b = block as Block | null;
      if (!b) {
        d.extra.push(text);
        continue;
      }
      if (text === '  Source context:') {
        b.context = 'source';
        b.inAnnotation = false;
        continue;
      }
      if (text === '  Instruction context:') {
        b.context = 'insn';
        b.inAnnotation = false;
        continue;
      }
      const an = ANNOTATION_RE.exec(text);
      if (an) {
        b.label = an[1] as string;
        b.text = an[2] as string;
        b.inAnnotation = true;
        continue;
      }
      const more = b.inAnnotation ? ANNOTATION_MORE_RE.exec(text) : null;
      if (more) {
        b.text = `${b.text ?? ''} ${more[1] as string}`;
        continue;
      }
      const lane = LANE_RE.exec(text);
      if (lane) {
        b.inAnnotation = false;
        if (b.context === 'insn' && text.startsWith('  >>> ')) b.loc.insn = Number(lane[1]);
        continue;
      }
      d.extra.push(text);
      continue;
    }
    d.extra.push(text);
  }
  endProse();
  endBlock();
  return out;
}
