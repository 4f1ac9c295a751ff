/**
 * Cross-check with the kernel and re-seeding from printed states.
 *
 * `compareFrame` compares the model's ownership view of one frame (owning / non-owning references,
 * their ref id, type and offset; the live ref ids) with a printed state and reports every
 * disagreement through `Checker.divergence` — it never changes an ownership fact, except to learn
 * the kernel's *number* for a reference the model created (`bind`). `adoptPlain` copies only
 * values without an ownership claim (scalars, map values, trust flags). `reseed` builds the state a
 * restarted path begins with: the kernel's printed registers, with the model's own object knowledge.
 *
 * Quirks handled: compact suffixes print only scratched registers (`full=false`); a `refs=` list
 * is suppressed while the first table entry is an id-0 lock (≥ 6.13) — the model predicts that
 * from its own table instead of reading "no refs".
 */
import type { ParsedState, RegValue } from '../ingest/verifier-log/reg-state.ts';
import { newFrame, printedRefs, regName, slotName, type Frame, type PathState } from './path-state.ts';
import {
  describeOwnership,
  kernelOwnership,
  modelOwnership,
  plainFromKernel,
  touch,
  type KernelOwnership,
  type MReg,
} from './regs.ts';

export interface Checker {
  divergence(what: string, model: string, kernel: string): void;
  /** Learn the kernel's ref id for a model object; false when the id already names another object. */
  bind(obj: number, ref: number): boolean;
  bindType(obj: number, type: string): void;
  objByRef(ref: number): number | undefined;
  /** An object first seen in a printed state (no model history). */
  snapshotObject(ref: number | undefined, type: string): number;
  refOfObj(obj: number): number | undefined;
}

function same(a: KernelOwnership, b: KernelOwnership): boolean {
  if (a.own !== b.own) return false;
  if (a.own === 'none') return true;
  if (a.off !== b.off) return false;
  if (a.btf !== undefined && b.btf !== undefined && a.btf !== b.btf) return false;
  if (a.own === 'own' && a.ref !== b.ref) return false;
  return true;
}

/** Fill in ref ids the model learnt after the value was copied. */
export function fillRefs(s: PathState, ck: Checker): void {
  const fix = (r: MReg | undefined): void => {
    if (r && r.own === 'own' && r.ref === undefined && r.obj !== undefined) {
      const ref = ck.refOfObj(r.obj);
      if (ref !== undefined) {
        r.ref = ref;
        touch(r);
      }
    }
  };
  for (const f of s.frames) {
    f.regs.forEach(fix);
    for (const sl of f.slots.values()) fix(sl.spill);
  }
  for (const e of s.refs) if (e.id === undefined && e.obj !== undefined) e.id = ck.refOfObj(e.obj);
}

function compareValue(name: string, mr: MReg | undefined, kv: RegValue, ck: Checker, s: PathState): void {
  const ko = kernelOwnership(kv);
  if (mr && mr.own !== undefined && mr.k !== 'dead' && mr.obj !== undefined) {
    if (mr.own === 'own' && mr.ref === undefined && ko.own === 'own' && ko.ref !== undefined) {
      if (ck.bind(mr.obj, ko.ref)) fillRefs(s, ck);
    }
    if (mr.btf === undefined && ko.btf !== undefined && ko.own !== 'none') ck.bindType(mr.obj, ko.btf);
  }
  const mo = modelOwnership(mr);
  if (!same(mo, ko)) ck.divergence(name, describeOwnership(mo), describeOwnership(ko));
}

export function compareRefs(s: PathState, kernel: number[] | undefined, ck: Checker): void {
  if (kernel !== undefined) {
    const known = new Set(s.refs.map((e) => e.id));
    const unknown = kernel.filter((id) => !known.has(id));
    const pending = s.refs.filter((e) => e.kind === 'ptr' && e.id === undefined && e.obj !== undefined);
    if (pending.length > 0 && pending.length === unknown.length) {
      pending.forEach((e, i) => {
        const id = unknown[i];
        if (id !== undefined && e.obj !== undefined && ck.bind(e.obj, id)) e.id = id;
      });
      fillRefs(s, ck);
    }
  }
  const predicted = printedRefs(s);
  const key = (l: number[] | undefined): string => (l === undefined ? '' : [...l].sort((a, b) => a - b).join(','));
  if (key(predicted) !== key(kernel)) {
    const m = predicted === undefined ? (s.refs.length > 0 ? '(not printed: id-0 lock first)' : '(none)') : predicted.join(',');
    ck.divergence('refs', m, kernel === undefined ? '(none printed)' : kernel.join(','));
  }
}

/** Compare one printed frame state; `full` when every initialised register/slot is printed. */
export function compareFrame(s: PathState, parsed: ParsedState, full: boolean, ck: Checker, withRefs = true): void {
  const fno = parsed.frame ?? 0;
  const fr = s.frames[fno];
  if (fr === undefined) {
    ck.divergence('frame', `no frame ${fno} (current frame ${s.cur})`, `frame${fno}`);
    return;
  }
  const seenRegs = new Set<number>();
  for (const e of parsed.regs) {
    seenRegs.add(e.reg);
    compareValue(regName(fno, e.reg), fr.regs[e.reg], e.value, ck, s);
  }
  const seenSlots = new Set<number>();
  for (const e of parsed.stack) {
    seenSlots.add(e.off);
    compareValue(slotName(fno, e.off), fr.slots.get(e.off)?.spill, e.value, ck, s);
  }
  if (full) {
    fr.regs.forEach((r, i) => {
      const mo = modelOwnership(r);
      if (!seenRegs.has(i) && mo.own !== 'none') ck.divergence(regName(fno, i), describeOwnership(mo), 'not printed (not initialised)');
    });
    for (const [off, slot] of fr.slots) {
      const mo = modelOwnership(slot.spill);
      if (!seenSlots.has(off) && mo.own !== 'none') ck.divergence(slotName(fno, off), describeOwnership(mo), 'not printed');
    }
  }
  if (withRefs) compareRefs(s, parsed.refs, ck);
}

function adoptValue(mr: MReg | undefined, kv: RegValue): MReg | undefined {
  const ko = kernelOwnership(kv);
  if (ko.own !== 'none') {
    // Ownership stays the model's; only the kernel's `id=` (lock identity) is taken over.
    const t = kv.kind === 'slot' ? kv.spilled : kv;
    if (mr && mr.own !== undefined && t?.kind === 'typed') {
      if (t.attrs.id !== undefined) mr.nid = t.attrs.id;
      else delete mr.nid;
      touch(mr);
    }
    return mr;
  }
  if (mr && (mr.own !== undefined || mr.k === 'dead')) return mr;
  const p = plainFromKernel(kv);
  if (mr?.ng !== undefined && p.nul) p.ng = mr.ng;
  return p;
}

/** Take over the printed values that carry no ownership claim. */
export function adoptPlain(s: PathState, parsed: ParsedState): void {
  const fr = s.frames[parsed.frame ?? 0];
  if (fr === undefined) return;
  for (const e of parsed.regs) fr.regs[e.reg] = adoptValue(fr.regs[e.reg], e.value);
  for (const e of parsed.stack) {
    const slot = fr.slots.get(e.off) ?? {};
    if (e.value.kind === 'slot' && e.value.spilled === undefined) {
      if (slot.spill === undefined || modelOwnership(slot.spill).own === 'none') {
        fr.slots.set(e.off, { bytes: e.value.bytes });
      }
      continue;
    }
    const v = adoptValue(slot.spill, e.value);
    fr.slots.set(e.off, v ? { spill: v } : {});
  }
}

function seedValue(base: MReg | undefined, kv: RegValue, ck: Checker): MReg {
  const ko = kernelOwnership(kv);
  const t = kv.kind === 'slot' ? kv.spilled : kv;
  const plain = t ? plainFromKernel(t) : plainFromKernel(kv);
  if (ko.own === 'own' && ko.ref !== undefined) {
    if (base?.own === 'own' && base.k !== 'dead' && base.ref === ko.ref) return base;
    const obj = ck.objByRef(ko.ref) ?? ck.snapshotObject(ko.ref, ko.btf ?? '?');
    return { ...plain, own: 'own', ref: ko.ref, obj };
  }
  if (ko.own === 'nonown') {
    if (base?.own === 'nonown' && base.k !== 'dead') return base;
    return { ...plain, own: 'nonown' };
  }
  if (base && base.k === 'dead') return base;
  if (base?.ng !== undefined && plain.nul) plain.ng = base.ng;
  return plain;
}

/** Blind start (no printed state yet): take every printed value, ownership included, as the start. */
export function seedPartial(s: PathState, parsed: ParsedState, ck: Checker): void {
  const fr = s.frames[parsed.frame ?? 0];
  if (fr === undefined) return;
  for (const e of parsed.regs) fr.regs[e.reg] = seedValue(fr.regs[e.reg], e.value, ck);
  for (const e of parsed.stack) {
    if (e.value.kind === 'slot' && e.value.spilled === undefined) fr.slots.set(e.off, { bytes: e.value.bytes });
    else fr.slots.set(e.off, { spill: seedValue(fr.slots.get(e.off)?.spill, e.value, ck) });
  }
  if (parsed.refs !== undefined) {
    const locks = s.refs.filter((e) => e.kind === 'lock');
    s.refs = parsed.refs.map((id) => ({ id, kind: 'ptr' as const, obj: ck.objByRef(id) ?? ck.snapshotObject(id, '?') }));
    s.refs.push(...locks);
  }
}

/**
 * The state a restarted path begins with: registers/slots as printed (with the model's object
 * knowledge), the model's reference table / lock / placements from `base` when there is one.
 */
export function reseed(base: PathState | undefined, parsed: ParsedState, at: number, ck: Checker): PathState {
  const fno = parsed.frame ?? 0;
  const s: PathState = base ?? { frames: [], cur: fno, refs: [], lock: null, placed: new Map(), path: [at] };
  while (s.frames.length <= fno) s.frames.push(newFrame());
  s.frames.length = fno + 1;
  s.cur = fno;
  const old = s.frames[fno] as Frame;
  const fr: Frame = newFrame();
  fr.cb = parsed.cb || old.cb;
  if (old.callsite !== undefined) fr.callsite = old.callsite;
  for (const e of parsed.regs) fr.regs[e.reg] = seedValue(old.regs[e.reg], e.value, ck);
  for (const e of parsed.stack) {
    if (e.value.kind === 'slot' && e.value.spilled === undefined) fr.slots.set(e.off, { bytes: e.value.bytes });
    else fr.slots.set(e.off, { spill: seedValue(old.slots.get(e.off)?.spill, e.value, ck) });
  }
  s.frames[fno] = fr;
  delete s.blind;
  if (base === undefined && parsed.refs !== undefined) {
    for (const id of parsed.refs) {
      const obj = ck.objByRef(id);
      s.refs.push(obj !== undefined ? { id, kind: 'ptr', obj } : { id, kind: 'ptr', obj: ck.snapshotObject(id, '?') });
    }
  }
  return s;
}
