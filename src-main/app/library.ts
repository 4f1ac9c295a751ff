/**
 * The library's use cases: every stored run with its programs, one run, deleting a run.
 *
 * Contract: `runInfo(store, runId)` → the contract's RunInfo (null when there is no such run), with
 * the program object it is of (`objectOf`) and each program's finding kind from its stored replay
 * (the run's own kernel profile first; null when none is stored or it has no finding);
 * `libraryHandlers(store, onDelete)` answers listRuns / getRun / deleteRun (`onDelete` lets the
 * caches of other use cases forget the run).
 */
import { basename } from 'node:path';
import type { ReplayRow, Store } from '../store/types.ts';
import type { Handlers, ProgramInfo, RunInfo } from '../contract/contract.ts';
import type { ProgramSummary } from '../domain/log/program-state.ts';
import { profileForRun } from './profiles.ts';

/** What capture and users append to an object's name: `leak_obj.bpftool.log`, `leak_obj.L2.log`,
 * `leak_obj.each.log`, `leak_obj.load-L1.log`, `leak_obj.btf.txt`, `leak_obj.bpf.o`. */
const OBJECT_SUFFIX_RE = /\.(?:log|txt|out|json|bpftool|each|load-L\d+|veristat|verifier|libbpf|cilium|btf|raw|L\d+|bpf\.o|o)$/i;

/** A file's object name without those suffixes (`leak_obj.each.log` → `leak_obj`); the name itself
 * when nothing is left. The matrix, the gate and the library all name objects this way. */
export function stripSuffixes(name: string): string {
  let n = name;
  for (let m = OBJECT_SUFFIX_RE.exec(n); m && m.index > 0; m = OBJECT_SUFFIX_RE.exec(n)) n = n.slice(0, m.index);
  return n;
}

/**
 * The program object a run is of: the `.o` given as its BTF (the object file itself), else the
 * log's file name without the suffixes captures add — so the same object captured on several
 * kernels (`6.12/leak_obj.bpftool.log`, `7.3/leak_obj.bpftool.log`) is one object.
 */
export function objectOf(sourceName: string, btfSources: readonly string[]): string {
  const elf = btfSources.map((s) => basename(s)).find((s) => /\.o$/i.test(s));
  return stripSuffixes(elf ?? sourceName) || sourceName;
}

/** Each program's stored replay: the one judged by the run's own kernel profile, else any. */
async function replaysByProgram(store: Store, runId: number, kernel: string | null): Promise<Map<number, ReplayRow>> {
  const out = new Map<number, ReplayRow>();
  let rows: ReplayRow[];
  try {
    rows = await store.listReplays(runId);
  } catch {
    // A damaged stored replay: the library still lists the run (opening it reports the damage).
    return out;
  }
  const profile = profileForRun(kernel, undefined);
  for (const r of rows) if (!out.has(r.programIdx) || r.kernelProfile === profile) out.set(r.programIdx, r);
  return out;
}

export function programInfo(p: ProgramSummary, replay?: ReplayRow): ProgramInfo {
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
    findingKind: replay?.finding?.kind ?? null,
    blockedBy: p.blockedBy,
  };
}

export async function runInfo(store: Store, runId: number): Promise<RunInfo | null> {
  const r = await store.getRun(runId);
  if (!r) return null;
  const btf = await store.runBtfFiles(runId);
  const replays = await replaysByProgram(store, runId, r.kernel);
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
    programs: (await store.getPrograms(runId)).map((p) => programInfo(p, replays.get(p.index))),
    btf: btf.map((b) => ({ id: b.id, source: b.source, format: b.format, types: b.typeCount })),
    object: objectOf(r.sourceName, btf.map((b) => b.source)),
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
