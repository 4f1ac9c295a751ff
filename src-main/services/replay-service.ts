/**
 * Replay service: runs the ownership model over a stored run's programs and stores the results.
 *
 * Contract: `replayRun(db, runId, { kernelProfile })` re-reads each program's records from the
 * store (the same typed records the parser produced), replays them with the run's program BTF
 * summary, and saves one replay per program and profile in one transaction; an existing replay for
 * the same key is reused unless `force`. (`replayLog` in ingest-service.ts ingests a log and replays
 * it in the same pass.) Used by the CLI, the browser host and Electron.
 */
import type { Db } from '../store/db.ts';
import { getPrograms, getRun, readLines, rebuildRecord } from '../store/queries/runs.ts';
import { findReplay, loadDivergences, loadEvents, loadObjects, saveReplay, type ReplayRow } from '../store/replay-store.ts';
import { loadProgramBtf } from '../store/program-btf.ts';
import { ReplayError, normaliseProfile, profileForRun } from './profiles.ts';
import { Replayer, type ReplayResult, type Finding, type Divergence, type ModelObject, type OwnershipEvent } from '../model/index.ts';
import type { ProgramSummary } from '../ingest/verifier-log/program-state.ts';


export { ReplayError, normaliseProfile };

export interface ProgramReplay {
  program: ProgramSummary;
  replay: ReplayRow;
  events: OwnershipEvent[];
  objects: ModelObject[];
  divergences: Divergence[];
  /** Kernel verdict vs model verdict (and failing insn when rejected); null when the kernel's verdict is truncated/unknown. */
  agree: boolean | null;
}

export interface ReplayRunResult {
  runId: number;
  kernelProfile: string;
  programs: ProgramReplay[];
}


/**
 * A program that never reached the verifier (the loader gave up first, e.g. a kfunc this kernel
 * lacks): there is nothing to replay; the rejection is the loader's, reported as `outside-model`.
 */
export function neverVerified(p: ProgramSummary, profile: string): ReplayResult {
  const text = p.loaderError ?? p.error ?? 'the program has no verifier log';
  const finding: Finding = {
    kind: 'outside-model',
    insn: -1,
    line: p.firstLine,
    objects: [],
    path: [],
    explanation: `${p.name} never reached the verifier: the loader failed first (${text})`,
    kernelText: text,
  };
  const rejected = p.verdict === 'rejected';
  return {
    name: p.name,
    kernelProfile: profile,
    verdict: rejected ? 'rejected' : 'accepted',
    failInsn: null,
    finding: rejected ? finding : null,
    findings: rejected ? [finding] : [],
    events: [],
    objects: [],
    divergences: [],
    steps: [],
    stateAt: (i: number) => {
      throw new RangeError(`no step ${i}`);
    },
    stateStore: { interval: 32, checkpoints: [], deltas: [] },
    kernelError: text,
  };
}

export function agreement(p: ProgramSummary, modelVerdict: string, modelFailInsn: number | null): boolean | null {
  if (p.verdict !== 'accepted' && p.verdict !== 'rejected') return null;
  if (p.verdict !== modelVerdict) return false;
  return p.verdict === 'rejected' ? p.failInsn === modelFailInsn : true;
}

export function replayRun(db: Db, runId: number, opts: { kernelProfile?: string; force?: boolean; programs?: number[] } = {}): ReplayRunResult {
  const run = getRun(db, runId);
  if (!run) throw new ReplayError(`no run ${runId} in this database (see: kptrscope runs)`);
  const profile = profileForRun(run.kernel, opts.kernelProfile);
  const programs = getPrograms(db, runId).filter((p) => !opts.programs || opts.programs.includes(p.index));
  const btf = loadProgramBtf(db, { runId });
  // The kernel that printed the log decides how its tables read (e.g. locks in `refs=` from 6.13).
  const logKernel = run.kernel && /^\d+\.\d+/.test(run.kernel) ? normaliseProfile(run.kernel) : undefined;
  const out: ProgramReplay[] = [];
  db.transaction(() => {
    for (const p of programs) {
      const key = { runId, programIdx: p.index, kernelProfile: profile };
      let row = opts.force ? undefined : findReplay(db, key);
      if (!row) {
        let result: ReplayResult;
        if (p.lines === 0) {
          result = neverVerified(p, profile);
        } else {
          const rp = new Replayer({ name: p.name, kernelProfile: profile, ...(btf ? { btf: btf.summary } : {}), ...(logKernel ? { logKernel } : {}) });
          for (const l of readLines(db, runId, p.firstLine, p.lastLine - p.firstLine + 1)) rp.push(rebuildRecord(l, p.index));
          result = rp.finish();
        }
        saveReplay(db, key, result, btf?.id ?? null);
        row = findReplay(db, key) as ReplayRow;
      }
      out.push({
        program: p,
        replay: row,
        events: loadEvents(db, row.id),
        objects: loadObjects(db, row.id),
        divergences: loadDivergences(db, row.id),
        agree: agreement(p, row.modelVerdict, row.failInsn),
      });
    }
  })();
  return { runId, kernelProfile: profile, programs: out };
}
