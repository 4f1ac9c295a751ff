/**
 * Replay use case: runs the ownership model over a stored run's programs and stores the results.
 *
 * Contract: `replayRun(store, runId, { kernelProfile, force, programs })` re-reads each program's
 * records from the store (the same typed records the parser produced), replays them with the
 * run's program BTF summary, and saves one replay per program and profile — all missing ones in
 * one write transaction (none is taken when every replay is stored already: they are reused
 * unless `force`). `replayLog` in ingest.ts ingests a log and replays it in the same pass. Used by
 * the CLI, the browser host and Electron.
 */
import type { ReplayRow, StoreReader, Store, StoreWriter } from '../store/types.ts';
import { ReplayError, normaliseProfile, profileForRun } from './profiles.ts';
import { Replayer, type ReplayResult, type Finding, type Divergence, type ModelObject, type OwnershipEvent } from '../domain/model/index.ts';
import type { ProgramSummary } from '../domain/log/program-state.ts';
import { recordFromStored } from '../domain/log/stored-lines.ts';

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

/** The kernel release a run's log came from, as a model profile name (decides how its tables read). */
export function logKernelOf(kernel: string | null): string | undefined {
  return kernel && /^\d+\.\d+/.test(kernel) ? normaliseProfile(kernel) : undefined;
}

/** Replay one stored program (its records re-read from the store). */
async function replayStored(
  r: StoreReader,
  runId: number,
  p: ProgramSummary,
  ctx: { profile: string; btf: Awaited<ReturnType<StoreReader['programBtf']>>; logKernel: string | undefined; profileIsDefault: boolean },
): Promise<ReplayResult> {
  if (p.lines === 0) return neverVerified(p, ctx.profile);
  const rp = new Replayer({
    name: p.name,
    kernelProfile: ctx.profile,
    profileIsDefault: ctx.profileIsDefault,
    section: p.section,
    btfRefused: p.btfRefused,
    structOps: p.structOps,
    ...(ctx.btf ? { btf: ctx.btf.summary } : {}),
    ...(ctx.logKernel ? { logKernel: ctx.logKernel } : {}),
  });
  for await (const batch of r.readLines(runId, p.firstLine, p.lastLine - p.firstLine + 1)) {
    for (const l of batch) rp.push(recordFromStored(l, p.index));
  }
  return rp.finish();
}

async function withReplay(r: StoreReader, p: ProgramSummary, row: ReplayRow): Promise<ProgramReplay> {
  return {
    program: p,
    replay: row,
    events: await r.loadEvents(row.id),
    objects: await r.loadObjects(row.id),
    divergences: await r.loadDivergences(row.id),
    agree: agreement(p, row.modelVerdict, row.failInsn),
  };
}

/** Replay (and store) every missing replay of the run's programs, inside the caller's transaction. */
export async function replayRunIn(w: StoreWriter, runId: number, opts: { kernelProfile?: string; force?: boolean; programs?: number[] } = {}): Promise<ReplayRunResult> {
  const run = await w.getRun(runId);
  if (!run) throw new ReplayError(`no run ${runId} in this database (see: kptrscope runs)`);
  const profile = profileForRun(run.kernel, opts.kernelProfile);
  const programs = (await w.getPrograms(runId)).filter((p) => !opts.programs || opts.programs.includes(p.index));
  const btf = await w.programBtf({ runId });
  const ctx = { profile, btf, logKernel: logKernelOf(run.kernel), profileIsDefault: opts.kernelProfile === undefined && logKernelOf(run.kernel) === undefined };
  const out: ProgramReplay[] = [];
  for (const p of programs) {
    const key = { runId, programIdx: p.index, kernelProfile: profile };
    let row = opts.force ? undefined : await w.findReplay(key);
    if (!row) {
      await w.saveReplay(key, await replayStored(w, runId, p, ctx), btf?.id ?? null);
      row = (await w.findReplay(key)) as ReplayRow;
    }
    out.push(await withReplay(w, p, row));
  }
  return { runId, kernelProfile: profile, programs: out };
}

export async function replayRun(store: Store, runId: number, opts: { kernelProfile?: string; force?: boolean; programs?: number[] } = {}): Promise<ReplayRunResult> {
  const run = await store.getRun(runId);
  if (!run) throw new ReplayError(`no run ${runId} in this database (see: kptrscope runs)`);
  if (!opts.force) {
    // Every replay stored already (the usual case: ingest replays as it goes): read, never lock.
    // The run's BTF is read all the same: a damaged stored summary is reported, never skipped.
    await store.programBtf({ runId });
    const profile = profileForRun(run.kernel, opts.kernelProfile);
    const programs = (await store.getPrograms(runId)).filter((p) => !opts.programs || opts.programs.includes(p.index));
    const rows: ReplayRow[] = [];
    for (const p of programs) {
      const row = await store.findReplay({ runId, programIdx: p.index, kernelProfile: profile });
      if (!row) break;
      rows.push(row);
    }
    if (rows.length === programs.length) {
      const out: ProgramReplay[] = [];
      for (const [i, p] of programs.entries()) out.push(await withReplay(store, p, rows[i] as ReplayRow));
      return { runId, kernelProfile: profile, programs: out };
    }
  }
  return store.write((w) => replayRunIn(w, runId, opts));
}
