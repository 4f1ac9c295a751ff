// Contract: decode binary BTF (`.BTF` section contents, /sys/kernel/btf/*) from a Uint8Array.
// - Magic 0xEB9F in either byte order decides endianness; version must be 1; hdr_len >= 24
//   (extra header bytes from newer kernels are skipped).
// - Split BTF: pass the base's RawBtf; ids and string offsets continue after the base.
// - Structural problems (empty input, bad magic, sections or type records past the end,
//   unknown kinds) throw BtfParseError with the byte offset. Name offsets outside the string
//   section do not throw: the name becomes '(invalid)' (bpftool's spelling) and a warning is kept.
// - Produces exactly the Btf the bpftool text/JSON parsers produce for the same object.

import {
  type Btf,
  type BtfType,
  type BtfMember,
  type BtfParam,
  type BtfEnumValue,
  type BtfEnum64Value,
  type BtfVarSecinfo,
  type IntEncoding,
  type Linkage,
  voidType,
} from './btf-types.ts';
import { BtfParseError } from './errors.ts';

export const BTF_MAGIC = 0xeb9f;
const BTF_HEADER_MIN = 24;
const TYPE_RECORD = 12;
const MAX_WARNINGS = 20;

export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

/** String table of a BTF (its own section plus, for split BTF, the base's). */
export class BtfStrings {
  private readonly cache = new Map<number, string>();
  private readonly decoder = new TextDecoder('utf-8');
  /** Offset at which this BTF's own strings start (= base's total length). */
  readonly startOffset: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly base?: BtfStrings,
  ) {
    this.startOffset = base === undefined ? 0 : base.totalLength;
  }

  get totalLength(): number {
    return this.startOffset + this.bytes.length;
  }

  /** The NUL-terminated string at `off`, or undefined when `off` is out of range / unterminated. */
  at(off: number): string | undefined {
    if (off < this.startOffset) return this.base?.at(off);
    const cached = this.cache.get(off);
    if (cached !== undefined) return cached;
    const rel = off - this.startOffset;
    if (rel >= this.bytes.length) return undefined;
    const end = this.bytes.indexOf(0, rel);
    if (end === -1) return undefined;
    let s: string;
    const len = end - rel;
    if (len < 64) {
      // ASCII fast path (BTF names are almost always ASCII).
      let ascii = true;
      let out = '';
      for (let k = rel; k < end; k++) {
        const c = this.bytes[k] as number;
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        out += String.fromCharCode(c);
      }
      s = ascii ? out : this.decoder.decode(this.bytes.subarray(rel, end));
    } else {
      s = this.decoder.decode(this.bytes.subarray(rel, end));
    }
    this.cache.set(off, s);
    return s;
  }
}

export interface RawBtf {
  btf: Btf;
  strings: BtfStrings;
  header: BtfHeader;
  endianness: 'little' | 'big';
  /** Non-fatal oddities (invalid name offsets, ...), capped. */
  warnings: string[];
}

export interface RawBtfOptions {
  file?: string;
  /** Base BTF (parsed from its blob) when `bytes` is split BTF. */
  base?: RawBtf;
}

const INT_ENCODINGS: Record<number, IntEncoding> = { 0: 'none', 1: 'SIGNED', 2: 'CHAR', 4: 'BOOL' };
const LINKAGES: readonly Linkage[] = ['static', 'global', 'extern'];

export function isBtfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f));
}

export function parseBtfRaw(bytes: Uint8Array, opts: RawBtfOptions = {}): RawBtf {
  const fail = (offset: number, expected: string, got: string): never => {
    const info: ConstructorParameters<typeof BtfParseError>[0] = { offset, expected, got };
    if (opts.file !== undefined) info.file = opts.file;
    throw new BtfParseError(info);
  };

  if (bytes.length === 0) fail(0, 'BTF data', 'an empty BTF file (0 bytes)');
  if (bytes.length < BTF_HEADER_MIN) {
    fail(0, `a BTF header of at least ${BTF_HEADER_MIN} bytes`, `${bytes.length} bytes`);
  }
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else {
    const got = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return fail(0, 'BTF magic 0xEB9F (bytes 9f eb or eb 9f)', `bytes ${got}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: BtfHeader = {
    magic: BTF_MAGIC,
    version: dv.getUint8(2),
    flags: dv.getUint8(3),
    hdrLen: dv.getUint32(4, le),
    typeOff: dv.getUint32(8, le),
    typeLen: dv.getUint32(12, le),
    strOff: dv.getUint32(16, le),
    strLen: dv.getUint32(20, le),
  };
  if (header.version !== 1) fail(2, 'BTF version 1', `version ${header.version}`);
  if (header.hdrLen < BTF_HEADER_MIN || header.hdrLen > bytes.length) {
    fail(4, `hdr_len between ${BTF_HEADER_MIN} and the data size ${bytes.length}`, `hdr_len=${header.hdrLen}`);
  }
  const dataLen = bytes.length - header.hdrLen;
  if (header.typeOff + header.typeLen > dataLen) {
    fail(8, `a type section inside the ${dataLen} data bytes`, `type_off=${header.typeOff} type_len=${header.typeLen}`);
  }
  if (header.strOff + header.strLen > dataLen) {
    fail(16, `a string section inside the ${dataLen} data bytes`, `str_off=${header.strOff} str_len=${header.strLen}`);
  }
  if (header.typeOff % 4 !== 0) fail(8, 'a 4-byte aligned type_off', `type_off=${header.typeOff}`);
  if (header.typeLen % 4 !== 0) fail(12, 'a type_len that is a multiple of 4', `type_len=${header.typeLen}`);
  const typeOverlap =
    header.typeLen > 0 &&
    header.strLen > 0 &&
    header.typeOff < header.strOff + header.strLen &&
    header.strOff < header.typeOff + header.typeLen;
  if (typeOverlap) fail(8, 'non-overlapping type and string sections', `types [${header.typeOff}, +${header.typeLen}) strings [${header.strOff}, +${header.strLen})`);

  const strStart = header.hdrLen + header.strOff;
  const strBytes = bytes.subarray(strStart, strStart + header.strLen);
  if (opts.base === undefined) {
    if (strBytes.length === 0 || strBytes[0] !== 0) {
      fail(strStart, 'a string section starting with a NUL byte (offset 0 = ""; split BTF needs its base)', strBytes.length === 0 ? 'an empty string section' : `byte 0x${(strBytes[0] as number).toString(16)}`);
    }
  }
  if (strBytes.length > 0 && strBytes[strBytes.length - 1] !== 0) {
    fail(strStart + strBytes.length - 1, 'a string section ending with a NUL byte', `byte 0x${(strBytes[strBytes.length - 1] as number).toString(16)}`);
  }
  const strings = new BtfStrings(strBytes, opts.base?.strings);

  const warnings: string[] = [];
  const warn = (msg: string): void => {
    if (warnings.length < MAX_WARNINGS) warnings.push(msg);
    else if (warnings.length === MAX_WARNINGS) warnings.push('… more warnings suppressed');
  };
  let invalidNames = 0;
  const nameAt = (off: number, id: number): string => {
    if (off === 0) return '';
    const s = strings.at(off);
    if (s === undefined) {
      invalidNames++;
      warn(`type [${id}]: name offset ${off} is outside the string section (${strings.totalLength} bytes); named '(invalid)'`);
      return '(invalid)';
    }
    return s;
  };

  const types: BtfType[] = opts.base !== undefined ? opts.base.btf.types.slice() : [voidType()];
  const startId = types.length;
  const typeStart = header.hdrLen + header.typeOff;
  const typeEnd = typeStart + header.typeLen;
  let pos = typeStart;
  let id = startId;

  const need = (n: number, what: string): void => {
    if (pos + n > typeEnd) {
      fail(pos, `${what} of type [${id}] (${n} bytes) inside the type section (ends at byte 0x${typeEnd.toString(16)})`, `only ${typeEnd - pos} bytes left`);
    }
  };
  const u32 = (at: number): number => dv.getUint32(at, le);

  while (pos < typeEnd) {
    need(TYPE_RECORD, 'the record header');
    const nameOff = u32(pos);
    const info = u32(pos + 4);
    const sizeOrType = u32(pos + 8);
    const recStart = pos;
    pos += TYPE_RECORD;
    const vlen = info & 0xffff;
    const kindNum = (info >>> 24) & 0x1f;
    const kflag = info >>> 31 === 1;
    const name = nameAt(nameOff, id);
    let t: BtfType;
    switch (kindNum) {
      case 1: {
        need(4, 'the INT data');
        const v = u32(pos);
        pos += 4;
        const encoding = INT_ENCODINGS[(v >>> 24) & 0x0f] ?? 'UNKN';
        t = { id, kind: 'INT', name, size: sizeOrType, bitsOffset: (v >>> 16) & 0xff, nrBits: v & 0xff, encoding };
        break;
      }
      case 2:
        t = { id, kind: 'PTR', name, typeId: sizeOrType };
        break;
      case 3: {
        need(12, 'the ARRAY data');
        t = { id, kind: 'ARRAY', name, typeId: u32(pos), indexTypeId: u32(pos + 4), nrElems: u32(pos + 8) };
        pos += 12;
        break;
      }
      case 4:
      case 5: {
        need(12 * vlen, `the ${vlen} members`);
        const members: BtfMember[] = new Array<BtfMember>(vlen);
        for (let k = 0; k < vlen; k++) {
          const off = u32(pos + 8);
          const m: BtfMember = { name: nameAt(u32(pos), id), typeId: u32(pos + 4), bitsOffset: kflag ? off & 0xffffff : off };
          if (kflag && off >>> 24 !== 0) m.bitfieldSize = off >>> 24;
          members[k] = m;
          pos += 12;
        }
        t = { id, kind: kindNum === 4 ? 'STRUCT' : 'UNION', name, size: sizeOrType, members };
        break;
      }
      case 6: {
        need(8 * vlen, `the ${vlen} enum values`);
        const values: BtfEnumValue[] = new Array<BtfEnumValue>(vlen);
        for (let k = 0; k < vlen; k++) {
          values[k] = { name: nameAt(u32(pos), id), value: kflag ? dv.getInt32(pos + 4, le) : u32(pos + 4) };
          pos += 8;
        }
        t = { id, kind: 'ENUM', name, size: sizeOrType, signed: kflag, values };
        break;
      }
      case 7:
        t = { id, kind: 'FWD', name, fwdKind: kflag ? 'union' : 'struct' };
        break;
      case 8:
        t = { id, kind: 'TYPEDEF', name, typeId: sizeOrType };
        break;
      case 9:
        t = { id, kind: 'VOLATILE', name, typeId: sizeOrType };
        break;
      case 10:
        t = { id, kind: 'CONST', name, typeId: sizeOrType };
        break;
      case 11:
        t = { id, kind: 'RESTRICT', name, typeId: sizeOrType };
        break;
      case 12:
        t = { id, kind: 'FUNC', name, typeId: sizeOrType, linkage: LINKAGES[vlen] ?? 'unknown' };
        break;
      case 13: {
        need(8 * vlen, `the ${vlen} parameters`);
        const params: BtfParam[] = new Array<BtfParam>(vlen);
        for (let k = 0; k < vlen; k++) {
          params[k] = { name: nameAt(u32(pos), id), typeId: u32(pos + 4) };
          pos += 8;
        }
        t = { id, kind: 'FUNC_PROTO', name, retTypeId: sizeOrType, params };
        break;
      }
      case 14: {
        need(4, 'the VAR linkage');
        t = { id, kind: 'VAR', name, typeId: sizeOrType, linkage: LINKAGES[u32(pos)] ?? 'unknown' };
        pos += 4;
        break;
      }
      case 15: {
        need(12 * vlen, `the ${vlen} DATASEC entries`);
        const vars: BtfVarSecinfo[] = new Array<BtfVarSecinfo>(vlen);
        for (let k = 0; k < vlen; k++) {
          vars[k] = { typeId: u32(pos), offset: u32(pos + 4), size: u32(pos + 8) };
          pos += 12;
        }
        t = { id, kind: 'DATASEC', name, size: sizeOrType, vars };
        break;
      }
      case 16:
        t = { id, kind: 'FLOAT', name, size: sizeOrType };
        break;
      case 17: {
        need(4, 'the DECL_TAG component_idx');
        t = { id, kind: 'DECL_TAG', name, typeId: sizeOrType, componentIdx: dv.getInt32(pos, le) };
        pos += 4;
        break;
      }
      case 18:
        t = { id, kind: 'TYPE_TAG', name, typeId: sizeOrType };
        break;
      case 19: {
        need(12 * vlen, `the ${vlen} enum64 values`);
        const values: BtfEnum64Value[] = new Array<BtfEnum64Value>(vlen);
        for (let k = 0; k < vlen; k++) {
          const raw = (BigInt(u32(pos + 8)) << 32n) | BigInt(u32(pos + 4));
          values[k] = { name: nameAt(u32(pos), id), value: (kflag ? BigInt.asIntN(64, raw) : raw).toString() };
          pos += 12;
        }
        t = { id, kind: 'ENUM64', name, size: sizeOrType, signed: kflag, values };
        break;
      }
      default:
        return fail(recStart + 4, `a known BTF kind (1..19) for type [${id}]`, `kind ${kindNum} (info=0x${info.toString(16)})`);
    }
    types.push(t);
    id++;
  }
  if (invalidNames > MAX_WARNINGS) warnings.push(`${invalidNames} names in total were out of range`);
  return { btf: { types, startId }, strings, header, endianness: le ? 'little' : 'big', warnings };
}
