// Test helper: a tiny BTF blob writer and ELF object writer, so tests can build exact binary inputs
// (round trips, both endiannesses, split BTF, malformed records) without external tools.

import type { Btf, BtfType } from '../../../src-main/domain/btf/btf-types.ts';
import type { RawBtf } from '../../../src-main/domain/btf/raw-blob.ts';

type Endian = 'little' | 'big';

class Bytes {
  private buf = new Uint8Array(256);
  length = 0;
  constructor(private readonly le: boolean) {}
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): void {
    this.grow(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.grow(2);
    new DataView(this.buf.buffer).setUint16(this.length, v, this.le);
    this.length += 2;
  }
  u32(v: number): void {
    this.grow(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0, this.le);
    this.length += 4;
  }
  u64(v: number): void {
    this.grow(8);
    new DataView(this.buf.buffer).setBigUint64(this.length, BigInt(v), this.le);
    this.length += 8;
  }
  raw(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    while (this.length % align !== 0) this.u8(0);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export const KIND_NUM: Record<string, number> = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
};

/** Low-level builder: add strings and raw type records, then `build()` a blob. */
export class BtfBlobBuilder {
  private readonly strs: number[] = [];
  private readonly strIndex = new Map<string, number>();
  private readonly types: Bytes;
  constructor(
    readonly endianness: Endian = 'little',
    /** Offset at which this blob's strings start (base string length for split BTF). */
    private readonly strBase = 0,
  ) {
    this.types = new Bytes(endianness === 'little');
    if (strBase === 0) this.strs.push(0);
  }

  str(s: string): number {
    if (s === '') return 0;
    const hit = this.strIndex.get(s);
    if (hit !== undefined) return hit;
    const off = this.strBase + this.strs.length;
    for (const b of new TextEncoder().encode(s)) this.strs.push(b);
    this.strs.push(0);
    this.strIndex.set(s, off);
    return off;
  }

  /** A raw record: header then extra u32 words. */
  record(nameOff: number, kind: number, vlen: number, kflag: boolean, sizeOrType: number, extra: number[] = []): this {
    this.types.u32(nameOff);
    this.types.u32(((kflag ? 1 : 0) << 31) | ((kind & 0x1f) << 24) | (vlen & 0xffff));
    this.types.u32(sizeOrType);
    for (const w of extra) this.types.u32(w);
    return this;
  }

  build(opts: { hdrLen?: number; typeLenDelta?: number; strLenDelta?: number; version?: number } = {}): Uint8Array {
    const hdrLen = opts.hdrLen ?? 24;
    const typeBytes = this.types.bytes();
    const strBytes = Uint8Array.from(this.strs);
    const out = new Bytes(this.endianness === 'little');
    out.u16(0xeb9f);
    out.u8(opts.version ?? 1);
    out.u8(0);
    out.u32(hdrLen);
    out.u32(0); // type_off
    out.u32(typeBytes.length + (opts.typeLenDelta ?? 0));
    out.u32(typeBytes.length); // str_off
    out.u32(strBytes.length + (opts.strLenDelta ?? 0));
    while (out.length < hdrLen) out.u8(0);
    out.raw(typeBytes);
    out.raw(strBytes);
    return out.bytes();
  }
}

/** Encode a Btf model (its own types, from startId) into a blob. Split: pass the base RawBtf. */
export function encodeBtf(btf: Btf, opts: { endianness?: Endian; hdrLen?: number; base?: RawBtf } = {}): Uint8Array {
  const b = new BtfBlobBuilder(opts.endianness ?? 'little', opts.base?.strings.totalLength ?? 0);
  for (let id = btf.startId; id < btf.types.length; id++) {
    const t = btf.types[id] as BtfType;
    encodeType(b, t);
  }
  const build: { hdrLen?: number } = {};
  if (opts.hdrLen !== undefined) build.hdrLen = opts.hdrLen;
  return b.build(build);
}

const LINK: Record<string, number> = { static: 0, global: 1, extern: 2, unknown: 3 };
const ENC: Record<string, number> = { none: 0, SIGNED: 1, CHAR: 2, BOOL: 4, UNKN: 8 };

function encodeType(b: BtfBlobBuilder, t: BtfType): void {
  const n = b.str(t.name);
  const k = KIND_NUM[t.kind] ?? 0;
  switch (t.kind) {
    case 'VOID':
    case 'UNKNOWN':
      throw new Error(`cannot encode ${t.kind}`);
    case 'INT':
      b.record(n, k, 0, false, t.size, [((ENC[t.encoding] ?? 0) << 24) | (t.bitsOffset << 16) | t.nrBits]);
      break;
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      b.record(n, k, 0, false, t.typeId);
      break;
    case 'ARRAY':
      b.record(n, k, 0, false, 0, [t.typeId, t.indexTypeId, t.nrElems]);
      break;
    case 'STRUCT':
    case 'UNION': {
      const kflag = t.members.some((m) => m.bitfieldSize !== undefined);
      const extra: number[] = [];
      for (const m of t.members) {
        extra.push(b.str(m.name), m.typeId, kflag ? ((m.bitfieldSize ?? 0) << 24) | m.bitsOffset : m.bitsOffset);
      }
      b.record(n, k, t.members.length, kflag, t.size, extra);
      break;
    }
    case 'ENUM': {
      const extra: number[] = [];
      for (const v of t.values) extra.push(b.str(v.name), v.value >>> 0);
      b.record(n, k, t.values.length, t.signed, t.size, extra);
      break;
    }
    case 'ENUM64': {
      const extra: number[] = [];
      for (const v of t.values) {
        const u = BigInt.asUintN(64, BigInt(v.value));
        extra.push(b.str(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
      }
      b.record(n, k, t.values.length, t.signed, t.size, extra);
      break;
    }
    case 'FWD':
      b.record(n, k, 0, t.fwdKind === 'union', 0);
      break;
    case 'FUNC':
      b.record(n, k, LINK[t.linkage] ?? 0, false, t.typeId);
      break;
    case 'FUNC_PROTO': {
      const extra: number[] = [];
      for (const p of t.params) extra.push(b.str(p.name), p.typeId);
      b.record(n, k, t.params.length, false, t.retTypeId, extra);
      break;
    }
    case 'VAR':
      b.record(n, k, 0, false, t.typeId, [LINK[t.linkage] ?? 0]);
      break;
    case 'DATASEC': {
      const extra: number[] = [];
      for (const v of t.vars) extra.push(v.typeId, v.offset, v.size);
      b.record(n, k, t.vars.length, false, t.size, extra);
      break;
    }
    case 'FLOAT':
      b.record(n, k, 0, false, t.size);
      break;
    case 'DECL_TAG':
      b.record(n, k, 0, false, t.typeId, [t.componentIdx >>> 0]);
      break;
  }
}

export interface ElfSpecSection {
  name: string;
  type?: number;
  flags?: number;
  data: Uint8Array;
}
export interface ElfSpecSymbol {
  name: string;
  section: string;
  value: number;
  size: number;
  type?: number;
  bind?: number;
}

/** Minimal relocatable ELF (ELF32/ELF64, LE/BE) with the given sections and an optional symbol table. */
export function buildElf(spec: { bits: 32 | 64; endianness: Endian; sections: ElfSpecSection[]; symbols?: ElfSpecSymbol[] }): Uint8Array {
  const le = spec.endianness === 'little';
  const is64 = spec.bits === 64;
  const all: ElfSpecSection[] = [{ name: '', type: 0, data: new Uint8Array(0) }, ...spec.sections];
  if (spec.symbols !== undefined) {
    const strtab: number[] = [0];
    const sym = new Bytes(le);
    const zero = is64 ? 24 : 16;
    for (let i = 0; i < zero; i++) sym.u8(0);
    for (const s of spec.symbols) {
      const nameOff = strtab.length;
      for (const c of new TextEncoder().encode(s.name)) strtab.push(c);
      strtab.push(0);
      const shndx = all.findIndex((x) => x.name === s.section);
      const info = ((s.bind ?? 1) << 4) | (s.type ?? 1);
      if (is64) {
        sym.u32(nameOff);
        sym.u8(info);
        sym.u8(0);
        sym.u16(shndx);
        sym.u64(s.value);
        sym.u64(s.size);
      } else {
        sym.u32(nameOff);
        sym.u32(s.value);
        sym.u32(s.size);
        sym.u8(info);
        sym.u8(0);
        sym.u16(shndx);
      }
    }
    all.push({ name: '.symtab', type: 2, data: sym.bytes() });
    all.push({ name: '.strtab', type: 3, data: Uint8Array.from(strtab) });
  }
  const shstr: number[] = [0];
  const nameOffs = all.map((s) => {
    if (s.name === '') return 0;
    const off = shstr.length;
    for (const c of new TextEncoder().encode(s.name)) shstr.push(c);
    shstr.push(0);
    return off;
  });
  const shstrName = shstr.length;
  for (const c of new TextEncoder().encode('.shstrtab')) shstr.push(c);
  shstr.push(0);
  all.push({ name: '.shstrtab', type: 3, data: Uint8Array.from(shstr) });
  nameOffs.push(shstrName);

  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const body = new Bytes(le);
  for (let i = 0; i < ehsize; i++) body.u8(0);
  const offsets: number[] = [];
  for (const s of all) {
    body.pad(8);
    offsets.push(body.length);
    body.raw(s.data);
  }
  body.pad(8);
  const shoff = body.length;
  const symtabIdx = all.findIndex((s) => s.name === '.symtab');
  const strtabIdx = all.findIndex((s) => s.name === '.strtab');
  all.forEach((s, i) => {
    const link = i === symtabIdx ? strtabIdx : 0;
    const entsize = i === symtabIdx ? (is64 ? 24 : 16) : 0;
    if (is64) {
      body.u32(nameOffs[i] ?? 0);
      body.u32(s.type ?? 1);
      body.u64(s.flags ?? 0);
      body.u64(0);
      body.u64(i === 0 ? 0 : (offsets[i] ?? 0));
      body.u64(s.data.length);
      body.u32(link);
      body.u32(0);
      body.u64(i === 0 ? 0 : 8);
      body.u64(entsize);
    } else {
      body.u32(nameOffs[i] ?? 0);
      body.u32(s.type ?? 1);
      body.u32(s.flags ?? 0);
      body.u32(0);
      body.u32(i === 0 ? 0 : (offsets[i] ?? 0));
      body.u32(s.data.length);
      body.u32(link);
      body.u32(0);
      body.u32(i === 0 ? 0 : 8);
      body.u32(entsize);
    }
  });
  const out = body.bytes();
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  dv.setUint16(16, 1, le); // ET_REL
  dv.setUint16(18, 247, le); // EM_BPF
  dv.setUint32(20, 1, le);
  if (is64) {
    dv.setBigUint64(40, BigInt(shoff), le);
    dv.setUint16(52, ehsize, le);
    dv.setUint16(58, shentsize, le);
    dv.setUint16(60, all.length, le);
    dv.setUint16(62, all.length - 1, le);
  } else {
    dv.setUint32(32, shoff, le);
    dv.setUint16(40, ehsize, le);
    dv.setUint16(46, shentsize, le);
    dv.setUint16(48, all.length, le);
    dv.setUint16(50, all.length - 1, le);
  }
  return out;
}

/** Shorthand for tests: bpftool-style text lines joined with '\n'. */
export function btfText(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
