/**
 * Test helper: everything a store answers about its runs, through the Store interface only, as
 * plain data keyed by content (a run by its sha256, a BTF file by its sha256) so that two stores —
 * SQLite and PostgreSQL, or a source and a copy — can be compared with toEqual. Row ids and the
 * time a replay was made are left out (and, when asked, the time a run was stored) (they are the store's, not the data's).
 */
import { createHash } from 'node:crypto';
import type { StoreReader } from '../../src-main/store/types.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `times: false` also leaves out when each run was stored (two stores filled apart). */
export async function dumpStore(store: StoreReader, opts: { times?: boolean } = {}): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const run of await store.listRuns()) {
    const { id, createdAt, ...rest } = run;
    const row = opts.times === false ? rest : { ...rest, createdAt };
    const lines = [];
    for await (const batch of store.readLines(id)) lines.push(...batch);
    const cols = await store.runColumns(id);
    const blocks = [];
    for (const no of cols?.blockNo ?? []) blocks.push(sha(await store.readBlock(id, no)));
    const btf = [];
    for (const b of await store.runBtfFiles(id)) {
      const f = await store.btfFile(b.id);
      btf.push({ sha256: b.sha256, source: b.source, format: b.format, typeCount: b.typeCount, summary: f?.summary, raw: f ? sha(f.rawZ) : null });
    }
    const programBtf = await store.programBtf({ runId: id });
    const btfShaById = new Map((await store.runBtfFiles(id)).map((b) => [b.id, b.sha256]));
    const replays = [];
    for (const r of await store.listReplays(id)) {
      const { id: replayId, runId: _run, createdAt: _at, ...rrow } = r;
      const chunks = [];
      for (let s = 0; s < r.stepCount; s += Math.max(1, r.chunkSteps)) chunks.push(await store.loadStateChunk(replayId, s));
      replays.push({
        ...rrow,
        found: (await store.findReplay({ runId: id, programIdx: r.programIdx, kernelProfile: r.kernelProfile }))?.id === replayId,
        events: await store.loadEvents(replayId),
        objects: await store.loadObjects(replayId),
        divergences: await store.loadDivergences(replayId),
        steps: await store.loadSteps(replayId),
        someSteps: await store.loadSteps(replayId, 3, 5),
        chunks,
      });
    }
    out[run.sha256] = {
      row,
      tags: await store.runTags(id),
      tagsOfAll: (await store.allRunTags()).get(id) ?? [],
      found: await store.findRunBySha(run.sha256) === id,
      programs: await store.getPrograms(id),
      lines,
      window: await (async () => {
        const w = [];
        for await (const batch of store.readLines(id, 2, 3)) w.push(...batch);
        return w;
      })(),
      columns: cols && { lineCount: cols.lineCount, kinds: Array.from(cols.kinds), insns: Array.from(cols.insns), blockFirst: Array.from(cols.blockFirst) },
      blocks,
      notables: await store.notableLines(id),
      btf,
      programBtf: programBtf && { sha256: btfShaById.get(programBtf.id), summary: programBtf.summary },
      replays,
    };
  }
  return out;
}
