/**
 * Records ⇄ stored lines: what of a parsed record the store keeps (the kind's code, the
 * instruction, whether the line is notable enough for its own row: errors, statistics, loader and
 * wrapper lines, 7.3's diagnostic block lines) and how a stored line becomes
 * the same typed record again (re-read from the exact stored text with the grammar that ingested
 * it, so a stored run answers like a freshly parsed one).
 *
 * Contract: `LineEncoder.encode(rec)` → `{ kind, insn, notable }` (notable: errors, statistics,
 * loader, wrapper, info and BTF-log lines, and the first MAX_UNKNOWN_ROWS unknown lines of a run);
 * `recordFromStored(line, program)` → the LogRecord with the stored kind; when the stored kind
 * and the text disagree (a damaged file, or a run stored by a build whose grammar differed) the
 * text decides, so a record always carries its kind's fields. Pure.
 */
import { KIND_CODES, kindFromCode, recordInsn, type LogRecord, type RecordKind } from './records.ts';
import { classifyKernelLine } from './line-grammar.ts';
import { DIAGNOSTIC_HEADER_RE } from './kernel-diagnostic.ts';
import { errorClassOfLine } from './error-catalog.ts';
import { describeWrapperLine, kernelTextOf, matchLibbpf } from './wrappers.ts';

const MAX_UNKNOWN_ROWS = 1000;

const NOTABLE_KINDS = new Set<RecordKind>([
  'error', 'stats', 'stats-time', 'stats-stack', 'stats-stack-max', 'stats-insns', 'stats-subprog', 'libbpf', 'wrapper', 'info', 'btf-log', 'diagnostic',
]);

export interface EncodedLine {
  kind: number;
  insn: number;
  notable: { line: number; program: number; kind: string; insn: number | null; text: string } | null;
}

export class LineEncoder {
  private unknownRows = 0;

  encode(rec: LogRecord): EncodedLine {
    const insn = recordInsn(rec);
    let notable: EncodedLine['notable'] = null;
    if (NOTABLE_KINDS.has(rec.kind) || (rec.kind === 'unknown' && this.unknownRows++ < MAX_UNKNOWN_ROWS)) {
      const at = rec.kind === 'error' ? -1 : insn;
      notable = { line: rec.line, program: rec.program, kind: rec.kind, insn: at === -1 ? null : at, text: rec.text };
    }
    return { kind: KIND_CODES[rec.kind], insn, notable };
  }
}

const KERNEL_KINDS = new Set<RecordKind>([
  'insn', 'state', 'source', 'branch', 'safe', 'func-info', 'live-regs-header', 'live-regs', 'call-header',
  'call-state', 'stats', 'stats-time', 'stats-stack', 'stats-stack-max', 'stats-insns', 'stats-subprog',
]);

/** What of a stored line `recordFromStored` needs. */
export interface StoredLineText {
  line: number;
  kind: number;
  text: string;
}

/** Rebuild the typed record of a stored line (same fields the parser produced at ingest). */
export function recordFromStored(l: StoredLineText, program: number): LogRecord {
  const kind = kindFromCode(l.kind);
  const base = { line: l.line, text: l.text, program };
  if (KERNEL_KINDS.has(kind)) {
    // A cilium/ebpf line is the kernel's line after one TAB; a TAB-led line reads the same either
    // way except when only the inner text has the stored kind.
    const text = kernelTextOf(l.text);
    let body = classifyKernelLine(text);
    if (body.kind !== kind && text.startsWith('\t')) body = classifyKernelLine(text.slice(1));
    if (body.kind === kind) return { ...body, ...base } as LogRecord;
    const fresh = classifyKernelLine(text);
    return (fresh.kind === 'free' ? { kind: 'unknown', ...base } : { ...fresh, ...base }) as LogRecord;
  }
  if (kind === 'analysis') {
    // An analysis row reads as a walk instruction once unpadded (insn ≥ 100): the stored kind decides.
    const body = classifyKernelLine(l.text);
    return (body.kind === 'analysis' ? { ...body, ...base } : { kind: 'analysis', section: 'insn', ...base }) as LogRecord;
  }
  if (kind === 'diagnostic') return { kind: 'diagnostic', part: DIAGNOSTIC_HEADER_RE.test(l.text) ? 'header' : 'body', ...base };
  if (kind === 'error') {
    const cls = errorClassOfLine(l.text);
    return cls ? { kind: 'error', errorClass: cls, ...base } : { kind: 'error', ...base };
  }
  if (kind === 'libbpf') {
    const lb = matchLibbpf(l.text);
    // libbpf prints the end of a BTF load log without its prefix (`-- END BTF LOAD LOG --`).
    if (!lb && l.text.startsWith('-- END BTF LOAD LOG')) return { kind: 'libbpf', message: l.text, ...base };
    return lb ? { kind: 'libbpf', ...lb, ...base } : { kind: 'unknown', ...base };
  }
  if (kind === 'wrapper') return { kind: 'wrapper', ...describeWrapperLine(l.text), ...base };
  return { kind, ...base } as LogRecord;
}
