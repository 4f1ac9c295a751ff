/**
 * The replay's object table: every object the model knows (one per reference lineage), the
 * kernel's ref ids learnt for them, maybe-NULL groups, and who held each live reference last —
 * the memory a leak finding draws on ("last held by R6, overwritten at insn 12").
 *
 * Contract: objects are numbered 1, 2, … in creation order and never removed; `bind` ties a kernel
 * ref id to at most one object and an object to at most one ref id; `noteHolders(s)` records the
 * holders of every live reference of state `s` (a holder list that empties marks where it was
 * lost). Positions come from the shared `Cursor` (the instruction being replayed).
 */
import type { EndKind, ModelObject } from './types.ts';
import { holdersInto, replaceValues, type PathState, type RefEntry } from './path-state.ts';
import { copyRegCold } from './regs.ts';

/** Where the replay is: the current path state and the instruction / log line being replayed. */
export interface Cursor {
  s: PathState | null;
  insn: number;
  line: number;
  /** Set by a rule when the current instruction ends the path (bpf_throw); `judgeAs` words the exit
   * judgment it then gets (calls.ts checkMainExit), none when the rule has judged it itself. */
  endsPath?: { judgeAs?: string };
}

export interface LastHolders {
  holders: string[];
  insn: number;
  lostAt?: number;
}

/** `a` equals the first `n` entries of `b`. */
function sameList(a: string[], b: string[], n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ObjectTable {
  readonly objects: ModelObject[] = [];
  readonly lastHolders = new Map<number, LastHolders>();
  /** Number of ref ids learnt so far (bind / snapshotObject). */
  binds = 0;
  /** `noteHolders` ran at the last recorded step (see `atStep`). */
  private holdersAtStep = false;
  private readonly refToObj = new Map<number, number>();
  private nextNg = 1;
  /** Holder names of one object (noteHolders). */
  private readonly scratch: string[] = [];

  constructor(private readonly cur: Cursor) {}

  newObject(type: string, origin: string, local: boolean, sameAs?: number): number {
    const o: ModelObject = { id: this.objects.length + 1, type, origin, local, allocInsn: this.cur.insn, ends: [] };
    if (sameAs !== undefined) o.sameAs = sameAs;
    this.objects.push(o);
    return o.id;
  }

  obj(id: number): ModelObject | undefined {
    return this.objects[id - 1];
  }

  objName(id: number): string {
    const o = this.obj(id);
    if (!o) return `#o${id}`;
    if (o.refId === undefined && o.origin !== 'bpf_obj_new') return `${o.type}@${o.allocInsn}`;
    return `${o.type}#${o.refId ?? `o${id}`}`;
  }

  endObject(id: number, kind: EndKind): void {
    const o = this.obj(id);
    if (!o) return;
    o.ends.push({ insn: this.cur.insn, kind });
    if (o.endInsn === undefined) {
      o.endInsn = this.cur.insn;
      o.endKind = kind;
    }
  }

  /** A fresh NULL-check group id. */
  nullGroup(): number {
    return this.nextNg++;
  }

  // ------------------------------------------------------------ what the kernel's print tells

  bind(obj: number, ref: number): boolean {
    const other = this.refToObj.get(ref);
    if (other !== undefined && other !== obj) return false;
    const o = this.obj(obj);
    if (!o || (o.refId !== undefined && o.refId !== ref)) return false;
    o.refId = ref;
    this.refToObj.set(ref, obj);
    this.binds++;
    return true;
  }

  bindType(obj: number, type: string): void {
    const o = this.obj(obj);
    if (o && o.type === '?') o.type = type;
    if (this.cur.s) {
      replaceValues(this.cur.s, (r) => {
        if (r.obj !== obj || r.btf !== undefined) return undefined;
        const c = copyRegCold(r);
        c.btf = type;
        return c;
      });
    }
  }

  bindOff(obj: number, off: number): void {
    if (!this.cur.s) return;
    replaceValues(this.cur.s, (r) => {
      if (r.obj !== obj || r.off !== undefined) return undefined;
      const c = copyRegCold(r);
      c.off = off;
      return c;
    });
  }

  objByRef(ref: number): number | undefined {
    return this.refToObj.get(ref);
  }

  refOfObj(obj: number): number | undefined {
    return this.obj(obj)?.refId;
  }

  /** A snapshot object that is a program argument the kernel passed referenced: owned from insn 0. */
  markArgument(obj: number, origin: string, type?: string): void {
    const o = this.obj(obj);
    if (!o) return;
    o.origin = origin;
    o.allocInsn = 0;
    if (type !== undefined) o.type = type;
  }

  /** An object first seen in a printed state (no model history). */
  snapshotObject(ref: number | undefined, type: string): number {
    const id = this.newObject(type, 'snapshot', false);
    const o = this.obj(id);
    if (o && ref !== undefined) {
      o.refId = ref;
      this.refToObj.set(ref, id);
      this.binds++;
    }
    return id;
  }

  // ------------------------------------------------------------ holders

  /** Remember who held each live reference of `s` last, and where the last holder lost it. */
  noteHolders(s: PathState | null): void {
    this.holdersAtStep = false;
    if (!s) return;
    const refs = s.refs;
    for (let i = 0; i < refs.length; i++) {
      const e = refs[i] as RefEntry;
      if (e.kind !== 'ptr' || e.obj === undefined) continue;
      const h = this.scratch;
      const n = holdersInto(s, e.obj, h);
      const prev = this.lastHolders.get(e.obj);
      if (n > 0) {
        if (prev !== undefined && prev.lostAt === undefined && sameList(prev.holders, h, n)) prev.insn = this.cur.insn;
        else this.lastHolders.set(e.obj, { holders: h.slice(0, n), insn: this.cur.insn });
      } else if (prev && prev.lostAt === undefined) prev.lostAt = this.cur.insn;
    }
  }

  /**
   * At a recorded step: holders are a function of the flat state, so when nothing changed since
   * the last step (and nothing else noted holders since) only the "still held at" insn moves on.
   */
  atStep(s: PathState, changed: boolean): void {
    if (!changed && this.holdersAtStep) {
      const refs = s.refs;
      for (let i = 0; i < refs.length; i++) {
        const e = refs[i] as RefEntry;
        if (e.kind !== 'ptr' || e.obj === undefined) continue;
        const prev = this.lastHolders.get(e.obj);
        if (prev !== undefined && prev.lostAt === undefined) prev.insn = this.cur.insn;
      }
    } else this.noteHolders(s);
    this.holdersAtStep = true;
  }
}
