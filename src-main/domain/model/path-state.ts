/**
 * The model's state along one verifier path: frames (registers + spilled slots), the reference
 * table (kernel order, lock entries included on ≥ 6.13 logs), the held lock, where stashed or
 * inserted objects live, and the path (branch targets taken).
 *
 * Contract: `cloneState` gives an independent copy (used for pushed branches; register/slot values
 * are shared copy-on-write, see `cloneFrame`); `flatten` gives the flat key → value map that the
 * step store records. Holder names follow types.ts.
 */
import { encodeReg, regText, type MReg, type MSlot } from './regs.ts';

export interface Frame {
  regs: (MReg | undefined)[];
  slots: Map<number, MSlot>;
  cb: boolean;
  /** Insn of the call that created this frame. */
  callsite?: number;
}

export interface RefEntry {
  id: number | undefined;
  /** A pointer's reference, a held lock (≥ 6.13), or saved IRQ flags (bpf_local_irq_save). */
  kind: 'ptr' | 'lock' | 'irq';
  obj?: number;
}

export interface HeldLock {
  /** Holder-style name of the lock, e.g. `.data.A:fifo_lock` or `map counters[value].lock`. */
  name: string;
  /** Allocation the lock lives in: map name (global/map value) or `obj:<id>` for a local object. */
  alloc: string;
  id: number;
}

export interface PathState {
  frames: Frame[];
  cur: number;
  refs: RefEntry[];
  lock: HeldLock | null;
  /** objectId → holder. */
  placed: Map<number, string>;
  path: number[];
  /** The path began without a printed state (rotated log head): the model cannot judge yet. */
  blind?: boolean;
  /** Open bpf_rcu_read_lock() sections (6.2; more than one only from 6.19, which counts them). */
  rcu?: number;
  /** struct_ops arguments the kernel passes referenced: context offset → the owning value a load
   * from there gives (rules/struct-ops.ts). Never changed after the program's start. */
  ctxArgs?: ReadonlyMap<number, MReg>;
  /** The path was rebuilt from a printed state the model had no state of its own for (mid-program):
   * the kernel prints no RCU depth, so the model does not know whether a section is open. */
  rcuUnknown?: boolean;
}

export function newFrame(): Frame {
  return { regs: new Array<MReg | undefined>(11).fill(undefined), slots: new Map(), cb: false };
}

/** Make `fr` the current frame, called from the current one (frames above it are gone). */
export function enterFrame(s: PathState, fr: Frame): void {
  s.frames.length = s.cur + 1;
  s.frames.push(fr);
  s.cur += 1;
}

export function initialState(): PathState {
  return { frames: [newFrame()], cur: 0, refs: [], lock: null, placed: new Map(), path: [0] };
}

/**
 * Copy-on-write values: an MReg placed in a state is never changed in place (branch copies share
 * them); code that changes a value replaces it with a changed copy (`copyRegCold`, `replaceValues`).
 */
export function cloneFrame(f: Frame): Frame {
  const slots = new Map<number, MSlot>();
  for (const [k, s] of f.slots) {
    const c: MSlot = {};
    if (s.bytes !== undefined) c.bytes = s.bytes;
    if (s.spill) c.spill = s.spill;
    slots.set(k, c);
  }
  const nf: Frame = { regs: f.regs.slice(), slots, cb: f.cb };
  if (f.callsite !== undefined) nf.callsite = f.callsite;
  return nf;
}

export function cloneState(s: PathState): PathState {
  const refs: RefEntry[] = [];
  for (let i = 0; i < s.refs.length; i++) refs.push({ ...(s.refs[i] as RefEntry) });
  const c: PathState = {
    frames: s.frames.map(cloneFrame),
    cur: s.cur,
    refs,
    lock: s.lock ? { ...s.lock } : null,
    ...(s.rcu ? { rcu: s.rcu } : {}),
    ...(s.rcuUnknown ? { rcuUnknown: true } : {}),
    placed: new Map(s.placed),
    path: s.path.slice(),
  };
  if (s.blind) c.blind = true;
  if (s.ctxArgs) c.ctxArgs = s.ctxArgs;
  return c;
}

/** Replace every register/slot value `fn` returns a (changed copy of a) value for. */
export function replaceValues(s: PathState, fn: (r: MReg) => MReg | undefined): void {
  for (const f of s.frames) {
    const regs = f.regs;
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i];
      if (r === undefined) continue;
      const n = fn(r);
      if (n !== undefined) regs[i] = n;
    }
    for (const slot of f.slots.values()) {
      if (slot.spill === undefined) continue;
      const n = fn(slot.spill);
      if (n !== undefined) slot.spill = n;
    }
  }
}

export function curFrame(s: PathState): Frame {
  const f = s.frames[s.cur];
  if (f === undefined) throw new Error(`no frame ${s.cur}`);
  return f;
}

const REG_NAMES: string[][] = [];
const SLOT_NAMES: Map<number, string>[] = [];

export function regName(frame: number, reg: number): string {
  let row = REG_NAMES[frame];
  if (row === undefined) {
    row = [];
    REG_NAMES[frame] = row;
  }
  let n = row[reg];
  if (n === undefined) {
    n = frame === 0 ? `R${reg}` : `frame${frame}.R${reg}`;
    if (reg < 64) row[reg] = n;
  }
  return n;
}

export function slotName(frame: number, off: number): string {
  let m = SLOT_NAMES[frame];
  if (m === undefined) {
    m = new Map();
    SLOT_NAMES[frame] = m;
  }
  let n = m.get(off);
  if (n === undefined) {
    n = frame === 0 ? `fp${off}` : `frame${frame}.fp${off}`;
    if (m.size < 4096) m.set(off, n);
  }
  return n;
}

/** Every register/slot value with its holder name. */
export function* allValues(s: PathState): Generator<[string, MReg]> {
  for (let f = 0; f < s.frames.length; f++) {
    const fr = s.frames[f];
    if (!fr) continue;
    for (let i = 0; i < fr.regs.length; i++) {
      const r = fr.regs[i];
      if (r) yield [regName(f, i), r];
    }
    for (const [off, slot] of fr.slots) if (slot.spill) yield [slotName(f, off), slot.spill];
  }
}

function holds(r: MReg | undefined, obj: number): boolean {
  return r !== undefined && r.obj === obj && r.own !== undefined && r.k !== 'dead';
}

/** Holders of an object (registers and slots holding an owning or non-owning reference to it, or its placement). */
export function holdersOf(s: PathState, obj: number): string[] {
  const out: string[] = [];
  out.length = holdersInto(s, obj, out);
  return out;
}

/** `holdersOf` written into `out[0..n)` (entries after n are left as they were); returns n. */
export function holdersInto(s: PathState, obj: number, out: string[]): number {
  let n = 0;
  const frames = s.frames;
  for (let f = 0; f < frames.length; f++) {
    const fr = frames[f];
    if (!fr) continue;
    const regs = fr.regs;
    for (let i = 0; i < regs.length; i++) if (holds(regs[i], obj)) out[n++] = regName(f, i);
    if (fr.slots.size > 0) for (const [off, slot] of fr.slots) if (holds(slot.spill, obj)) out[n++] = slotName(f, off);
  }
  const p = s.placed.size > 0 ? s.placed.get(obj) : undefined;
  if (p !== undefined) out[n++] = p;
  return n;
}

export function refIndex(s: PathState, obj: number): number {
  return s.refs.findIndex((e) => e.kind === 'ptr' && e.obj === obj);
}

/** Remove a table entry keeping the others' order (≥ 6.14 memmove compaction). */
export function removeRef(s: PathState, idx: number): void {
  if (idx >= 0) s.refs.splice(idx, 1);
}

/** What the kernel prints as `refs=` for this table (undefined: nothing printed). */
export function printedRefs(s: PathState): number[] | undefined {
  const first = s.refs[0];
  if (first === undefined || !first.id) return undefined;
  return s.refs.filter((e) => e.id).map((e) => e.id as number);
}

const REG_KEYS: string[][] = [];
function regKey(f: number, i: number): string {
  let row = REG_KEYS[f];
  if (row === undefined) {
    row = Array.from({ length: 11 }, (_, k) => `f${f}.R${k}`);
    REG_KEYS[f] = row;
  }
  return row[i] as string;
}

/** Flat key → value map of the state (stable keys; used by the step store). */
export function flatten(s: PathState): Map<string, string> {
  const m = new Map<string, string>();
  m.set('cur', String(s.cur));
  m.set('path', s.path.join(','));
  for (let f = 0; f < s.frames.length; f++) {
    const fr = s.frames[f];
    if (!fr) continue;
    m.set(`f${f}`, fr.cb ? 'cb' : '');
    for (let i = 0; i < fr.regs.length; i++) {
      const r = fr.regs[i];
      if (r) m.set(regKey(f, i), encodeReg(r));
    }
    for (const [off, slot] of fr.slots) m.set(`f${f}.fp${off}`, slot.spill ? encodeReg(slot.spill) : `{"bytes":"${slot.bytes ?? '?'}"}`);
  }
  if (s.refs.length > 0) m.set('refs', JSON.stringify(s.refs));
  if (s.lock) m.set('lock', JSON.stringify(s.lock));
  for (const [obj, h] of s.placed) m.set(`placed.${obj}`, h);
  return m;
}

export function stateSummary(s: PathState): string {
  const parts: string[] = [];
  const f = s.frames[s.cur];
  if (f) f.regs.forEach((r, i) => r && parts.push(`R${i}=${regText(r)}`));
  return parts.join(' ');
}
