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
 * from its own table instead of reading "no refs"; 7.2+ spell a reference as `id=N` with N in
 * `refs=` (reg-state.ts), and while `refs=` is suppressed the model's own ids stand in for it;
 * 7.1+ leave dead registers and stack slots out of a printed state (`deadRegsUnprinted`).
 */
import { withReferencesById, type ParsedState, type RegEntry, type RegValue, type RegValueTyped, type SlotEntry } from '../log/reg-state.ts';
import { newFrame, printedRefs, regName, slotName, type Frame, type PathState, type RefEntry } from './path-state.ts';
import {
  describeOwnership,
  kernelOwnership,
  modelOwnership,
  plainFromKernel,
  copyRegCold,
  type KernelOwnership,
  type MReg,
} from './regs.ts';

export interface Checker {
  divergence(what: string, model: string, kernel: string): void;
  /** Learn the kernel's ref id for a model object; false when the id already names another object. */
  bind(obj: number, ref: number): boolean;
  bindType(obj: number, type: string): void;
  /** Learn a node pointer's offset from the kernel's print when the model could not know it (no BTF). */
  bindOff(obj: number, off: number): void;
  objByRef(ref: number): number | undefined;
  /** An object first seen in a printed state (no model history). */
  snapshotObject(ref: number | undefined, type: string): number;
  refOfObj(obj: number): number | undefined;
  /** The log's kernel (≥ 7.1) leaves dead registers out of a branch's printed state: a register the
   * model still holds that is not printed there was cleared, not lost. */
  deadRegsUnprinted?: boolean;
  /** What the log's spellings say about its kernel; `refObjIdSpelled` is set once a value printed
   * `ref_obj_id=` (≤ 7.1): an `id=` alone then never means a reference. */
  evidence: LogEvidence;
}

/** What the log's own spellings say about the kernel that printed it (filled while replaying). */
export interface LogEvidence {
  /** A value printed `ref_obj_id=`: the kernel is 7.1 or older. */
  refObjIdSpelled: boolean;
  /** A pointer printed its fixed offset as `imm=` without `off=`, or the log has the pre-walk
   * analysis sections (`topo_order`, level 2): 7.1 or newer. */
  since71: boolean;
}

function same(a: KernelOwnership, b: KernelOwnership): boolean {
  if (a.own !== b.own) return false;
  if (a.own === 'none') return true;
  if (a.off !== b.off) return false;
  if (a.btf !== undefined && b.btf !== undefined && a.btf !== b.btf) return false;
  if (a.own === 'own' && a.ref !== b.ref) return false;
  return true;
}

/** `r` with the ref id the model learnt since it was copied (a changed copy), or undefined. */
function filled(r: MReg | undefined, ck: Checker): MReg | undefined {
  if (r && r.own === 'own' && r.ref === undefined && r.obj !== undefined) {
    const ref = ck.refOfObj(r.obj);
    if (ref !== undefined) {
      const c = copyRegCold(r);
      c.ref = ref;
      return c;
    }
  }
  return undefined;
}

/** Fill in ref ids the model learnt after the value was copied. */
export function fillRefs(s: PathState, ck: Checker): void {
  for (let fi = 0; fi < s.frames.length; fi++) {
    const f = s.frames[fi] as Frame;
    const regs = f.regs;
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i];
      if (r !== undefined && r.own === 'own' && r.ref === undefined) {
        const c = filled(r, ck);
        if (c !== undefined) regs[i] = c;
      }
    }
    if (f.slots.size > 0) {
      for (const sl of f.slots.values()) {
        const c = filled(sl.spill, ck);
        if (c !== undefined) sl.spill = c;
      }
    }
  }
  for (let i = 0; i < s.refs.length; i++) {
    const e = s.refs[i] as RefEntry;
    if (e.id === undefined && e.obj !== undefined) e.id = ck.refOfObj(e.obj);
  }
}

/** The typed value behind a printed register or slot (undefined when it cannot carry a reference). */
function typedOf(kv: RegValue): RegValueTyped | undefined {
  const t = kv.kind === 'slot' ? kv.spilled : kv;
  return t !== undefined && t.kind === 'typed' ? t : undefined;
}

/** `same(modelOwnership(mr), kernelOwnership(kv))` without building either. */
function sameOwnership(mr: MReg | undefined, kv: RegValue): boolean {
  const t = typedOf(kv);
  const kown = t === undefined ? 'none' : t.attrs.nonOwnRef ? 'nonown' : t.attrs.refObjId !== undefined && t.attrs.refObjId > 0 ? 'own' : 'none';
  const mown = mr === undefined || mr.own === undefined || mr.k === 'dead' ? 'none' : mr.own;
  if (mown !== kown) return false;
  if (kown === 'none' || t === undefined || mr === undefined) return true;
  if ((mr.off ?? 0) !== (t.attrs.off ?? 0)) return false;
  if (mr.btf !== undefined && mr.btf !== (t.btfType ?? t.base)) return false;
  if (kown === 'own' && mr.ref !== t.attrs.refObjId) return false;
  return true;
}

function valueAt(fr: Frame, idx: number, slot: boolean): MReg | undefined {
  return slot ? fr.slots.get(idx)?.spill : fr.regs[idx];
}

function compareValue(fno: number, fr: Frame, idx: number, slot: boolean, kv: RegValue, ck: Checker, s: PathState): void {
  let mr = valueAt(fr, idx, slot);
  if (mr && mr.own !== undefined && mr.k !== 'dead' && mr.obj !== undefined) {
    const ko = kernelOwnership(kv);
    if (mr.own === 'own' && mr.ref === undefined && ko.own === 'own' && ko.ref !== undefined) {
      if (ck.bind(mr.obj, ko.ref)) fillRefs(s, ck);
    }
    if (mr.btf === undefined && ko.btf !== undefined && ko.own !== 'none') ck.bindType(mr.obj, ko.btf);
    if (mr.off === undefined && ko.own === mr.own) ck.bindOff(mr.obj, ko.off);
    mr = valueAt(fr, idx, slot); // binding replaces values (copy-on-write)
  }
  if (sameOwnership(mr, kv)) return;
  const mo = modelOwnership(mr);
  const ko = kernelOwnership(kv);
  if (!same(mo, ko)) ck.divergence(slot ? slotName(fno, idx) : regName(fno, idx), describeOwnership(mo), describeOwnership(ko));
}

function sortedKey(l: number[] | undefined): string {
  return l === undefined ? '' : [...l].sort((a, b) => a - b).join(',');
}

function pendingId(mr: MReg | undefined, kv: RegValue, ids: number[]): void {
  const t = typedOf(kv);
  if (mr?.own === 'own' && mr.ref === undefined && t?.attrs.id !== undefined && t.attrs.refObjId === undefined && !t.attrs.nonOwnRef) ids.push(t.attrs.id);
}

/** Spellings that tell the kernel: `ref_obj_id=` (≤ 7.1), a pointer's `imm=` without `off=` (≥ 7.1). */
function noteSpellings(p: ParsedState, ev: LogEvidence): void {
  const note = (v: RegValue | undefined) => {
    if (v?.kind !== 'typed' || v.base === 'scalar') return;
    if (v.attrs.refObjId !== undefined && !v.attrs.refFromId) ev.refObjIdSpelled = true;
    if (v.attrs.imm !== undefined && !/[(,]off=/.test(v.raw)) ev.since71 = true;
  };
  for (const e of p.regs) note(e.value);
  for (const e of p.stack) note(e.value.kind === 'slot' ? e.value.spilled : e.value);
}

/** Whether `printedRefs(s)` and `kernel` are equal lists (then their sorted keys are equal too). */
function refsInOrder(s: PathState, kernel: number[] | undefined): boolean {
  const refs = s.refs;
  const first = refs[0];
  if (first === undefined || !first.id) return kernel === undefined || kernel.length === 0;
  if (kernel === undefined) return false;
  let j = 0;
  for (let i = 0; i < refs.length; i++) {
    const id = (refs[i] as RefEntry).id;
    if (!id) continue;
    if (kernel[j] !== id) return false;
    j++;
  }
  return j === kernel.length;
}

export function compareRefs(s: PathState, kernel: number[] | undefined, ck: Checker): void {
  if (kernel !== undefined) {
    let pendingCount = 0;
    for (let i = 0; i < s.refs.length; i++) {
      const e = s.refs[i] as RefEntry;
      if ((e.kind === 'ptr' && e.id === undefined && e.obj !== undefined) || (e.kind === 'irq' && e.id === undefined)) pendingCount++;
    }
    if (pendingCount > 0) {
      const known = new Set(s.refs.map((e) => e.id));
      const unknown = kernel.filter((id) => !known.has(id));
      const pending = s.refs.filter((e) => (e.kind === 'ptr' && e.id === undefined && e.obj !== undefined) || (e.kind === 'irq' && e.id === undefined));
      if (pending.length === unknown.length) {
        pending.forEach((e, i) => {
          const id = unknown[i];
          if (id === undefined) return;
          if (e.kind === 'irq') e.id = id;
          else if (e.obj !== undefined && ck.bind(e.obj, id)) e.id = id;
        });
        fillRefs(s, ck);
      }
    }
  }
  if (refsInOrder(s, kernel)) return;
  const predicted = printedRefs(s);
  if (sortedKey(predicted) !== sortedKey(kernel)) {
    const m = predicted === undefined ? (s.refs.length > 0 ? '(not printed: id-0 lock first)' : '(none)') : predicted.join(',');
    ck.divergence('refs', m, kernel === undefined ? '(none printed)' : kernel.join(','));
  }
}

/** Compare one printed frame state; `full` when every initialised register/slot is printed. */
export function compareFrame(s: PathState, parsedState: ParsedState, full: boolean, ck: Checker, withRefs = true): void {
  let parsed = parsedState;
  const ev = ck.evidence;
  if (!ev.refObjIdSpelled || !ev.since71) noteSpellings(parsed, ev);
  if (!ev.refObjIdSpelled && parsed.refs === undefined && s.refs.length > 0 && !s.refs[0]?.id) {
    // 7.x spells a reference as `id=N` with N in `refs=`, but `refs=` is not printed while an id-0
    // lock is the first entry of the table: the model's own reference ids stand in for it.
    const ids = s.refs.map((e) => e.id).filter((x): x is number => x !== undefined && x > 0);
    // … and a reference the model made but has no number for yet takes the id its register prints.
    const fr = s.frames[parsed.frame ?? 0];
    if (fr !== undefined) {
      for (const e of parsed.regs) pendingId(fr.regs[e.reg], e.value, ids);
      for (const e of parsed.stack) pendingId(fr.slots.get(e.off)?.spill, e.value, ids);
    }
    if (ids.length > 0) parsed = withReferencesById(parsed, ids);
  }
  const fno = parsed.frame ?? 0;
  const fr = s.frames[fno];
  if (fr === undefined) {
    ck.divergence('frame', `no frame ${fno} (current frame ${s.cur})`, `frame${fno}`);
    return;
  }
  const regs = parsed.regs;
  for (let i = 0; i < regs.length; i++) {
    const e = regs[i] as RegEntry;
    compareValue(fno, fr, e.reg, false, e.value, ck, s);
  }
  const stack = parsed.stack;
  for (let i = 0; i < stack.length; i++) {
    const e = stack[i] as SlotEntry;
    compareValue(fno, fr, e.off, true, e.value, ck, s);
  }
  if (full) {
    const seenRegs = new Set<number>();
    for (const e of parsed.regs) seenRegs.add(e.reg);
    const seenSlots = new Set<number>();
    for (const e of parsed.stack) seenSlots.add(e.off);
    fr.regs.forEach((r, i) => {
      const mo = modelOwnership(r);
      if (!seenRegs.has(i) && mo.own !== 'none' && !ck.deadRegsUnprinted) ck.divergence(regName(fno, i), describeOwnership(mo), 'not printed (not initialised)');
    });
    for (const [off, slot] of fr.slots) {
      const mo = modelOwnership(slot.spill);
      if (!seenSlots.has(off) && mo.own !== 'none' && !ck.deadRegsUnprinted) ck.divergence(slotName(fno, off), describeOwnership(mo), 'not printed');
    }
  }
  if (withRefs) compareRefs(s, parsed.refs, ck);
}

function sameFlags(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Field-by-field equality of two model values (every MReg field). */
function sameReg(a: MReg, b: MReg): boolean {
  return (
    a.k === b.k &&
    a.v === b.v &&
    a.raw === b.raw &&
    a.fpFrame === b.fpFrame &&
    a.ld64 === b.ld64 &&
    a.varOff === b.varOff &&
    a.off === b.off &&
    a.base === b.base &&
    a.btf === b.btf &&
    a.map === b.map &&
    a.nul === b.nul &&
    a.nid === b.nid &&
    a.ng === b.ng &&
    a.own === b.own &&
    a.ref === b.ref &&
    a.obj === b.obj &&
    a.dead === b.dead &&
    a.deadInsn === b.deadInsn &&
    sameFlags(a.flags, b.flags)
  );
}

/** No field beyond `k`, `v`, `raw`, `off` set (the shape of a plain const/scalar value). */
function bare(r: MReg): boolean {
  return (
    r.base === undefined &&
    r.fpFrame === undefined &&
    r.ld64 === undefined &&
    r.varOff === undefined &&
    r.btf === undefined &&
    r.map === undefined &&
    r.nul === undefined &&
    r.nid === undefined &&
    r.ng === undefined &&
    r.own === undefined &&
    r.ref === undefined &&
    r.obj === undefined &&
    r.dead === undefined &&
    r.deadInsn === undefined &&
    r.flags === undefined
  );
}

/** `sameReg(mr, plainFromKernel(kv))` for printed constants and scalars, without building the value. */
function samePlainFast(mr: MReg, kv: RegValue): boolean {
  if (kv.kind === 'const') return mr.k === 'const' && mr.v === kv.value && mr.raw === undefined && mr.off === undefined && bare(mr);
  if (kv.kind === 'typed' && kv.base === 'scalar') {
    return mr.k === 'scalar' && mr.raw === kv.raw && mr.v === undefined && mr.off === undefined && bare(mr);
  }
  return false;
}

function adoptValue(mr: MReg | undefined, kv: RegValue): MReg | undefined {
  const t = typedOf(kv);
  if (t !== undefined && (t.attrs.nonOwnRef || (t.attrs.refObjId !== undefined && t.attrs.refObjId > 0))) {
    // Ownership stays the model's; only the kernel's `id=` (lock identity) is taken over.
    if (mr && mr.own !== undefined) {
      const id = t.attrs.id;
      if (id !== undefined) {
        if (mr.nid !== id) {
          const c = copyRegCold(mr);
          c.nid = id;
          return c;
        }
      } else if (mr.nid !== undefined) {
        const c = copyRegCold(mr);
        delete c.nid;
        return c;
      }
    }
    return mr;
  }
  if (mr && (mr.own !== undefined || mr.k === 'dead')) return mr;
  if (mr !== undefined && samePlainFast(mr, kv)) return mr;
  const p = plainFromKernel(kv);
  if (mr?.ng !== undefined && p.nul) p.ng = mr.ng;
  // The same printed value again: keep the model's value (and its cached encoding).
  return mr !== undefined && sameReg(mr, p) ? mr : p;
}

/** Take over the printed values that carry no ownership claim. */
export function adoptPlain(s: PathState, parsed: ParsedState): void {
  const fr = s.frames[parsed.frame ?? 0];
  if (fr === undefined) return;
  const regs = parsed.regs;
  for (let i = 0; i < regs.length; i++) {
    const e = regs[i] as RegEntry;
    fr.regs[e.reg] = adoptValue(fr.regs[e.reg], e.value);
  }
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
  const s: PathState = base ?? { frames: [], cur: fno, refs: [], lock: null, placed: new Map(), path: [at], ...(at !== 0 ? { rcuUnknown: true } : {}) };
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
