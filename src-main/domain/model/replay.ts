/**
 * replayProgram: replays one program's log records through the ownership model.
 *
 * Contract: records are consumed one by one, in log order (any Iterable; memory is bounded by the
 * model state, the pending-branch stack and the per-step output). The walk follows the verifier's
 * depth-first order: a conditional jump keeps the state of the branch not taken until the log
 * shows it (`from X to Y:` at level 2, a rewound `N: <state>` at level 1); every printed full
 * state restarts the path from the kernel's registers while keeping the model's object knowledge.
 * Subprogram and callback frames follow the call blocks (caller:/callee:/returning from callee:/
 * to caller at N:). Verdict and findings come only from the model's rules; the kernel's error text
 * is used only to report a rejection the rules cannot explain (`outside-model`).
 */
import type { Btf } from '../btf/btf-types.ts';
import type { LogRecord } from '../log/records.ts';
import { newValueCache, parseState, type ParsedState, type ValueCache } from '../log/reg-state.ts';
import { emptyLayout, layoutFromBtf, type BtfLayout } from './btf-layout.ts';
import { isBtfSummary, layoutFromSummary } from './btf-summary-adapter.ts';
import type { BtfSummary } from '../btf/special-fields.ts';
import { adoptPlain, compareFrame, fillRefs, reseed, seedPartial, type Checker } from './crosscheck.ts';
import { leakExplanation } from './findings.ts';
import { decodeInsn, nextInsn, type Insn } from './insn.ts';
import { featureMessage, profileFor, supports, NEWEST, type Feature, type KernelProfile } from './kernel-profiles.ts';
import {
  cloneState,
  curFrame,
  holdersInto,
  holdersOf,
  initialState,
  newFrame,
  regName,
  replaceValues,
  type PathState,
  type RefEntry,
} from './path-state.ts';
import { copyRegCold, regText, scalar, type MReg } from './regs.ts';
import { RuleRegistry } from './rules/index.ts';
import type { CallInfo, ModelApi } from './rules/types.ts';
import { deadFinding } from './rules/common.ts';
import { execSimple, nullSplit } from './semantics.ts';
import { StepStore, decodeState, rebuildFlat } from './step-store.ts';
import type {
  Divergence,
  EndKind,
  EventKind,
  Finding,
  FindingKind,
  ModelObject,
  OwnershipEvent,
  ReplayResult,
  Step,
} from './types.ts';

export interface ReplayContext {
  /** Program BTF: the ingest summary, a parsed Btf (every struct id known), or a ready layout. */
  btf?: BtfSummary | BtfLayout | Btf;
  /** Rules profile (`6.1`, `6.6`, `6.12`, `6.18`, …); default the newest. */
  kernelProfile?: string;
  /** Kernel that printed the log (decides log quirks such as locks in `refs=`); default 6.18. */
  logKernel?: string;
  name?: string;
  checkpointInterval?: number;
}

interface Saved {
  from: number;
  /** Undefined for a callback frame (its start is only known from the `from` line). */
  to?: number;
  state: PathState;
  /** Reference that ends when this branch is entered (the NULL branch of a check). */
  nullEnds?: NullEnd;
}

interface NullEnd {
  obj: number;
  from: string | null;
  insn: number;
  line: number;
}

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

const MAX_SAVED = 4096;
/** Per-insn caches cover insn indices below this. */
const MAX_INSN = 1 << 20;

interface LastParse {
  text: string;
  parsed: ParsedState;
}

function isLayout(b: BtfLayout | Btf | BtfSummary): b is BtfLayout {
  return (b as BtfLayout).structsByName instanceof Map;
}

export class Replayer {
  private readonly layout: BtfLayout;
  private readonly hasBtf: boolean;
  private readonly profile: KernelProfile;
  private readonly logProfile: KernelProfile;
  private readonly rules: RuleRegistry;
  private readonly name: string;

  private s: PathState | null = null;
  private saved: Saved[] = [];
  private pending: PendingJump | null = null;
  private pendingReturn = false;
  private block: 'caller' | 'callee' | 'returning' | 'to-caller' | null = null;
  private lastRecordWasBranchTo: number | null = null;

  private objects: ModelObject[] = [];
  private refToObj = new Map<number, number>();
  private nextNg = 1;
  private lastHolders = new Map<number, { holders: string[]; insn: number; lostAt?: number }>();

  private events: OwnershipEvent[] = [];
  private findings: Finding[] = [];
  private divergences: Divergence[] = [];
  /** Per-step insn, line, path index (Step objects are built by `finish`). */
  private stepCols: number[] = [];
  private store: StepStore;
  private kernelErrors: string[] = [];
  private pathIndex = 0;

  private insn = -1;
  private line = 0;
  /** Parsed value texts (shared, read-only RegValues; bounded by parseState). */
  private readonly values: ValueCache = newValueCache();
  /** Last parsed compact suffix / `N: <state>` delta per insn (see parseAt). */
  private readonly lastSuffix: LastParse[] = [];
  private readonly lastState: LastParse[] = [];
  /** Holder names of one object (noteHolders). */
  private readonly scratch: string[] = [];
  /** State (and bind count) of the last full `fillRefs` scan still valid (see checkSuffix). */
  private filled: PathState | null = null;
  private filledBinds = 0;
  /** Number of ref ids learnt so far (bind / snapshotObject). */
  private binds = 0;
  /** The last `noteHolders` ran at the last recorded step (see recordStep). */
  private holdersAtStep = false;
  /** Last decoded instruction per insn index (decoded ops are read-only). */
  private readonly decoded: ({ opcode: string; asm: string; op: Insn } | undefined)[] = [];
  private lastInsn = -1;
  private lastLine = 0;

  constructor(ctx: ReplayContext = {}) {
    const b = ctx.btf;
    this.layout = b === undefined ? emptyLayout() : isBtfSummary(b) ? layoutFromSummary(b) : isLayout(b) ? b : layoutFromBtf(b);
    this.hasBtf = ctx.btf !== undefined;
    this.profile = profileFor(ctx.kernelProfile ?? NEWEST);
    this.logProfile = profileFor(ctx.logKernel ?? NEWEST);
    this.rules = new RuleRegistry({ logLocksInRefs: this.logProfile.locksInRefs });
    this.name = ctx.name ?? 'prog';
    this.store = new StepStore(ctx.checkpointInterval ?? 32);
  }

  // ---------------------------------------------------------------- knowledge

  private newObject(type: string, origin: string, local: boolean, sameAs?: number): number {
    const o: ModelObject = { id: this.objects.length + 1, type, origin, local, allocInsn: this.insn, ends: [] };
    if (sameAs !== undefined) o.sameAs = sameAs;
    this.objects.push(o);
    return o.id;
  }

  private obj(id: number): ModelObject | undefined {
    return this.objects[id - 1];
  }

  private objName(id: number): string {
    const o = this.obj(id);
    if (!o) return `#o${id}`;
    if (o.refId === undefined && o.origin !== 'bpf_obj_new') return `${o.type}@${o.allocInsn}`;
    return `${o.type}#${o.refId ?? `o${id}`}`;
  }

  private endObject(id: number, kind: EndKind): void {
    const o = this.obj(id);
    if (!o) return;
    o.ends.push({ insn: this.insn, kind });
    if (o.endInsn === undefined) {
      o.endInsn = this.insn;
      o.endKind = kind;
    }
  }

  private event(kind: EventKind, object: number, from: string | null, to: string | null): void {
    this.events.push({ step: this.stepCols.length / 3, insn: this.insn, line: this.line, kind, object, from, to });
  }

  private readonly checker: Checker = {
    divergence: (what, model, kernel) => {
      if (this.s?.blind) return;
      this.divergences.push({ insn: this.insn, line: this.line, what, model, kernel });
    },
    bind: (obj, ref) => {
      const other = this.refToObj.get(ref);
      if (other !== undefined && other !== obj) return false;
      const o = this.obj(obj);
      if (!o || (o.refId !== undefined && o.refId !== ref)) return false;
      o.refId = ref;
      this.refToObj.set(ref, obj);
      this.binds++;
      return true;
    },
    bindType: (obj, type) => {
      const o = this.obj(obj);
      if (o && o.type === '?') o.type = type;
      if (this.s) {
        replaceValues(this.s, (r) => {
          if (r.obj !== obj || r.btf !== undefined) return undefined;
          const c = copyRegCold(r);
          c.btf = type;
          return c;
        });
      }
    },
    bindOff: (obj, off) => {
      if (!this.s) return;
      replaceValues(this.s, (r) => {
        if (r.obj !== obj || r.off !== undefined) return undefined;
        const c = copyRegCold(r);
        c.off = off;
        return c;
      });
    },
    objByRef: (ref) => this.refToObj.get(ref),
    snapshotObject: (ref, type) => {
      const id = this.newObject(type, 'snapshot', false);
      const o = this.obj(id);
      if (o && ref !== undefined) {
        o.refId = ref;
        this.refToObj.set(ref, id);
        this.binds++;
      }
      return id;
    },
    refOfObj: (obj) => this.obj(obj)?.refId,
  };

  // ---------------------------------------------------------------- findings

  private finding(kind: FindingKind, objs: number[], explanation: string, extra: { feature?: string; kernelText?: string } = {}): void {
    if (this.s?.blind && kind !== 'outside-model') return; // no printed state yet: nothing to judge from
    const f: Finding = {
      kind,
      insn: this.insn,
      line: this.line,
      objects: objs.map((id) => {
        const o = this.obj(id);
        const cur = this.s ? holdersOf(this.s, id) : [];
        const last = cur.length > 0 ? cur : (this.lastHolders.get(id)?.holders ?? []);
        const fo: Finding['objects'][number] = { type: o?.type ?? '?', allocInsn: o?.allocInsn ?? -1, lastHolders: last, object: id };
        if (o?.refId !== undefined) fo.refId = o.refId;
        return fo;
      }),
      path: this.s ? [...this.s.path] : [],
      explanation,
    };
    if (extra.feature !== undefined) f.feature = extra.feature;
    if (extra.kernelText !== undefined) f.kernelText = extra.kernelText;
    this.findings.push(f);
  }

  // ---------------------------------------------------------------- rule API

  private ruleApi: ModelApi | null = null;

  /** The rule API over the current path state (built once; always reads `this.s`). */
  private api(cur: PathState): ModelApi {
    if (this.s !== cur) this.s = cur;
    this.ruleApi ??= this.buildApi();
    return this.ruleApi;
  }

  private get st(): PathState {
    if (!this.s) throw new Error('no current path state');
    return this.s;
  }

  private buildApi(): ModelApi {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- getters below need the replayer
    const self = this;
    return {
      get s() {
        return self.st;
      },
      get insn() {
        return self.insn;
      },
      layout: this.layout,
      hasBtf: this.hasBtf,
      profile: this.profile,
      get frame() {
        return self.st.cur;
      },
      object: (id) => this.obj(id),
      objName: (id) => this.objName(id),
      newObject: (t, o, l, same) => this.newObject(t, o, l, same),
      nullGroup: () => this.nextNg++,
      addRef: (obj) => {
        this.st.refs.push({ id: this.obj(obj)?.refId, kind: 'ptr', obj });
      },
      dropRef: (obj, end, ev, to) => {
        const from = holdersOf(this.st, obj).join(',') || null;
        const i = this.st.refs.findIndex((e) => e.kind === 'ptr' && e.obj === obj);
        if (i >= 0) this.st.refs.splice(i, 1);
        for (const f of this.st.frames) {
          f.regs.forEach((r, k) => {
            if (r && r.obj === obj && r.own === 'own') f.regs[k] = { k: 'dead', dead: 'released', deadInsn: this.insn, obj };
          });
          for (const slot of f.slots.values()) {
            if (slot.spill && slot.spill.obj === obj && slot.spill.own === 'own') {
              slot.spill = { k: 'dead', dead: 'released', deadInsn: this.insn, obj };
            }
          }
        }
        if (ev) this.event(ev, obj, from, to);
        this.endObject(obj, end);
      },
      toNonOwning: (obj) => {
        const i = this.st.refs.findIndex((e) => e.kind === 'ptr' && e.obj === obj);
        if (i >= 0) this.st.refs.splice(i, 1);
        replaceValues(this.st, (r) => {
          if (r.obj !== obj || r.own !== 'own') return undefined;
          const c = copyRegCold(r);
          c.own = 'nonown';
          delete c.ref;
          delete c.nid;
          return c;
        });
      },
      invalidateNonOwning: () => {
        const seen = new Map<number, string[]>();
        for (const f of this.st.frames) {
          const kill = (r: MReg | undefined, name: string): MReg | undefined => {
            if (!r || r.own !== 'nonown' || r.k === 'dead') return undefined;
            if (r.obj !== undefined) seen.set(r.obj, [...(seen.get(r.obj) ?? []), name]);
            const d: MReg = { k: 'dead', dead: 'invalidated', deadInsn: this.insn };
            if (r.obj !== undefined) d.obj = r.obj;
            return d;
          };
          const fno = this.st.frames.indexOf(f);
          f.regs.forEach((r, k) => {
            const d = kill(r, regName(fno, k));
            if (d) f.regs[k] = d;
          });
          for (const [off, slot] of f.slots) {
            const d = kill(slot.spill, `fp${off}`);
            if (d) slot.spill = d;
          }
        }
        for (const [obj, names] of seen) this.event('invalidate', obj, names.join(','), null);
      },
      holders: (obj) => holdersOf(this.st, obj),
      event: (kind, obj, from, to) => this.event(kind, obj, from, to === 'R0' && this.st.cur > 0 ? regName(this.st.cur, 0) : to),
      endObject: (obj, end) => this.endObject(obj, end),
      finding: (kind, objs, explanation, extra) => this.finding(kind, objs, explanation, extra),
      requireFeature: (f: Feature, what: string) => {
        if (supports(this.profile, f)) return true;
        this.finding('feature-unavailable', [], `${what}: ${featureMessage(f)} (replayed under the ${this.profile.name} profile)`, { feature: f });
        return false;
      },
      pushCallback: (args) => {
        const cb = cloneState(this.st);
        const fr = newFrame();
        fr.cb = true;
        fr.callsite = this.insn;
        args.forEach((a, i) => (fr.regs[i + 1] = a));
        fr.regs[10] = { k: 'fp', v: '0', off: 0 };
        cb.frames.length = cb.cur + 1;
        cb.frames.push(fr);
        cb.cur += 1;
        this.pushSaved({ from: this.insn, state: cb });
      },
      describe: (r) => (r === undefined ? 'uninitialised' : regText(r)),
    };
  }

  private pushSaved(sv: Saved): void {
    this.saved.push(sv);
    if (this.saved.length > MAX_SAVED) this.saved.shift();
  }

  // ---------------------------------------------------------------- records

  push(rec: LogRecord): void {
    const wasBranch = this.lastRecordWasBranchTo;
    this.lastRecordWasBranchTo = null;
    if (rec.kind !== 'insn') this.filled = null;
    switch (rec.kind) {
      case 'insn':
        this.onInsn(rec.insn, rec.line, rec.opcode, rec.asm, rec.suffix);
        if (rec.glued) {
          if (rec.glued.safe) this.onSafe(rec.glued.insn, rec.line);
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
        this.onCallHeader(rec.which);
        break;
      case 'call-state':
        this.onCallState(rec.line, rec.state);
        break;
      case 'error':
        this.kernelErrors.push(rec.text);
        break;
      default:
        break;
    }
  }

  private setPos(insn: number, line: number): void {
    this.insn = insn;
    this.line = line;
  }

  private resolvePending(next: number | null): void {
    const p = this.pending;
    if (!p) return;
    this.filled = null;
    this.pending = null;
    this.setPos(p.insn, p.line);
    const takenNow = next !== null && next === p.target && p.target !== p.insn + 1;
    if (takenNow) {
      this.s = p.taken;
      this.s.path.push(p.target);
      if (p.takenEnds !== undefined) this.nullEnd(p.takenEnds);
    } else {
      this.s = p.fall;
      if (p.fallEnds !== undefined) this.nullEnd(p.fallEnds);
      const sv: Saved = { from: p.insn, to: p.target, state: p.taken };
      if (p.takenEnds !== undefined) sv.nullEnds = p.takenEnds;
      this.pushSaved(sv);
    }
    if (p.suffix) this.checkSuffix(p.suffix);
    this.recordStep();
  }

  private nullEnd(e: NullEnd): void {
    const [insn, line] = [this.insn, this.line];
    this.setPos(e.insn, e.line);
    this.event('release', e.obj, e.from, 'NULL');
    this.endObject(e.obj, 'null');
    this.setPos(insn, line);
  }

  private finishReturn(): void {
    if (!this.pendingReturn || !this.s) return;
    this.pendingReturn = false;
    const s = this.s;
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

  private onCallHeader(which: 'caller' | 'callee' | 'returning' | 'to-caller'): void {
    if (which === 'to-caller') this.finishReturn();
    this.block = which;
  }

  private onCallState(line: number, text: string): void {
    if (!this.s || this.block === null) return;
    this.line = line;
    const parsed = parseState(text, this.values);
    fillRefs(this.s, this.checker);
    compareFrame(this.s, parsed, true, this.checker);
  }

  private takeSaved(from: number | null, to: number): Saved | undefined {
    let idx = -1;
    if (from !== null) {
      for (let i = this.saved.length - 1; i >= 0; i--) {
        const sv = this.saved[i] as Saved;
        if (sv.from === from && (sv.to === to || sv.to === undefined)) {
          idx = i;
          break;
        }
      }
    }
    if (idx < 0) {
      for (let i = this.saved.length - 1; i >= 0; i--) if ((this.saved[i] as Saved).to === to) {
        idx = i;
        break;
      }
    }
    if (idx < 0) return undefined;
    const sv = this.saved[idx] as Saved;
    this.saved.splice(idx, 1);
    return sv;
  }

  private enterSaved(sv: Saved, to: number): PathState {
    const st = sv.state;
    st.path.push(to);
    this.s = st;
    if (sv.nullEnds !== undefined) this.nullEnd(sv.nullEnds);
    fillRefs(st, this.checker);
    return st;
  }

  private onBranch(from: number, to: number, line: number, safe: boolean, text: string): void {
    this.resolvePending(null);
    this.finishReturn();
    this.block = null;
    this.setPos(to, line);
    const sv = this.takeSaved(from, to);
    let base: PathState | undefined;
    if (sv) base = this.enterSaved(sv, to);
    else if (this.s) base = this.s;
    this.pathIndex += 1;
    if (safe) {
      this.s = null;
      return;
    }
    const parsed = parseState(text, this.values);
    if (base && !base.blind) compareFrame(base, parsed, true, this.checker);
    this.s = reseed(base, parsed, to, this.checker);
    this.noteHolders();
  }

  private onState(insn: number, line: number, text: string, afterBranch: number | null): void {
    this.filled = null;
    this.resolvePending(insn);
    this.finishReturn();
    this.block = null;
    if (afterBranch === insn && this.s) return; // the `N:` copy of the branch snapshot
    if (this.s && !this.s.blind && insn !== 0) {
      // ≥ 5.17 prints `N: <state>` on its own line whenever the previous log line was not the
      // instruction line (after mark_precise lines, after `SCC enter`, after a call's info line):
      // like a compact suffix it shows only the scratched registers — a delta, not a snapshot.
      this.setPos(insn, line);
      this.checkSuffix(this.parseAt(this.lastState, insn, text));
      this.noteHolders();
      return;
    }
    this.setPos(insn, line);
    let base: PathState | undefined = this.s ?? undefined;
    if (!base) {
      const sv = this.takeSaved(null, insn);
      if (sv) {
        base = this.enterSaved(sv, insn);
        this.pathIndex += 1;
      }
    }
    const parsed = parseState(text, this.values);
    if (base && !base.blind) compareFrame(base, parsed, true, this.checker);
    this.s = reseed(base, parsed, insn, this.checker);
    this.noteHolders();
  }

  private onSafe(insn: number, line: number): void {
    this.resolvePending(insn);
    this.finishReturn();
    this.setPos(insn, line);
    this.s = null;
  }

  /**
   * Parse a state text printed at `insn`, re-using the last parse at that insn when the text is the
   * same (loops print the same registers again). Parsed states are read-only.
   */
  private parseAt(cache: LastParse[], insn: number, text: string): ParsedState {
    if (insn < 0 || insn >= MAX_INSN) return parseState(text, this.values);
    const c = cache[insn];
    if (c !== undefined && c.text === text) return c.parsed;
    const parsed = parseState(text, this.values);
    if (c !== undefined) {
      c.text = text;
      c.parsed = parsed;
    } else cache[insn] = { text, parsed };
    return parsed;
  }

  private decode(insn: number, opcode: string, asm: string): Insn {
    const d = insn >= 0 && insn < MAX_INSN ? this.decoded[insn] : undefined;
    if (d !== undefined && d.asm === asm && d.opcode === opcode) return d.op;
    const op = decodeInsn(insn, opcode, asm);
    if (insn >= 0 && insn < MAX_INSN) this.decoded[insn] = { opcode, asm, op };
    return op;
  }

  private checkSuffix(parsed: ParsedState): void {
    if (!this.s) return;
    // Ref ids can only be missing-but-known after a bind, or after something other than a plain
    // instruction (calls, path switches, printed states) placed values: otherwise skip the scan.
    if (this.s !== this.filled || this.binds !== this.filledBinds) fillRefs(this.s, this.checker);
    this.filled = this.s;
    this.filledBinds = this.binds;
    if (this.s.blind) {
      this.filled = null;
      while (this.s.frames.length <= (parsed.frame ?? 0)) this.s.frames.push(newFrame());
      this.s.cur = parsed.frame ?? 0;
      seedPartial(this.s, parsed, this.checker);
      return;
    }
    if ((parsed.frame ?? 0) !== this.s.cur) {
      this.checker.divergence('frame', `frame${this.s.cur}`, `frame${parsed.frame ?? 0}`);
      return;
    }
    compareFrame(this.s, parsed, false, this.checker);
    adoptPlain(this.s, parsed);
  }

  private recordStep(): void {
    if (!this.s) return;
    this.stepCols.push(this.insn, this.line, this.pathIndex);
    // Holders are a function of the flat state: when no value, slot, placement or ref changed since
    // the last step (and nothing else noted holders since), only the "still held at" insn moves on.
    const changed = this.store.pushState(this.s);
    if (!changed && this.holdersAtStep) this.refreshHolders();
    else this.noteHolders();
    this.holdersAtStep = true;
  }

  /** `noteHolders` when the holders are known to be the same as at its last call: only the insn moves on. */
  private refreshHolders(): void {
    const refs = (this.s as PathState).refs;
    for (let i = 0; i < refs.length; i++) {
      const e = refs[i] as RefEntry;
      if (e.kind !== 'ptr' || e.obj === undefined) continue;
      const prev = this.lastHolders.get(e.obj);
      if (prev !== undefined && prev.lostAt === undefined) prev.insn = this.insn;
    }
  }

  /** Remember who held each live reference last, and where the last holder lost it. */
  private noteHolders(): void {
    this.holdersAtStep = false;
    const s = this.s;
    if (!s) return;
    const refs = s.refs;
    for (let i = 0; i < refs.length; i++) {
      const e = refs[i] as RefEntry;
      if (e.kind !== 'ptr' || e.obj === undefined) continue;
      const h = this.scratch;
      const n = holdersInto(s, e.obj, h);
      const prev = this.lastHolders.get(e.obj);
      if (n > 0) {
        if (prev !== undefined && prev.lostAt === undefined && sameList(prev.holders, h, n)) prev.insn = this.insn;
        else this.lastHolders.set(e.obj, { holders: h.slice(0, n), insn: this.insn });
      } else if (prev && prev.lostAt === undefined) prev.lostAt = this.insn;
    }
  }

  private onInsn(insn: number, line: number, opcode: string, asm: string, suffix: string | undefined): void {
    this.resolvePending(insn);
    this.finishReturn();
    this.block = null;
    this.setPos(insn, line);
    this.lastInsn = insn;
    this.lastLine = line;
    if (!this.s) {
      this.s = initialState();
      this.s.path = [insn];
      this.s.blind = true;
    }
    const s = this.s;
    const op = this.decode(insn, opcode, asm);
    if (op.op === 'call' || op.op === 'subcall' || op.op === 'exit') this.filled = null;
    const parsedSuffix = suffix === undefined ? undefined : this.parseAt(this.lastSuffix, insn, suffix);
    let endPath = false;
    switch (op.op) {
      case 'cond':
        this.execCond(s, op, parsedSuffix);
        return;
      case 'call':
        this.execCall(s, op.name, op.num);
        break;
      case 'subcall':
        this.execSubcall(s, insn);
        break;
      case 'exit':
        if (s.cur > 0) this.pendingReturn = true;
        else {
          this.checkMainExit(s);
          endPath = true;
        }
        break;
      default: {
        const use = execSimple(s, op);
        if (use.deadBase) deadFinding(this.api(s), use.deadBase.value, `R${use.deadBase.reg}`, 'a memory access');
      }
    }
    if (parsedSuffix) this.checkSuffix(parsedSuffix);
    this.recordStep();
    if (endPath) this.s = null;
    void nextInsn;
  }

  private execCond(s: PathState, op: Extract<Insn, { op: 'cond' }>, suffix: ParsedState | undefined): void {
    const taken = cloneState(s);
    const p: PendingJump = { insn: this.insn, line: this.line, target: op.target, fall: s, taken };
    if (suffix) p.suffix = suffix;
    const r = curFrame(s).regs[op.reg];
    if (op.wide && op.src === undefined && op.imm === '0' && (op.cmp === '==' || op.cmp === '!=') && r?.k === 'ptr' && r.nul) {
      const from = r.obj !== undefined ? holdersOfName(s, r.obj) : null;
      const end = (obj: number | undefined): NullEnd | undefined =>
        obj === undefined ? undefined : { obj, from, insn: this.insn, line: this.line };
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
      fr.regs[i] = r ? { ...r } : undefined;
      caller.regs[i] = undefined;
    }
    fr.regs[10] = { k: 'fp', v: '0', off: 0 };
    s.frames.length = s.cur + 1;
    s.frames.push(fr);
    s.cur += 1;
  }

  private execCall(s: PathState, name: string, num: number): void {
    const fr = curFrame(s);
    const args = [1, 2, 3, 4, 5].map((i) => fr.regs[i]);
    const isHelper = num > 0 && num < 1000;
    const rule = this.rules.find(name, num, isHelper);
    const call: CallInfo = { name, num, args };
    let r0: MReg | undefined;
    if (rule) r0 = rule.apply(this.api(s), call);
    const after = curFrame(s);
    for (let i = 1; i <= 5; i++) after.regs[i] = undefined;
    after.regs[0] = r0 ?? scalar();
  }

  private checkMainExit(s: PathState): void {
    const api = this.api(s);
    if (s.lock) {
      this.finding(
        'exit-while-locked',
        [],
        `the program exits at insn ${this.insn} while ${s.lock.name} is still locked (path ${s.path.join('→')}); call bpf_spin_unlock on every path before returning`,
      );
      return;
    }
    const leaked = s.refs.filter((e) => e.kind === 'ptr' && e.obj !== undefined).map((e) => e.obj as number);
    if (leaked.length === 0) return;
    for (const obj of leaked) {
      this.event('leak', obj, holdersOf(s, obj).join(',') || null, null);
      this.endObject(obj, 'leak');
    }
    const texts = leaked.map((obj) => {
      const o = this.obj(obj);
      const cur = holdersOf(s, obj);
      const last = this.lastHolders.get(obj);
      return leakExplanation(o, this.objName(obj), cur, last, this.insn, s.path);
    });
    this.finding('leak', leaked, texts.join('; '));
    void api;
  }

  private buildSteps(): Step[] {
    const c = this.stepCols;
    const n = c.length / 3;
    const out: Step[] = [];
    for (let i = 0; i < n; i++) out.push({ insn: c[i * 3] as number, line: c[i * 3 + 1] as number, pathIndex: c[i * 3 + 2] as number });
    return out;
  }

  finish(): ReplayResult {
    this.resolvePending(null);
    this.finishReturn();
    const kernelError = this.kernelErrors.length > 0 ? this.kernelErrors.join('\n') : null;
    let finding = this.findings.find((f) => f.kind !== 'outside-model') ?? null;
    if (finding === null && kernelError !== null) {
      this.setPos(this.lastInsn, this.lastLine);
      this.finding('outside-model', [], `the kernel rejected the program for a reason outside the ownership model: ${kernelError}`, {
        kernelText: kernelError,
      });
      finding = this.findings[this.findings.length - 1] ?? null;
    }
    const store = this.store.data;
    return {
      name: this.name,
      kernelProfile: this.profile.name,
      verdict: finding ? 'rejected' : 'accepted',
      failInsn: finding && finding.insn >= 0 ? finding.insn : null,
      finding,
      findings: this.findings,
      events: this.events,
      objects: this.objects,
      divergences: this.divergences,
      steps: this.buildSteps(),
      stateStore: store,
      stateAt: (i: number) => decodeState(rebuildFlat(store, i)),
      kernelError,
    };
  }
}

/** `a` equals the first `n` entries of `b`. */
function sameList(a: string[], b: string[], n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function holdersOfName(s: PathState | null, obj: number): string | null {
  if (!s) return null;
  return holdersOf(s, obj).join(',') || null;
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
    private readonly ctx: ReplayContext & { names?: string[] },
    private readonly onResult: (programIdx: number, result: ReplayResult) => void,
  ) {}

  push(rec: LogRecord): void {
    if (rec.program < 0) return;
    if (this.cur?.idx !== rec.program) {
      this.finish();
      this.cur = { idx: rec.program, rp: new Replayer({ ...this.ctx, name: this.ctx.names?.[rec.program] ?? `prog${rec.program}` }) };
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
