/**
 * Bench child: ingests one file into a fresh database through the same service the CLI uses and
 * prints one JSON line: {"seconds","lines","programs","unknownLines","maxRssMB","dbBytes", …}. With `replay`
 * as third argument the ownership model replays every program in the same pass.
 */
import { statSync } from 'node:fs';
import { SqliteStore } from '../../src-main/store/sqlite/sqlite-store.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';

const [file, dbPath, mode] = process.argv.slice(2);
if (!file || !dbPath) throw new Error('usage: ingest-child.ts FILE DB [replay]');
const store = SqliteStore.open(dbPath);
const db = store.db;
const t0 = process.hrtime.bigint();
const r = await ingestLog(store, file, mode === 'replay' ? { replay: {} } : {});
const replays = db.prepare('SELECT model_verdict AS v, divergence_count AS d, step_count AS s FROM replays').all() as { v: string; d: number; s: number }[];
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
process.stdout.write(
  JSON.stringify({
    seconds,
    lines: r.lines,
    programs: r.programs.length,
    unknownLines: r.unknownLines,
    verdicts: [...new Set(r.programs.map((p) => p.verdict))],
    modelVerdicts: [...new Set(replays.map((x) => x.v))],
    divergences: replays.reduce((a, x) => a + x.d, 0),
    steps: replays.reduce((a, x) => a + x.s, 0),
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    dbBytes: statSync(dbPath).size,
  }) + '\n',
);
