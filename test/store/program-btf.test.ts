// Store.programBtf (src-main/store/btf-summary.ts), the one answer to "which stored BTF is the
// program's", with real fixtures in a real database: program BTF before kernel BTF, in stored-id
// order (the replay stored at ingest and a later `kptrscope replay --force` use the same BTF whatever
// the --btf order), reading stops at the answer, and damaged summaries are one-line store errors.
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseOpenError } from '../../src-main/store/types.ts';
import type { Db } from '../../src-main/store/sqlite/connection.ts';
import type { SqliteStore } from '../../src-main/store/sqlite/sqlite-store.ts';
import { testStore } from '../helpers/store.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { replayRun } from '../../src-main/app/replay.ts';
import { summarizeBtf } from '../../src-main/domain/btf/index.ts';
import { loadBtfFile } from '../../src-main/app/read-files.ts';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('kptrscope-program-btf-');
let n = 0;
const fresh = (): SqliteStore => testStore(join(dir, `db${n++}.sqlite`));
const F = (f: string) => join(LOGS_618, f);

/** Store a BTF summary row directly (e.g. kernel BTF, which no fixture is): its id. */
function insertBtf(db: Db, summaryJson: string, source: string): number {
  const sha = createHash('sha256').update(`${source}\0${summaryJson}`).digest('hex');
  const info = db
    .prepare(`INSERT INTO btf_files (sha256, source, format, size_bytes, type_count, summary_json, raw_z, created_at) VALUES (?, ?, 'bpftool-text', 0, 0, ?, x'', '')`)
    .run(sha, source, summaryJson);
  return Number(info.lastInsertRowid);
}

async function kernelSummaryJson(): Promise<string> {
  const { btf } = await loadBtfFile(F('local_kptr_stash.btf.txt'));
  return JSON.stringify(summarizeBtf(btf, { source: 'kernel' }));
}

describe('programBtf', () => {
  it('the program BTF, even after kernel BTF; kernel BTF alone is the fallback; no BTF is null', async () => {
    const st = fresh();
    const db = st.db;
    try {
      const kernelId = insertBtf(db, await kernelSummaryJson(), '/boot/vmlinux.btf');
      const { runId } = await ingestLog(st, F('local_kptr_stash.bpftool.log'), { btf: [F('local_kptr_stash.btf.txt')] });
      const programId = (db.prepare('SELECT btf_id FROM run_btf WHERE run_id = ?').get(runId) as { btf_id: number }).btf_id;
      expect(kernelId).toBeLessThan(programId);
      db.prepare('INSERT INTO run_btf (run_id, btf_id) VALUES (?, ?)').run(runId, kernelId);

      const p = await st.programBtf({ runId });
      expect(p?.id).toBe(programId);
      expect(p?.summary.source).toBe('program');
      expect(p?.summary.structs.some((s) => s.fields.some((f) => f.kind === 'kptr'))).toBe(true);
      expect((await st.programBtf({ btfIds: [programId, kernelId] }))?.id).toBe(programId);
      expect(await st.programBtf({ btfIds: [kernelId] })).toMatchObject({ id: kernelId, summary: { source: 'kernel' } });

      db.prepare('DELETE FROM run_btf WHERE run_id = ? AND btf_id = ?').run(runId, programId);
      expect(await st.programBtf({ runId })).toMatchObject({ id: kernelId, summary: { source: 'kernel' } });
      db.prepare('DELETE FROM run_btf WHERE run_id = ?').run(runId);
      expect(await st.programBtf({ runId })).toBeNull();
      expect(await st.programBtf({ btfIds: [] })).toBeNull();
    } finally {
      await st.close();
    }
  });

  it('the replay stored at ingest uses the BTF a later replay of the run uses, whatever the --btf order', async () => {
    const st = fresh();
    const db = st.db;
    try {
      // The .txt is stored first (lower id); the ingest then names the .json (a new, higher id) first.
      await ingestLog(st, F('local_kptr_stash.L7.log'), { btf: [F('local_kptr_stash.btf.txt')] });
      const txt = (db.prepare("SELECT id FROM btf_files WHERE source LIKE '%.btf.txt'").get() as { id: number }).id;
      const { runId } = await ingestLog(st, F('local_kptr_stash.bpftool.log'), { btf: [F('local_kptr_stash.btf.json'), F('local_kptr_stash.btf.txt')], replay: {} });
      const json = (db.prepare("SELECT id FROM btf_files WHERE source LIKE '%.btf.json'").get() as { id: number }).id;
      expect(json).toBeGreaterThan(txt);
      const usedBy = () => (db.prepare('SELECT DISTINCT btf_id FROM replays WHERE run_id = ?').all(runId) as { btf_id: number }[]).map((r) => r.btf_id);
      expect(usedBy()).toEqual([txt]);
      expect((await st.programBtf({ runId }))?.id).toBe(txt);
      await replayRun(st, runId, { force: true });
      expect(usedBy()).toEqual([txt]);
    } finally {
      await st.close();
    }
  });

  it('reads summaries in order up to the answer: damage before it is reported, damage after it is not read', async () => {
    const st = fresh();
    const db = st.db;
    try {
      const { runId } = await ingestLog(st, F('local_kptr_stash.bpftool.log'), { btf: [F('local_kptr_stash.btf.txt')] });
      const programId = (db.prepare('SELECT btf_id FROM run_btf WHERE run_id = ?').get(runId) as { btf_id: number }).btf_id;
      const after = insertBtf(db, '{"version":1,', '/tmp/after.btf');
      db.prepare('INSERT INTO run_btf (run_id, btf_id) VALUES (?, ?)').run(runId, after);
      expect((await st.programBtf({ runId }))?.id).toBe(programId);

      db.prepare('UPDATE btf_files SET summary_json = ? WHERE id = ?').run('{"version":1,"source":"program"}', programId);
      const err = await st.programBtf({ runId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseOpenError);
      const msg = (err as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      expect(msg).toMatch(new RegExp(`database is corrupt \\(the stored BTF summary of run ${runId} is damaged: BTF ${programId} \\(local_kptr_stash\\.btf\\.txt\\) does not have the shape of a BTF summary \\(typeCount: .*\\)\\); it was not modified$`));
      // At ingest (before the run is linked), the error names the BTF file.
      await expect(st.programBtf({ btfIds: [after] })).rejects.toThrow(/the stored BTF summary of BTF \d+ \(after\.btf\) is damaged: it is not valid JSON \(/);
    } finally {
      await st.close();
    }
  });
});
