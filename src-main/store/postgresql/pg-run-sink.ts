/**
 * Writes one parsed log into PostgreSQL as it streams: lines packed into blocks
 * (store/log-blocks.ts) and notable lines buffered by `line()`, written by `flush()` (awaited by
 * the ingest between chunks of its input) and `finish()`.
 *
 * Contract: as the SQLite sink (types.ts RunSink), inside the store's write transaction: what is
 * buffered between two flushes is at most one chunk of the input.
 */
import type { ProgramSummary } from '../../domain/log/program-state.ts';
import type { LineColumns, NotableLine, RunHeader, RunSink } from '../types.ts';
import { PROGRAM_COLUMNS, programRowValues, runHintsOf } from '../program-rows.ts';
import { BlockBuilder, type PackedBlock } from '../log-blocks.ts';
import { insertRows, type Queryable, type Value } from './pg-rows.ts';

const BLOCK_COLUMNS = ['run_id', 'block_no', 'first_line', 'line_count', 'raw_bytes', 'raw_z', 'kinds', 'insns', 'flags'];
const NOTABLE_COLUMNS = ['run_id', 'line', 'program', 'kind', 'insn', 'text'];

export class PgRunSink implements RunSink {
  private readonly blocks = new BlockBuilder();
  private pendingBlocks: PackedBlock[] = [];
  private pendingNotables: NotableLine[] = [];

  private constructor(
    private readonly q: Queryable,
    readonly runId: number,
  ) {}

  static async begin(q: Queryable, h: RunHeader): Promise<PgRunSink> {
    const r = await q.query<{ id: number }>(
      `INSERT INTO runs (source, source_name, sha256, size_bytes, formats, kernel, line_count, unknown_lines, block_count, created_at)
       VALUES ($1, $2, $3, $4, '[]', $5, 0, 0, 0, $6) RETURNING id`,
      // The real hash is set in finish(); a unique placeholder keeps the constraint satisfied meanwhile.
      [h.source, h.sourceName, `pending:${process.pid}:${Date.now()}:${Math.random()}`, h.sizeBytes, h.kernel, h.createdAt],
    );
    return new PgRunSink(q, r.rows[0]!.id);
  }

  line(l: LineColumns, notable: NotableLine | null): void {
    if (notable) this.pendingNotables.push(notable);
    if (this.blocks.add(l)) this.pendingBlocks.push(this.blocks.take());
  }

  async flush(): Promise<void> {
    const blocks = this.pendingBlocks;
    const notables = this.pendingNotables;
    this.pendingBlocks = [];
    this.pendingNotables = [];
    // One block per statement: a block is up to 1 MiB, and a statement of many would hold them all twice.
    for (const b of blocks) {
      await insertRows(this.q, 'log_blocks', BLOCK_COLUMNS, [[this.runId, b.blockNo, b.firstLine, b.lineCount, b.rawBytes, b.rawZ, b.kinds, b.insns, b.flags]]);
    }
    await insertRows(
      this.q,
      'notable_records',
      NOTABLE_COLUMNS,
      notables.map((n) => [this.runId, n.line, n.program, n.kind, n.insn, n.text]),
    );
  }

  async finish(programs: readonly ProgramSummary[], totals: { formats: string[]; lines: number; unknownLines: number }, sha256: string): Promise<void> {
    if (!this.blocks.empty) this.pendingBlocks.push(this.blocks.take());
    await this.flush();
    await insertRows(this.q, 'programs', PROGRAM_COLUMNS, programs.map((p) => programRowValues(this.runId, p) as Value[]));
    await this.q.query(
      `UPDATE runs SET sha256 = $1, formats = $2, kernel_hints = $3, line_count = $4, unknown_lines = $5, crlf_lines = $6, block_count = $7 WHERE id = $8`,
      [sha256, JSON.stringify(totals.formats), JSON.stringify(runHintsOf(programs)), totals.lines, totals.unknownLines, this.blocks.crlfLines, this.blocks.blockCount, this.runId],
    );
  }
}
