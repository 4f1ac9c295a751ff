/**
 * Ingest jobs for the hosts: a FIFO queue (one writer at a time; SQLite serialises writers anyway)
 * where each job runs in its own worker thread and reports as contract events: ingest-progress,
 * then ingest-done (+ runs-changed) or ingest-failed. `cleanup` runs after each job (the browser
 * host deletes its uploaded temp files there).
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { AppEvent } from '../../contract/contract.ts';
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../app/threads/spawn-worker.ts';
import type { IngestReply } from './ingest-worker.ts';

export interface IngestJob {
  log: string;
  btf: string[];
  kernel: string | null;
  /** Name shown to people (the uploaded file's name, not its temp path). */
  label?: string;
  cleanup?: () => void;
}

export class IngestQueue {
  private queue: { id: string; job: IngestJob }[] = [];
  private running = false;
  private current: Worker | null = null;

  constructor(
    private readonly dbPath: string,
    private readonly emit: (e: AppEvent) => void,
  ) {}

  submit(job: IngestJob): string {
    const id = randomBytes(8).toString('hex');
    this.queue.push({ id, job });
    queueMicrotask(() => void this.pump());
    return id;
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.queue.length > 0) await new Promise((r) => setTimeout(r, 50));
  }

  /** Drop queued jobs and stop the running one (its transaction rolls back: nothing is stored). */
  stop(): void {
    for (const q of this.queue) q.job.cleanup?.();
    this.queue = [];
    void this.current?.terminate();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const next = this.queue.shift();
    if (!next) return;
    this.running = true;
    try {
      await this.runOne(next.id, next.job);
    } finally {
      this.running = false;
      next.job.cleanup?.();
      void this.pump();
    }
  }

  private runOne(jobId: string, job: IngestJob): Promise<void> {
    const file = job.label ?? basename(job.log);
    return new Promise((resolve) => {
      const w = spawnWorker(new URL('./ingest-worker.ts', import.meta.url), { dbPath: this.dbPath, log: job.log, btf: job.btf, kernel: job.kernel });
      this.current = w;
      let settled = false;
      const finish = (e: AppEvent) => {
        if (settled) return;
        settled = true;
        this.current = null;
        this.emit(e);
        if (e.type === 'ingest-done') this.emit({ type: 'runs-changed' });
        void w.terminate();
        resolve();
      };
      w.on('message', (m: IngestReply) => {
        if (m.type === 'progress') this.emit({ type: 'ingest-progress', jobId, file, bytesRead: m.bytesRead, totalBytes: m.totalBytes });
        else if (m.type === 'done') finish({ type: 'ingest-done', jobId, file, runId: m.runId, duplicate: m.duplicate });
        // Name the file as people know it (an upload's temp path means nothing to them).
        else finish({ type: 'ingest-failed', jobId, file, message: m.message.split(job.log).join(file) });
      });
      w.on('error', (e) => finish({ type: 'ingest-failed', jobId, file, message: `internal error: ${e.message}` }));
      w.on('exit', (code) => finish({ type: 'ingest-failed', jobId, file, message: `the ingest stopped (exit ${code})` }));
    });
  }
}
