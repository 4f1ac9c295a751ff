/**
 * The library's use cases: every stored run with its programs, one run, deleting a run.
 *
 * Contract: `runInfo(store, runId)` → the contract's RunInfo (null when there is no such run);
 * `libraryHandlers(store, onDelete)` answers listRuns / getRun / deleteRun (`onDelete` lets the
 * caches of other use cases forget the run).
 */
import type { Store } from '../store/types.ts';
import type { Handlers, ProgramInfo, RunInfo } from '../contract/contract.ts';
import type { ProgramSummary } from '../domain/log/program-state.ts';

export function programInfo(p: ProgramSummary): ProgramInfo {
  return {
    index: p.index,
    name: p.name,
    verdict: p.verdict,
    error: p.error,
    failInsn: p.verdict === 'rejected' ? p.failInsn : null,
    failLine: p.verdict === 'rejected' ? p.failLine : null,
    insnsProcessed: p.stats.insnsProcessed ?? null,
    firstLine: p.firstLine,
    lastLine: p.lastLine,
    lines: p.lines,
    unknownLines: p.unknownLines,
    truncation: p.truncation,
    loaderError: p.loaderError,
    logLevel: p.logLevel,
  };
}

export async function runInfo(store: Store, runId: number): Promise<RunInfo | null> {
  const r = await store.getRun(runId);
  if (!r) return null;
  return {
    id: r.id,
    source: r.source,
    sourceName: r.sourceName,
    sizeBytes: r.sizeBytes,
    formats: r.formats,
    kernel: r.kernel,
    kernelHints: r.kernelHints,
    lines: r.lines,
    unknownLines: r.unknownLines,
    createdAt: r.createdAt,
    programs: (await store.getPrograms(runId)).map(programInfo),
    btf: (await store.runBtfFiles(runId)).map((b) => ({ id: b.id, source: b.source, format: b.format, types: b.typeCount })),
  };
}

export function libraryHandlers(store: Store, onDelete: (runId: number) => void): Handlers<'listRuns' | 'getRun' | 'deleteRun'> {
  return {
    listRuns: async () => {
      const out: RunInfo[] = [];
      for (const r of await store.listRuns()) {
        const info = await runInfo(store, r.id);
        if (info) out.push(info);
      }
      return out;
    },
    getRun: ({ runId }) => runInfo(store, runId),
    deleteRun: async ({ runId }) => {
      onDelete(runId);
      return { deleted: await store.deleteRun(runId) };
    },
  };
}
