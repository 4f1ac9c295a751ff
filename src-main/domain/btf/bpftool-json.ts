// Contract: parse `bpftool -j btf dump file X` (or `-p`, pretty) output — `{"types":[...]}` —
// into the same Btf the raw-text parser produces for the same object. ENUM64 values keep full
// 64-bit precision (integers are read exactly, see json-reader.ts). Invalid JSON or a wrong
// shape throws BtfParseError naming file:line and the offending field.
// `BtfJsonParser` accepts the text in arbitrary chunks (it buffers; JSON needs the whole document).

import {
  type Btf,
  type BtfType,
  type BtfMember,
  voidType,
} from './btf-types.ts';
import { BtfParseError, quoteGot } from './errors.ts';
import { JsonBigInt, readJson, type JsonObject, type JsonValue } from './json-reader.ts';
import { parseIntEncoding, parseLinkage } from './bpftool-text.ts';

export interface BtfJsonOptions {
  file?: string;
  /** Base BTF for a split dump (ids then start at base.types.length). */
  base?: Btf;
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing (field missing)';
  if (v instanceof JsonBigInt) return v.raw;
  if (typeof v === 'string') return quoteGot(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonBigInt);
}

class ShapeReader {
  constructor(
    private readonly file: string | undefined,
    private readonly lineOf: (o: object) => number | undefined,
  ) {}

  fail(node: object | undefined, expected: string, got: string): never {
    const info: ConstructorParameters<typeof BtfParseError>[0] = { expected, got };
    if (this.file !== undefined) info.file = this.file;
    const line = node === undefined ? undefined : this.lineOf(node);
    if (line !== undefined) info.line = line;
    throw new BtfParseError(info);
  }

  uint(o: JsonObject, key: string, where: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      return this.fail(o, `${where}: an unsigned integer field "${key}"`, describe(v));
    }
    return v;
  }

  int(o: JsonObject, key: string, where: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      return this.fail(o, `${where}: an integer field "${key}"`, describe(v));
    }
    return v;
  }

  str(o: JsonObject, key: string, where: string): string {
    const v = o[key];
    if (typeof v !== 'string') return this.fail(o, `${where}: a string field "${key}"`, describe(v));
    return v;
  }

  arr(o: JsonObject, key: string, where: string): JsonObject[] {
    const v = o[key];
    if (!Array.isArray(v)) return this.fail(o, `${where}: an array field "${key}"`, describe(v));
    for (const e of v) {
      if (!isObject(e)) return this.fail(v, `${where}: objects in "${key}"`, describe(e));
    }
    return v as JsonObject[];
  }

  name(o: JsonObject, where: string): string {
    const s = this.str(o, 'name', where);
    return s === '(anon)' ? '' : s;
  }

  vlenList(o: JsonObject, key: string, where: string): JsonObject[] {
    const list = this.arr(o, key, where);
    if (o.vlen !== undefined) {
      const vlen = this.uint(o, 'vlen', where);
      if (vlen !== list.length) this.fail(o, `${where}: ${vlen} entries in "${key}" (vlen)`, String(list.length));
    }
    return list;
  }
}

function bigValue(v: JsonValue | undefined): string | undefined {
  if (v instanceof JsonBigInt) return BigInt(v.raw).toString();
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v).toString();
  return undefined;
}

/** Convert one already-read JSON document into a Btf. */
export function btfFromJsonValue(
  doc: JsonValue,
  lineOf: (o: object) => number | undefined,
  opts: BtfJsonOptions = {},
): Btf {
  const r = new ShapeReader(opts.file, lineOf);
  if (!isObject(doc)) return r.fail(undefined, 'a JSON object {"types":[...]} (bpftool -j btf dump)', describe(doc));
  const list = doc.types;
  if (!Array.isArray(list)) return r.fail(doc, 'a "types" array at the top level (bpftool -j btf dump)', describe(list));

  const types: BtfType[] = opts.base !== undefined ? opts.base.types.slice() : [voidType()];
  const startId = types.length;
  for (let idx = 0; idx < list.length; idx++) {
    const o = list[idx];
    if (!isObject(o)) return r.fail(list, `types[${idx}]: an object`, describe(o));
    const where = `types[${idx}]`;
    const id = r.uint(o, 'id', where);
    if (id !== startId + idx) {
      const hint = idx === 0 && startId === 1 && id > 1 ? ' (a split BTF dump needs its base BTF)' : '';
      r.fail(o, `${where}: id ${startId + idx}${hint}`, String(id));
    }
    const w = `${where} (id ${id})`;
    const kind = r.str(o, 'kind', w);
    const name = r.name(o, w);
    types.push(convertType(r, o, id, kind, name, w));
  }
  if (list.length === 0) r.fail(list, 'at least one type in "types"', 'an empty array');
  return { types, startId };
}

function convertType(r: ShapeReader, o: JsonObject, id: number, kind: string, name: string, w: string): BtfType {
  switch (kind) {
    case 'INT': {
      const encStr = r.str(o, 'encoding', w);
      const encoding = parseIntEncoding(encStr);
      if (encoding === undefined) return r.fail(o, `${w}: an INT encoding`, quoteGot(encStr));
      return {
        id,
        kind,
        name,
        size: r.uint(o, 'size', w),
        bitsOffset: r.uint(o, 'bits_offset', w),
        nrBits: r.uint(o, 'nr_bits', w),
        encoding,
      };
    }
    case 'PTR':
    case 'TYPEDEF':
    case 'VOLATILE':
    case 'CONST':
    case 'RESTRICT':
    case 'TYPE_TAG':
      return { id, kind, name, typeId: r.uint(o, 'type_id', w) };
    case 'ARRAY':
      return {
        id,
        kind,
        name,
        typeId: r.uint(o, 'type_id', w),
        indexTypeId: r.uint(o, 'index_type_id', w),
        nrElems: r.uint(o, 'nr_elems', w),
      };
    case 'STRUCT':
    case 'UNION': {
      const members: BtfMember[] = r.vlenList(o, 'members', w).map((m, i) => {
        const mw = `${w}.members[${i}]`;
        const name = r.name(m, mw);
        const member: BtfMember = { name, typeId: r.uint(m, 'type_id', mw), bitsOffset: r.uint(m, 'bits_offset', mw) };
        if (m.bitfield_size !== undefined) {
          const bs = r.uint(m, 'bitfield_size', mw);
          if (bs !== 0) member.bitfieldSize = bs;
        }
        return member;
      });
      return { id, kind, name, size: r.uint(o, 'size', w), members };
    }
    case 'ENUM': {
      const signed = o.encoding === 'SIGNED';
      const values = r.vlenList(o, 'values', w).map((v, i) => {
        const vw = `${w}.values[${i}]`;
        const big = bigValue(v.val);
        if (big === undefined) return r.fail(v, `${vw}: an integer field "val"`, describe(v.val));
        // bpftool (libbpf <= 1.x) widens the s32 to 64 bits before printing, so an unsigned
        // enum value >= 2^31 can appear as 2^64 - x: normalise to the 32-bit value.
        const n = signed ? BigInt.asIntN(32, BigInt(big)) : BigInt.asUintN(32, BigInt(big));
        return { name: r.name(v, vw), value: Number(n) };
      });
      return { id, kind, name, size: r.uint(o, 'size', w), signed, values };
    }
    case 'ENUM64': {
      const values = r.vlenList(o, 'values', w).map((v, i) => {
        const vw = `${w}.values[${i}]`;
        const value = bigValue(v.val);
        if (value === undefined) return r.fail(v, `${vw}: an integer field "val"`, describe(v.val));
        return { name: r.name(v, vw), value };
      });
      return { id, kind, name, size: r.uint(o, 'size', w), signed: o.encoding === 'SIGNED', values };
    }
    case 'FWD': {
      const fk = r.str(o, 'fwd_kind', w);
      if (fk !== 'struct' && fk !== 'union') return r.fail(o, `${w}: fwd_kind "struct" or "union"`, quoteGot(fk));
      return { id, kind, name, fwdKind: fk };
    }
    case 'FUNC':
    case 'VAR': {
      const ls = o.linkage === undefined ? undefined : r.str(o, 'linkage', w);
      const linkage = parseLinkage(ls);
      if (linkage === undefined) return r.fail(o, `${w}: a linkage (static, global, extern)`, quoteGot(ls ?? ''));
      return { id, kind, name, typeId: r.uint(o, 'type_id', w), linkage };
    }
    case 'FUNC_PROTO': {
      const params = r.vlenList(o, 'params', w).map((p, i) => ({
        name: r.name(p, `${w}.params[${i}]`),
        typeId: r.uint(p, 'type_id', `${w}.params[${i}]`),
      }));
      return { id, kind, name, retTypeId: r.uint(o, 'ret_type_id', w), params };
    }
    case 'DATASEC': {
      const vars = r.vlenList(o, 'vars', w).map((v, i) => {
        const vw = `${w}.vars[${i}]`;
        return { typeId: r.uint(v, 'type_id', vw), offset: r.uint(v, 'offset', vw), size: r.uint(v, 'size', vw) };
      });
      return { id, kind, name, size: r.uint(o, 'size', w), vars };
    }
    case 'FLOAT':
      return { id, kind, name, size: r.uint(o, 'size', w) };
    case 'DECL_TAG':
      return { id, kind, name, typeId: r.uint(o, 'type_id', w), componentIdx: r.int(o, 'component_idx', w) };
    case 'UNKNOWN':
    case 'UNKN':
      return { id, kind: 'UNKNOWN', name };
    default:
      return r.fail(o, `${w}: a known BTF kind in "kind"`, quoteGot(kind));
  }
}

/** Parse a whole bpftool JSON BTF dump. */
export function parseBtfJson(text: string, opts: BtfJsonOptions = {}): Btf {
  if (text.trim() === '') {
    const info: ConstructorParameters<typeof BtfParseError>[0] = { line: 1, expected: 'a JSON BTF dump', got: '<empty input>' };
    if (opts.file !== undefined) info.file = opts.file;
    throw new BtfParseError(info);
  }
  const { value, lineOf } = readJson(text, opts.file);
  return btfFromJsonValue(value, lineOf, opts);
}

/** Chunked front-end: buffers pieces (string or bytes, UTF-8 decoded incrementally), parses at finish(). */
export class BtfJsonParser {
  private readonly parts: string[] = [];
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly opts: BtfJsonOptions = {}) {}

  pushChunk(chunk: string | Uint8Array): void {
    this.parts.push(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
  }

  finish(): Btf {
    this.parts.push(this.decoder.decode());
    return parseBtfJson(this.parts.join(''), this.opts);
  }
}
