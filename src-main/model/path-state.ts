/**
 * The model's state along one verifier path: frames (registers + spilled slots), the reference
 * table (kernel order, lock entries included on ≥ 6.13 logs), the held lock, where stashed or
 * inserted objects live, and the path (branch targets taken).
 *
 * Contract: `cloneState` gives an independent copy (used for pushed branches); `flatten` gives the
 * flat key → value map that the step store diffs. Holder names follow types.ts.
 */
import { copyReg, encodeReg, regText, type MReg, type MSlot } from './regs.ts';

export interface Frame {
  regs: (MReg | undefined)[];
  slots: Map<number, MSlot>;
  cb: boolean;
  /** Insn of the call that created this frame. */
  callsite?: number;
}

export interface RefEntry {
  id: number | undefined;
  kind: 'ptr' | 'lock';
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
}

export function newFrame(): Frame {
  return { regs: new Array<MReg | undefined>(11).fill(undefined), slots: new Map(), cb: false };
}

export function initialState(): PathState {
  return { frames: [newFrame()], cur: 0, refs: [], lock: null, placed: new Map(), path: [0] };
}

function cloneReg(r: MReg | undefined): MReg | undefined {
  return r === undefined ? undefined : copyReg(r);
}

export function cloneFrame(f: Frame): Frame {
  const slots = new Map<number, MSlot>();
  for (const [k, s] of f.slots) {
    const c: MSlot = {};
    if (s.bytes !== undefined) c.bytes = s.bytes;
    const sp = cloneReg(s.spill);
    if (sp) c.spill = sp;
    slots.set(k, c);
  }
  const nf: Frame = { regs: f.regs.map(cloneReg), slots, cb: f.cb };
  if (f.callsite !== undefined) nf.callsite = f.callsite;
  return nf;
}

export function cloneState(s: PathState): PathState {
  return {
    frames: s.frames.map(cloneFrame),
    cur: s.cur,
    refs: s.refs.map((r) => ({ ...r })),
    lock: s.lock ? { ...s.lock } : null,
    placed: new Map(s.placed),
    path: [...s.path],
    ...(s.blind ? { blind: true } : {}),
  };
}

export function curFrame(s: PathState): Frame {
  const f = s.frames[s.cur];
  if (f === undefined) throw new Error(`no frame ${s.cur}`);
  return f;
}

export function regName(frame: number, reg: number): string {
  return frame === 0 ? `R${reg}` : `frame${frame}.R${reg}`;
}

export function slotName(frame: number, off: number): string {
  return frame === 0 ? `fp${off}` : `frame${frame}.fp${off}`;
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

/** Holders of an object (registers and slots holding an owning or non-owning reference to it, or its placement). */
export function holdersOf(s: PathState, obj: number): string[] {
  const out: string[] = [];
  for (const [name, r] of allValues(s)) if (r.obj === obj && r.own !== undefined && r.k !== 'dead') out.push(name);
  const p = s.placed.get(obj);
  if (p !== undefined) out.push(p);
  return out;
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
