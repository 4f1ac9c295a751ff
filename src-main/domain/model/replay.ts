/**
 * replayProgram: replays one program's log records through the ownership model.
 *
 * Contract: records are consumed one by one, in log order (any Iterable; memory is bounded by the
 * model state, the pending-branch stack and the per-step output). The Replayer wires the parts,
 * each with one job: the path walk (path-walk.ts: the verifier's depth-first order, frames, the
 * cross-check with printed states), the object table (object-table.ts), the replay log of events,
 * findings, divergences and steps (replay-log.ts), the rules behind calls (calls.ts, rule-api.ts,
 * rules/). Verdict and findings come only from the model's rules; the kernel's error text is used
 * only to report a rejection the rules cannot explain (`outside-model`).
 */
import type { Btf } from '../btf/btf-types.ts';
import type { LogRecord } from '../log/records.ts';
import { emptyLayout, layoutFromBtf, type BtfLayout } from './btf-layout.ts';
import { isBtfSummary, layoutFromSummary } from './btf-summary-adapter.ts';
import type { BtfSummary } from '../btf/special-fields.ts';
import type { Checker, LogEvidence } from './crosscheck.ts';
import type { ProgramInfo } from '../log/log-parser.ts';
import { progTypeOfSection } from './prog-types.ts';
import type { StructOpsInfo } from './rules/struct-ops.ts';
import { profileFor, NEWEST, type KernelProfile } from './kernel-profiles.ts';
import { RuleRegistry } from './rules/index.ts';
import { StepStore, decodeState, rebuildFlat } from './step-store.ts';
import { ObjectTable, type Cursor } from './object-table.ts';
import { ReplayLog } from './replay-log.ts';
import { createModelApi } from './rule-api.ts';
import { PathWalk } from './path-walk.ts';
import type { ReplayResult } from './types.ts';

export interface ReplayContext {
  /** Program BTF: the ingest summary, a parsed Btf (every struct id known), or a ready layout. */
  btf?: BtfSummary | BtfLayout | Btf;
  /** Rules profile (`6.1`, `6.6`, `6.12`, `6.18`, …); default the newest. */
  kernelProfile?: string;
  /** Kernel that printed the log (decides log quirks such as locks in `refs=`); when unknown, the
   * log's own spellings decide the quirks of 7.x (see `LogEvidence`). */
  logKernel?: string;
  /** `kernelProfile` is only the default (nobody asked, the log's kernel is unknown): rules that a
   * newer kernel added do not apply once the log shows an older kernel's spellings. */
  profileIsDefault?: boolean;
  name?: string;
  /** The program's ELF section (`tp_btf/task_newtask`), when the loader named it: its program type. */
  section?: string | null;
  /** The kernel refused the object's BTF (the program was loaded without it): findings say so. */
  btfRefused?: boolean;
  /** The struct_ops callback the program implements (referenced arguments, returned references). */
  structOps?: StructOpsInfo | null;
  checkpointInterval?: number;
}

/** The profile with the rules of releases the log cannot come from switched off (read at use). */
function cappedByLog(p: KernelProfile, e: LogEvidence): KernelProfile {
  return {
    ...p,
    get nmiUnsafeDrop() {
      return p.nmiUnsafeDrop && !e.refObjIdSpelled;
    },
  };
}

function isLayout(b: BtfLayout | Btf | BtfSummary): b is BtfLayout {
  return (b as BtfLayout).structsByName instanceof Map;
}

export class Replayer {
  private readonly name: string;
  private readonly profileName: string;
  private readonly cur: Cursor = { s: null, insn: -1, line: 0 };
  private readonly objects: ObjectTable;
  private readonly log: ReplayLog;
  private readonly store: StepStore;
  private readonly walk: PathWalk;
  private readonly evidence: LogEvidence;
  private readonly btfRefused: boolean;

  constructor(ctx: ReplayContext = {}) {
    const b = ctx.btf;
    const layout = b === undefined ? emptyLayout() : isBtfSummary(b) ? layoutFromSummary(b) : isLayout(b) ? b : layoutFromBtf(b);
    const evidence: LogEvidence = { refObjIdSpelled: false, since71: false };
    this.evidence = evidence;
    this.btfRefused = ctx.btfRefused ?? false;
    const logProfile = profileFor(ctx.logKernel ?? NEWEST);
    const profile = ctx.profileIsDefault || ctx.kernelProfile === undefined ? cappedByLog(profileFor(ctx.kernelProfile ?? NEWEST), evidence) : profileFor(ctx.kernelProfile);
    this.name = ctx.name ?? 'prog';
    this.profileName = profile.name;
    this.objects = new ObjectTable(this.cur);
    this.log = new ReplayLog(this.cur, this.objects);
    this.store = new StepStore(ctx.checkpointInterval ?? 32);
    const objects = this.objects;
    const logKnown = ctx.logKernel !== undefined;
    const checker: Checker = {
      evidence,
      divergence: (what, model, kernel) => this.log.divergence(what, model, kernel),
      bind: (obj, ref) => objects.bind(obj, ref),
      bindType: (obj, type) => objects.bindType(obj, type),
      bindOff: (obj, off) => objects.bindOff(obj, off),
      objByRef: (ref) => objects.objByRef(ref),
      snapshotObject: (ref, type) => objects.snapshotObject(ref, type),
      refOfObj: (obj) => objects.refOfObj(obj),
      // 7.1 spelled references as ref_obj_id= but already printed fixed offsets as imm= and left dead
      // registers out; 7.2 dropped ref_obj_id=.
      get deadRegsUnprinted() {
        return logKnown ? logProfile.deadRegsUnprinted : !evidence.refObjIdSpelled || evidence.since71;
      },
    };
    let walk: PathWalk | null = null;
    const api = createModelApi({
      cur: this.cur,
      objects,
      log: this.log,
      layout,
      hasBtf: b !== undefined,
      profile,
      progType: progTypeOfSection(ctx.section),
      structOps: () => walk?.callback() ?? ctx.structOps ?? null,
      pushCallback: (state) => walk?.pushCallback(state),
    });
    const rules = new RuleRegistry({ logLocksInRefs: logProfile.locksInRefs, release: profile.name });
    walk = new PathWalk({ cur: this.cur, objects, log: this.log, checker, api, rules, store: this.store, structOps: ctx.structOps ?? null });
    this.walk = walk;
  }

  push(rec: LogRecord): void {
    if (rec.kind === 'analysis') this.evidence.since71 = true;
    this.walk.push(rec);
  }

  finish(): ReplayResult {
    this.walk.end();
    const log = this.log;
    const kernelError = log.kernelErrors.length > 0 ? log.kernelErrors.join('\n') : null;
    let finding = log.findings.find((f) => f.kind !== 'outside-model') ?? null;
    if (finding === null && kernelError !== null) {
      const at = this.walk.lastPosition();
      this.cur.insn = at.insn;
      this.cur.line = at.line;
      log.finding('outside-model', [], `the kernel rejected the program for a reason outside the ownership model: ${kernelError}`, { kernelText: kernelError });
      finding = log.findings[log.findings.length - 1] ?? null;
    }
    if (this.btfRefused) {
      for (const f of log.findings) f.explanation += "; note: the kernel refused this object's BTF, so the program was loaded, and is judged here, without it";
    }
    const store = this.store.data;
    return {
      name: this.name,
      kernelProfile: this.profileName,
      verdict: finding ? 'rejected' : 'accepted',
      failInsn: finding && finding.insn >= 0 ? finding.insn : null,
      finding,
      findings: log.findings,
      events: log.events,
      objects: this.objects.objects,
      divergences: log.divergences,
      steps: log.steps(),
      stateStore: store,
      stateAt: (i: number) => decodeState(rebuildFlat(store, i)),
      kernelError,
    };
  }
}

export function replayProgram(records: Iterable<LogRecord>, ctx: ReplayContext = {}): ReplayResult {
  const r = new Replayer(ctx);
  for (const rec of records) r.push(rec);
  return r.finish();
}

/**
 * Records of a whole log (in log order: each program's records are contiguous) routed to one
 * Replayer per program; `onResult(programIdx, result)` as soon as the next program starts, once
 * per program that had records, in order. Run-level records (program -1) are skipped.
 */
export class ReplayByProgram {
  private cur: { idx: number; rp: Replayer } | null = null;

  constructor(
    private readonly ctx: ReplayContext & { names?: string[]; programInfo?: (programIdx: number) => ProgramInfo },
    private readonly onResult: (programIdx: number, result: ReplayResult) => void,
  ) {}

  push(rec: LogRecord): void {
    if (rec.program < 0) return;
    if (this.cur?.idx !== rec.program) {
      this.finish();
      const info = this.ctx.programInfo?.(rec.program);
      const section = info?.section ?? this.ctx.section ?? null;
      const btfRefused = info?.btfRefused ?? this.ctx.btfRefused ?? false;
      const structOps = info?.structOps ?? this.ctx.structOps ?? null;
      this.cur = { idx: rec.program, rp: new Replayer({ ...this.ctx, name: this.ctx.names?.[rec.program] ?? `prog${rec.program}`, section, btfRefused, structOps }) };
    }
    this.cur.rp.push(rec);
  }

  /** Ends the current program (call once after the last record). */
  finish(): void {
    const c = this.cur;
    if (!c) return;
    this.cur = null;
    this.onResult(c.idx, c.rp.finish());
  }
}

/** Replay every program of a record stream (records carry their program index). */
export function replayAll(records: Iterable<LogRecord>, ctx: ReplayContext & { names?: string[] } = {}): ReplayResult[] {
  const out: ReplayResult[] = [];
  const router = new ReplayByProgram(ctx, (_idx, r) => out.push(r));
  for (const rec of records) router.push(rec);
  router.finish();
  return out;
}
