/**
 * Compact per-step state storage: a checkpoint (the full flat state) every `interval` steps and a
 * delta (keys set / deleted) for every step; `rebuild(i)` = nearest checkpoint at or before i +
 * the deltas after it. `decodeState` turns a flat state into a StateView.
 *
 * Contract: `pushState(state)` (or `push(flat)`, not mixed) once per step, in order; memory is the
 * deltas plus one checkpoint per `interval` steps. `pushState` builds the delta from what changed
 * (value identity — values are copy-on-write — and cached encodings) instead of diffing a full
 * flatten; its result is the same as `push(flatten(state))` (`StepStore.selfCheck` verifies it).
 * Deltas are kept column-wise while recording and turned into StateDelta objects when `data` is
 * read (steps that changed nothing share one frozen empty delta; checkpoints share their
 * [key, value] pairs). The lead stores `StoredStates` as is (JSON) in SQLite.
 */
import type { MReg, MSlot } from './regs.ts';
import { encodeReg, touchCount } from './regs.ts';
import { flatten, type RefEntry, type HeldLock, type PathState } from './path-state.ts';
import type { StateDelta, StoredStates } from './types.ts';

/** What the store last recorded for one frame (keys as `flatten` names them). */
interface FramePrev {
  /** Encoded register values (undefined: not in the flat state). */
  regs: (string | undefined)[];
  /** The register values they encode (values are immutable: same object, same encoding). */
  objs: (MReg | undefined)[];
  /** `f<n>` value, undefined when the frame was not in the flat state. */
  cb: string | undefined;
  slots: Map<number, string>;
  regKeys: string[];
  slotKeys: Map<number, string>;
  frameKey: string;
}

const NONE: readonly never[] = Object.freeze([]) as readonly never[];
/** The delta of a step that changed nothing (shared, read-only). */
const EMPTY_DELTA: StateDelta = Object.freeze({ set: NONE as unknown as [string, string][], del: NONE as unknown as string[] });
const bytesCodes = new Map<string, string>();

function bytesCode(bytes: string | undefined): string {
  const b = bytes ?? '?';
  let c = bytesCodes.get(b);
  if (c === undefined) {
    c = `{"bytes":"${b}"}`;
    if (bytesCodes.size < 4096) bytesCodes.set(b, c);
  }
  return c;
}

const placedKeys = new Map<number, string>();
function placedKey(obj: number): string {
  let k = placedKeys.get(obj);
  if (k === undefined) {
    k = `placed.${obj}`;
    if (placedKeys.size < 65536) placedKeys.set(obj, k);
  }
  return k;
}

export class StepStore {
  /** Debug/test switch: after every `pushState`, check the tracked flat state against `flatten`. */
  static selfCheck = false;

  private readonly interval: number;
  /** Deltas, column-wise while recording (few long-lived objects); `data` builds StateDelta objects. */
  /** Set entries of every step, in order: [key, value] pairs shared with `cur` and the checkpoints. */
  private readonly sets: [string, string][] = [];
  private readonly delK: string[] = [];
  /** Per step: end of its entries in setK/setV and in delK. */
  private readonly setEnd: number[] = [];
  private readonly delEnd: number[] = [];
  private readonly out: StoredStates;
  /** The flat state after the last step: key → its [key, value] pair (pairs are never changed). */
  private cur = new Map<string, [string, string]>();
  private frames: (FramePrev | undefined)[] = [];
  private pCur: number | undefined;
  private pPathArr: number[] | null = null;
  private pPathLen = -1;
  private pPathLast: number | undefined;
  private pPath: string | undefined;
  /** Flattened (id, kind, obj) triples of the last recorded refs table. */
  private pRefs: (number | string | undefined)[] = [];
  private pRefsStr: string | undefined;
  private pLock: HeldLock | null = null;
  private pLockName: string | undefined;
  private pLockAlloc: string | undefined;
  private pLockId: number | undefined;
  private pLockStr: string | undefined;
  private pPlaced = new Map<number, string>();
  /** Whether the step being recorded changed a key other than `path`. */
  private changed = false;
  /** `touchCount()` at the last step (-1: none yet). */
  private touches = -1;

  constructor(interval = 32) {
    this.interval = interval;
    this.out = { interval, checkpoints: [], deltas: [] };
  }

  get length(): number {
    return this.setEnd.length;
  }

  /** The stored states so far (StateDelta objects are built on first access to each step). */
  get data(): StoredStates {
    const deltas = this.out.deltas;
    for (let i = deltas.length; i < this.setEnd.length; i++) {
      const s0 = i > 0 ? (this.setEnd[i - 1] as number) : 0;
      const s1 = this.setEnd[i] as number;
      const d0 = i > 0 ? (this.delEnd[i - 1] as number) : 0;
      const d1 = this.delEnd[i] as number;
      if (s0 === s1 && d0 === d1) {
        deltas.push(EMPTY_DELTA);
        continue;
      }
      let set = NONE as unknown as [string, string][];
      if (s1 > s0) {
        set = this.sets.slice(s0, s1);
      }
      const del = d1 > d0 ? this.delK.slice(d0, d1) : (NONE as unknown as string[]);
      deltas.push({ set, del });
    }
    return this.out;
  }

  /** Record a step given as a full flat state (diffed against the previous one); do not mix with `pushState`. */
  push(flat: Map<string, string>): void {
    for (const [k, v] of flat) if (this.cur.get(k)?.[1] !== v) this.put(k, v);
    for (const k of [...this.cur.keys()]) if (!flat.has(k)) this.drop(k);
    this.frames = [];
    this.pCur = undefined;
    this.pPathArr = null;
    this.pPath = flat.get('path');
    this.pRefs = [];
    this.pRefsStr = flat.get('refs');
    this.pLock = null;
    this.pLockStr = flat.get('lock');
    this.pPlaced = new Map();
    this.commit();
  }

  /**
   * Record a step from the path state itself: the delta is built from what changed since the last
   * step (value identity + cached encodings), without building the full flat state. Equivalent to
   * `push(flatten(s))`. Returns whether any key other than `path` changed.
   */
  pushState(s: PathState): boolean {
    this.changed = false;
    if (s.cur !== this.pCur) {
      this.pCur = s.cur;
      const v = String(s.cur);
      if (this.cur.get('cur')?.[1] !== v) this.put('cur', v);
    }
    const path = s.path;
    const plen = path.length;
    if (path !== this.pPathArr || plen !== this.pPathLen || path[plen - 1] !== this.pPathLast) {
      this.pPathArr = path;
      this.pPathLen = plen;
      this.pPathLast = path[plen - 1];
      const v = path.join(',');
      if (v !== this.pPath) {
        this.pPath = v;
        this.put('path', v);
      }
    }
    const nf = s.frames.length;
    for (let f = 0; f < nf; f++) {
      const fr = s.frames[f];
      if (fr) this.frame(f, fr.regs, fr.slots, fr.cb);
      else this.dropFrame(f);
    }
    for (let f = nf; f < this.frames.length; f++) this.dropFrame(f);
    this.refs(s.refs);
    this.lock(s.lock);
    this.placed(s.placed);
    this.touches = touchCount();
    this.commit();
    if (StepStore.selfCheck) this.check(s);
    return this.changed;
  }

  private put(k: string, v: string): void {
    const e: [string, string] = [k, v];
    this.sets.push(e);
    this.cur.set(k, e);
    if (k !== 'path') this.changed = true;
  }

  private drop(k: string): void {
    if (this.cur.delete(k)) {
      this.delK.push(k);
      this.changed = true;
    }
  }

  private commit(): void {
    const i = this.setEnd.length;
    this.setEnd.push(this.sets.length);
    this.delEnd.push(this.delK.length);
    if (i % this.interval === 0) {
      const cp: [string, string][] = [];
      for (const e of this.cur.values()) cp.push(e);
      this.out.checkpoints.push(cp);
    }
  }

  private framePrev(f: number): FramePrev {
    let p = this.frames[f];
    if (p === undefined) {
      const regKeys: string[] = [];
      for (let i = 0; i < 11; i++) regKeys.push(`f${f}.R${i}`);
      p = { regs: new Array<string | undefined>(11).fill(undefined), objs: new Array<MReg | undefined>(11).fill(undefined), cb: undefined, slots: new Map(), regKeys, slotKeys: new Map(), frameKey: `f${f}` };
      while (this.frames.length < f) this.frames.push(undefined);
      this.frames[f] = p;
    }
    return p;
  }

  private frame(f: number, regs: (MReg | undefined)[], slots: Map<number, MSlot>, cb: boolean): void {
    const p = this.framePrev(f);
    const cbv = cb ? 'cb' : '';
    if (p.cb !== cbv) {
      p.cb = cbv;
      this.put(p.frameKey, cbv);
    }
    const prev = p.regs;
    const objs = p.objs;
    const trust = this.touches === touchCount();
    const n = regs.length > prev.length ? regs.length : prev.length;
    for (let i = 0; i < n; i++) {
      const r = regs[i];
      if (r === objs[i] && trust) continue;
      objs[i] = r;
      const was = prev[i];
      if (r === undefined) {
        if (was !== undefined) {
          prev[i] = undefined;
          this.drop(p.regKeys[i] ?? `f${f}.R${i}`);
        }
        continue;
      }
      const e = encodeReg(r);
      if (e !== was) {
        prev[i] = e;
        this.put(p.regKeys[i] ?? `f${f}.R${i}`, e);
      }
    }
    const ps = p.slots;
    if (slots.size > 0) {
      for (const [off, slot] of slots) {
        const e = slot.spill ? encodeReg(slot.spill) : bytesCode(slot.bytes);
        if (ps.get(off) !== e) {
          ps.set(off, e);
          this.put(this.slotKey(p, f, off), e);
        }
      }
    }
    if (ps.size !== slots.size) {
      for (const off of [...ps.keys()]) {
        if (!slots.has(off)) {
          ps.delete(off);
          this.drop(this.slotKey(p, f, off));
        }
      }
    }
  }

  private slotKey(p: FramePrev, f: number, off: number): string {
    let k = p.slotKeys.get(off);
    if (k === undefined) {
      k = `f${f}.fp${off}`;
      p.slotKeys.set(off, k);
    }
    return k;
  }

  private dropFrame(f: number): void {
    const p = this.frames[f];
    if (p === undefined) return;
    if (p.cb !== undefined) this.drop(p.frameKey);
    p.cb = undefined;
    p.regs.forEach((e, i) => {
      if (e !== undefined) this.drop(p.regKeys[i] ?? `f${f}.R${i}`);
    });
    p.regs = new Array<string | undefined>(11).fill(undefined);
    p.objs = new Array<MReg | undefined>(11).fill(undefined);
    for (const off of p.slots.keys()) this.drop(this.slotKey(p, f, off));
    p.slots.clear();
  }

  private refs(refs: RefEntry[]): void {
    const pr = this.pRefs;
    if (refs.length === 0) {
      if (this.pRefsStr !== undefined) {
        this.pRefsStr = undefined;
        this.pRefs = [];
        this.drop('refs');
      }
      return;
    }
    let same = pr.length === refs.length * 3;
    for (let i = 0; same && i < refs.length; i++) {
      const e = refs[i] as RefEntry;
      same = pr[i * 3] === e.id && pr[i * 3 + 1] === e.kind && pr[i * 3 + 2] === e.obj;
    }
    if (same && this.pRefsStr !== undefined) return;
    const snap: (number | string | undefined)[] = [];
    for (const e of refs) snap.push(e.id, e.kind, e.obj);
    this.pRefs = snap;
    const v = JSON.stringify(refs);
    if (v !== this.pRefsStr) {
      this.pRefsStr = v;
      this.put('refs', v);
    }
  }

  private lock(l: HeldLock | null): void {
    if (l === null) {
      this.pLock = null;
      if (this.pLockStr !== undefined) {
        this.pLockStr = undefined;
        this.drop('lock');
      }
      return;
    }
    if (l === this.pLock && l.name === this.pLockName && l.alloc === this.pLockAlloc && l.id === this.pLockId) return;
    this.pLock = l;
    this.pLockName = l.name;
    this.pLockAlloc = l.alloc;
    this.pLockId = l.id;
    const v = JSON.stringify(l);
    if (v !== this.pLockStr) {
      this.pLockStr = v;
      this.put('lock', v);
    }
  }

  private placed(placed: Map<number, string>): void {
    const pp = this.pPlaced;
    if (placed.size > 0) {
      for (const [obj, h] of placed) {
        if (pp.get(obj) !== h) {
          pp.set(obj, h);
          this.put(placedKey(obj), h);
        }
      }
    }
    if (pp.size !== placed.size) {
      for (const obj of [...pp.keys()]) {
        if (!placed.has(obj)) {
          pp.delete(obj);
          this.drop(placedKey(obj));
        }
      }
    }
  }

  private check(s: PathState): void {
    const flat = flatten(s);
    const a = [...flat].map(([k, v]) => `${k}=${v}`).sort();
    const b = [...this.cur.values()].map(([k, v]) => `${k}=${v}`).sort();
    if (a.join('\n') !== b.join('\n')) {
      throw new Error(`step store out of sync at step ${this.length - 1}:\n flatten: ${a.join(' ')}\n tracked: ${b.join(' ')}`);
    }
  }
}

export { applyDelta, rebuildFlat, replayFlat, decodeState, stateFromChunk } from './state-view.ts';
