/**
 * Ingest jobs this window knows about (from contract events): progress, result, error. Jobs started
 * here open their run when they finish.
 */
import type { AppEvent } from '../../src-main/contract/contract.ts';

export interface Job {
  id: string;
  file: string;
  phase: 'uploading' | 'ingesting' | 'done' | 'failed';
  done: number;
  total: number;
  message?: string;
  runId?: number;
  duplicate?: boolean;
  mine: boolean;
}

class Jobs {
  list = $state<Job[]>([]);

  upsert(id: string, patch: Partial<Job> & { file?: string }): Job {
    let j = this.list.find((x) => x.id === id);
    if (!j) {
      this.list.push({ id, file: patch.file ?? '', phase: 'ingesting', done: 0, total: 0, mine: false, ...patch });
      j = this.list[this.list.length - 1] as Job;
    } else Object.assign(j, patch);
    return j;
  }

  rename(from: string, to: string): void {
    const j = this.list.find((x) => x.id === from);
    if (j) j.id = to;
  }

  dismiss(id: string): void {
    this.list = this.list.filter((j) => j.id !== id);
  }

  /** Apply an event; returns the job when it just finished. */
  apply(e: AppEvent): Job | null {
    if (e.type === 'ingest-progress') this.upsert(e.jobId, { file: e.file, phase: 'ingesting', done: e.bytesRead, total: e.totalBytes });
    else if (e.type === 'ingest-done') return this.upsert(e.jobId, { file: e.file, phase: 'done', runId: e.runId, duplicate: e.duplicate });
    else if (e.type === 'ingest-failed') return this.upsert(e.jobId, { file: e.file, phase: 'failed', message: e.message });
    return null;
  }
}

export const jobs = new Jobs();
