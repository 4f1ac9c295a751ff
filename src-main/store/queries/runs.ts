/**
 * Read queries over stored runs: the library list, one run with its programs, and windows of log
 * lines rebuilt from the compressed blocks (records are re-read from the exact stored text with the
 * same grammar that ingested them, so a stored run answers like a freshly parsed one).
 */
import { inflateRawSync } from 'node:zlib';
import type { Db } from '../db.ts';
import { kindFromCode, type LogRecord, type RecordKind } from '../../ingest/verifier-log/records.ts';
import { classifyKernelLine } from '../../ingest/verifier-log/line-grammar.ts';
import { matchError } from '../../ingest/verifier-log/error-catalog.ts';
import { describeWrapperLine, matchLibbpf } from '../../ingest/verifier-log/wrappers.ts';
import type { ProgramSummary } from '../../ingest/verifier-log/program-state.ts';
import { programRowToSummary, type ProgramRow } from '../../services/ingest-service.ts';
import { LINE_FLAGS } from '../run-writer.ts';

export interface RunRow {
  id: number;
  source: string;
  sourceName: string;
  sha256: string;
  sizeBytes: number;
  formats: string[];
  kernel: string | null;
  kernelHints: string[];
  lines: number;
  unknownLines: number;
  crlfLines: number;
  createdAt: string;
}

interface RawRunRow {
  id: number;
  source: string;
  source_name: string;
  sha256: string;
  size_bytes: number;
  formats: string;
  kernel: string | null;
  kernel_hints: string;
  line_count: number;
  unknown_lines: number;
  crlf_lines: number;
  created_at: string;
}

function toRun(r: RawRunRow): RunRow {
  return {
    id: r.id,
    source: r.source,
    sourceName: r.source_name,
    sha256: r.sha256,
    sizeBytes: r.size_bytes,
    formats: JSON.parse(r.formats) as string[],
    kernel: r.kernel,
    kernelHints: JSON.parse(r.kernel_hints) as string[],
    lines: r.line_count,
    unknownLines: r.unknown_lines,
    crlfLines: r.crlf_lines,
    createdAt: r.created_at,
  };
}

export function listRuns(db: Db): RunRow[] {
  return (db.prepare('SELECT * FROM runs ORDER BY id').all() as RawRunRow[]).map(toRun);
}

export function getRun(db: Db, id: number): RunRow | undefined {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRunRow | undefined;
  return r ? toRun(r) : undefined;
}

export function getPrograms(db: Db, runId: number): ProgramSummary[] {
  return (db.prepare('SELECT * FROM programs WHERE run_id = ? ORDER BY idx').all(runId) as ProgramRow[]).map(programRowToSummary);
}

export function deleteRun(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
}

export interface StoredLine {
  line: number;
  kind: RecordKind;
  insn: number;
  text: string;
  crlf: boolean;
  unterminated: boolean;
}

interface BlockRow {
  first_line: number;
  line_count: number;
  raw_z: Buffer;
  kinds: Buffer;
  insns: Buffer;
  flags: Buffer;
}

/** Lines [from, from+count) of a run (1-based), decoded from their blocks. */
export function* readLines(db: Db, runId: number, from = 1, count = Number.MAX_SAFE_INTEGER): Generator<StoredLine> {
  const last = from + count - 1;
  const blocks = db
    .prepare(
      `SELECT first_line, line_count, raw_z, kinds, insns, flags FROM log_blocks
       WHERE run_id = ? AND first_line + line_count > ? AND first_line <= ? ORDER BY block_no`,
    )
    .iterate(runId, from, last) as IterableIterator<BlockRow>;
  for (const b of blocks) {
    const raw = inflateRawSync(b.raw_z);
    const insns = new Int32Array(b.insns.buffer.slice(b.insns.byteOffset, b.insns.byteOffset + b.insns.length));
    let pos = 0;
    for (let i = 0; i < b.line_count; i++) {
      const nl = raw.indexOf(0x0a, pos);
      const end = nl < 0 ? raw.length : nl;
      const lineNo = b.first_line + i;
      const flags = b.flags[i] ?? 0;
      if (lineNo >= from && lineNo <= last) {
        const crlf = (flags & LINE_FLAGS.crlf) !== 0;
        yield {
          line: lineNo,
          kind: kindFromCode(b.kinds[i] ?? 0),
          insn: insns[i] ?? -1,
          text: raw.toString('utf8', pos, crlf ? end - 1 : end),
          crlf,
          unterminated: (flags & LINE_FLAGS.unterminated) !== 0,
        };
      }
      pos = end + 1;
    }
  }
}

const KERNEL_KINDS = new Set<RecordKind>([
  'insn', 'state', 'source', 'branch', 'safe', 'func-info', 'live-regs-header', 'live-regs', 'call-header',
  'call-state', 'stats', 'stats-time', 'stats-stack',
]);

/** Rebuild the typed record of a stored line (same fields the parser produced at ingest). */
export function rebuildRecord(l: StoredLine, program: number): LogRecord {
  const base = { line: l.line, text: l.text, program };
  if (KERNEL_KINDS.has(l.kind)) {
    const inner = l.text.startsWith('\t') && !/^\t+\s*\d+: [.0-9]{10} /.test(l.text) ? l.text.slice(1) : l.text;
    const body = classifyKernelLine(inner);
    if (body.kind === l.kind) return { ...body, ...base } as LogRecord;
  }
  if (l.kind === 'error') {
    const cls = matchError(l.text.replace(/^\t/, ''));
    return cls ? { kind: 'error', errorClass: cls, ...base } : { kind: 'error', ...base };
  }
  if (l.kind === 'libbpf') {
    const lb = matchLibbpf(l.text);
    if (lb) return { kind: 'libbpf', ...lb, ...base };
  }
  if (l.kind === 'wrapper') return { kind: 'wrapper', ...describeWrapperLine(l.text), ...base };
  return { kind: l.kind, ...base } as LogRecord;
}

/** The program index owning a line, from the programs' line ranges (-1 for run-level lines). */
export function programOfLine(programs: readonly ProgramSummary[], line: number): number {
  for (const p of programs) if (p.lines > 0 && line >= p.firstLine && line <= p.lastLine) return p.index;
  return -1;
}
