/**
 * Capture use case: load BPF objects on real kernels (capture/capture-objects.ts) and ingest what
 * the loaders printed.
 *
 * Contract: `ingestCaptures(store, captures)` ingests each object's log with its object as BTF,
 * tagged with the guest's `uname -r` (and `opts.tags`) and replayed in the same pass: one run per
 * kernel per object.
 */
import type { Store } from '../store/types.ts';
import { ingestLog, type IngestResult } from './ingest.ts';
import type { KernelCapture, ObjectCapture } from '../capture/capture-objects.ts';

export * from '../capture/capture-objects.ts';

export interface IngestedCapture {
  kernel: KernelCapture;
  object: ObjectCapture;
  result: IngestResult;
}

export async function ingestCaptures(store: Store, captures: KernelCapture[], opts: { tags?: string[] } = {}): Promise<IngestedCapture[]> {
  const out: IngestedCapture[] = [];
  for (const k of captures) {
    for (const o of k.objects) {
      const result = await ingestLog(store, o.log, { btf: [o.objectCopy], kernel: k.release, replay: {}, tags: opts.tags ?? [] });
      out.push({ kernel: k, object: o, result });
    }
  }
  return out;
}
