/**
 * A database written by kptrscope before the store moved behind its async interface (commit
 * 265346a, schema 20: test/fixtures/db/before-layout.db, made with that build's CLI from the
 * committed captures) still opens, migrates, lists its runs, reuses its stored replays, replays
 * the run it stored without one, and answers the app — with the same results a fresh ingest of
 * the same files gives. The files are the captures it was made from, kept beside it in
 * test/fixtures/db/before-layout/ (the fixtures under test/fixtures/logs were captured again since).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';
import { testStore } from '../helpers/store.ts';
import { replayRun, type ReplayRunResult } from '../../src-main/app/replay.ts';
import { replayLog } from '../../src-main/app/ingest.ts';
import { createStoreService } from '../../src-main/app/handlers.ts';
import { latestVersion } from '../../src-main/store/sqlite/migrations.ts';
import type { SqliteStore } from '../../src-main/store/sqlite/sqlite-store.ts';

const dir = tempDir('kptrscope-older-db-');
let old: SqliteStore;

/** What a replay says, without ids and times (which differ between two databases). */
function story(r: ReplayRunResult) {
  return r.programs.map((p) => ({
    name: p.program.name,
    verdict: p.program.verdict,
    model: p.replay.modelVerdict,
    failInsn: p.replay.failInsn,
    finding: p.replay.finding,
    agree: p.agree,
    events: p.events,
    objects: p.objects,
    divergences: p.divergences,
    steps: p.replay.stepCount,
  }));
}

beforeAll(() => {
  const copy = join(dir, 'before-layout.db');
  copyFileSync(join(FIXTURES, 'db', 'before-layout.db'), copy);
  old = testStore(copy);
});

describe('a database from before the store interface', () => {
  it('opens at the latest schema and lists its runs with their programs', async () => {
    expect(old.db.pragma('user_version', { simple: true })).toBe(latestVersion());
    const runs = await old.listRuns();
    expect(runs.map((r) => r.sourceName)).toEqual(['leak_obj.bpftool.log', 'local_kptr_stash.L2.log', 'rbtree_add_remove.bpftool.log', 'leak_task.bpftool.log']);
    expect((await old.getPrograms(1))[0]).toMatchObject({ name: 'leak_sample', verdict: 'rejected', failInsn: 15 });
    expect((await old.listReplays(4)).length).toBe(0);
  });

  it('its stored replays are reused, the missing one is made, and all equal a fresh ingest of the same files', async () => {
    const fresh = testStore(join(dir, 'fresh.db'));
    const files: [string, string, string][] = [
      ['6.18/leak_obj.bpftool.log', '6.18/leak_obj.btf.txt', '6.18.44-fc-v595'],
      ['6.18/local_kptr_stash.L2.log', '6.18/local_kptr_stash.btf.txt', '6.18.44-fc-v595'],
      ['6.18/rbtree_add_remove.bpftool.log', '6.18/rbtree_add_remove.btf.txt', '6.18.44-fc-v595'],
      ['6.12/leak_task.bpftool.log', '6.12/leak_task.bpf.o', '6.12.118+deb13-amd64'],
    ];
    for (const [i, [log, btf, kernel]] of files.entries()) {
      const runId = i + 1;
      const storedBefore = (await old.listReplays(runId)).map((r) => r.id);
      const a = await replayRun(old, runId);
      if (storedBefore.length > 0) expect(a.programs.map((p) => p.replay.id)).toEqual(storedBefore);
      const b = (await replayLog(fresh, join(FIXTURES, 'db', 'before-layout', log), { btf: [join(FIXTURES, 'db', 'before-layout', btf)], kernel })).replay;
      expect(story(a), log).toEqual(story(b));
    }
    expect((await old.listReplays(4)).length).toBe(1);
    await fresh.close();
  });

  it('answers the app: the first screen of its rejected run opens on the finding', async () => {
    const h = createStoreService(old).handlers;
    const fs = await h.firstScreen({ runId: 1, program: null, line: null, fold: false, windowRows: 64, visibleRows: 40 });
    expect(fs.finding.source).toBe('model');
    expect(fs.finding.insn).toBe(15);
    expect(fs.graph.nodes.some((n) => n.status === 'leaked')).toBe(true);
  });
});
