/**
 * Opening files from the renderer: split picked/dropped files into logs and BTF, turn them into
 * FileRefs (uploads in the browser host, paths in Electron), and start one ingest per log.
 */
import type { Client, FileRef } from '../../src-main/contract/contract.ts';
import type { Transport } from './bridge.ts';
import { isBtfName } from './format.ts';
import { jobs, type Job } from './jobs.svelte.ts';

async function refOf(t: Transport, file: File, jobKey: string): Promise<FileRef> {
  const path = t.bridge.pathForFile?.(file);
  if (path) return { kind: 'path', path };
  if (!t.upload) throw new Error('this host cannot receive files');
  return t.upload(file, (sent, total) => jobs.upsert(jobKey, { phase: 'uploading', done: sent, total }));
}

export async function openFiles(
  client: Client,
  t: Transport,
  logs: File[],
  btf: File[],
  opts: { kernel?: string; onFinished?: (job: Job) => void } = {},
): Promise<void> {
  const kernel = opts.kernel;
  for (const log of logs) {
    const key = `local-${Math.random().toString(36).slice(2)}`;
    jobs.upsert(key, { file: log.name, phase: 'uploading', done: 0, total: log.size, mine: true });
    try {
      const logRef = await refOf(t, log, key);
      const btfRefs: FileRef[] = [];
      for (const b of btf) btfRefs.push(await refOf(t, b, key));
      const { jobId } = await client.startIngest({ log: logRef, btf: btfRefs, ...(kernel ? { kernel } : {}) });
      // Events may already have arrived under the real id.
      const early = jobs.list.find((j) => j.id === jobId);
      if (early) {
        early.mine = true;
        jobs.dismiss(key);
        if (early.phase === 'done' || early.phase === 'failed') opts.onFinished?.(early);
      } else {
        jobs.rename(key, jobId);
        jobs.upsert(jobId, { phase: 'ingesting', done: 0 });
      }
    } catch (e) {
      jobs.upsert(key, { phase: 'failed', message: (e as Error).message });
    }
  }
}

export function splitFiles(files: File[]): { logs: File[]; btf: File[] } {
  const logs: File[] = [];
  const btf: File[] = [];
  for (const f of files) (isBtfName(f.name) ? btf : logs).push(f);
  return { logs, btf };
}

/** Start an ingest of files the host picked itself (Electron's native dialog) and follow it. */
export async function ingestPicked(
  client: Client,
  picked: { log: FileRef; btf: FileRef[]; label: string },
  onFinished?: (job: Job) => void,
): Promise<void> {
  const name = picked.label.split(/[\\/]/).pop() ?? picked.label;
  try {
    const { jobId } = await client.startIngest({ log: picked.log, btf: picked.btf });
    const j = jobs.upsert(jobId, { file: name, mine: true });
    if (j.phase === 'done' || j.phase === 'failed') onFinished?.(j);
  } catch (e) {
    jobs.upsert(`local-${Math.random().toString(36).slice(2)}`, { file: name, phase: 'failed', message: (e as Error).message, mine: true });
  }
}
