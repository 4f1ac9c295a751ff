/**
 * Non-call instruction semantics for ownership: moves and pointer arithmetic carry references,
 * 8-byte stack stores spill them (and loads fill them back), memory accesses through a released or
 * invalidated register are errors, and NULL checks split a maybe-NULL value into a NULL branch
 * (where a maybe-NULL reference simply ends) and a non-NULL branch.
 *
 * Contract: `execSimple` mutates the current frame of `s`; `nullSplit` mutates the two branch
 * states of a conditional jump and returns the object whose reference ends on the NULL branch.
 */
import { curFrame, type Frame, type PathState } from './path-state.ts';
import type { Insn } from './insn.ts';
import { constant, copyReg, scalar, touch, type MReg } from './regs.ts';

function clone(r: MReg | undefined): MReg | undefined {
  return r === undefined ? undefined : copyReg(r);
}

export interface MemUse {
  /** Register used as a memory base while dead. */
  deadBase?: { reg: number; value: MReg };
}

function slotOff(base: MReg, off: number): number | undefined {
  if (base.k !== 'fp') return undefined;
  return Number(base.v ?? 0) + off;
}

/** Mov / ALU / load / store / atomics. Returns a dead-base use when one happened. */
export function execSimple(s: PathState, insn: Insn): MemUse {
  const fr: Frame = curFrame(s);
  const use: MemUse = {};
  const checkBase = (reg: number): MReg | undefined => {
    const b = fr.regs[reg];
    if (b?.k === 'dead') use.deadBase = { reg, value: b };
    return b;
  };
  switch (insn.op) {
    case 'mov':
      fr.regs[insn.dst] = insn.wide && !insn.sx ? clone(fr.regs[insn.src]) : scalar();
      break;
    case 'movimm':
      fr.regs[insn.dst] = constant(insn.imm);
      break;
    case 'alu': {
      const d = fr.regs[insn.dst];
      const sign = insn.aluOp === '+' ? 1 : insn.aluOp === '-' ? -1 : 0;
      if (d && insn.wide && sign !== 0 && insn.imm !== undefined && (d.k === 'ptr' || d.k === 'fp')) {
        const delta = sign * Number(insn.imm);
        if (d.k === 'fp') {
          d.v = String(Number(d.v ?? 0) + delta);
          d.off = Number(d.v);
        } else d.off = (d.off ?? 0) + delta;
        delete d.raw;
        touch(d);
      } else if (d && insn.wide && sign !== 0 && insn.src !== undefined && d.k === 'ptr') {
        delete d.raw; // variable offset: the kernel keeps `off` and tracks var_off
        touch(d);
      } else {
        fr.regs[insn.dst] = scalar();
      }
      break;
    }
    case 'ldx': {
      const b = checkBase(insn.src);
      let v: MReg = scalar();
      if (b) {
        const so = slotOff(b, insn.off);
        if (so !== undefined && insn.size === 'u64') {
          const spill = fr.slots.get(so)?.spill;
          if (spill) v = clone(spill) as MReg;
        }
      }
      fr.regs[insn.dst] = v;
      break;
    }
    case 'stx':
    case 'st': {
      const b = checkBase(insn.dst);
      if (b) {
        const so = slotOff(b, insn.off);
        if (so !== undefined) {
          const aligned = so - (((so % 8) + 8) % 8);
          if (insn.op === 'stx' && insn.size === 'u64' && aligned === so) {
            const v = clone(fr.regs[insn.src]);
            fr.slots.set(so, v ? { spill: v } : {});
          } else if (insn.op === 'st' && insn.size === 'u64' && aligned === so) {
            fr.slots.set(so, { spill: constant(insn.imm) });
          } else {
            fr.slots.set(aligned, { bytes: 'mmmmmmmm' });
          }
        }
      }
      break;
    }
    case 'atomic':
      checkBase(insn.base);
      if (insn.dst !== undefined) fr.regs[insn.dst] = scalar();
      break;
    default:
      break;
  }
  return use;
}

function* values(s: PathState): Generator<{ get: () => MReg | undefined; set: (r: MReg) => void }> {
  for (const f of s.frames) {
    for (let i = 0; i < f.regs.length; i++) yield { get: () => f.regs[i], set: (r) => (f.regs[i] = r) };
    for (const slot of f.slots.values()) yield { get: () => slot.spill, set: (r) => (slot.spill = r) };
  }
}

function sameGroup(a: MReg, b: MReg): boolean {
  if (a.ng !== undefined) return b.ng === a.ng;
  if (a.nid !== undefined) return b.nid === a.nid && b.nul === true;
  return false;
}

/**
 * A NULL check `if rX ==/!= 0` on a maybe-NULL pointer: on `nullState` every copy becomes 0, on
 * `nonNullState` every copy loses its maybe-NULL flag. Returns the object whose owning reference
 * ends on the NULL branch (its table entry is already removed there).
 */
export function nullSplit(reg: number, nullState: PathState, nonNullState: PathState): number | undefined {
  const pick = (s: PathState): MReg | undefined => curFrame(s).regs[reg];
  const rn = pick(nullState);
  const rv = pick(nonNullState);
  if (rn === undefined || rv === undefined) return undefined;
  for (const h of values(nullState)) {
    const v = h.get();
    if (v && v !== rn && sameGroup(rn, v)) h.set(constant('0'));
  }
  curFrame(nullState).regs[reg] = constant('0');
  let ended: number | undefined;
  if (rn.own === 'own' && rn.obj !== undefined) {
    const idx = nullState.refs.findIndex((e) => e.kind === 'ptr' && e.obj === rn.obj);
    if (idx >= 0) nullState.refs.splice(idx, 1);
    ended = rn.obj;
  }
  for (const h of values(nonNullState)) {
    const v = h.get();
    if (v && v !== rv && sameGroup(rv, v)) {
      delete v.nul;
      delete v.ng;
      delete v.raw;
      if (v.own === 'own') delete v.nid;
      touch(v);
    }
  }
  delete rv.nul;
  delete rv.ng;
  if (rv.own === 'own') delete rv.nid;
  delete rv.raw;
  touch(rv);
  return ended;
}
