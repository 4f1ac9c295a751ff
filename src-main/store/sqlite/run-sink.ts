/**
 * Writes one parsed log into SQLite as it streams: packs lines into blocks (exact bytes
 * deflate-compressed + per-line kind / instruction / flag columns) and keeps notable lines as rows.
 *
 * Contract: created by the SQLite store inside its write transaction (`beginRun` inserts the run
 * row); `line()` is called for every line in order, `finish()` writes the last block, the programs
 * and the run's totals. Nothing here holds more than one block of the log in memory.
 */
import { deflateRawSync, constants as zc } from 'node:zlib';
import type { Db } from './connection.ts';
import type { ProgramSummary } from '../../domain/log/program-state.ts';
import type { LineColumns, NotableLine, RunHeader, RunSink } from '../types.ts';
import { PROGRAM_COLUMNS, programRowValues } from '../program-rows.ts';

export const BLOCK_LINES = 4096;
export const BLOCK_BYTES = 1 << 20;

/** Per-line flag bits stored in log_blocks.flags. */
export const LINE_FLAGS = { crlf: 1, unterminated: 2 } as const;

export class SqliteRunSink implements RunSink {
  readonly runId: number;
  private raws: Buffer[] = [];
  private rawBytes = 0;
  private kinds = new Uint8Array(BLOCK_LINES);
  private insns = new Int32Array(BLOCK_LINES);
  private flags = new Uint8Array(BLOCK_LINES);
  private count = 0;
  private blockFirstLine = 1;
  private blockNo = 0;
  private crlfLines = 0;
  private readonly insertBlock;
  private readonly insertNotable;

  constructor(
    private readonly db: Db,
    h: RunHeader,
  ) {
    this.insertBlock = db.prepare(
      `INSERT INTO log_blocks (run_id, block_no, first_line, line_count, raw_bytes, raw_z, kinds, insns, flags)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertNotable = db.prepare('INSERT INTO notable_records (run_id, line, program, kind, insn, text) VALUES (?, ?, ?, ?, ?, ?)');
    const info = db
      .prepare(
        `INSERT INTO runs (source, source_name, sha256, size_bytes, formats, kernel, line_count, unknown_lines, block_count, created_at)
         VALUES (?, ?, ?, ?, '[]', ?, 0, 0, 0, ?)`,
      )
      // The real hash is set in finish(); a unique placeholder keeps the constraint satisfied meanwhile.
      .run(h.source, h.sourceName, `pending:${process.pid}:${Date.now()}:${Math.random()}`, h.sizeBytes, h.kernel, h.createdAt);
    this.runId = Number(info.lastInsertRowid);
  }

  line(l: LineColumns, notable: NotableLine | null): void {
    const i = this.count;
    this.kinds[i] = l.kind;
    this.insns[i] = l.insn;
    let f = 0;
    if (l.crlf) {
      f |= LINE_FLAGS.crlf;
      this.crlfLines += 1;
    }
    if (l.unterminated) f |= LINE_FLAGS.unterminated;
    this.flags[i] = f;
    this.raws.push(l.raw);
    this.rawBytes += l.raw.length;
    this.count = i + 1;
    if (notable) this.insertNotable.run(this.runId, notable.line, notable.program, notable.kind, notable.insn, notable.text);
    if (this.count === BLOCK_LINES || this.rawBytes >= BLOCK_BYTES) this.flushBlock();
  }

  async flush(): Promise<void> {
    // Blocks are written as they fill (SQLite writes are synchronous): nothing is waiting.
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

  async finish(programs: readonly ProgramSummary[], totals: { formats: string[]; lines: number; unknownLines: number }, sha256: string): Promise<void> {
    this.finishNow(programs, totals, sha256);
  }

  /** `finish` without the Promise (SQLite writes are synchronous; the fuzzer stores runs in a tight loop). */
  finishNow(programs: readonly ProgramSummary[], totals: { formats: string[]; lines: number; unknownLines: number }, sha256: string): void {
    this.flushBlock();
    const insertProgram = this.db.prepare(`INSERT INTO programs (${PROGRAM_COLUMNS.join(', ')}) VALUES (${PROGRAM_COLUMNS.map(() => '?').join(', ')})`);
    const hints = new Set<string>();
    for (const p of programs) {
      for (const h of p.kernelHints) hints.add(h);
      insertProgram.run(...programRowValues(this.runId, p));
    }
    this.db
      .prepare(
        `UPDATE runs SET sha256 = ?, formats = ?, kernel_hints = ?, line_count = ?, unknown_lines = ?, crlf_lines = ?, block_count = ?
         WHERE id = ?`,
      )
      .run(sha256, JSON.stringify(totals.formats), JSON.stringify([...hints]), totals.lines, totals.unknownLines, this.crlfLines, this.blockNo, this.runId);
  }
}
