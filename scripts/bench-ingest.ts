/**
 * `npm run bench:ingest`: ingest speed and memory on a large real log, beside a bare baseline.
 *
 * The log: $BENCH_LOG if set, else bench-out/big.log, generated once on this kernel with
 * scripts/gen-big-log.sh (root + BPF needed; 24 programs ≈ 650 MB / 9.2M lines; BENCH_PROGRAMS=N for
 * fewer). Baseline and ingest each run in a fresh child process so peak RSS is measured separately.
 * Targets: ingest time ≤ 4× the baseline's, peak RSS ≤ 500 MB (issue 2); the ownership replay adds at most 50%
 * to the ingest time, memory still bounded (issue 3).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench-out');
mkdirSync(outDir, { recursive: true });
const programs = process.env.BENCH_PROGRAMS ?? '24';
const log = process.env.BENCH_LOG ?? join(outDir, `big-${programs}.log`);

if (!existsSync(log)) {
  process.stderr.write(`generating ${log} with scripts/gen-big-log.sh (${programs} programs)…\n`);
  execFileSync('bash', [join(root, 'scripts', 'gen-big-log.sh'), log, programs], { stdio: ['ignore', 'inherit', 'inherit'] });
}
const size = statSync(log).size;

function child(script: string, args: string[]): Record<string, number> {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'run-ts.mjs'), join(root, 'scripts', 'bench', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
}

const mb = size / 1e6;
const base = child('baseline.ts', [log]);
const db = join(outDir, 'bench.db');
for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
const ing = child('ingest-child.ts', [log, db]);
for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
const rep = child('ingest-child.ts', [log, db, 'replay']);

const row = (name: string, r: Record<string, number>) =>
  `${name.padEnd(10)} ${r.seconds!.toFixed(2).padStart(8)} s ${(mb / r.seconds!).toFixed(1).padStart(8)} MB/s ${((r.lines ?? 0) / r.seconds! / 1e6).toFixed(2).padStart(6)} M lines/s ${r.maxRssMB!.toFixed(0).padStart(6)} MB peak RSS`;
process.stdout.write(`log: ${log}\n     ${mb.toFixed(1)} MB, ${ing.lines} lines, ${ing.programs} programs, ${ing.unknownLines} unknown lines\n`);
process.stdout.write(row('baseline', base) + '   (readline + one regex)\n');
process.stdout.write(row('ingest', ing) + `   (parse + store; database ${(ing.dbBytes! / 1e6).toFixed(1)} MB)\n`);
const ratio = ing.seconds! / base.seconds!;
process.stdout.write(row('+replay', rep) + `   (parse + store + ownership replay in one pass; ${rep.steps} steps, model verdicts ${JSON.stringify(rep.modelVerdicts)}, ${rep.divergences} divergences)\n`);
const added = (rep.seconds! - ing.seconds!) / ing.seconds!;
process.stdout.write(`replay adds ${(added * 100).toFixed(0)}% to the ingest time (target ≤ 50%), peak RSS with replay ${rep.maxRssMB!.toFixed(0)} MB\n`);
process.stdout.write(`ratio ingest/baseline: ${ratio.toFixed(2)}× (target ≤ 4×)   peak RSS ${ing.maxRssMB!.toFixed(0)} MB (target ≤ 500 MB)\n`);
