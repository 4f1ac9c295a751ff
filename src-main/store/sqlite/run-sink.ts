/**
 * Writes one parsed log into SQLite as it streams: lines packed into blocks (store/log-blocks.ts)
 * written as each fills, notable lines kept as rows.
 *
 * Contract: created by the SQLite store inside its write transaction (`beginRun` inserts the run
 * row); `line()` is called for every line in order, `finish()` writes the last block, the programs
 * and the run's totals. Nothing here holds more than one block of the log in memory.
 */
import type { Db } from './connection.ts';
import type { ProgramSummary } from '../../domain/log/program-state.ts';
import type { LineColumns, NotableLine, RunHeader, RunSink } from '../types.ts';
import { PROGRAM_COLUMNS, programRowValues, runHintsOf } from '../program-rows.ts';
import { BlockBuilder, type PackedBlock } from '../log-blocks.ts';

export { BLOCK_LINES, BLOCK_BYTES, LINE_FLAGS } from '../log-blocks.ts';

export class SqliteRunSink implements RunSink {
  readonly runId: number;
  private readonly blocks = new BlockBuilder();
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
    if (notable) this.insertNotable.run(this.runId, notable.line, notable.program, notable.kind, notable.insn, notable.text);
    if (this.blocks.add(l)) this.write(this.blocks.take());
  }

  async flush(): Promise<void> {
    // Blocks are written as they fill (SQLite writes are synchronous): nothing is waiting.
  }

  private write(b: PackedBlock): void {
    this.insertBlock.run(this.runId, b.blockNo, b.firstLine, b.lineCount, b.rawBytes, b.rawZ, b.kinds, b.insns, b.flags);
  }

  async finish(programs: readonly ProgramSummary[], totals: { formats: string[]; lines: number; unknownLines: number }, sha256: string): Promise<void> {
    this.finishNow(programs, totals, sha256);
  }

  /** `finish` without the Promise (SQLite writes are synchronous; the fuzzer stores runs in a tight loop). */
  finishNow(programs: readonly ProgramSummary[], totals: { formats: string[]; lines: number; unknownLines: number }, sha256: string): void {
    if (!this.blocks.empty) this.write(this.blocks.take());
    const insertProgram = this.db.prepare(`INSERT INTO programs (${PROGRAM_COLUMNS.join(', ')}) VALUES (${PROGRAM_COLUMNS.map(() => '?').join(', ')})`);
    for (const p of programs) insertProgram.run(...programRowValues(this.runId, p));
    this.db
      .prepare(
        `UPDATE runs SET sha256 = ?, formats = ?, kernel_hints = ?, line_count = ?, unknown_lines = ?, crlf_lines = ?, block_count = ?
         WHERE id = ?`,
      )
      .run(sha256, JSON.stringify(totals.formats), JSON.stringify(runHintsOf(programs)), totals.lines, totals.unknownLines, this.blocks.crlfLines, this.blocks.blockCount, this.runId);
  }
}
