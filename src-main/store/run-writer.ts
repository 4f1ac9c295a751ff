/**
 * Writes one parsed log into the store as it streams: a `LogSink` that packs lines into blocks
 * (exact bytes deflate-compressed + per-line kind / instruction / flag columns) and keeps notable
 * records (errors, statistics, loader and wrapper lines, info, the first unknown lines) as rows.
 *
 * Contract: the caller owns the transaction; `begin()` inserts the run row, `record()` is called for
 * every line in order, `program()` for each program summary, `finish()` writes the last block, the
 * programs and the run's totals. Nothing here reads the whole log into memory: one block at a time.
 */
import { deflateRawSync, constants as zc } from 'node:zlib';
import type { Db } from './db.ts';
import type { LineInfo } from '../ingest/line-reader.ts';
import type { LogRecord } from '../ingest/verifier-log/records.ts';
import { KIND_CODES, recordInsn } from '../ingest/verifier-log/records.ts';
import type { LogSink, ParseTotals } from '../ingest/verifier-log/log-parser.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';

export const BLOCK_LINES = 4096;
export const BLOCK_BYTES = 1 << 20;
const MAX_UNKNOWN_ROWS = 1000;

/** Per-line flag bits stored in log_blocks.flags. */
export const LINE_FLAGS = { crlf: 1, unterminated: 2 } as const;

const NOTABLE_KINDS = new Set<LogRecord['kind']>([
  'error',
  'stats',
  'stats-time',
  'stats-stack',
  'libbpf',
  'wrapper',
  'info',
  'btf-log',
]);

export interface RunHeader {
  source: string;
  sourceName: string;
  sizeBytes: number;
  kernel: string | null;
  createdAt: string;
}

export class RunWriter implements LogSink {
  runId = -1;
  private raws: Buffer[] = [];
  private rawBytes = 0;
  private kinds = new Uint8Array(BLOCK_LINES);
  private insns = new Int32Array(BLOCK_LINES);
  private flags = new Uint8Array(BLOCK_LINES);
  private count = 0;
  private blockFirstLine = 1;
  private blockNo = 0;
  private unknownRows = 0;
  private crlfLines = 0;
  private programs: ProgramSummary[] = [];
  private readonly insertBlock;
  private readonly insertNotable;

  constructor(private readonly db: Db) {
    this.insertBlock = db.prepare(
      `INSERT INTO log_blocks (run_id, block_no, first_line, line_count, raw_bytes, raw_z, kinds, insns, flags)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertNotable = db.prepare(
      'INSERT INTO notable_records (run_id, line, program, kind, insn, text) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  begin(h: RunHeader): number {
    const info = this.db
      .prepare(
        `INSERT INTO runs (source, source_name, sha256, size_bytes, formats, kernel, line_count, unknown_lines, block_count, created_at)
         VALUES (?, ?, ?, ?, '[]', ?, 0, 0, 0, ?)`,
      )
      // The real hash is set in finish(); a unique placeholder keeps the constraint satisfied meanwhile.
      .run(h.source, h.sourceName, `pending:${process.pid}:${Date.now()}:${Math.random()}`, h.sizeBytes, h.kernel, h.createdAt);
    this.runId = Number(info.lastInsertRowid);
    return this.runId;
  }

  record(rec: LogRecord, line: LineInfo): void {
    const i = this.count;
    this.kinds[i] = KIND_CODES[rec.kind];
    this.insns[i] = recordInsn(rec);
    let f = 0;
    if (line.crlf) {
      f |= LINE_FLAGS.crlf;
      this.crlfLines += 1;
    }
    if (line.unterminated) f |= LINE_FLAGS.unterminated;
    this.flags[i] = f;
    this.raws.push(line.raw);
    this.rawBytes += line.raw.length;
    this.count = i + 1;

    if (NOTABLE_KINDS.has(rec.kind) || (rec.kind === 'unknown' && this.unknownRows++ < MAX_UNKNOWN_ROWS)) {
      const insn = rec.kind === 'error' ? null : recordInsn(rec);
      this.insertNotable.run(this.runId, rec.line, rec.program, rec.kind, insn === -1 ? null : insn, rec.text);
    }
    if (this.count === BLOCK_LINES || this.rawBytes >= BLOCK_BYTES) this.flushBlock();
  }

  program(summary: ProgramSummary): void {
    this.programs.push(summary);
  }

  private flushBlock(): void {
    if (this.count === 0) return;
    const n = this.count;
    const raw = Buffer.concat(this.raws, this.rawBytes);
    const z = deflateRawSync(raw, { level: 1, strategy: zc.Z_DEFAULT_STRATEGY });
    this.insertBlock.run(
      this.runId,
      this.blockNo,
      this.blockFirstLine,
      n,
      this.rawBytes,
      z,
      Buffer.from(this.kinds.buffer, 0, n),
      Buffer.from(this.insns.buffer, 0, n * 4),
      Buffer.from(this.flags.buffer, 0, n),
    );
    this.blockNo += 1;
    this.blockFirstLine += n;
    this.raws = [];
    this.rawBytes = 0;
    this.count = 0;
    // Fresh arrays: better-sqlite3 copies bound buffers, but keep blocks independent regardless.
    this.kinds = new Uint8Array(BLOCK_LINES);
    this.insns = new Int32Array(BLOCK_LINES);
    this.flags = new Uint8Array(BLOCK_LINES);
  }

  finish(totals: ParseTotals, sha256: string): ProgramSummary[] {
    this.flushBlock();
    const insertProgram = this.db.prepare(
      `INSERT INTO programs (run_id, idx, name, wrapper, verdict, truncation, error, error_classes, fail_insn, fail_line,
         insns_processed, insn_limit, max_states_per_insn, total_states, peak_states, mark_read, verification_usec,
         stack_depth, first_line, last_line, line_count, unknown_lines, loader_error, errno, log_level, kernel_hints)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const hints = new Set<string>();
    for (const p of this.programs) {
      for (const h of p.kernelHints) hints.add(h);
      const st = p.stats;
      insertProgram.run(
        this.runId,
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
      );
    }
    this.db
      .prepare(
        `UPDATE runs SET sha256 = ?, formats = ?, kernel_hints = ?, line_count = ?, unknown_lines = ?, crlf_lines = ?, block_count = ?
         WHERE id = ?`,
      )
      .run(sha256, JSON.stringify(totals.formats), JSON.stringify([...hints]), totals.lines, totals.unknownLines, this.crlfLines, this.blockNo, this.runId);
    return this.programs;
  }
}
