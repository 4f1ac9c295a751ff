/**
 * The model's view of one register or spilled stack slot, and conversions from/to the kernel's
 * printed values.
 *
 * Contract: an `MReg` is plain JSON data. Ownership facts (`own`, `ref`, `obj`, `dead`) are the
 * model's own; everything else (scalar bounds, map names, trust flags) may be adopted from the
 * kernel's print because it carries no ownership claim.
 */
import type { RegValue } from '../log/reg-state.ts';

export interface MReg {
  /** scalar/const/fp/ptr (any pointer kind)/dead (released or invalidated, a scalar to the kernel)/func/other */
  k: 'scalar' | 'const' | 'fp' | 'ptr' | 'dead' | 'func' | 'other';
  /** Base type for pointers: `ptr` (PTR_TO_BTF_ID), `map_value`, `map_ptr`, `ctx`, `mem`, … */
  base?: string;
  /** BTF struct name for `ptr`. */
  btf?: string;
  flags?: string[];
  map?: string;
  /** Owning or non-owning reference (model). */
  own?: 'own' | 'nonown';
  /** Kernel ref id of an owning reference (undefined while the log has not named it). */
  ref?: number;
  /** Model object id for own/nonown/dead. */
  obj?: number;
  off?: number;
  /** Maybe NULL. */
  nul?: boolean;
  /** Kernel `id=` (NULL-check group, lock identity). */
  nid?: number;
  /** Model NULL-check group: copies of one maybe-NULL value share it. */
  ng?: number;
  /** Why it is dead, and where. */
  dead?: 'released' | 'invalidated';
  deadInsn?: number;
  /** A pointer moved by a register of unknown value (the kernel tracks it as var_off). */
  varOff?: boolean;
  /** A constant loaded by a 64-bit immediate (ld_imm64): the loader may have made it an address. */
  ld64?: boolean;
  /** For `fp`: the frame whose stack it points into, when not the frame holding the value (`fp[0]-8`). */
  fpFrame?: number;
  /** Constant value (decimal) or fp offset. */
  v?: string;
  /** Kernel text last adopted for a plain value (display only). */
  raw?: string;
}

/**
 * Values are copy-on-write: once an MReg is placed in a state it is never changed in place (states
 * and branch copies share them); code that changes a value places a changed copy (`copyRegCold`).
 * Encoding cache (step store): values are encoded once and re-used. Code that nevertheless mutates
 * an MReg in place must call `touch` on it.
 */
const encoded = new WeakMap<MReg, string>();
let touches = 0;

const SCALAR_CODE = '{"k":"scalar"}';

export function encodeReg(r: MReg): string {
  // Unknown scalars carry no ownership: their bounds (adopted from the kernel's print, display
  // only) change at almost every step and would bloat every delta, so they are stored as "scalar".
  if (r.k === 'scalar' && r.own === undefined && r.obj === undefined) return SCALAR_CODE;
  let e = encoded.get(r);
  if (e === undefined) {
    e = JSON.stringify(r);
    encoded.set(r, e);
  }
  return e;
}

export function touch(r: MReg): void {
  encoded.delete(r);
  touches++;
}

/** Number of `touch` calls so far (the step store trusts value identity only while it is unchanged). */
export function touchCount(): number {
  return touches;
}

/** Copy a value (sharing its cached encoding). */
export function copyReg(r: MReg): MReg {
  const c: MReg = { ...r };
  if (r.flags) c.flags = [...r.flags];
  const e = encoded.get(r);
  if (e !== undefined) encoded.set(c, e);
  return c;
}

/** Copy a value without its cached encoding (branch copies that are often never recorded). */
export function copyRegCold(r: MReg): MReg {
  const c: MReg = { ...r };
  if (r.flags) c.flags = [...r.flags];
  return c;
}

export interface MSlot {
  /** 8 slot bytes as printed when no register is spilled (e.g. `0000????`). */
  bytes?: string;
  spill?: MReg;
}

export function scalar(): MReg {
  return { k: 'scalar' };
}

export function constant(v: string): MReg {
  return { k: 'const', v };
}

export function isNullConst(r: MReg | undefined): boolean {
  return r !== undefined && r.k === 'const' && r.v === '0';
}

/** Build a plain (non-ownership) model value from a kernel-printed value. */
export function plainFromKernel(v: RegValue): MReg {
  switch (v.kind) {
    case 'const':
      return { k: 'const', v: v.value };
    case 'fp': {
      const r: MReg = { k: 'fp', v: String(v.off), off: v.off };
      if (v.frame !== undefined) r.fpFrame = v.frame;
      return r;
    }
    case 'slot':
      return v.spilled ? plainFromKernel(v.spilled) : { k: 'other', raw: v.raw };
    case 'unparsed':
      return { k: 'other', raw: v.raw };
    case 'typed': {
      if (v.base === 'scalar') return { k: 'scalar', raw: v.raw };
      if (v.base === 'func') return { k: 'func', raw: v.raw };
      const r: MReg = { k: 'ptr', base: v.base, raw: v.raw };
      if (v.btfType !== undefined) r.btf = v.btfType;
      if (v.flags.length > 0) r.flags = [...v.flags];
      if (v.attrs.map !== undefined) r.map = v.attrs.map;
      if (v.maybeNull) r.nul = true;
      if (v.attrs.id !== undefined) r.nid = v.attrs.id;
      r.off = v.attrs.off ?? 0;
      return r;
    }
  }
}

/** The ownership claim the kernel makes for a printed value. */
export interface KernelOwnership {
  own: 'own' | 'nonown' | 'none';
  ref?: number;
  btf?: string;
  off: number;
}

export function kernelOwnership(v: RegValue): KernelOwnership {
  const t = v.kind === 'slot' ? v.spilled : v;
  if (t === undefined || t.kind !== 'typed') return { own: 'none', off: 0 };
  const off = t.attrs.off ?? 0;
  if (t.attrs.nonOwnRef) return { own: 'nonown', btf: t.btfType ?? t.base, off };
  if (t.attrs.refObjId !== undefined && t.attrs.refObjId > 0) {
    return { own: 'own', ref: t.attrs.refObjId, btf: t.btfType ?? t.base, off };
  }
  return { own: 'none', off };
}

export function modelOwnership(r: MReg | undefined): KernelOwnership {
  if (r === undefined || r.own === undefined || r.k === 'dead') return { own: 'none', off: 0 };
  const o: KernelOwnership = { own: r.own, off: r.off ?? 0 };
  if (r.ref !== undefined) o.ref = r.ref;
  if (r.btf !== undefined) o.btf = r.btf;
  return o;
}

export function describeOwnership(o: KernelOwnership): string {
  if (o.own === 'none') return 'no reference';
  const off = o.off !== 0 ? `,off=${o.off}` : '';
  if (o.own === 'nonown') return `non-owning ${o.btf ?? '?'}(${off.slice(1)})`;
  return `owning ${o.btf ?? '?'}(ref ${o.ref ?? '?'}${off})`;
}

/** Kernel-like text of a model value. */
export function regText(r: MReg): string {
  switch (r.k) {
    case 'const':
      return r.v ?? '?';
    case 'fp':
      return r.fpFrame !== undefined ? `fp[${r.fpFrame}]${r.v ?? ''}` : `fp${r.v ?? ''}`;
    case 'scalar':
      return r.raw ?? 'scalar()';
    case 'func':
      return 'func()';
    case 'other':
      return r.raw ?? '?';
    case 'dead':
      return `scalar() [${r.dead ?? 'dead'}${r.deadInsn !== undefined ? ` at ${r.deadInsn}` : ''}]`;
    case 'ptr': {
      if (r.own === undefined && r.raw !== undefined) return r.raw;
      const flags = (r.flags ?? []).map((f) => `${f}_`).join('');
      const name =
        r.base === 'ptr' || r.base === undefined
          ? `${flags}ptr_${r.nul ? 'or_null_' : ''}${r.btf ?? '?'}`
          : `${flags}${r.base}${r.nul ? '_or_null' : ''}`;
      const attrs: string[] = [];
      if (r.nid !== undefined) attrs.push(`id=${r.nid}`);
      if (r.own === 'own') attrs.push(`ref_obj_id=${r.ref ?? '?'}`);
      if (r.own === 'nonown') attrs.push('non_own_ref');
      if (r.map !== undefined) attrs.push(`map=${r.map}`);
      if (r.off) attrs.push(`off=${r.off}`);
      return `${name}(${attrs.join(',')})`;
    }
  }
}
