/**
 * Stored per-step states read back: the flat state after any step (the nearest checkpoint plus
 * the deltas after it) and its decoded StateView (frames, registers and slots in kernel-like text,
 * references, the held lock, placements, the path).
 *
 * Contract: pure; `rebuildFlat(store, i)` throws RangeError for a step that does not exist;
 * `replayFlat` (every delta from the start) is the reference the tests compare it with.
 */
import type { MReg, MSlot } from './regs.ts';
import { regText } from './regs.ts';
import type { HeldLock, RefEntry } from './path-state.ts';
import type { FrameView, RegView, StateDelta, StateView, StoredStates } from './types.ts';

export function applyDelta(m: Map<string, string>, d: StateDelta): void {
  for (const k of d.del) m.delete(k);
  for (const [k, v] of d.set) m.set(k, v);
}

/** Flat state after step i, from the nearest checkpoint. */
export function rebuildFlat(store: StoredStates, i: number): Map<string, string> {
  if (i < 0 || i >= store.deltas.length) throw new RangeError(`no step ${i}`);
  const k = Math.floor(i / store.interval);
  const m = new Map<string, string>(store.checkpoints[k] ?? []);
  for (let j = k * store.interval + 1; j <= i; j++) {
    const d = store.deltas[j];
    if (d) applyDelta(m, d);
  }
  return m;
}

/** Flat state after step i, replaying every delta from the start (reference for tests). */
export function replayFlat(store: StoredStates, i: number): Map<string, string> {
  const m = new Map<string, string>();
  for (let j = 0; j <= i; j++) {
    const d = store.deltas[j];
    if (d) applyDelta(m, d);
  }
  return m;
}

function regView(r: MReg): RegView {
  const v: RegView = { text: regText(r) };
  if (r.own !== undefined && r.k !== 'dead') v.own = r.own;
  if (r.dead !== undefined) v.dead = r.dead;
  if (r.obj !== undefined) v.object = r.obj;
  if (r.ref !== undefined) v.refId = r.ref;
  return v;
}

export function decodeState(flat: Map<string, string>): StateView {
  const view: StateView = { frame: Number(flat.get('cur') ?? 0), frames: [], refs: [], lock: null, placed: {}, path: [] };
  const frame = (n: number): FrameView => {
    while (view.frames.length <= n) view.frames.push({ regs: {}, slots: {}, cb: false });
    return view.frames[n] as FrameView;
  };
  for (const [k, v] of flat) {
    let m: RegExpExecArray | null;
    if (k === 'path') view.path = v === '' ? [] : v.split(',').map(Number);
    else if (k === 'refs') {
      view.refs = (JSON.parse(v) as RefEntry[]).map((e) => {
        const o: { id: number; kind: 'ptr' | 'lock' | 'irq'; object?: number } = { id: e.id ?? -1, kind: e.kind };
        if (e.obj !== undefined) o.object = e.obj;
        return o;
      });
    } else if (k === 'lock') view.lock = (JSON.parse(v) as HeldLock).name;
    else if ((m = /^placed\.(\d+)$/.exec(k))) view.placed[m[1] as string] = v;
    else if ((m = /^f(\d+)$/.exec(k))) frame(Number(m[1])).cb = v === 'cb';
    else if ((m = /^f(\d+)\.R(\d+)$/.exec(k))) frame(Number(m[1])).regs[`R${m[2]}`] = regView(JSON.parse(v) as MReg);
    else if ((m = /^f(\d+)\.fp(-?\d+)$/.exec(k))) {
      const slot = JSON.parse(v) as MReg | MSlot;
      frame(Number(m[1])).slots[`fp${m[2]}`] = 'k' in slot ? regView(slot) : { text: slot.bytes ?? '?' };
    }
  }
  return view;
}

/** The state after step `step` from a stored chunk (its checkpoint at `firstStep` and the deltas after it). */
export function stateFromChunk(chunk: { firstStep: number; checkpoint: [string, string][]; deltas: StateDelta[] }, step: number): StateView {
  const m = new Map<string, string>(chunk.checkpoint);
  for (let j = 0; j < step - chunk.firstStep; j++) applyDelta(m, chunk.deltas[j] as StateDelta);
  return decodeState(m);
}
