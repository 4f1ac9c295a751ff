/**
 * `npm run bench:fleet`: what a fleet (many CI jobs, many kernels) asks of the store, SQLite beside
 * PostgreSQL. Figures only, no pass/fail.
 *
 * 1. Ingest throughput: 1000 distinct real logs (copies of the committed captures
 *    test/fixtures/logs/{6.18,7.3}/*.{L2,bpftool}.log, each made unique by one appended line, see
 *    `uniqueLine`) ingested one after the other with replay, into an SQLite file and into a
 *    PostgreSQL database: logs/s, MB/s, seconds, database size. Then 4 processes ingesting 250 other
 *    copies each into the same PostgreSQL database at once: wall time, logs/s, and whether all 1000
 *    runs arrived.
 * 2. The CI gate: tags `base` and `head`, each with runs on 3 kernel series (the releases of
 *    test/fixtures/logs/{6.12,6.18,7.3}/KERNEL) whose programs total ≥ 1000 per series — objects
 *    objNNNN, each one of the captures common to the three series; 2% of the objects are
 *    leak_obj_fixed in base and leak_obj in head (an accepted program becomes rejected). Then
 *    `ciReport(head against base)` and `ciReportMarkdown` timed, in a fresh child process per backend
 *    (so its peak RSS is the report's), with the rows and regressions found; on PostgreSQL the query
 *    shapes that took the most time.
 *
 * PostgreSQL: $KPTRSCOPE_TEST_PG (a role with CREATEDB: the bench creates and drops its own
 * databases), else a throw-away cluster (scripts/pg-cluster.ts) stopped at the end.
 * FLEET_LOGS=N and FLEET_PROGRAMS=N scale parts 1 and 2 down (defaults 1000).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore } from '../../src-main/store/open-store.ts';
import type { Store } from '../../src-main/store/types.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { ciReport, ciReportMarkdown } from '../../src-main/app/ci-report.ts';
import { startThrowawayCluster, type ThrowawayCluster } from '../pg-cluster.ts';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'logs');

const now = (): number => Number(process.hrtime.bigint()) / 1e9;
const out = (s: string): void => void process.stdout.write(`${s}\n`);
const note = (s: string): void => void process.stderr.write(`fleet: ${s}\n`);
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/** One ingest job: a log file and the kernel release it comes from. */
interface Job {
  path: string;
  kernel: string;
  bytes: number;
}

const kernelOf = (series: string): string => readFileSync(join(fixtures, series, 'KERNEL'), 'utf8').trim();

/**
 * The line that makes a copy unique. A bpftool/libbpf capture carries text around the kernel's log
 * (`# …` is kept as an unknown line). A raw kernel log (`.L2.log`) cannot take free text: after the
 * `processed …` line it would open a new (truncated) program, before the first kernel line it marks
 * the log as cut at the head — so raw copies get a `libbpf: …` line, as a loader prints after the
 * kernel's log, which leaves the programs as they were.
 */
function uniqueLine(file: string, what: string): string {
  return /\.L\d+\.log$/.test(file) ? `libbpf: ${what}\n` : `# ${what}\n`;
}

function copyWith(src: string, dst: string, what: string): Job & { template: string } {
  const text = readFileSync(src, 'utf8');
  const body = text.endsWith('\n') ? text : `${text}\n`;
  writeFileSync(dst, body + uniqueLine(src, what));
  return { path: dst, kernel: '', bytes: statSync(dst).size, template: src };
}

function withDatabase(url: string, database: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/i.exec(url);
  if (!m) throw new Error(`not a postgresql:// url: ${url}`);
  return `${m[1]}/${encodeURIComponent(database)}${m[3]}`;
}

async function sql<T extends object>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

function sqliteBytes(file: string): { db: number; wal: number } {
  const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);
  return { db: size(file), wal: size(`${file}-wal`) };
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', here, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code, signal) => (code === 0 ? resolve(stdout) : reject(new Error(`child ${args[0]} failed (${code ?? signal}):\n${stderr.trim()}`))));
  });
}

const lastJson = <T>(s: string): T => JSON.parse(s.trim().split('\n').pop() as string) as T;

// ---------------------------------------------------------------------------------------------
// Child modes.

/** `--ingest-child LOCATION LIST TAG`: ingests the `kernel\tpath` lines of LIST, one after the other. */
async function ingestChild(location: string, list: string, tag: string): Promise<void> {
  const jobs = readFileSync(list, 'utf8').trim().split('\n').map((l) => l.split('\t') as [string, string]);
  const store = await openStore(location);
  const t0 = now();
  let duplicates = 0;
  for (const [kernel, path] of jobs) if ((await ingestLog(store, path, { kernel, replay: {}, tags: [tag] })).duplicate) duplicates++;
  const seconds = now() - t0;
  await store.close();
  process.stdout.write(JSON.stringify({ logs: jobs.length, duplicates, seconds }) + '\n');
}

interface ReportFigures {
  seconds: number;
  mdSeconds: number;
  compared: number;
  rows: number;
  regressions: number;
  changed: number;
  missing: number;
  new: number;
  mdBytes: number;
  rssBeforeMB: number;
  rssPeakSampledMB: number;
  maxRssMB: number;
  queries: number;
  top: { sql: string; calls: number; ms: number }[];
}

/** `--report-child LOCATION`: the gate's report of head against base, timed, with the process's peak RSS. */
async function reportChild(location: string): Promise<void> {
  // On PostgreSQL: the time of every query by its text (what the store sends, over its pool).
  const byText = new Map<string, { calls: number; ms: number }>();
  let queries = 0;
  if (!/^postgres(ql)?:/i.test(location)) {
    // nothing to count: SQLite's calls are in-process
  } else {
    const proto = pg.Pool.prototype as unknown as { query: (...a: unknown[]) => unknown };
    const orig = proto.query;
    proto.query = function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      const r = orig.apply(this, a);
      const text = typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string } | undefined)?.text);
      if (r instanceof Promise) {
        void r.then(
          () => {
            queries++;
            const e = byText.get(text) ?? { calls: 0, ms: 0 };
            e.calls++;
            e.ms += performance.now() - t;
            byText.set(text, e);
          },
          () => {},
        );
      }
      return r;
    };
  }
  const store = await openStore(location);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const rssBefore = process.memoryUsage().rss;
  const t0 = now();
  const r = await ciReport(store, { tag: 'head', baseline: 'base', maxInsnsGrowth: 20 });
  const t1 = now();
  const md = ciReportMarkdown(r);
  const t2 = now();
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(sampler);
  await store.close();
  const fig: ReportFigures = {
    seconds: t1 - t0,
    mdSeconds: t2 - t1,
    compared: r.summary.compared,
    rows: r.changes.length,
    regressions: r.summary.regressions,
    changed: r.summary.changed,
    missing: r.summary.missing,
    new: r.summary.new,
    mdBytes: Buffer.byteLength(md),
    rssBeforeMB: rssBefore / 2 ** 20,
    rssPeakSampledMB: peak / 2 ** 20,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    queries,
    top: [...byText.entries()]
      .map(([s, e]) => ({ sql: s.replace(/\s+/g, ' ').trim(), calls: e.calls, ms: e.ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 4),
  };
  process.stdout.write(JSON.stringify(fig) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Part 1: ingest throughput.

/** The captures of part 1, each with the verdicts the unmodified file gives. */
function part1Templates(): Job[] {
  const jobs: Job[] = [];
  for (const series of ['6.18', '7.3']) {
    const dir = join(fixtures, series);
    const kernel = kernelOf(series);
    for (const f of readdirSync(dir).filter((n) => /\.(L2|bpftool)\.log$/.test(n)).sort()) jobs.push({ path: join(dir, f), kernel, bytes: statSync(join(dir, f)).size });
  }
  return jobs;
}

function makeCopies(templates: Job[], n: number, dir: string, label: string): (Job & { template: string })[] {
  mkdirSync(dir, { recursive: true });
  const jobs: (Job & { template: string })[] = [];
  for (let i = 0; i < n; i++) {
    const t = templates[i % templates.length] as Job;
    const name = `${String(i).padStart(4, '0')}-${basename(dirname(t.path))}-${basename(t.path)}`;
    jobs.push({ ...copyWith(t.path, join(dir, name), `${label} ${i}`), kernel: t.kernel });
  }
  return jobs;
}

/** Verdicts per program of each capture as committed, from a scratch store (to check the copies keep them). */
async function verdictsOf(files: Job[], scratch: string): Promise<Map<string, string>> {
  const store = await openStore(scratch);
  const m = new Map<string, string>();
  try {
    for (const f of files) m.set(f.path, (await ingestLog(store, f.path, { kernel: f.kernel })).programs.map((p) => `${p.name}:${p.verdict}`).join(','));
  } finally {
    await store.close();
  }
  return m;
}

async function ingestSerial(store: Store, jobs: (Job & { template: string })[], tags: string[], want?: Map<string, string>): Promise<{ seconds: number; programs: number; same: number; duplicates: number }> {
  let programs = 0;
  let same = 0;
  let duplicates = 0;
  const t0 = now();
  for (const j of jobs) {
    const r = await ingestLog(store, j.path, { kernel: j.kernel, replay: {}, tags });
    programs += r.programs.length;
    if (r.duplicate) duplicates++;
    if (want && want.get(j.template) === r.programs.map((p) => `${p.name}:${p.verdict}`).join(',')) same++;
  }
  return { seconds: now() - t0, programs, same, duplicates };
}

async function part1(tmp: string, newDb: () => Promise<string>): Promise<void> {
  const n = Number(process.env.FLEET_LOGS ?? 1000);
  const templates = part1Templates();
  const jobs = makeCopies(templates, n, join(tmp, 'p1'), 'bench copy');
  const bytes = jobs.reduce((a, j) => a + j.bytes, 0);
  const want = await verdictsOf(templates, join(tmp, 'reference.db'));
  out(`== 1. ingest: ${n} distinct logs (${templates.length} real captures of 6.18 and 7.3, copied with one extra line), ${mb(bytes)} MB, replay on`);
  const line = (name: string, r: { seconds: number }, size: string): void =>
    out(`${name.padEnd(22)} ${(n / r.seconds).toFixed(1).padStart(7)} logs/s ${(bytes / 1e6 / r.seconds).toFixed(2).padStart(6)} MB/s ${r.seconds.toFixed(1).padStart(7)} s total   ${size}`);

  const file = join(tmp, 'p1.db');
  const sq = await openStore(file);
  const rs = await ingestSerial(sq, jobs, ['bench'], want);
  const sb = sqliteBytes(file);
  await sq.close();
  line('sqlite', rs, `database ${mb(sb.db + sb.wal)} MB (file ${mb(sb.db)} MB + wal ${mb(sb.wal)} MB)`);

  const url = await newDb();
  const ps = await openStore(url);
  const rp = await ingestSerial(ps, jobs, ['bench'], want);
  await ps.close();
  const [{ size }] = (await sql<{ size: string }>(url, 'SELECT pg_database_size(current_database()) AS size')) as [{ size: string }];
  line('postgresql', rp, `database ${mb(Number(size))} MB (pg_database_size)`);
  out(`programs stored: ${rs.programs} per backend; verdicts as in the original capture: sqlite ${rs.same}/${n}, postgresql ${rp.same}/${n}; duplicates ${rs.duplicates}/${rp.duplicates}`);

  // 4 processes at once, 250 other copies each, into the same PostgreSQL database.
  const procs = 4;
  const more = makeCopies(templates, n, join(tmp, 'p1-4'), 'bench4 copy');
  const lists: string[] = [];
  for (let k = 0; k < procs; k++) {
    const list = join(tmp, `p1-4-${k}.list`);
    writeFileSync(list, more.filter((_, i) => i % procs === k).map((j) => `${j.kernel}\t${j.path}`).join('\n') + '\n');
    lists.push(list);
  }
  const count = async (): Promise<number> => Number(((await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM runs'))[0] as { n: string }).n);
  const before = await count();
  const t0 = now();
  const results = await Promise.all(lists.map((l) => runChild(['--ingest-child', url, l, 'bench4']).then((s) => lastJson<{ logs: number; duplicates: number; seconds: number }>(s))));
  const wall = now() - t0;
  const after = await count();
  const [{ size: size4 }] = (await sql<{ size: string }>(url, 'SELECT pg_database_size(current_database()) AS size')) as [{ size: string }];
  const inChild = results.map((r) => r.seconds.toFixed(1)).join(', ');
  out(
    `postgresql ×${procs} procs  ${(n / wall).toFixed(1).padStart(7)} logs/s ${(bytes / 1e6 / wall).toFixed(2).padStart(6)} MB/s ${wall.toFixed(1).padStart(7)} s wall (each process's ingest: ${inChild} s; node+tsx start included in wall)   database ${mb(Number(size4))} MB`,
  );
  out(`runs before ${before}, after ${after}: ${after - before} more; lost: ${n - (after - before)}${results.some((r) => r.duplicates > 0) ? ` (duplicates reported: ${results.reduce((a, r) => a + r.duplicates, 0)})` : ''}`);
  rmSync(join(tmp, 'p1'), { recursive: true, force: true });
  rmSync(join(tmp, 'p1-4'), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Part 2: the gate's report.

const SERIES = ['6.12', '6.18', '7.3'];
/** One object in this many is leak_obj_fixed in base and leak_obj in head. */
const SWAP_EVERY = 50;

async function part2(tmp: string, newDb: () => Promise<string>): Promise<void> {
  const want = Number(process.env.FLEET_PROGRAMS ?? 1000);
  // The captures every series has, by object name.
  const names = SERIES.map((s) => new Set(readdirSync(join(fixtures, s)).filter((f) => f.endsWith('.bpftool.log'))));
  const common = [...(names[0] as Set<string>)].filter((f) => names.every((s) => s.has(f))).sort();
  const refs: Job[] = SERIES.flatMap((s) => common.map((f) => ({ path: join(fixtures, s, f), kernel: kernelOf(s), bytes: 0 })));
  const verdicts = await verdictsOf(refs, join(tmp, 'reference2.db'));
  const programsOf = (series: string, f: string): number => (verdicts.get(join(fixtures, series, f)) as string).split(',').length;
  const pick = (i: number, tag: 'base' | 'head'): string => (i % SWAP_EVERY === 0 ? (tag === 'base' ? 'leak_obj_fixed.bpftool.log' : 'leak_obj.bpftool.log') : (common[i % common.length] as string));
  // As many objects as it takes for ≥ `want` programs on every series (in base; head has as many).
  let objects = 0;
  const per = new Map(SERIES.map((s) => [s, 0]));
  while (SERIES.some((s) => (per.get(s) as number) < want)) {
    for (const s of SERIES) per.set(s, (per.get(s) as number) + programsOf(s, pick(objects, 'base')));
    objects++;
  }
  const jobs: (Job & { template: string })[] = [];
  for (const tag of ['base', 'head'] as const) {
    for (const s of SERIES) {
      const dir = join(tmp, 'p2', tag, s);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < objects; i++) {
        const obj = `obj${String(i).padStart(4, '0')}`;
        jobs.push({ ...copyWith(join(fixtures, s, pick(i, tag)), join(dir, `${obj}.bpftool.log`), `bench ${tag} ${obj}`), kernel: kernelOf(s) });
      }
    }
  }
  const swapped = Math.ceil(objects / SWAP_EVERY);
  out('');
  out(
    `== 2. gate: head against base, ${objects} objects × ${SERIES.length} series (${SERIES.map((s) => kernelOf(s)).join(', ')}), programs per series per tag ${SERIES.map((s) => per.get(s)).join('/')}; ${swapped} objects leak_obj_fixed → leak_obj (${swapped * SERIES.length} cells expected to regress)`,
  );
  out(`runs: ${jobs.length} (${jobs.length / 2} per tag), ingested one after the other with replay`);
  for (const backend of ['sqlite', 'postgresql'] as const) {
    const location = backend === 'sqlite' ? join(tmp, 'p2.db') : await newDb();
    const store = await openStore(location);
    const half = jobs.length / 2;
    const b = await ingestSerial(store, jobs.slice(0, half), ['base']);
    const h = await ingestSerial(store, jobs.slice(half), ['head']);
    await store.close();
    const secs = b.seconds + h.seconds;
    out(`${backend.padEnd(10)} setup ingest ${secs.toFixed(1)} s (${(jobs.length / secs).toFixed(1)} logs/s), ${b.programs + h.programs} programs`);
    const f = lastJson<ReportFigures>(await runChild(['--report-child', location]));
    out(
      `${backend.padEnd(10)} ciReport ${f.seconds.toFixed(2)} s, ciReportMarkdown ${f.mdSeconds.toFixed(3)} s; ${f.compared} cells compared, ${f.rows} rows (${f.regressions} regressions, ${f.changed} changed, ${f.new} new, ${f.missing} missing), markdown ${(f.mdBytes / 1024).toFixed(1)} KiB`,
    );
    out(`${backend.padEnd(10)} report process RSS ${f.rssBeforeMB.toFixed(0)} MB before, peak ${f.rssPeakSampledMB.toFixed(0)} MB sampled, maxRSS ${f.maxRssMB.toFixed(0)} MB`);
    if (backend === 'postgresql') {
      out(`${backend.padEnd(10)} ${f.queries} queries; most time:`);
      for (const q of f.top) out(`             ${q.calls} × ${(q.ms / q.calls).toFixed(3)} ms = ${(q.ms / 1000).toFixed(2)} s  ${q.sql.slice(0, 110)}`);
    }
  }
  rmSync(join(tmp, 'p2'), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const tStart = now();
  const tmp = mkdtempSync(join(tmpdir(), 'kptrscope-fleet-'));
  let cluster: ThrowawayCluster | undefined;
  const created: string[] = [];
  const given = process.env.KPTRSCOPE_TEST_PG?.trim();
  try {
    let server: string;
    if (given) {
      server = given;
      note('PostgreSQL: $KPTRSCOPE_TEST_PG');
    } else {
      note('starting a throw-away PostgreSQL cluster');
      cluster = await startThrowawayCluster();
      server = cluster.url;
    }
    const newDb = async (): Promise<string> => {
      const name = `kbench_${randomBytes(6).toString('hex')}`;
      await sql(server, `CREATE DATABASE ${name}`);
      created.push(name);
      return withDatabase(server, name);
    };
    const [{ v }] = (await sql<{ v: string }>(server, "SELECT current_setting('server_version') AS v")) as [{ v: string }];
    out(`fleet bench: node ${process.version}, PostgreSQL ${v} (${given ? '$KPTRSCOPE_TEST_PG' : 'throw-away cluster, fsync off'}), ${tmp}`);
    await part1(tmp, newDb);
    await part2(tmp, newDb);
    out('');
    out(`total ${(now() - tStart).toFixed(0)} s`);
  } finally {
    if (given) for (const name of created) await sql(given, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

// Ctrl-C: run the exit handlers (the throw-away cluster's included).
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

const [mode, ...args] = process.argv.slice(2);
if (mode === '--ingest-child') await ingestChild(args[0] as string, args[1] as string, args[2] as string);
else if (mode === '--report-child') await reportChild(args[0] as string);
else await main();
