/**
 * The capture queue: pg-boss (a well-kept job queue on PostgreSQL) on the same server as the
 * store, in its own schema (`pgboss`). One queue, `kptrscope-capture`; a job is one object on one
 * kernel. kptrscope keeps no queue table of its own: what was submitted under a tag is recorded
 * in the store (ci_jobs), each job's state is pg-boss's.
 *
 * Contract:
 * - `CaptureQueue.open(url)` starts pg-boss (creating its schema and the queue when missing) with
 *   maintenance in this process, so an expired job is noticed by any live worker or waiter.
 * - `submit(jobs)` sends each job under its own id (`jobIdOf(tag, object, kernel)`: submitting the
 *   same set again queues nothing new; a job that failed for good is retried). Each job expires
 *   `expireSeconds` after it starts — the capture timeout plus a margin — and is then retried, up
 *   to `retryLimit` times: a worker that dies (kill -9, a lost machine) costs a delay, not a job.
 * - `work(n, handler)` runs up to n jobs at once in this process until `stop()`; a handler that
 *   throws fails its job (retried while retries remain).
 * - `states(ids)` gives each job's state (created, retry, active, completed, failed, cancelled;
 *   `missing` when the queue never had it) and, when failed, the last error.
 * Passwords never appear in what this module throws or logs (locations are redacted).
 */
import { createHash } from 'node:crypto';
import PgBoss from 'pg-boss';
import { redactLocation } from '../location.ts';
import { DatabaseOpenError } from '../types.ts';

export const CAPTURE_QUEUE = 'kptrscope-capture';

/** A capture's timeout (capture-objects.ts: 300 s, a second boot when the first hangs, a 30 s watchdog) plus a margin for fetching a kernel. */
export const DEFAULT_EXPIRE_SECONDS = 2 * (300 + 30) + 300;
export const DEFAULT_RETRY_LIMIT = 3;

export interface CaptureJobData {
  tag: string;
  objectSha: string;
  objectName: string;
  kernel: string;
}

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed' | 'missing';

export interface JobStatus {
  id: string;
  state: JobState;
  retryCount: number;
  /** The last error of a failed (or retried) job. */
  error: string | null;
}

export interface QueueOptions {
  expireSeconds?: number;
  retryLimit?: number;
  /** Seconds between retries (default 5). */
  retryDelay?: number;
  /** How often this process checks for expired jobs (default 30 s; KPTRSCOPE_QUEUE_MAINTENANCE_SECONDS). */
  maintenanceSeconds?: number;
  /** How often an idle worker asks for a job (default 2 s). */
  pollingSeconds?: number;
}

/** A job's id, derived from what it captures: the same tag, object and kernel are the same job. */
export function jobIdOf(tag: string, objectSha: string, kernel: string): string {
  const h = createHash('sha256').update(`${tag}\0${objectSha}\0${kernel}`).digest('hex');
  // A UUID (pg-boss's id type) made of the hash: version nibble 5, variant bits 10.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

function envSeconds(name: string): number | undefined {
  const v = process.env[name];
  return v !== undefined && /^\d{1,6}$/.test(v) && Number(v) >= 1 ? Number(v) : undefined;
}

function messageOf(output: unknown): string | null {
  if (output === null || output === undefined) return null;
  const o = output as { message?: unknown; value?: unknown };
  if (typeof o.message === 'string') return o.message;
  if (typeof o.value === 'string') return o.value;
  return JSON.stringify(output);
}

export class CaptureQueue {
  private constructor(
    private readonly boss: PgBoss,
    private readonly location: string,
    private readonly opts: Required<QueueOptions>,
  ) {}

  static async open(url: string, o: QueueOptions = {}): Promise<CaptureQueue> {
    const location = redactLocation(url);
    const opts: Required<QueueOptions> = {
      expireSeconds: o.expireSeconds ?? envSeconds('KPTRSCOPE_JOB_EXPIRE_SECONDS') ?? DEFAULT_EXPIRE_SECONDS,
      retryLimit: o.retryLimit ?? DEFAULT_RETRY_LIMIT,
      retryDelay: o.retryDelay ?? 5,
      maintenanceSeconds: o.maintenanceSeconds ?? envSeconds('KPTRSCOPE_QUEUE_MAINTENANCE_SECONDS') ?? 30,
      pollingSeconds: o.pollingSeconds ?? 2,
    };
    const boss = new PgBoss({ connectionString: url, application_name: 'kptrscope-queue', max: 4, maintenanceIntervalSeconds: opts.maintenanceSeconds, schedule: false });
    // pg-boss reports connection trouble as events; the calls that fail say it to their callers.
    boss.on('error', () => {});
    try {
      await boss.start();
      if (!(await boss.getQueue(CAPTURE_QUEUE))) {
        await boss.createQueue(CAPTURE_QUEUE, { name: CAPTURE_QUEUE, policy: 'standard' }).catch(async (e: unknown) => {
          // Another process created it meanwhile.
          if (!(await boss.getQueue(CAPTURE_QUEUE))) throw e;
        });
      }
    } catch (e) {
      await boss.stop({ graceful: false, wait: false }).catch(() => {});
      throw new DatabaseOpenError(`${location}: cannot start the capture queue: ${String((e as Error).message ?? e).replace(url, location)}`);
    }
    return new CaptureQueue(boss, location, opts);
  }

  get expireSeconds(): number {
    return this.opts.expireSeconds;
  }

  /** Queues the jobs not queued before (and retries those that failed for good); returns the ids of all. */
  async submit(jobs: readonly CaptureJobData[]): Promise<{ id: string; queued: boolean }[]> {
    const out: { id: string; queued: boolean }[] = [];
    for (const j of jobs) {
      const id = jobIdOf(j.tag, j.objectSha, j.kernel);
      const sent = await this.boss.send(CAPTURE_QUEUE, j, {
        id,
        expireInSeconds: this.opts.expireSeconds,
        retryLimit: this.opts.retryLimit,
        retryDelay: this.opts.retryDelay,
        retentionDays: 14,
      });
      if (sent === null) {
        const [st] = await this.states([id]);
        if (st?.state === 'failed' || st?.state === 'cancelled') {
          await this.boss.retry(CAPTURE_QUEUE, id);
          out.push({ id, queued: true });
          continue;
        }
      }
      out.push({ id, queued: sent !== null });
    }
    return out;
  }

  async states(ids: readonly string[]): Promise<JobStatus[]> {
    const out: JobStatus[] = [];
    for (const id of ids) {
      const j = await this.boss.getJobById<CaptureJobData>(CAPTURE_QUEUE, id, { includeArchive: true });
      if (!j) out.push({ id, state: 'missing', retryCount: 0, error: null });
      else out.push({ id, state: j.state, retryCount: j.retryCount, error: j.state === 'failed' || j.state === 'retry' ? messageOf(j.output) : null });
    }
    return out;
  }

  /** Runs up to `n` jobs at once with `handler` (its result is the job's output). */
  async work(n: number, handler: (job: { id: string; data: CaptureJobData; retryCount: number }) => Promise<object>): Promise<void> {
    for (let i = 0; i < n; i++) {
      await this.boss.work<CaptureJobData>(CAPTURE_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.opts.pollingSeconds, includeMetadata: true }, async ([job]) => {
        if (!job) return {};
        return handler({ id: job.id, data: job.data, retryCount: job.retryCount });
      });
    }
  }

  /** Checks for expired jobs now (they are retried or failed), as the periodic maintenance does. */
  async expireNow(): Promise<void> {
    await this.boss.maintain();
  }

  async stop(): Promise<void> {
    await this.boss.offWork(CAPTURE_QUEUE).catch(() => {});
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000 });
  }

  toString(): string {
    return `capture queue on ${this.location}`;
  }
}
