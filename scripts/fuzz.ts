/**
 * The long fuzzing run (`npm run fuzz`): mutation fuzzing of the log parser, the state and value
 * parsers, the BTF parsers (text, JSON, raw blob, ELF), the store and the replay, seeded with the
 * real captures (see test/hardening/fuzz-lib.ts for the mutations and the properties checked).
 *
 *   npm run fuzz -- [--cases 100000] [--seed N] [--targets log,state,value,btf,store,replay]
 *                   [--bound-ms 2000] [--hang-ms 30000] [--jobs 2]
 *
 * Each target runs in child processes so that a hang or a V8 abort is caught too: a child that
 * stops reporting for --hang-ms is killed, the input it was on is reported as a hang and the run
 * continues after it. Prints per target and in total: cases, cases/s, failures (throws / broken
 * properties), hangs and crashes, inputs over the time bound, the maximum time one input took, and
 * inputs skipped as known model bugs (see test/hardening/model-bugs.test.ts). Failing inputs are
 * written (as fast-check values and readable reproductions) to a directory it names.
 * Exit status: 0 when nothing failed, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { CASE_TIME_BOUND_MS, FUZZ_SEED, MODEL_FIXES, TARGETS, loadSeeds, type Target } from '../test/hardening/fuzz-lib.ts';

type Name = keyof typeof TARGETS;
const ALL: Name[] = ['log', 'state', 'value', 'btf', 'store', 'replay'];
/** Share of the cases per target (the slow ones get fewer). */
const SHARE: Record<Name, number> = { log: 0.22, state: 0.1, value: 0.18, btf: 0.2, store: 0.1, replay: 0.2 };
const BATCH = 500;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : dflt;
}

/** The i-th input of a target for a seed (deterministic: the parent can rebuild what a child ran). */
function inputAt(t: Target<unknown>, seed: number, i: number): unknown {
  const batch = Math.floor(i / BATCH);
  return fc.sample(t.arb, { seed: seed + batch * 7919, numRuns: BATCH })[i % BATCH];
}

// ----------------------------------------------------------------------------------- child

async function child(): Promise<void> {
  const name = arg('child', '') as Name;
  const seed = Number(arg('seed', String(FUZZ_SEED)));
  const from = Number(arg('from', '0'));
  const to = Number(arg('to', '0'));
  const t = TARGETS[name] as Target<unknown>;
  loadSeeds();
  const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  let batchNo = -1;
  let batch: unknown[] = [];
  for (let i = from; i < to; i++) {
    const b = Math.floor(i / BATCH);
    if (b !== batchNo) {
      batchNo = b;
      batch = fc.sample(t.arb, { seed: seed + b * 7919, numRuns: BATCH });
    }
    const input = batch[i % BATCH];
    out({ start: i });
    const t0 = performance.now();
    try {
      const ms = t.check(input);
      out({ i, ms: ms ?? performance.now() - t0, skipped: ms === null });
    } catch (e) {
      out({ i, ms: performance.now() - t0, fail: String((e as Error)?.message ?? e).slice(0, 2000) });
    }
  }
}

// ---------------------------------------------------------------------------------- parent

interface Tally {
  cases: number;
  /** A child stalled or died once but the input passed when run again alone (machine load). */
  transient: number;
  ms: number;
  maxMs: number;
  maxAt: number;
  fails: number;
  hangs: number;
  crashes: number;
  overBound: number;
  skipped: number;
  wall: number;
}

async function parent(): Promise<void> {
  const total = Number(arg('cases', '100000'));
  const seed = Number(arg('seed', String(FUZZ_SEED)));
  const bound = Number(arg('bound-ms', String(CASE_TIME_BOUND_MS)));
  const hangMs = Number(arg('hang-ms', '30000'));
  const jobs = Math.max(1, Number(arg('jobs', String(Math.min(2, cpus().length)))));
  const names = arg('targets', ALL.join(',')).split(',') as Name[];
  const shareSum = names.reduce((s, n) => s + SHARE[n], 0);
  const outDir = join(tmpdir(), `kptrscope-fuzz-${seed}`);
  mkdirSync(outDir, { recursive: true });
  process.stdout.write(
    `kptrscope fuzz: ${total} cases, seed ${seed}, targets ${names.join(',')}, bound ${bound} ms/input, ${jobs} job(s)` +
      `${MODEL_FIXES ? '' : ', known model bugs skipped (KPTRSCOPE_MODEL_FIXES=1 to include)'}\n`,
  );
  const tallies = new Map<Name, Tally>();
  let failuresWritten = 0;

  const record = (name: Name, i: number, kind: string, detail: string): void => {
    if (failuresWritten >= 50) return;
    failuresWritten++;
    const t = TARGETS[name] as Target<unknown>;
    const input = inputAt(t, seed, i);
    const file = join(outDir, `${name}-${i}-${kind}.txt`);
    let repro = '';
    try {
      repro = t.describe(input);
    } catch (e) {
      repro = `(could not rebuild: ${String(e)})`;
    }
    writeFileSync(file, `${kind} in ${name} at case ${i} (seed ${seed})\n${detail}\n\nfast-check input:\n${JSON.stringify(input)}\n\nreproduction:\n${repro}\n`);
    process.stdout.write(`  ${kind.toUpperCase()} ${name} #${i}: ${detail.split('\n')[0]?.slice(0, 160)} → ${file}\n`);
  };

  /** Run one case alone in a fresh child: 'ok', or how it failed again. */
  const confirm = (name: Name, i: number): Promise<'ok' | 'again'> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), fileURLToPath(import.meta.url), '--child', name, '--seed', String(seed), '--from', String(i), '--to', String(i + 1)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let answered = false;
      createInterface({ input: c.stdout }).on('line', (line) => {
        if (line.includes('"i"')) answered = true;
      });
      const timer = setTimeout(() => c.kill('SIGKILL'), hangMs + 10_000);
      c.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0 && answered ? 'ok' : 'again');
      });
    });

  /** Run cases [from, to) of a target in child processes, restarting after a hang or a crash. */
  const runRange = async (name: Name, from: number, to: number, tl: Tally): Promise<void> => {
    let next = from;
    while (next < to) {
      const started = next;
      const done = await new Promise<{ last: number; current: number; code: number | null; signal: string | null; hung: boolean }>((resolve) => {
        const c = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), fileURLToPath(import.meta.url), '--child', name, '--seed', String(seed), '--from', String(started), '--to', String(to)], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: process.env,
        });
        let last = started - 1;
        let current = started;
        let lastSeen = Date.now();
        let hung = false;
        let stderr = '';
        c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
        const watch = setInterval(() => {
          if (Date.now() - lastSeen > hangMs) {
            hung = true;
            c.kill('SIGKILL');
          }
        }, 500);
        createInterface({ input: c.stdout }).on('line', (line) => {
          lastSeen = Date.now();
          let m: { start?: number; i?: number; ms?: number; skipped?: boolean; fail?: string };
          try {
            m = JSON.parse(line);
          } catch {
            return;
          }
          if (m.start !== undefined) {
            current = m.start;
            return;
          }
          if (m.i === undefined || m.ms === undefined) return;
          last = m.i;
          tl.cases++;
          if (m.skipped) {
            tl.skipped++;
            return;
          }
          tl.ms += m.ms;
          if (m.ms > tl.maxMs) {
            tl.maxMs = m.ms;
            tl.maxAt = m.i;
          }
          if (m.fail !== undefined) {
            tl.fails++;
            record(name, m.i, 'failure', m.fail);
          } else if (m.ms > bound) {
            tl.overBound++;
            record(name, m.i, 'slow', `${m.ms.toFixed(0)} ms (bound ${bound} ms)`);
          }
        });
        c.on('exit', (code, signal) => {
          clearInterval(watch);
          if (code !== 0 && !hung && stderr !== '') process.stdout.write(`  child ${name} exited ${code ?? signal}: ${stderr.split('\n').slice(-3).join(' | ').slice(0, 300)}\n`);
          resolve({ last, current, code, signal, hung });
        });
      });
      if (done.code === 0 && done.last >= to - 1) return;
      // The child died on (or hung in) case `current`: run that input again alone to tell a real
      // hang or crash from a stall of the machine, report it, and carry on after it.
      tl.cases++;
      const again = await confirm(name, done.current);
      if (again === 'ok') {
        tl.transient++;
        process.stdout.write(`  (${name} #${done.current}: ${done.hung ? 'stalled' : 'died'} once, fine when run again alone: counted as transient)\n`);
      } else if (done.hung) {
        tl.hangs++;
        record(name, done.current, 'hang', `no answer within ${hangMs} ms (twice)`);
      } else {
        tl.crashes++;
        record(name, done.current, 'crash', `process ended with ${done.code ?? done.signal} (twice)`);
      }
      next = done.current + 1;
    }
  };

  const t0 = Date.now();
  // Split every target into ranges and run them `jobs` at a time.
  const work: { name: Name; from: number; to: number }[] = [];
  for (const name of names) {
    const n = Math.max(1, Math.round((total * SHARE[name]) / shareSum));
    tallies.set(name, { cases: 0, transient: 0, ms: 0, maxMs: 0, maxAt: -1, fails: 0, hangs: 0, crashes: 0, overBound: 0, skipped: 0, wall: 0 });
    const per = Math.ceil(n / jobs);
    for (let from = 0; from < n; from += per) work.push({ name, from, to: Math.min(n, from + per) });
  }
  const queue = [...work];
  const runners = Array.from({ length: jobs }, async () => {
    for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
      const tl = tallies.get(w.name) as Tally;
      const s = Date.now();
      await runRange(w.name, w.from, w.to, tl);
      tl.wall += Date.now() - s;
    }
  });
  await Promise.all(runners);
  const wall = (Date.now() - t0) / 1000;

  const rows: string[][] = [['target', 'cases', 'cases/s', 'failures', 'hangs', 'crashes', `> ${bound} ms`, 'max ms/input', 'skipped (model bugs)']];
  const sum: Tally = { cases: 0, transient: 0, ms: 0, maxMs: 0, maxAt: -1, fails: 0, hangs: 0, crashes: 0, overBound: 0, skipped: 0, wall: 0 };
  for (const name of names) {
    const t = tallies.get(name) as Tally;
    rows.push([
      (TARGETS[name] as Target<unknown>).name,
      String(t.cases),
      (t.cases / Math.max(0.001, t.wall / 1000)).toFixed(0),
      String(t.fails),
      String(t.hangs),
      String(t.crashes),
      String(t.overBound),
      t.maxMs.toFixed(0),
      String(t.skipped),
    ]);
    for (const k of ['cases', 'transient', 'ms', 'fails', 'hangs', 'crashes', 'overBound', 'skipped'] as const) sum[k] += t[k];
    sum.maxMs = Math.max(sum.maxMs, t.maxMs);
  }
  rows.push(['total', String(sum.cases), (sum.cases / wall).toFixed(0), String(sum.fails), String(sum.hangs), String(sum.crashes), String(sum.overBound), sum.maxMs.toFixed(0), String(sum.skipped)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  process.stdout.write(`\n${rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ')).join('\n')}\n`);
  process.stdout.write(
    `\n${sum.cases} cases in ${wall.toFixed(1)} s (${(sum.cases / wall).toFixed(0)} cases/s with ${jobs} job(s)); ` +
      `${sum.transient} transient stall(s); failing inputs: ${failuresWritten > 0 ? outDir : 'none'}\n`,
  );
  process.exitCode = sum.fails + sum.hangs + sum.crashes + sum.overBound > 0 ? 1 : 0;
}

if (process.argv.includes('--child')) await child();
else await parent();
