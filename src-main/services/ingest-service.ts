/**
 * Ingest service: one log file (plus its BTF files) → one run in the database, all or nothing.
 *
 * Contract: `ingestLog(db, path, opts)` sniffs the file (clear one-line `IngestError` for empty,
 * binary, ELF, BTF-given-as-log), streams it through the log parser into a RunWriter inside ONE
 * transaction (a crash or an error leaves the database as it was), recognises a file ingested before
 * by its SHA-256 (returns the existing run, `duplicate: true`), and stores/links the BTF files.
 * Used by the CLI, the browser host and the Electron main process alike.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { asCorrupt, isBusyError, type Db } from '../store/db.ts';
import { RunWriter } from '../store/run-writer.ts';
import { readFileLines, type ReadProgress } from '../ingest/line-reader.ts';
import { LogParser, TooManyProgramsError } from '../ingest/verifier-log/log-parser.ts';
import type { LogRecord } from '../ingest/verifier-log/records.ts';
import type { LineInfo } from '../ingest/line-reader.ts';
import { readHead, sniffLogHead } from '../ingest/sniff.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';
import { storeBtfFile, type StoredBtf } from './btf-service.ts';
import { InlineReplays, ParallelReplays, PARALLEL_MIN_BYTES } from './parallel-replays.ts';
import { maxProgramsPerFile } from './ingest-limits.ts';
import { replayRun, type ReplayRunResult } from './replay-service.ts';

export class IngestError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
  }
}

export interface IngestOptions {
  /** Replay every program through the ownership model while ingesting (one pass over the log). */
  replay?: { kernelProfile?: string };
  btf?: string[];
  kernel?: string | null;
  chunkSize?: number;
  onProgress?: (p: ReadProgress) => void;
}

export interface IngestResult {
  runId: number;
  source: string;
  kernel: string | null;
  duplicate: boolean;
  lines: number;
  unknownLines: number;
  programs: ProgramSummary[];
  btf: StoredBtf[];
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest('hex');
}

function existingRun(db: Db, sha: string): number | undefined {
  const row = db.prepare('SELECT id FROM runs WHERE sha256 = ?').get(sha) as { id: number } | undefined;
  return row?.id;
}

/**
 * Take the write lock (`BEGIN IMMEDIATE`), waiting up to the busy timeout for another writer; past
 * it, a one-line IngestError says so (never an internal error with a stack trace).
 */
function beginWrite(db: Db, path: string): void {
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (e) {
    if (!isBusyError(e)) throw e;
    const waited = db.pragma('busy_timeout', { simple: true }) as number;
    throw new IngestError(path, `database is busy: another kptrscope has been writing to it for more than ${(waited / 1000).toFixed(1)} s; nothing was stored, try again`);
  }
}

function linkBtf(db: Db, runId: number, btf: StoredBtf[]): void {
  const stmt = db.prepare('INSERT OR IGNORE INTO run_btf (run_id, btf_id) VALUES (?, ?)');
  for (const b of btf) stmt.run(runId, b.id);
}

export async function ingestLog(db: Db, path: string, opts: IngestOptions = {}): Promise<IngestResult> {
  try {
    return await ingestLogInto(db, path, opts);
  } catch (e) {
    // A damaged database found while reading or writing it: the one-line error an open gives.
    throw asCorrupt(db, e);
  }
}

async function ingestLogInto(db: Db, path: string, opts: IngestOptions): Promise<IngestResult> {
  const abs = resolve(path);
  let size: number;
  try {
    const st = statSync(abs);
    if (!st.isFile()) throw new IngestError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof IngestError) throw e;
    throw new IngestError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const reason = sniffLogHead(readHead(abs));
  if (reason) throw new IngestError(path, reason);

  // BTF first: a bad BTF file is reported before any log work and stores nothing.
  const btfFiles = opts.btf ?? [];
  const kernel = opts.kernel ?? null;

  // A file seen before (same size, then same hash) is the same run.
  const sameSize = db.prepare('SELECT 1 FROM runs WHERE size_bytes = ? LIMIT 1').get(size);
  if (sameSize) {
    const sha = await sha256File(abs);
    const id = existingRun(db, sha);
    if (id !== undefined) return duplicateResult(db, id, abs, btfFiles, opts.replay);
  }

  const hash = createHash('sha256');
  const writer = new RunWriter(db);
  let structured = 0;
  const sink = {
    record(rec: LogRecord, line: LineInfo) {
      if (rec.kind !== 'unknown' && rec.kind !== 'blank') structured += 1;
      writer.record(rec, line);
    },
    program(s: ProgramSummary) {
      writer.program(s);
    },
  };
  let replays: ParallelReplays | null = null;
  beginWrite(db, path);
  try {
    const stored = await Promise.all(btfFiles.map((f) => storeBtfFile(db, f)));
    // Replays of a large log run on the second core from the same bytes (replay-worker.ts) while this
    // thread ingests; a small log is replayed here, from the parser's records.
    const big = size >= PARALLEL_MIN_BYTES;
    replays = opts.replay && big ? new ParallelReplays(db, stored, kernel, opts.replay.kernelProfile) : null;
    const inline = opts.replay && !big ? new InlineReplays(db, stored, kernel, opts.replay.kernelProfile) : null;
    const parser = new LogParser(
      inline
        ? {
            record(rec, line) {
              sink.record(rec, line);
              inline.record(rec);
            },
            program: sink.program,
          }
        : sink,
      { maxPrograms: maxProgramsPerFile() },
    );
    writer.begin({ source: abs, sourceName: basename(abs), sizeBytes: size, kernel, createdAt: new Date().toISOString() });
    replays?.begin(writer.runId);
    inline?.begin(writer.runId);
    await readFileLines(abs, (l) => parser.push(l), {
      chunkSize: opts.chunkSize,
      onChunk: (c) => {
        hash.update(c);
        return replays?.chunk(c);
      },
      onProgress: opts.onProgress,
    });
    const totals = parser.finish();
    await replays?.finish();
    inline?.finish();
    if (structured === 0) {
      throw new IngestError(path, `no verifier log found: none of its ${totals.lines} line(s) is a verifier, libbpf, bpftool, veristat or cilium/ebpf line`);
    }
    const sha = hash.digest('hex');
    const prior = existingRun(db, sha);
    if (prior !== undefined) {
      db.exec('ROLLBACK');
      return duplicateResult(db, prior, abs, btfFiles, opts.replay);
    }
    const programs = writer.finish(totals, sha);
    linkBtf(db, writer.runId, stored);
    db.exec('COMMIT');
    return {
      runId: writer.runId,
      source: abs,
      kernel,
      duplicate: false,
      lines: totals.lines,
      unknownLines: totals.unknownLines,
      programs,
      btf: stored,
    };
  } catch (e) {
    replays?.abort();
    if (db.inTransaction) db.exec('ROLLBACK');
    if (e instanceof TooManyProgramsError) throw new IngestError(path, `${e.message}; nothing was stored`, e.line);
    throw e;
  }
}

async function duplicateResult(
  db: Db,
  runId: number,
  abs: string,
  btfFiles: string[],
  replay: IngestOptions['replay'],
): Promise<IngestResult> {
  let stored: StoredBtf[] = [];
  if (btfFiles.length > 0) {
    beginWrite(db, abs);
    try {
      stored = await Promise.all(btfFiles.map((f) => storeBtfFile(db, f)));
      linkBtf(db, runId, stored);
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
  // A run ingested before without replays gets them now (the stored ones are reused).
  if (replay) replayRun(db, runId, { kernelProfile: replay.kernelProfile });
  const run = db.prepare('SELECT kernel, line_count, unknown_lines FROM runs WHERE id = ?').get(runId) as {
    kernel: string | null;
    line_count: number;
    unknown_lines: number;
  };
  const programs = db
    .prepare('SELECT * FROM programs WHERE run_id = ? ORDER BY idx')
    .all(runId)
    .map((r) => programRowToSummary(r as ProgramRow));
  return { runId, source: abs, kernel: run.kernel, duplicate: true, lines: run.line_count, unknownLines: run.unknown_lines, programs, btf: stored };
}

export interface ProgramRow {
  idx: number;
  name: string;
  wrapper: string;
  verdict: string;
  truncation: string | null;
  error: string | null;
  error_classes: string;
  fail_insn: number | null;
  fail_line: number | null;
  insns_processed: number | null;
  insn_limit: number | null;
  max_states_per_insn: number | null;
  total_states: number | null;
  peak_states: number | null;
  mark_read: number | null;
  verification_usec: number | null;
  stack_depth: string | null;
  first_line: number;
  last_line: number;
  line_count: number;
  unknown_lines: number;
  loader_error: string | null;
  errno: number | null;
  log_level: number | null;
  kernel_hints: string;
}

export function programRowToSummary(r: ProgramRow): ProgramSummary {
  const stats: ProgramSummary['stats'] = {};
  if (r.insns_processed !== null) stats.insnsProcessed = r.insns_processed;
  if (r.insn_limit !== null) stats.insnLimit = r.insn_limit;
  if (r.max_states_per_insn !== null) stats.maxStatesPerInsn = r.max_states_per_insn;
  if (r.total_states !== null) stats.totalStates = r.total_states;
  if (r.peak_states !== null) stats.peakStates = r.peak_states;
  if (r.mark_read !== null) stats.markRead = r.mark_read;
  if (r.verification_usec !== null) stats.verificationUsec = r.verification_usec;
  if (r.stack_depth !== null) stats.stackDepth = JSON.parse(r.stack_depth) as number[];
  return {
    index: r.idx,
    name: r.name,
    wrapper: r.wrapper as ProgramSummary['wrapper'],
    firstLine: r.first_line,
    lastLine: r.last_line,
    lines: r.line_count,
    unknownLines: r.unknown_lines,
    verdict: r.verdict as ProgramSummary['verdict'],
    truncation: r.truncation as ProgramSummary['truncation'],
    error: r.error,
    errorClasses: JSON.parse(r.error_classes) as string[],
    failInsn: r.fail_insn,
    failLine: r.fail_line,
    stats,
    loaderError: r.loader_error,
    errno: r.errno,
    logLevel: r.log_level,
    kernelHints: JSON.parse(r.kernel_hints) as string[],
  };
}

/** Ingest a log (replaying it in the same pass) and return the run's replays. */
export async function replayLog(
  db: Db,
  path: string,
  opts: IngestOptions & { kernelProfile?: string },
): Promise<{ ingest: IngestResult; replay: ReplayRunResult }> {
  const ingest = await ingestLog(db, path, { ...opts, replay: { kernelProfile: opts.kernelProfile } });
  return { ingest, replay: replayRun(db, ingest.runId, { kernelProfile: opts.kernelProfile }) };
}
