/**
 * The CI fleet's use cases: captures of object × kernel spread over workers through the capture
 * queue (store/queue/capture-queue.ts) on the team's PostgreSQL store.
 *
 * Contract:
 * - `submitCaptures(store, queue, { objects, kernels, tag })` stores each object's bytes in the
 *   store (by content), records one job per object × kernel under the tag, and queues them;
 *   submitting the same set again queues nothing new.
 * - `runCaptureJob(store, job, opts)` is a worker's handler: it fetches the object from the store,
 *   captures it on the job's kernel (the host or a QEMU guest) and stores the run tagged, with the
 *   job's id so that a job run twice stores one run; a job whose run is stored already is done at
 *   once. It throws on any failure (the queue retries the job).
 * - `tagProgress(store, queue, tag)` counts the tag's jobs by state; `waitForTag` polls it until
 *   every job has completed or failed for good (or the time is up).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Store } from '../store/types.ts';
import type { CaptureQueue, CaptureJobData, JobStatus } from '../store/queue/capture-queue.ts';
import { jobIdOf } from '../store/queue/capture-queue.ts';
import { captureObjects, checkBpfObject } from '../capture/capture-objects.ts';
import { defaultCacheDir } from '../capture/kernel-cache.ts';
import { ingestLog } from './ingest.ts';

export class FleetError extends Error {}

export interface SubmitRequest {
  objects: string[];
  kernels: string[];
  tag: string;
}

export interface Submitted {
  jobId: string;
  object: string;
  kernel: string;
  queued: boolean;
}

export async function submitCaptures(store: Store, queue: CaptureQueue, req: SubmitRequest): Promise<Submitted[]> {
  if (req.objects.length === 0) throw new FleetError('ci submit: no object given (kptrscope ci submit <obj.bpf.o>... --kernel <spec>...)');
  if (req.kernels.length === 0) throw new FleetError('ci submit: no --kernel given (host, 6.12, 7.3-cloud, …)');
  const jobs: (CaptureJobData & { jobId: string })[] = [];
  const now = new Date().toISOString();
  await store.write(async (w) => {
    for (const path of req.objects) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new FleetError(`${path}: cannot read the object (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      checkBpfObject(path, bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await w.putCiObject({ sha256, name: basename(path), bytes, createdAt: now });
      for (const kernel of req.kernels) {
        const jobId = jobIdOf(req.tag, sha256, kernel);
        jobs.push({ jobId, tag: req.tag, objectSha: sha256, objectName: basename(path), kernel });
        await w.addCiJob({ jobId, tag: req.tag, objectSha: sha256, objectName: basename(path), kernel, submittedAt: now });
      }
    }
  });
  const sent = await queue.submit(jobs.map(({ jobId: _id, ...data }) => data));
  return jobs.map((j, i) => ({ jobId: j.jobId, object: j.objectName, kernel: j.kernel, queued: sent[i]?.queued ?? false }));
}

export interface JobResult {
  runId: number;
  release: string;
  verdicts: string[];
  /** true: the run was stored by an earlier attempt of this job. */
  already: boolean;
}

export interface JobRunOptions {
  signal?: AbortSignal;
  progress?: (msg: string) => void;
}

export async function runCaptureJob(store: Store, job: { id: string; data: CaptureJobData }, opts: JobRunOptions = {}): Promise<JobResult> {
  const done = await store.jobRun(job.id);
  if (done !== undefined) {
    const run = await store.getRun(done);
    return { runId: done, release: run?.kernel ?? '', verdicts: (await store.getPrograms(done)).map((p) => p.verdict), already: true };
  }
  const obj = await store.ciObject(job.data.objectSha);
  if (obj === undefined) throw new FleetError(`job ${job.id}: object ${job.data.objectName} (${job.data.objectSha.slice(0, 12)}) is not in the store`);
  const work = mkdtempSync(join(tmpdir(), 'kptrscope-job-'));
  try {
    const inDir = join(work, 'in');
    mkdirSync(inDir);
    // The name it was submitted under for this job (the same bytes may have come under another name before).
    const path = join(inDir, basename(job.data.objectName));
    writeFileSync(path, obj.bytes);
    const [k] = await captureObjects({
      objects: [path],
      kernels: [job.data.kernel],
      level: 7,
      outDir: join(work, 'out'),
      cacheDir: defaultCacheDir(),
      progress: opts.progress,
      signal: opts.signal,
    });
    const o = k?.objects[0];
    if (!k || !o) throw new FleetError(`job ${job.id}: the capture of ${job.data.objectName} on ${job.data.kernel} produced no log`);
    const r = await ingestLog(store, o.log, { btf: [o.objectCopy], kernel: k.release, replay: {}, tags: [job.data.tag], jobId: job.id });
    return { runId: r.runId, release: k.release, verdicts: r.programs.map((p) => p.verdict), already: false };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface TagProgress {
  tag: string;
  total: number;
  completed: number;
  failed: number;
  active: number;
  waiting: number;
  /** The jobs that failed for good, with their last error. */
  failures: { jobId: string; object: string; kernel: string; error: string | null }[];
}

/** A job that will not complete: failed after its retries, cancelled, or unknown to the queue. */
const failedForGood = (s: JobStatus) => s.state === 'failed' || s.state === 'cancelled' || s.state === 'missing';

export async function tagProgress(store: Store, queue: CaptureQueue, tag: string): Promise<TagProgress> {
  const jobs = await store.ciJobs(tag);
  const states = await queue.states(jobs.map((j) => j.jobId));
  const count = (f: (s: JobStatus) => boolean) => states.filter(f).length;
  return {
    tag,
    total: jobs.length,
    completed: count((s) => s.state === 'completed'),
    failed: count(failedForGood),
    active: count((s) => s.state === 'active'),
    waiting: count((s) => s.state === 'created' || s.state === 'retry'),
    failures: states
      .map((s, i) => ({ s, j: jobs[i]! }))
      .filter(({ s }) => failedForGood(s))
      .map(({ s, j }) => ({ jobId: j.jobId, object: j.objectName, kernel: j.kernel, error: s.state === 'missing' ? 'the queue has no such job' : s.error })),
  };
}

export async function waitForTag(
  store: Store,
  queue: CaptureQueue,
  tag: string,
  o: { timeoutSec?: number; pollMs?: number; onProgress?: (p: TagProgress) => void; signal?: AbortSignal } = {},
): Promise<TagProgress & { timedOut: boolean }> {
  const start = Date.now();
  let last = '';
  for (;;) {
    const p = await tagProgress(store, queue, tag);
    if (p.total === 0) throw new FleetError(`ci wait: no job was submitted under tag "${tag}" (kptrscope ci submit … --tag ${tag})`);
    const key = JSON.stringify([p.completed, p.failed, p.active, p.waiting]);
    if (key !== last) o.onProgress?.(p);
    last = key;
    if (p.completed + p.failed === p.total) return { ...p, timedOut: false };
    if (o.timeoutSec !== undefined && Date.now() - start > o.timeoutSec * 1000) return { ...p, timedOut: true };
    if (o.signal?.aborted) throw new FleetError('ci wait: interrupted');
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
}
