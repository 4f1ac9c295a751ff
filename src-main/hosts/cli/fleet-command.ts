/**
 * The CI fleet on the command line (PostgreSQL store only; the queue is pg-boss on that server):
 *
 *   kptrscope ci submit <obj.bpf.o>... --kernel <spec>... --tag T --db postgresql://… [--json]
 *     stores the objects and queues one capture job per object × kernel (again: nothing new).
 *   kptrscope worker --db postgresql://… [-j N] [--idle-exit <sec>]
 *     takes jobs, N at a time, captures (host or QEMU guest) and stores each run tagged; until
 *     SIGINT/SIGTERM (captures stop, guests are killed, unfinished jobs go back to the queue after
 *     their expiry), or after --idle-exit seconds without a job.
 *   kptrscope ci wait --tag T --db postgresql://… [--timeout <sec>] [--json]
 *     waits for every job of the tag, printing progress on stderr; exit 0 when all completed,
 *     2 when one failed for good or the time ran out.
 *
 * `runQueuedCaptures` is what `ci run` does on PostgreSQL: submit, work here, wait.
 */
import type { Command } from 'commander';
import { isKnownError, UsageError, withStore, type CliIo } from './io.ts';
import { collect } from './json-shapes.ts';
import { withCaptureSignals } from './runs-of.ts';
import type { Store } from '../../store/types.ts';
import { defaultStoreLocation } from '../../store/location.ts';
import { CaptureQueue } from '../../store/queue/capture-queue.ts';
import { FleetError, runCaptureJob, submitCaptures, waitForTag, type TagProgress } from '../../app/fleet.ts';
import { CaptureError } from '../../capture/errors.ts';

function needsServer(store: Store, what: string): void {
  if (store.kind !== 'postgresql') {
    throw new UsageError(`${what} needs a PostgreSQL store (--db postgresql://… or KPTRSCOPE_DB): the capture queue lives on the server; on SQLite, \`kptrscope ci run\` captures here without a queue`);
  }
}

export function jobsOption(v: string | undefined): number {
  const n = Number(v ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`-j must be a whole number from 1 to 64, got "${v}"`);
  return n;
}

function progressLine(p: TagProgress): string {
  return `ci wait: ${p.tag}: ${p.completed}/${p.total} completed, ${p.failed} failed, ${p.active} running, ${p.waiting} waiting\n`;
}

/** Captures the queue's jobs with `n` at a time in this process until `stop()`. */
async function startWorking(io: CliIo, store: Store, queue: CaptureQueue, n: number, signal: AbortSignal, onJob?: (delta: 1 | -1) => void): Promise<void> {
  await queue.work(n, async (job) => {
    onJob?.(1);
    const what = `${job.data.objectName} on ${job.data.kernel} (tag ${job.data.tag}, job ${job.id.slice(0, 8)}${job.retryCount > 0 ? `, attempt ${job.retryCount + 1}` : ''})`;
    io.err(`worker: capturing ${what}\n`);
    try {
      const r = await runCaptureJob(store, job, {
        signal,
        progress: (m) => io.err(`worker: ${job.id.slice(0, 8)}: ${m}\n`),
      });
      io.err(`worker: ${r.already ? 'already stored' : 'stored'} run ${r.runId} for ${what}: ${r.verdicts.join(', ')}\n`);
      return r;
    } catch (e) {
      io.err(`worker: ${what} failed: ${(e as Error).message}; the queue retries it while retries remain\n`);
      throw e;
    } finally {
      onJob?.(-1);
    }
  });
}

/** The URL a command's store was opened from (the store keeps it only without its password). */
export function storeUrl(db: string | undefined): string {
  return db ?? defaultStoreLocation();
}

/** `ci run` on a PostgreSQL store: submit the objects, capture them here (`n` at a time), wait for all. */
export async function runQueuedCaptures(
  io: CliIo,
  store: Store,
  url: string,
  o: { objects: string[]; kernels: string[]; tag: string; jobs: number },
  signal: AbortSignal,
): Promise<TagProgress> {
  const queue = await CaptureQueue.open(url);
  try {
    const jobs = await submitCaptures(store, queue, { objects: o.objects, kernels: o.kernels, tag: o.tag });
    io.err(`ci run: ${jobs.filter((j) => j.queued).length} job(s) queued under ${o.tag}; capturing ${o.jobs} at a time here (other workers may take some)\n`);
    await startWorking(io, store, queue, o.jobs, signal);
    const p = await waitForTag(store, queue, o.tag, { signal, onProgress: (x) => io.err(progressLine(x)) });
    for (const f of p.failures) io.err(`ci run: ${f.object} on ${f.kernel} failed: ${f.error ?? 'no error recorded'}\n`);
    return p;
  } finally {
    await queue.stop();
  }
}

function knownFleetError(e: unknown): e is Error {
  return e instanceof FleetError || e instanceof CaptureError || isKnownError(e);
}

/** `fn` with the PostgreSQL store of `db` and its capture queue, both closed after. */
function onServer<T>(db: string | undefined, what: string, fn: (store: Store, queue: CaptureQueue) => Promise<T>): Promise<T> {
  return withStore(db, async (store) => {
    needsServer(store, what);
    const queue = await CaptureQueue.open(storeUrl(db));
    try {
      return await fn(store, queue);
    } finally {
      await queue.stop();
    }
  });
}

/** Runs a command's body: a known error is one line on stderr and exit `code`; a usage error or a bug propagates. */
async function reported(io: CliIo, code: number, setStatus: (c: number) => void, body: () => Promise<number>): Promise<void> {
  try {
    setStatus(await body());
  } catch (e) {
    if (e instanceof UsageError || !knownFleetError(e)) throw e;
    io.err(`kptrscope: ${e.message}\n`);
    setStatus(code);
  }
}

export function registerFleetCommands(program: Command, ci: Command, io: CliIo, setStatus: (code: number) => void): void {
  ci.command('submit')
    .description('queue one capture per object × kernel under --tag, for workers (PostgreSQL store)')
    .argument('<objects...>', 'BPF objects (*.bpf.o)')
    .requiredOption('--kernel <spec>', 'kernel to capture on (repeatable): host, 6.12, 7.3-cloud, …', collect)
    .requiredOption('--tag <name>', 'the tag the runs will carry (e.g. this commit)')
    .option('--db <url>', 'the PostgreSQL store (postgresql://…; default: $KPTRSCOPE_DB)')
    .option('--json', 'print one JSON document on stdout')
    .action((objects: string[], o: { kernel: string[]; tag: string; db?: string; json?: boolean }) =>
      reported(io, 1, setStatus, () =>
        onServer(o.db, 'ci submit', async (store, queue) => {
          const jobs = await submitCaptures(store, queue, { objects, kernels: o.kernel, tag: o.tag });
          const queued = jobs.filter((j) => j.queued).length;
          if (o.json) io.out(JSON.stringify({ tag: o.tag, queued, alreadyQueued: jobs.length - queued, jobs }, null, 2) + '\n');
          else io.out(`${queued} job(s) queued, ${jobs.length - queued} already queued, under tag ${o.tag}\n`);
          return 0;
        }),
      ),
    );

  ci.command('wait')
    .description('wait for every capture job of --tag, printing progress (PostgreSQL store)')
    .requiredOption('--tag <name>', 'the tag whose jobs to wait for')
    .option('--timeout <sec>', 'give up after this many seconds (exit 2)')
    .option('--db <url>', 'the PostgreSQL store (postgresql://…; default: $KPTRSCOPE_DB)')
    .option('--json', 'print the final state as one JSON document on stdout')
    .action(async (o: { tag: string; timeout?: string; db?: string; json?: boolean }) => {
      const timeoutSec = o.timeout === undefined ? undefined : Number(o.timeout);
      if (timeoutSec !== undefined && !(timeoutSec > 0)) throw new UsageError(`--timeout must be a number of seconds > 0, got "${o.timeout}"`);
      return reported(io, 2, setStatus, async () => {
        const p = await onServer(o.db, 'ci wait', (store, queue) =>
          withCaptureSignals((signal) => waitForTag(store, queue, o.tag, { timeoutSec, signal, onProgress: (x) => io.err(progressLine(x)) })),
        );
        for (const f of p.failures) io.err(`ci wait: ${f.object} on ${f.kernel} failed: ${f.error ?? 'no error recorded'}\n`);
        if (p.timedOut) io.err(`ci wait: gave up after ${timeoutSec} s\n`);
        if (o.json) io.out(JSON.stringify(p, null, 2) + '\n');
        return p.failed > 0 || p.timedOut ? 2 : 0;
      });
    });

  program
    .command('worker')
    .description('take capture jobs from the queue and store their runs (PostgreSQL store), until stopped')
    .option('--db <url>', 'the PostgreSQL store (postgresql://…; default: $KPTRSCOPE_DB)')
    .option('-j, --jobs <n>', 'captures at once', '1')
    .option('--idle-exit <sec>', 'exit after this many seconds without a job')
    .action(async (o: { db?: string; jobs?: string; idleExit?: string }) => {
      const n = jobsOption(o.jobs);
      const idle = o.idleExit === undefined ? undefined : Number(o.idleExit);
      if (idle !== undefined && !(idle > 0)) throw new UsageError(`--idle-exit must be a number of seconds > 0, got "${o.idleExit}"`);
      return reported(io, 1, setStatus, () =>
        onServer(o.db, 'worker', async (store, queue) => {
          io.err(`worker: ${n} at a time on ${store.location} (jobs expire ${queue.expireSeconds} s after they start)\n`);
          await withCaptureSignals(async (signal) => {
            let busy = 0;
            let lastJob = Date.now();
            await startWorking(io, store, queue, n, signal, (d) => {
              busy += d;
              lastJob = Date.now();
            });
            await new Promise<void>((resolve) => {
              const t = setInterval(() => {
                if (signal.aborted || (idle !== undefined && busy === 0 && Date.now() - lastJob > idle * 1000)) {
                  clearInterval(t);
                  resolve();
                }
              }, 250);
            });
          });
          io.err('worker: stopping\n');
          return 0;
        }),
      );
    });
}
