/**
 * Copying runs from one store to another (SQLite ⇄ PostgreSQL, or between two of either), losing
 * nothing: the log's exact bytes and per-line columns, the notable lines, the programs, the BTF
 * files, the tags and every replay (events, objects, divergences, steps, per-step states).
 *
 * Contract: `copyRuns(from, to, { tags })` copies every run of `from` (with `tags`: only runs that
 * carry one of them) that `to` does not already hold — the same content (sha256) is the same run,
 * which only gains the source's tags. Each run is copied in one write transaction of `to`: a failure
 * leaves nothing of that run. Only the Store interface is used, so any pair of backends works.
 * What is not carried over: row ids (the target numbers its own) and the time each replay was
 * made (a replay's createdAt is the copy's); the run's own createdAt is kept.
 */
import type { OwnershipEvent, StateDelta, StoredStates } from '../domain/model/types.ts';
import type { NotableLine, ReplayRow, ReplayToSave, RunRow, Store, StoreReader, StoreWriter } from '../store/types.ts';

export interface CopiedRun {
  sha256: string;
  sourceName: string;
  fromId: number;
  toId: number;
  /** false: the target already held this content (only tags were added). */
  copied: boolean;
  replays: number;
}

export interface CopyOptions {
  tags?: readonly string[];
  onRun?: (r: CopiedRun) => void;
}

/** The runs of `from` carrying one of `tags` (all runs when none are given), in id order. */
async function runsToCopy(from: StoreReader, tags: readonly string[]): Promise<{ run: RunRow; tags: string[] }[]> {
  const out: { run: RunRow; tags: string[] }[] = [];
  const all = await from.allRunTags();
  for (const run of await from.listRuns()) {
    const t = all.get(run.id) ?? [];
    if (tags.length === 0 || t.some((x) => tags.includes(x))) out.push({ run, tags: t });
  }
  return out;
}

/** The exact bytes of each line of a block, terminator included. */
function splitLines(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    const end = nl < 0 ? raw.length : nl + 1;
    out.push(raw.subarray(pos, end));
    pos = end;
  }
  return out;
}

async function copyLines(from: StoreReader, w: StoreWriter, run: RunRow): Promise<number> {
  const sink = await w.beginRun({ source: run.source, sourceName: run.sourceName, sizeBytes: run.sizeBytes, kernel: run.kernel, createdAt: run.createdAt });
  const notables = new Map<number, NotableLine>((await from.notableLines(run.id)).map((n) => [n.line, n]));
  const cols = await from.runColumns(run.id);
  const blockNos = cols ? Array.from(cols.blockNo) : [];
  const blockFirst = cols ? Array.from(cols.blockFirst) : [];
  let bi = -1;
  let raws: Buffer[] = [];
  for await (const batch of from.readLines(run.id)) {
    for (const l of batch) {
      // The block that holds line l: blocks are in line order.
      while (bi + 1 < blockFirst.length && (blockFirst[bi + 1] as number) <= l.line) {
        bi += 1;
        raws = splitLines(await from.readBlock(run.id, blockNos[bi] as number));
      }
      const raw = raws[l.line - (blockFirst[bi] as number)];
      if (raw === undefined) throw new Error(`run ${run.id}: line ${l.line} is missing from its stored block`);
      sink.line({ kind: l.kind, insn: l.insn, raw, crlf: l.crlf, unterminated: l.unterminated }, notables.get(l.line) ?? null);
    }
    await sink.flush();
  }
  await sink.finish(await from.getPrograms(run.id), { formats: run.formats, lines: run.lines, unknownLines: run.unknownLines }, run.sha256);
  return sink.runId;
}

/** A stored replay as the ReplayToSave that stores it again, row for row. */
async function replayToSave(from: StoreReader, r: ReplayRow): Promise<ReplayToSave> {
  const interval = Math.max(1, Math.round(r.chunkSteps / 8));
  const stateStore: StoredStates = { interval, checkpoints: [], deltas: [] };
  for (let first = 0; first < r.stepCount; first += r.chunkSteps) {
    const c = await from.loadStateChunk(r.id, first);
    if (c === undefined) throw new Error(`replay ${r.id}: the states from step ${first} are missing`);
    stateStore.checkpoints[first / interval] = c.checkpoint;
    c.deltas.forEach((d: StateDelta, j) => (stateStore.deltas[first + 1 + j] = d));
  }
  const events: OwnershipEvent[] = await from.loadEvents(r.id);
  return {
    verdict: r.modelVerdict,
    failInsn: r.failInsn,
    finding: r.finding,
    findings: r.findings,
    events,
    objects: await from.loadObjects(r.id),
    divergences: await from.loadDivergences(r.id),
    steps: await from.loadSteps(r.id),
    stateStore,
  };
}

async function copyRun(from: Store, to: Store, run: RunRow, tags: string[]): Promise<CopiedRun> {
  const existing = await to.findRunBySha(run.sha256);
  if (existing !== undefined) {
    if (tags.length > 0) await to.write((w) => w.addRunTags(existing, tags));
    return { sha256: run.sha256, sourceName: run.sourceName, fromId: run.id, toId: existing, copied: false, replays: 0 };
  }
  const replays = await from.listReplays(run.id);
  return to.write(async (w) => {
    const btfIds: { id: number; source: string }[] = [];
    for (const b of await from.runBtfFiles(run.id)) {
      const there = await w.findBtfBySha(b.sha256);
      if (there) {
        btfIds.push({ id: there.id, source: b.source });
        continue;
      }
      const f = await from.btfFile(b.id);
      if (f === undefined) throw new Error(`run ${run.id}: its BTF file ${b.id} is missing`);
      btfIds.push({ id: (await w.insertBtf(f)).id, source: b.source });
    }
    const toId = await copyLines(from, w, run);
    await w.linkBtf(toId, btfIds);
    if (tags.length > 0) await w.addRunTags(toId, tags);
    const btf = await w.programBtf({ runId: toId });
    for (const r of replays) {
      await w.saveReplay({ runId: toId, programIdx: r.programIdx, kernelProfile: r.kernelProfile }, await replayToSave(from, r), btf?.id ?? null);
    }
    return { sha256: run.sha256, sourceName: run.sourceName, fromId: run.id, toId, copied: true, replays: replays.length };
  });
}

export async function copyRuns(from: Store, to: Store, opts: CopyOptions = {}): Promise<CopiedRun[]> {
  const out: CopiedRun[] = [];
  for (const { run, tags } of await runsToCopy(from, opts.tags ?? [])) {
    const r = await copyRun(from, to, run, tags);
    opts.onRun?.(r);
    out.push(r);
  }
  return out;
}
