/**
 * Non-call instruction semantics for ownership: moves and pointer arithmetic carry references,
 * 8-byte stack stores spill them (and loads fill them back), memory accesses through a released or
 * invalidated register are errors, and NULL checks split a maybe-NULL value into a NULL branch
 * (where a maybe-NULL reference simply ends) and a non-NULL branch.
 *
 * Contract: `execSimple` mutates the current frame of `s`; `nullSplit` mutates the two branch
 * states of a conditional jump and returns the object whose reference ends on the NULL branch.
 * Values (MReg) are copy-on-write (see path-state.ts): moves, spills and fills share the value,
 * changes place a changed copy.
 */
import { curFrame, type Frame, type PathState } from './path-state.ts';
import type { Insn } from './insn.ts';
import { constant, copyRegCold, scalar, type MReg } from './regs.ts';

export interface MemUse {
  /** Register used as a memory base while dead. */
  deadBase?: { reg: number; value: MReg };
  /** Register used as a memory base while it is known not to be a pointer (a constant, a printed scalar). */
  scalarBase?: { reg: number; value: MReg };
}

function slotOff(base: MReg, off: number): number | undefined {
  if (base.k !== 'fp') return undefined;
  return Number(base.v ?? 0) + off;
}

/** The frame whose stack a frame-pointer value points into (`fp[0]-8` from a callee: the caller's). */
function stackOf(s: PathState, fr: Frame, base: MReg): Frame {
  return base.fpFrame !== undefined ? (s.frames[base.fpFrame] ?? fr) : fr;
}

const NO_USE: MemUse = Object.freeze({}) as MemUse;

/** The base register of a memory access (noting a use of a dead one in `use`). */
function base(fr: Frame, reg: number, use: { u: MemUse }): MReg | undefined {
  const b = fr.regs[reg];
  if (b?.k === 'dead') use.u = { deadBase: { reg, value: b } };
  else if (b !== undefined && ((b.k === 'const' && b.ld64 !== true) || (b.k === 'scalar' && b.raw !== undefined))) use.u = { scalarBase: { reg, value: b } };
  return b;
}

/** Mov / ALU / load / store / atomics. Returns a dead-base use when one happened. */
export function execSimple(s: PathState, insn: Insn): MemUse {
  const fr: Frame = curFrame(s);
  const use = { u: NO_USE };
  switch (insn.op) {
    case 'mov':
      fr.regs[insn.dst] = insn.wide && !insn.sx ? fr.regs[insn.src] : scalar(); // shared: values are copy-on-write
      break;
    case 'movimm': {
      const c = constant(insn.imm);
      // A 64-bit immediate may be an address the loader patched in (a map, a map value): no claim.
      if (insn.ld64) c.ld64 = true;
      fr.regs[insn.dst] = c;
      break;
    }
    case 'alu': {
      const r = fr.regs[insn.dst];
      const sign = insn.aluOp === '+' ? 1 : insn.aluOp === '-' ? -1 : 0;
      // A register known to be constant adds like an immediate (the kernel keeps a fixed offset).
      const srcConst = insn.src !== undefined ? fr.regs[insn.src] : undefined;
      const imm = insn.imm ?? (srcConst?.k === 'const' && srcConst.v !== undefined ? srcConst.v : undefined);
      if (r && insn.wide && sign !== 0 && imm !== undefined && (r.k === 'ptr' || r.k === 'fp')) {
        const d = copyRegCold(r);
        const delta = sign * Number(imm);
        if (d.k === 'fp') {
          d.v = String(Number(d.v ?? 0) + delta);
          d.off = Number(d.v);
        } else d.off = (d.off ?? 0) + delta;
        delete d.raw;
        fr.regs[insn.dst] = d;
      } else if (r && insn.wide && sign !== 0 && insn.src !== undefined && r.k === 'ptr') {
        const d = copyRegCold(r);
        delete d.raw; // variable offset: the kernel keeps `off` and tracks var_off
        d.varOff = true;
        fr.regs[insn.dst] = d;
      } else {
        fr.regs[insn.dst] = scalar();
      }
      break;
    }
    case 'ldx': {
      const b = base(fr, insn.src, use);
      let v: MReg = scalar();
      const arg = b?.base === 'ctx' && insn.size === 'u64' ? s.ctxArgs?.get(insn.off) : undefined;
      if (arg) v = arg;
      else if (b) {
        const so = slotOff(b, insn.off);
        if (so !== undefined && insn.size === 'u64') {
          const spill = stackOf(s, fr, b).slots.get(so)?.spill;
          if (spill) v = spill;
        }
      }
      fr.regs[insn.dst] = v;
      break;
    }
    case 'stx':
    case 'st': {
      const b = base(fr, insn.dst, use);
      if (b) {
        const so = slotOff(b, insn.off);
        if (so !== undefined) {
          const stack = stackOf(s, fr, b);
          const aligned = so - (((so % 8) + 8) % 8);
          if (insn.op === 'stx' && insn.size === 'u64' && aligned === so) {
            const v = fr.regs[insn.src];
            stack.slots.set(so, v ? { spill: v } : {});
          } else if (insn.op === 'st' && insn.size === 'u64' && aligned === so) {
            stack.slots.set(so, { spill: constant(insn.imm) });
          } else {
            stack.slots.set(aligned, { bytes: 'mmmmmmmm' });
          }
        }
      }
      break;
    }
    case 'atomic':
      base(fr, insn.base, use);
      if (insn.dst !== undefined) fr.regs[insn.dst] = scalar();
      break;
    default:
      break;
  }
  return use.u;
}

/**
 * Replace every value except the checked register (`frame`, `reg`) that `fn` maps to a new value.
 * Values may be shared (copy-on-write), so the checked register is skipped by position, not identity.
 */
function replaceOthers(s: PathState, frame: number, reg: number, fn: (v: MReg) => MReg | undefined): void {
  for (let fi = 0; fi < s.frames.length; fi++) {
    const f = s.frames[fi] as Frame;
    for (let i = 0; i < f.regs.length; i++) {
      const v = f.regs[i];
      if (v === undefined || (fi === frame && i === reg)) continue;
      const n = fn(v);
      if (n !== undefined) f.regs[i] = n;
    }
    for (const slot of f.slots.values()) {
      if (slot.spill === undefined) continue;
      const n = fn(slot.spill);
      if (n !== undefined) slot.spill = n;
    }
  }
}

/** The value without its maybe-NULL marks (a changed copy: values are copy-on-write). */
function nonNull(v: MReg): MReg {
  const c = copyRegCold(v);
  delete c.nul;
  delete c.ng;
  delete c.raw;
  if (c.own === 'own') delete c.nid;
  return c;
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
  replaceOthers(nullState, nullState.cur, reg, (v) => (sameGroup(rn, v) ? constant('0') : undefined));
  curFrame(nullState).regs[reg] = constant('0');
  let ended: number | undefined;
  if (rn.own === 'own' && rn.obj !== undefined) {
    const idx = nullState.refs.findIndex((e) => e.kind === 'ptr' && e.obj === rn.obj);
    if (idx >= 0) nullState.refs.splice(idx, 1);
    ended = rn.obj;
  }
  replaceOthers(nonNullState, nonNullState.cur, reg, (v) => (sameGroup(rv, v) ? nonNull(v) : undefined));
  curFrame(nonNullState).regs[reg] = nonNull(rv);
  return ended;
}
