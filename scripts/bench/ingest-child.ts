/**
 * Bench child: ingests one file into a fresh database through the same service the CLI uses and
 * prints one JSON line: {"seconds","lines","programs","unknownLines","maxRssMB","dbBytes"}.
 */
import { statSync } from 'node:fs';
import { openDatabase } from '../../src-main/store/db.ts';
import { ingestLog } from '../../src-main/services/ingest-service.ts';

const [file, dbPath] = process.argv.slice(2);
if (!file || !dbPath) throw new Error('usage: ingest-child.ts FILE DB');
const db = openDatabase(dbPath);
const t0 = process.hrtime.bigint();
const r = await ingestLog(db, file);
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
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    dbBytes: statSync(dbPath).size,
  }) + '\n',
);
