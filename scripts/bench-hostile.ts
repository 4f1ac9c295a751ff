/**
 * Hostile and huge input, as a benchmark (`npm run bench:hostile`; not part of CI): each case runs
 * the real command (`node bin/kptrscope.mjs`) in its own process and reports wall time and peak RSS
 * (VmHWM from /proc, polled while it runs).
 *
 *   npm run bench:hostile -- [--gb 2] [--only 2gb,kill,10k,lines] [--out bench-out/hostile] [--keep]
 *
 * The generated logs and databases (about 5 GB for --gb 2) are removed at the end unless --keep.
 *
 * - 2gb:   a 2 GiB log (bench-out/big-24.log — the real 645 MB level-2 log from
 *          scripts/gen-big-log.sh — repeated, else the committed captures repeated) ingested in
 *          streaming; then a 2 GiB log of 1 MiB free-text lines between real captures (the parser
 *          must not hold them);
 * - kill:  `kill -9` of an ingest of the 645 MB log (else of the 2 GiB one) half way, then reopen:
 *          integrity_check, earlier runs intact, no partial run, time to reopen;
 * - 10k:   a real raw log concatenated 10 000 times: ingest, replay while ingesting, replay of the
 *          stored run, show of the last program;
 * - lines: one 10 MiB line (in each shape that used to backtrack or recurse) inside a real log:
 *          ingest and replay.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openDatabase } from '../src-main/store/sqlite/connection.ts';
import { realCaptures, writeRepeated } from '../test/hardening/big-log.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOGS = join(ROOT, 'test', 'fixtures', 'logs', '6.18');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : dflt;
}

const OUT = join(ROOT, arg('out', join('bench-out', 'hostile')));
const GB = Number(arg('gb', '2'));
const ONLY = new Set(arg('only', '2gb,kill,10k,lines').split(','));
mkdirSync(OUT, { recursive: true });

interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

function vmHwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Run the real command; `killAt` (0–100) sends SIGKILL once that much progress is printed. */
function run(args: string[], opts: { killAt?: number } = {}): Promise<Measured> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, [join(ROOT, 'bin', 'kptrscope.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, KPTRSCOPE_PROGRESS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, vmHwmKb(c.pid as number))), 50);
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-20000);
      if (opts.killAt !== undefined) {
        const pct = Math.max(-1, ...[...d.matchAll(/(\d+)%/g)].map((m) => Number(m[1])));
        if (pct >= opts.killAt) {
          peak = Math.max(peak, vmHwmKb(c.pid as number));
          c.kill('SIGKILL');
        }
      }
    });
    c.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, ms: performance.now() - t0, peakRssMb: peak / 1024, stdout: out, stderr: err });
    });
  });
}

const rows: string[][] = [];
function report(what: string, m: Measured, extra = ''): void {
  const status = m.signal ? `killed (${m.signal})` : `exit ${m.code}`;
  rows.push([what, `${(m.ms / 1000).toFixed(2)} s`, `${m.peakRssMb.toFixed(0)} MB`, status, extra]);
  process.stdout.write(`${what}: ${(m.ms / 1000).toFixed(2)} s, peak RSS ${m.peakRssMb.toFixed(0)} MB, ${status}${extra ? `, ${extra}` : ''}\n`);
  if (m.code !== 0 && !m.signal) process.stdout.write(`  stderr: ${m.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}\n`);
}

function fresh(db: string): string {
  for (const s of ['', '-wal', '-shm']) rmSync(`${db}${s}`, { force: true });
  return db;
}

/** `bytes` of `src` repeated (a cut copy at the end keeps the size exact). */
function repeatFile(src: string, dst: string, bytes: number): void {
  const fd = openSync(dst, 'w');
  const buf = Buffer.alloc(8 << 20);
  let written = 0;
  try {
    while (written < bytes) {
      const ifd = openSync(src, 'r');
      try {
        for (let n = readSync(ifd, buf, 0, buf.length, null); n > 0 && written < bytes; n = readSync(ifd, buf, 0, buf.length, null)) {
          const take = Math.min(n, bytes - written);
          writeSync(fd, buf, 0, take);
          written += take;
        }
      } finally {
        closeSync(ifd);
      }
    }
  } finally {
    closeSync(fd);
  }
}

const lines = (m: Measured): number | undefined => {
  try {
    return (JSON.parse(m.stdout) as { runs: { lines: number }[] }).runs[0]?.lines;
  } catch {
    return undefined;
  }
};

const big24 = join(ROOT, 'bench-out', 'big-24.log');
const small = [join(LOGS, 'leak_obj.L2.log'), join(LOGS, 'rbtree_add_remove.bpftool.log')];

// -------------------------------------------------------------------------------------- 2 GB

if (ONLY.has('2gb')) {
  const size = Math.round(GB * 2 ** 30);
  const log = join(OUT, `${GB}g.log`);
  if (!existsSync(log) || statSync(log).size !== size) {
    process.stdout.write(`writing ${log} (${GB} GiB from ${existsSync(big24) ? 'bench-out/big-24.log' : 'the committed captures'})…\n`);
    if (existsSync(big24)) repeatFile(big24, log, size);
    else writeRepeated(log, size);
  }
  const m = await run(['ingest', log, '--db', fresh(join(OUT, '2g.db')), '--json']);
  report(`ingest ${GB} GiB log`, m, `${((size / 1e6) / (m.ms / 1000)).toFixed(0)} MB/s, ${lines(m) ?? '?'} lines`);

  const hostile = join(OUT, `${GB}g-long-lines.log`);
  if (!existsSync(hostile) || statSync(hostile).size < size) {
    const mib = Buffer.from(`${'x'.repeat((1 << 20) - 1)}\n`);
    const part = [...realCaptures().slice(0, 3), mib, mib, mib, mib, mib, mib, mib, mib];
    writeRepeated(hostile, size, part);
  }
  const h = await run(['ingest', hostile, '--db', fresh(join(OUT, '2g-long.db')), '--json']);
  report(`ingest ${GB} GiB of 1 MiB free-text lines`, h, `${lines(h) ?? '?'} lines`);
}

// ----------------------------------------------------------------------------------- kill -9

if (ONLY.has('kill')) {
  const log = existsSync(big24) ? big24 : join(OUT, `${GB}g.log`);
  if (!existsSync(log)) writeRepeated(log, Math.round(GB * 2 ** 30));
  const db = fresh(join(OUT, 'killed.db'));
  const first = await run(['ingest', ...small, '--db', db]);
  if (first.code !== 0) throw new Error(first.stderr);
  const ro = new Database(db, { readonly: true });
  const before = JSON.stringify(ro.prepare('SELECT id, sha256, line_count FROM runs ORDER BY id').all());
  ro.close();
  const m = await run(['ingest', log, '--db', db], { killAt: 50 });
  const t0 = performance.now();
  const reopened = openDatabase(db);
  const openMs = performance.now() - t0;
  const t1 = performance.now();
  const integrity = reopened.pragma('integrity_check', { simple: true });
  const checkMs = performance.now() - t1;
  const after = JSON.stringify(reopened.prepare('SELECT id, sha256, line_count FROM runs ORDER BY id').all());
  const orphans = (reopened.prepare('SELECT (SELECT count(*) FROM log_blocks WHERE run_id NOT IN (SELECT id FROM runs)) + (SELECT count(*) FROM programs WHERE run_id NOT IN (SELECT id FROM runs)) AS n').get() as { n: number }).n;
  reopened.close();
  report(
    `kill -9 at 50% of ingesting ${(statSync(log).size / 1e6).toFixed(0)} MB`,
    m,
    `reopen ${openMs.toFixed(0)} ms, integrity_check ${String(integrity)} (${(checkMs / 1000).toFixed(1)} s), earlier runs ${after === before ? 'intact' : 'CHANGED'}, partial rows ${orphans}`,
  );
}

// ------------------------------------------------------------------------------ 10k programs

if (ONLY.has('10k')) {
  const log = join(OUT, '10k-programs.log');
  writeFileSync(log, Buffer.concat(Array<Buffer>(10_000).fill(readFileSync(join(LOGS, 'leak_obj.L1.log')))));
  const db = fresh(join(OUT, '10k.db'));
  const ing = await run(['ingest', log, '--db', db, '--json']);
  const progs = (() => {
    try {
      return (JSON.parse(ing.stdout) as { runs: { programs: unknown[] }[] }).runs[0]?.programs.length;
    } catch {
      return undefined;
    }
  })();
  report('ingest 10k programs (16 MB)', ing, `${progs ?? '?'} programs`);
  report('replay the 10k-program log (ingest + replay in one pass)', await run(['replay', log, '--db', fresh(join(OUT, '10k-replay.db')), '--json']));
  report('replay the stored 10k-program run (--force)', await run(['replay', '1', '--db', db, '--json', '--force']));
  report('show the last of 10k programs', await run(['show', '1', '--program', 'prog9999', '--db', db, '--json']));
}

// ------------------------------------------------------------------------------- 10 MB lines

if (ONLY.has('lines')) {
  const M = 10 << 20;
  const shapes: [string, () => string][] = [
    ['free text', () => 'x'.repeat(M)],
    ['dashes after a veristat header', () => `PROCESSING a.bpf.o/p, DURATION US: 1, VERDICT: success, VERIFIER LOG:\n${readFileSync(join(LOGS, 'multi_ok.L1.log'), 'latin1')}${'-'.repeat(M)}x`],
    ["cilium lookalike ('program a: ' repeated)", () => 'program a: '.repeat(M / 11)],
    ['a 10 MB stack slot', () => `0: R1=ctx() R10=fp0 fp-8=${'?'.repeat(M)}`],
    ['5M-deep parentheses', () => `0: R1=ptr_x(${'('.repeat(M / 2)}${')'.repeat(M / 2)}) R10=fp0`],
    ['a 10 MB hex constant', () => `0: R1=0x${'f'.repeat(M)} R10=fp0`],
  ];
  const around = readFileSync(join(LOGS, 'leak_obj.L2.log'));
  for (const [name, make] of shapes) {
    const log = join(OUT, `line-${name.replace(/\W+/g, '-')}.log`);
    writeFileSync(log, Buffer.concat([around, Buffer.from(`${make()}\n`), around]));
    const db = fresh(join(OUT, 'lines.db'));
    report(`ingest a 10 MiB line: ${name}`, await run(['ingest', log, '--db', db, '--json']));
    report(`replay it`, await run(['replay', log, '--db', db, '--json']));
  }
}

// The generated files take several GB: removed unless --keep.
if (!process.argv.includes('--keep')) rmSync(OUT, { recursive: true, force: true });

process.stdout.write(`\n| case | wall | peak RSS | status | notes |\n|---|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
