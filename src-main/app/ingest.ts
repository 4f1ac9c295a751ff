/**
 * Ingest use case: one log file (plus its BTF files) → one run in the store, all or nothing.
 *
 * Contract: `ingestLog(store, path, opts)` sniffs the file (clear one-line `IngestError` for empty,
 * binary, ELF, BTF-given-as-log), streams it through the log parser into the store's RunSink inside
 * ONE write transaction (a crash or an error leaves the database as it was), recognises a file
 * ingested before by its SHA-256 (returns the existing run, `duplicate: true`), and stores/links the
 * BTF files; with `replay` every program is replayed in the same pass. Used by the CLI, the browser
 * host and the Electron backend alike.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { StoreBusyError, type Store, type StoreWriter } from '../store/types.ts';
import { readFileLines, readHead, type ReadProgress } from './read-files.ts';
import { LogParser, TooManyProgramsError } from '../domain/log/log-parser.ts';
import type { LogRecord } from '../domain/log/records.ts';
import type { LineInfo } from '../domain/log/line-reader.ts';
import { sniffLogHead } from '../domain/log/sniff.ts';
import { LineEncoder } from '../domain/log/stored-lines.ts';
import type { ProgramSummary } from '../domain/log/program-state.ts';
import { storeBtfFile, type StoredBtf } from './btf.ts';
import { InlineReplays, ParallelReplays, PARALLEL_MIN_BYTES, replaySetup } from './replay-while-ingesting.ts';
import { maxProgramsPerFile } from './ingest-limits.ts';
import { replayRun, type ReplayRunResult } from './replay.ts';

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
  /** Tags stored on the run (`--tag`: a git commit, a CI job). */
  tags?: string[];
  /**
   * The queue job this ingest stores the run of: a job that runs twice (its worker died, the queue
   * handed it out again) stores one run — the first stored wins, the second answers with it.
   */
  jobId?: string;
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

/**
 * One write transaction for an ingest; past the busy timeout a one-line IngestError says another
 * writer holds the database (never an internal error with a stack trace).
 */
async function writeFor<T>(store: Store, path: string, fn: (w: StoreWriter) => Promise<T>): Promise<T> {
  try {
    return await store.write(fn);
  } catch (e) {
    if (e instanceof StoreBusyError) {
      throw new IngestError(path, `database is busy: another kptrscope has been writing to it for more than ${(e.waitedMs / 1000).toFixed(1)} s; nothing was stored, try again`);
    }
    throw e;
  }
}

export async function ingestLog(store: Store, path: string, opts: IngestOptions = {}): Promise<IngestResult> {
  const res = await ingestOnce(store, path, opts);
  // Tags go on the run whether it is new or the same content seen before.
  const tags = opts.tags ?? [];
  if (tags.length > 0) await store.write((w) => w.addRunTags(res.runId, tags));
  return res;
}

async function ingestOnce(store: Store, path: string, opts: IngestOptions): Promise<IngestResult> {
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

  const btfFiles = opts.btf ?? [];
  const kernel = opts.kernel ?? null;

  // A file seen before (same size, then same hash) is the same run.
  if (await store.hasRunOfSize(size)) {
    const sha = await sha256File(abs);
    const id = await store.findRunBySha(sha);
    if (id !== undefined) return duplicateResult(store, id, abs, btfFiles, opts.replay, kernel, opts.jobId);
  }

  const outcome = await writeFor(store, path, async (w) => {
    if (opts.jobId !== undefined) {
      const done = await w.jobRun(opts.jobId);
      if (done !== undefined) throw new SameContent(done);
    }
    // BTF first: a bad BTF file is reported before any log work and stores nothing.
    const stored: StoredBtf[] = [];
    for (const f of btfFiles) stored.push(await storeBtfFile(w, f));
    const hash = createHash('sha256');
    const encoder = new LineEncoder();
    const programs: ProgramSummary[] = [];
    let structured = 0;
    // Replays of a large log run on the second core from the same bytes (threads/replay-worker.ts)
    // while this thread ingests; a small log is replayed here, from the parser's records.
    const big = size >= PARALLEL_MIN_BYTES;
    const setup = opts.replay ? await replaySetup(w, stored, kernel, opts.replay.kernelProfile) : null;
    const parallel = setup && big ? new ParallelReplays(w, setup) : null;
    const inline = setup && !big ? new InlineReplays(w, setup) : null;
    const sink = await w.beginRun({ source: abs, sourceName: basename(abs), sizeBytes: size, kernel, createdAt: new Date().toISOString() });
    parallel?.begin(sink.runId);
    inline?.begin(sink.runId);
    const parser = new LogParser(
      {
        record(rec: LogRecord, line: LineInfo) {
          if (rec.kind !== 'unknown' && rec.kind !== 'blank') structured += 1;
          const e = encoder.encode(rec);
          sink.line({ kind: e.kind, insn: e.insn, raw: line.raw, crlf: line.crlf, unterminated: line.unterminated }, e.notable);
          inline?.record(rec);
        },
        program(p: ProgramSummary) {
          programs.push(p);
        },
      },
      { maxPrograms: maxProgramsPerFile() },
    );
    inline?.programInfo((i) => parser.programInfo(i));
    try {
      await readFileLines(abs, (l) => parser.push(l), {
        chunkSize: opts.chunkSize,
        onChunk: async (c) => {
          hash.update(c);
          await sink.flush();
          await parallel?.chunk(c);
        },
        onProgress: opts.onProgress,
      });
      const totals = parser.finish();
      await parallel?.finish();
      await inline?.finish();
      if (structured === 0) {
        throw new IngestError(path, `no verifier log found: none of its ${totals.lines} line(s) is a verifier, libbpf, bpftool, veristat or cilium/ebpf line`);
      }
      const sha = hash.digest('hex');
      const prior = await w.findRunBySha(sha);
      // The same content stored meanwhile: roll this one back and answer with that run.
      if (prior !== undefined) throw new SameContent(prior);
      await sink.finish(programs, totals, sha);
      await w.linkBtf(sink.runId, stored);
      if (opts.jobId !== undefined) await w.recordJobRun(opts.jobId, sink.runId);
      const result: IngestResult = { runId: sink.runId, source: abs, kernel, duplicate: false, lines: totals.lines, unknownLines: totals.unknownLines, programs, btf: stored };
      return result;
    } catch (e) {
      parallel?.abort();
      inline?.abort();
      if (e instanceof TooManyProgramsError) throw new IngestError(path, `${e.message}; nothing was stored`, e.line);
      throw e;
    }
  }).catch((e: unknown) => {
    if (e instanceof SameContent) return e;
    throw e;
  });
  if (outcome instanceof SameContent) return duplicateResult(store, outcome.runId, abs, btfFiles, opts.replay, kernel, opts.jobId);
  return outcome;
}

/** Thrown inside an ingest's transaction when another ingest stored the same content first. */
class SameContent {
  constructor(readonly runId: number) {}
}

async function duplicateResult(
  store: Store,
  runId: number,
  abs: string,
  btfFiles: string[],
  replay: IngestOptions['replay'],
  kernel: string | null,
  jobId?: string,
): Promise<IngestResult> {
  if (jobId !== undefined) await store.write((w) => w.recordJobRun(jobId, runId));
  // The same log again, now with its kernel named: a run stored without one learns it (its replays
  // are then judged by that kernel's rules; a run that has a kernel keeps it).
  const run = await store.getRun(runId);
  if (kernel !== null && run?.kernel === null) await store.write((w) => w.setRunKernel(runId, kernel));
  let stored: StoredBtf[] = [];
  if (btfFiles.length > 0) {
    stored = await writeFor(store, abs, async (w) => {
      const out: StoredBtf[] = [];
      for (const f of btfFiles) out.push(await storeBtfFile(w, f));
      await w.linkBtf(runId, out);
      return out;
    });
  }
  // A run ingested before without replays gets them now (the stored ones are reused).
  if (replay) await replayRun(store, runId, { kernelProfile: replay.kernelProfile });
  const programs = await store.getPrograms(runId);
  return { runId, source: abs, kernel: run ? (run.kernel ?? kernel) : null, duplicate: true, lines: run?.lines ?? 0, unknownLines: run?.unknownLines ?? 0, programs, btf: stored };
}

/** Ingest a log (replaying it in the same pass) and return the run's replays. */
export async function replayLog(
  store: Store,
  path: string,
  opts: IngestOptions & { kernelProfile?: string },
): Promise<{ ingest: IngestResult; replay: ReplayRunResult }> {
  const ingest = await ingestLog(store, path, { ...opts, replay: { kernelProfile: opts.kernelProfile } });
  return { ingest, replay: await replayRun(store, ingest.runId, { kernelProfile: opts.kernelProfile }) };
}
