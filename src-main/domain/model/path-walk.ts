/**
 * The verifier's depth-first walk, followed record by record: the current path, the branches
 * still to explore, subprogram and callback frames, and where the model's state is checked
 * against the state the kernel printed.
 *
 * Contract: `push(record)` in log order; `end()` once after the last. A conditional jump keeps the
 * state of the branch not taken until the log shows it (`from X to Y:` at level 2, a rewound
 * `N: <state>` at level 1); every printed full state restarts the path from the kernel's
 * registers while keeping the model's object knowledge (crosscheck.ts `reseed`). Subprogram and
 * callback frames follow the call blocks (caller:/callee:/returning from callee:/to caller at N:).
 * Each executed instruction is one step (its model state goes to the StepStore). Calls are
 * dispatched to the rules (calls.ts); this module never judges ownership itself.
 */
import type { LogRecord } from '../log/records.ts';
import type { ParsedState } from '../log/reg-state.ts';
import { adoptPlain, compareFrame, fillRefs, reseed, seedPartial, type Checker } from './crosscheck.ts';
import type { Insn } from './insn.ts';
import { RecordCache } from './record-cache.ts';
import { returnsReference, structOpsArgs, structOpsFromArgLine, type StructOpsInfo } from './rules/struct-ops.ts';
import type { MReg } from './regs.ts';
import { cloneState, curFrame, enterFrame, holdersOf, initialState, newFrame, type PathState } from './path-state.ts';
import type { RuleRegistry } from './rules/index.ts';
import type { ModelApi } from './rules/types.ts';
import { deadFinding } from './rules/common.ts';
import { kptrLoad } from './rules/kptr-load.ts';
import { specialFieldAccess } from './rules/special-access.ts';
import { execSimple, nullSplit } from './semantics.ts';
import { scalar } from './regs.ts';
import type { StepStore } from './step-store.ts';
import { checkMainExit, execCall } from './calls.ts';
import type { Cursor, ObjectTable } from './object-table.ts';
import type { ReplayLog } from './replay-log.ts';
import { SavedBranches, type NullEnd, type Saved } from './saved-branches.ts';

interface PendingJump {
  insn: number;
  line: number;
  target: number;
  fall: PathState;
  taken: PathState;
  fallEnds?: NullEnd;
  takenEnds?: NullEnd;
  suffix?: ParsedState;
}

const GLOBAL_ASSUMED_RE = /^Func#\d+ \('[^']*'\) is global and assumed valid\.?$/;
const VALIDATING_RE = /^Validating \S+ func#\d+\.\.\.$/;
const ARG_BTF_ID_RE = /^func '[^']+' arg\d+ has btf_id /;

export interface PathWalkDeps {
  cur: Cursor;
  objects: ObjectTable;
  log: ReplayLog;
  checker: Checker;
  api: ModelApi;
  rules: RuleRegistry;
  store: StepStore;
  /** The struct_ops callback the program implements: its referenced arguments and returned reference. */
  structOps?: StructOpsInfo | null;
}

/** The value a load of a referenced struct_ops argument from the context gives. */
function argValue(type: string, obj: number): MReg {
  return { k: 'ptr', base: 'ptr', btf: type, own: 'own', obj, off: 0, flags: ['trusted'] };
}

const SIZES: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s8: 1, s16: 2, s32: 4, s64: 8 };

/** The memory a load or store touches: base register, offset, size (undefined: not an access). */
function memAccess(op: Insn): { base: number; off: number; size: number; write: boolean } | undefined {
  if (op.op === 'ldx') return { base: op.src, off: op.off, size: SIZES[op.size] ?? 8, write: false };
  if (op.op === 'stx' || op.op === 'st') return { base: op.dst, off: op.off, size: SIZES[op.size] ?? 8, write: true };
  return undefined;
}

function holdersOfName(s: PathState | null, obj: number): string | null {
  if (!s) return null;
  return holdersOf(s, obj).join(',') || null;
}

export class PathWalk {
  private readonly cur: Cursor;
  private readonly saved = new SavedBranches();
  private pending: PendingJump | null = null;
  private pendingReturn = false;
  private block: 'caller' | 'callee' | 'returning' | 'to-caller' | null = null;
  private lastRecordWasBranchTo: number | null = null;
  private pathIndex = 0;
  private lastInsn = -1;
  private lastLine = 0;
  private readonly texts = new RecordCache();
  /** State (and bind count) of the last full `fillRefs` scan still valid (see checkSuffix). */
  private filled: PathState | null = null;
  private filledBinds = 0;

  /** The struct_ops callback the program implements: the loader's word (d.structOps), else what a
   * raw log's `func 'MEMBER' argN has btf_id` line tells (learnCallback). */
  private structOps: StructOpsInfo | null;

  constructor(private readonly d: PathWalkDeps) {
    this.cur = d.cur;
    this.structOps = d.structOps ?? null;
  }

  /** The struct_ops callback the program implements, as far as the log has told (null: none known). */
  callback(): StructOpsInfo | null {
    return this.structOps;
  }

  /**
   * A raw log names no callback (no libbpf lines): the kernel's line on the first load of a pointer
   * argument from the context does, with the member's name and the argument's struct — together
   * with the struct_ops types the object's BTF declares (none declared: not a struct_ops object),
   * that is the callback (rules/struct-ops.ts structOpsFromArgLine). Only for a program that may be
   * a struct_ops one (no section known, or a struct_ops section).
   */
  private learnCallback(text: string): void {
    if (this.structOps !== null) return;
    const { api } = this.d;
    if (api.progType !== null && api.progType.type !== 'STRUCT_OPS') return;
    if (api.hasBtf && api.layout.structOpsTypes.length === 0) return;
    this.structOps = structOpsFromArgLine(text, api.layout.structOpsTypes);
  }

  /** Queue a callback frame's start state (rule-api's pushCallback). */
  pushCallback(state: PathState): void {
    this.saved.push({ from: this.cur.insn, state });
  }

  /** Where the last instruction of the walk was (for findings made after it). */
  lastPosition(): { insn: number; line: number } {
    return { insn: this.lastInsn, line: this.lastLine };
  }

  push(rec: LogRecord): void {
    const wasBranch = this.lastRecordWasBranchTo;
    this.lastRecordWasBranchTo = null;
    if (rec.kind !== 'insn') this.filled = null;
    switch (rec.kind) {
      case 'insn':
        this.onInsn(rec.insn, rec.line, rec.opcode, rec.asm, rec.suffix);
        if (rec.glued) {
          if (rec.glued.safe) this.onSafe(rec.glued.insn, rec.line);
          else if (this.entersCallback(rec.glued.state)) this.onCallbackEntry(rec.insn, rec.glued.insn, rec.line, rec.glued.state);
          else this.onState(rec.glued.insn, rec.line, rec.glued.state, null);
        }
        break;
      case 'state':
        this.onState(rec.insn, rec.line, rec.state, wasBranch);
        break;
      case 'branch':
        this.onBranch(rec.from, rec.to, rec.line, rec.safe, rec.state);
        if (!rec.safe) this.lastRecordWasBranchTo = rec.to;
        break;
      case 'safe':
        this.onSafe(rec.insn, rec.line);
        break;
      case 'call-header':
        // The callee returns also without an `exit` of its own: a bpf_tail_call that jumps away.
        if (rec.which === 'returning' && this.cur.s && this.cur.s.cur > 0) this.pendingReturn = true;
        if (rec.which === 'to-caller') this.finishReturn();
        this.block = rec.which;
        break;
      case 'call-state':
        this.onCallState(rec.line, rec.state);
        break;
      case 'error':
        this.d.log.kernelErrors.push(rec.text);
        break;
      case 'info':
        this.onInfo(rec.text);
        break;
      default:
        break;
    }
  }

  /**
   * A call of a global function is not followed: the verifier assumes it valid ("Func#N (…) is
   * global and assumed valid."), R0 is an unknown scalar and the caller goes on; the function is
   * verified on its own afterwards ("Validating f() func#N..."), from a fresh state.
   */
  private onInfo(text: string): void {
    if (ARG_BTF_ID_RE.test(text)) this.learnCallback(text);
    else if (GLOBAL_ASSUMED_RE.test(text)) {
      const s = this.cur.s;
      if (!s || s.cur === 0) return;
      s.frames.length = s.cur;
      s.cur -= 1;
      const caller = curFrame(s);
      caller.regs[0] = scalar();
      for (let i = 1; i <= 5; i++) caller.regs[i] = undefined;
    } else if (VALIDATING_RE.test(text)) {
      this.resolvePending(null);
      this.finishReturn();
      this.block = null;
      this.saved.clear();
      this.cur.s = null;
      this.pathIndex += 1;
    }
  }

  /**
   * At level 1 a call whose callback the kernel walks next prints the callback's first state glued
   * to the call line (`18: (85) call bpf_rbtree_add_impl#N 24: frame1: … cb`), with no `from 18 to
   * 24:` line: a state of a deeper frame right after a helper/kfunc call (a subprogram call has
   * pushed its frame already) enters the callback: the one the call's rule queued, else (a call no
   * rule models as taking a callback, e.g. bpf_loop) a fresh callback frame on the current state.
   */
  private entersCallback(text: string): boolean {
    const s = this.cur.s;
    return s !== null && !s.blind && (this.texts.state(text).frame ?? 0) > s.cur;
  }

  private onCallbackEntry(callInsn: number, to: number, line: number, text: string): void {
    const s = this.cur.s;
    if (s && !this.saved.hasCallback(callInsn)) {
      const fr = newFrame();
      fr.cb = true;
      enterFrame(s, fr);
    }
    this.onBranch(callInsn, to, line, false, text);
  }

  /** After the last record: a jump still pending falls through, a pending return completes. */
  end(): void {
    this.resolvePending(null);
    this.finishReturn();
  }

  private setPos(insn: number, line: number): void {
    this.cur.insn = insn;
    this.cur.line = line;
  }

  private resolvePending(next: number | null): void {
    const p = this.pending;
    if (!p) return;
    this.filled = null;
    this.pending = null;
    this.setPos(p.insn, p.line);
    const takenNow = next !== null && next === p.target && p.target !== p.insn + 1;
    if (takenNow) {
      this.cur.s = p.taken;
      this.cur.s.path.push(p.target);
      if (p.takenEnds !== undefined) this.nullEnd(p.takenEnds);
    } else {
      this.cur.s = p.fall;
      if (p.fallEnds !== undefined) this.nullEnd(p.fallEnds);
      const sv: Saved = { from: p.insn, to: p.target, state: p.taken };
      if (p.takenEnds !== undefined) sv.nullEnds = p.takenEnds;
      this.saved.push(sv);
    }
    if (p.suffix) this.checkSuffix(p.suffix);
    this.recordStep();
  }

  private nullEnd(e: NullEnd): void {
    const [insn, line] = [this.cur.insn, this.cur.line];
    this.setPos(e.insn, e.line);
    this.d.log.event('release', e.obj, e.from, 'NULL');
    this.d.objects.endObject(e.obj, 'null');
    this.setPos(insn, line);
  }

  private finishReturn(): void {
    const s = this.cur.s;
    if (!this.pendingReturn || !s) return;
    this.pendingReturn = false;
    const callee = s.frames[s.cur];
    if (!callee || s.cur === 0) return;
    s.frames.length = s.cur;
    s.cur -= 1;
    if (!callee.cb) {
      const caller = curFrame(s);
      caller.regs[0] = callee.regs[0];
      for (let i = 1; i <= 5; i++) caller.regs[i] = undefined;
    }
  }

  private onCallState(line: number, text: string): void {
    if (!this.cur.s || this.block === null) return;
    this.cur.line = line;
    const parsed = this.texts.state(text);
    fillRefs(this.cur.s, this.d.checker);
    compareFrame(this.cur.s, parsed, true, this.d.checker);
  }

  private enterSaved(sv: Saved, to: number): PathState {
    const st = sv.state;
    st.path.push(to);
    this.cur.s = st;
    if (sv.nullEnds !== undefined) this.nullEnd(sv.nullEnds);
    fillRefs(st, this.d.checker);
    return st;
  }

  private onBranch(from: number, to: number, line: number, safe: boolean, text: string): void {
    this.resolvePending(null);
    this.finishReturn();
    this.block = null;
    this.setPos(to, line);
    const sv = this.saved.take(from, to);
    let base: PathState | undefined;
    if (sv) base = this.enterSaved(sv, to);
    else if (this.cur.s) base = this.cur.s;
    this.pathIndex += 1;
    if (safe) {
      this.cur.s = null;
      return;
    }
    const parsed = this.texts.state(text);
    if (base && !base.blind) compareFrame(base, parsed, true, this.d.checker);
    this.cur.s = reseed(base, parsed, to, this.d.checker);
    this.d.objects.noteHolders(this.cur.s);
  }

  private onState(insn: number, line: number, text: string, afterBranch: number | null): void {
    this.filled = null;
    this.resolvePending(insn);
    this.finishReturn();
    this.block = null;
    if (afterBranch === insn && this.cur.s) return; // the `N:` copy of the branch snapshot
    if (this.cur.s && !this.cur.s.blind && insn !== 0) {
      // ≥ 5.17 prints `N: <state>` on its own line whenever the previous log line was not the
      // instruction line (after mark_precise lines, after `SCC enter`, after a call's info line):
      // like a compact suffix it shows only the scratched registers — a delta, not a snapshot.
      this.setPos(insn, line);
      this.checkSuffix(this.texts.delta(insn, text));
      this.d.objects.noteHolders(this.cur.s);
      return;
    }
    this.setPos(insn, line);
    let base: PathState | undefined = this.cur.s ?? undefined;
    if (!base) {
      const sv = this.saved.take(null, insn);
      if (sv) {
        base = this.enterSaved(sv, insn);
        this.pathIndex += 1;
      }
    }
    const parsed = this.texts.state(text);
    if (base && !base.blind) compareFrame(base, parsed, true, this.d.checker);
    this.cur.s = reseed(base, parsed, insn, this.d.checker);
    this.startArgs(this.cur.s);
    this.d.objects.noteHolders(this.cur.s);
  }

  /** The struct_ops arguments the program owns from its start (rules/struct-ops.ts). */
  private ctxArgs: Map<number, MReg> | null = null;
  /** Argument objects whose place in the context is not known yet (see startArgs). */
  private learnable = new Set<number>();

  /** A load from the context that the kernel prints owning a referenced argument: that offset holds it. */
  private learnArg(s: PathState, dst: number, off: number, suffix: ParsedState | undefined): void {
    if (this.learnable.size === 0 || !suffix || !this.ctxArgs) return;
    const kv = suffix.regs.find((e) => e.reg === dst)?.value;
    const ref = kv?.kind === 'typed' ? kv.attrs.refObjId : undefined;
    if (kv?.kind !== 'typed' || ref === undefined) return;
    const entry = s.refs.find((e) => e.kind === 'ptr' && e.id === ref && e.obj !== undefined && this.learnable.has(e.obj));
    if (entry?.obj === undefined) return;
    const type = kv.btfType ?? kv.base;
    this.d.objects.bindType(entry.obj, type);
    const v = argValue(type, entry.obj);
    this.ctxArgs.set(off, v);
    if (!s.ctxArgs) s.ctxArgs = this.ctxArgs;
    curFrame(s).regs[dst] = v;
    this.learnable.delete(entry.obj);
  }

  /** Every state of the program carries its referenced arguments (a load from the context gives
   * them); they are made at the program's first state (seedArgs). */
  private startArgs(s: PathState): void {
    if (this.ctxArgs === null) this.ctxArgs = this.seedArgs(s);
    if (this.ctxArgs.size > 0 && !s.ctxArgs) s.ctxArgs = this.ctxArgs;
  }

  /** The referenced arguments as model objects the program owns from instruction 0: the callback's
   * (rules/struct-ops.ts), else (a raw log, nobody said which callback) the references the first
   * state holds, whose place in the context a load will tell (learnArg). */
  private seedArgs(s: PathState): Map<number, MReg> {
    const args = new Map<number, MReg>();
    const { objects, log } = this.d;
    const so = this.structOps;
    for (const a of structOpsArgs(so)) {
      const origin = `${so?.type}.${so?.member} argument (passed referenced, since ${a.since})`;
      const entry = s.refs.find((e) => e.kind === 'ptr' && e.obj !== undefined && objects.obj(e.obj)?.origin === 'snapshot');
      let obj = entry?.obj;
      if (obj !== undefined) objects.markArgument(obj, origin, a.type);
      else {
        obj = objects.newObject(a.type, origin, false);
        s.refs.push({ id: undefined, kind: 'ptr', obj });
      }
      log.event('acquire', obj, null, `ctx+${a.off} (${so?.type}.${so?.member} argument)`);
      args.set(a.off, argValue(a.type, obj));
    }
    if (args.size === 0 && s.path.length === 1 && s.path[0] === 0) {
      for (const e of s.refs) {
        if (e.kind !== 'ptr' || e.obj === undefined || objects.obj(e.obj)?.origin !== 'snapshot') continue;
        objects.markArgument(e.obj, 'a struct_ops argument (passed referenced)');
        this.learnable.add(e.obj);
        log.event('acquire', e.obj, null, 'ctx (argument)');
      }
    }
    return args;
  }

  private onSafe(insn: number, line: number): void {
    this.resolvePending(insn);
    this.finishReturn();
    this.setPos(insn, line);
    this.cur.s = null;
  }

  private checkSuffix(parsed: ParsedState): void {
    const s = this.cur.s;
    if (!s) return;
    const { checker, objects } = this.d;
    // Ref ids can only be missing-but-known after a bind, or after something other than a plain
    // instruction (calls, path switches, printed states) placed values: otherwise skip the scan.
    if (s !== this.filled || objects.binds !== this.filledBinds) fillRefs(s, checker);
    this.filled = s;
    this.filledBinds = objects.binds;
    if (s.blind) {
      this.filled = null;
      while (s.frames.length <= (parsed.frame ?? 0)) s.frames.push(newFrame());
      s.cur = parsed.frame ?? 0;
      seedPartial(s, parsed, checker);
      return;
    }
    if ((parsed.frame ?? 0) !== s.cur) {
      checker.divergence('frame', `frame${s.cur}`, `frame${parsed.frame ?? 0}`);
      return;
    }
    compareFrame(s, parsed, false, checker);
    adoptPlain(s, parsed);
  }

  private recordStep(): void {
    const s = this.cur.s;
    if (!s) return;
    this.d.log.step(this.pathIndex);
    this.d.objects.atStep(s, this.d.store.pushState(s));
  }

  private onInsn(insn: number, line: number, opcode: string, asm: string, suffix: string | undefined): void {
    this.resolvePending(insn);
    this.finishReturn();
    this.block = null;
    this.setPos(insn, line);
    this.lastInsn = insn;
    this.lastLine = line;
    if (!this.cur.s) {
      this.cur.s = initialState();
      this.cur.s.path = [insn];
      this.cur.s.blind = true;
    }
    this.startArgs(this.cur.s);
    const s = this.cur.s;
    const op = this.texts.insn(insn, opcode, asm);
    if (op.op === 'call' || op.op === 'subcall' || op.op === 'exit') this.filled = null;
    const parsedSuffix = suffix === undefined ? undefined : this.texts.suffix(insn, suffix);
    let endPath = false;
    switch (op.op) {
      case 'cond':
        this.execCond(s, op, parsedSuffix);
        return;
      case 'call':
        execCall(this.d.api, this.d.rules, s, op.name, op.num);
        if (this.cur.endsPath) {
          const { judgeAs } = this.cur.endsPath;
          delete this.cur.endsPath;
          if (judgeAs !== undefined) checkMainExit(s, this.cur.insn, this.d.objects, this.d.log, judgeAs);
          endPath = true;
        }
        break;
      case 'subcall':
        this.execSubcall(s, insn);
        break;
      case 'exit':
        if (s.cur > 0) this.pendingReturn = true;
        else {
          checkMainExit(s, this.cur.insn, this.d.objects, this.d.log, undefined, returnsReference(this.structOps));
          endPath = true;
        }
        break;
      default: {
        const loadBase = op.op === 'ldx' && op.size === 'u64' ? curFrame(s).regs[op.src] : undefined;
        const access = memAccess(op);
        if (access && specialFieldAccess(this.d.api, curFrame(s).regs[access.base], access.off, access.size, access.write)) break;
        const use = execSimple(s, op);
        if (use.deadBase) deadFinding(this.d.api, use.deadBase.value, `R${use.deadBase.reg}`, 'a memory access');
        else if (use.scalarBase) {
          const b = use.scalarBase;
          this.d.log.finding('invalid-dereference', [], `R${b.reg} is ${b.value.k === 'const' ? `the constant ${b.value.v}` : `a scalar (${b.value.raw})`} here, not a pointer: the memory access at insn ${insn} needs a pointer to memory`);
        } else if (op.op === 'ldx' && loadBase !== undefined) {
          const v = kptrLoad(this.d.api, loadBase, op.off);
          if (v) curFrame(s).regs[op.dst] = v;
          else if (loadBase.base === 'ctx' && !s.ctxArgs?.has(op.off)) this.learnArg(s, op.dst, op.off, parsedSuffix);
        }
      }
    }
    if (parsedSuffix) this.checkSuffix(parsedSuffix);
    this.recordStep();
    if (endPath) this.cur.s = null;
  }

  private execCond(s: PathState, op: Extract<Insn, { op: 'cond' }>, suffix: ParsedState | undefined): void {
    const taken = cloneState(s);
    const p: PendingJump = { insn: this.cur.insn, line: this.cur.line, target: op.target, fall: s, taken };
    if (suffix) p.suffix = suffix;
    const r = curFrame(s).regs[op.reg];
    if (op.wide && op.src === undefined && op.imm === '0' && (op.cmp === '==' || op.cmp === '!=') && r?.k === 'ptr' && r.nul) {
      const from = r.obj !== undefined ? holdersOfName(s, r.obj) : null;
      const end = (obj: number | undefined): NullEnd | undefined => (obj === undefined ? undefined : { obj, from, insn: this.cur.insn, line: this.cur.line });
      if (op.cmp === '==') {
        const e = end(nullSplit(op.reg, taken, s));
        if (e !== undefined) p.takenEnds = e;
      } else {
        const e = end(nullSplit(op.reg, s, taken));
        if (e !== undefined) p.fallEnds = e;
      }
    }
    this.pending = p;
  }

  private execSubcall(s: PathState, insn: number): void {
    const caller = curFrame(s);
    const fr = newFrame();
    fr.callsite = insn;
    for (let i = 1; i <= 5; i++) {
      const r = caller.regs[i];
      // A pointer to the caller's stack stays one in the callee (printed `fp[0]-8` there).
      fr.regs[i] = r ? (r.k === 'fp' && r.fpFrame === undefined ? { ...r, fpFrame: s.cur } : { ...r }) : undefined;
      caller.regs[i] = undefined;
    }
    fr.regs[10] = { k: 'fp', v: '0', off: 0 };
    enterFrame(s, fr);
  }
}
