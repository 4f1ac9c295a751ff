// Contract: the in-memory BTF model shared by every BTF parser (bpftool raw text,
// bpftool JSON, raw .BTF blob, ELF .BTF section) and by the summariser.
// - `Btf.types[id]` is the type with that id; index 0 is the `void` placeholder.
// - For split BTF (module BTF / BTF with a base) `types` holds the base types too,
//   so ids are global; `startId` is the first id that belongs to this BTF.
// - Names are '' for anonymous entities (bpftool's '(anon)' never reaches the model);
//   a name whose string offset is out of range is the literal '(invalid)', as bpftool prints it.
// - ENUM values are JS numbers (32-bit); ENUM64 values are decimal strings (exact, JSON-safe).
// - Everything is plain data (JSON-serialisable); parsers never resolve references,
//   so a dangling or cyclic type id is representable and resolvers must guard against it.

export type BtfKind =
  | 'VOID'
  | 'INT'
  | 'PTR'
  | 'ARRAY'
  | 'STRUCT'
  | 'UNION'
  | 'ENUM'
  | 'FWD'
  | 'TYPEDEF'
  | 'VOLATILE'
  | 'CONST'
  | 'RESTRICT'
  | 'FUNC'
  | 'FUNC_PROTO'
  | 'VAR'
  | 'DATASEC'
  | 'FLOAT'
  | 'DECL_TAG'
  | 'TYPE_TAG'
  | 'ENUM64'
  | 'UNKNOWN';

/** Kind numbers of the binary format (index = BTF_KIND_*). */
export const BTF_KIND_BY_NUMBER: readonly BtfKind[] = [
  'UNKNOWN', // 0 = BTF_KIND_UNKN
  'INT',
  'PTR',
  'ARRAY',
  'STRUCT',
  'UNION',
  'ENUM',
  'FWD',
  'TYPEDEF',
  'VOLATILE',
  'CONST',
  'RESTRICT',
  'FUNC',
  'FUNC_PROTO',
  'VAR',
  'DATASEC',
  'FLOAT',
  'DECL_TAG',
  'TYPE_TAG',
  'ENUM64',
];

export type IntEncoding = 'none' | 'SIGNED' | 'CHAR' | 'BOOL' | 'UNKN';
export type Linkage = 'static' | 'global' | 'extern' | 'unknown';

interface BtfTypeBase {
  id: number;
  name: string;
}

export interface BtfVoid extends BtfTypeBase {
  kind: 'VOID';
}
export interface BtfInt extends BtfTypeBase {
  kind: 'INT';
  size: number;
  bitsOffset: number;
  nrBits: number;
  encoding: IntEncoding;
}
/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: a name plus one referenced type. */
export interface BtfRefType extends BtfTypeBase {
  kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  typeId: number;
}
export interface BtfArray extends BtfTypeBase {
  kind: 'ARRAY';
  typeId: number;
  indexTypeId: number;
  nrElems: number;
}
export interface BtfMember {
  name: string;
  typeId: number;
  bitsOffset: number;
  /** Present only for bitfields (non-zero bitfield size). */
  bitfieldSize?: number;
}
export interface BtfComposite extends BtfTypeBase {
  kind: 'STRUCT' | 'UNION';
  size: number;
  members: BtfMember[];
}
export interface BtfEnumValue {
  name: string;
  value: number;
}
export interface BtfEnum extends BtfTypeBase {
  kind: 'ENUM';
  size: number;
  signed: boolean;
  values: BtfEnumValue[];
}
export interface BtfEnum64Value {
  name: string;
  /** Exact decimal value (may exceed 2^53); signed if the enum is signed. */
  value: string;
}
export interface BtfEnum64 extends BtfTypeBase {
  kind: 'ENUM64';
  size: number;
  signed: boolean;
  values: BtfEnum64Value[];
}
export interface BtfFwd extends BtfTypeBase {
  kind: 'FWD';
  fwdKind: 'struct' | 'union';
}
export interface BtfFunc extends BtfTypeBase {
  kind: 'FUNC';
  typeId: number;
  linkage: Linkage;
}
export interface BtfParam {
  name: string;
  typeId: number;
}
export interface BtfFuncProto extends BtfTypeBase {
  kind: 'FUNC_PROTO';
  retTypeId: number;
  params: BtfParam[];
}
export interface BtfVar extends BtfTypeBase {
  kind: 'VAR';
  typeId: number;
  linkage: Linkage;
}
export interface BtfVarSecinfo {
  typeId: number;
  offset: number;
  size: number;
}
export interface BtfDatasec extends BtfTypeBase {
  kind: 'DATASEC';
  size: number;
  vars: BtfVarSecinfo[];
}
export interface BtfFloat extends BtfTypeBase {
  kind: 'FLOAT';
  size: number;
}
export interface BtfDeclTag extends BtfTypeBase {
  kind: 'DECL_TAG';
  typeId: number;
  /** -1: the tag is on the type/var/func itself; >= 0: member or parameter index. */
  componentIdx: number;
}
export interface BtfUnknown extends BtfTypeBase {
  kind: 'UNKNOWN';
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRefType
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfUnknown;

export interface Btf {
  /** index = type id; index 0 is the void placeholder; split BTF includes its base's types. */
  types: BtfType[];
  /** First id owned by this BTF: 1, or the base's type count for split BTF. */
  startId: number;
}

export const VOID_TYPE: BtfVoid = Object.freeze({ id: 0, kind: 'VOID', name: 'void' }) as BtfVoid;

/** A fresh, empty Btf (only the void placeholder). */
export function emptyBtf(): Btf {
  return { types: [voidType()], startId: 1 };
}

export function voidType(): BtfVoid {
  return { id: 0, kind: 'VOID', name: 'void' };
}

/** The type with this id, or undefined when the id is out of range. */
export function getType(btf: Btf, id: number): BtfType | undefined {
  if (!Number.isInteger(id) || id < 0) return undefined;
  return btf.types[id];
}

/** Number of types including void (libbpf's btf__type_cnt). */
export function typeCount(btf: Btf): number {
  return btf.types.length;
}

/** Types that belong to this BTF (excluding void and, for split BTF, the base). */
export function ownTypes(btf: Btf): BtfType[] {
  return btf.types.slice(btf.startId);
}

export function isRefKind(t: BtfType): t is BtfRefType {
  return (
    t.kind === 'PTR' ||
    t.kind === 'TYPEDEF' ||
    t.kind === 'VOLATILE' ||
    t.kind === 'CONST' ||
    t.kind === 'RESTRICT' ||
    t.kind === 'TYPE_TAG'
  );
}

/** Maximum number of reference hops any resolver follows (cycle / depth guard, like the kernel's MAX_RESOLVE_DEPTH). */
export const MAX_RESOLVE_DEPTH = 32;

export interface ResolvedType {
  /** The first type that is not a modifier, or undefined for a dangling id / cycle. */
  type: BtfType | undefined;
  /** Type tags met on the way (outermost first). */
  typeTags: string[];
  /** Set when the chain did not terminate within MAX_RESOLVE_DEPTH hops (cycle or absurd depth). */
  cycle: boolean;
}

const MODIFIERS = new Set<BtfKind>(['TYPEDEF', 'VOLATILE', 'CONST', 'RESTRICT', 'TYPE_TAG']);

/**
 * Follow TYPEDEF/CONST/VOLATILE/RESTRICT (and TYPE_TAG unless `keepTypeTags`)
 * until a "real" type. Never loops forever.
 */
export function skipModifiers(btf: Btf, id: number, keepTypeTags = false): ResolvedType {
  const typeTags: string[] = [];
  let cur = getType(btf, id);
  for (let hops = 0; cur !== undefined; hops++) {
    if (hops > MAX_RESOLVE_DEPTH) return { type: undefined, typeTags, cycle: true };
    if (!MODIFIERS.has(cur.kind)) break;
    if (cur.kind === 'TYPE_TAG') {
      if (keepTypeTags) break;
      typeTags.push(cur.name);
    }
    cur = getType(btf, (cur as BtfRefType).typeId);
  }
  return { type: cur, typeTags, cycle: false };
}

/** Size in bytes of a type (following typedefs/modifiers/arrays); undefined when unknown/cyclic. */
export function typeSize(btf: Btf, id: number, depth = 0): number | undefined {
  if (depth > MAX_RESOLVE_DEPTH) return undefined;
  const r = skipModifiers(btf, id);
  const t = r.type;
  if (t === undefined) return undefined;
  switch (t.kind) {
    case 'INT':
    case 'STRUCT':
    case 'UNION':
    case 'ENUM':
    case 'ENUM64':
    case 'FLOAT':
    case 'DATASEC':
      return t.size;
    case 'PTR':
      return 8;
    case 'ARRAY': {
      const elem = typeSize(btf, t.typeId, depth + 1);
      return elem === undefined ? undefined : elem * t.nrElems;
    }
    case 'VAR':
      return typeSize(btf, t.typeId, depth + 1);
    default:
      return undefined;
  }
}

/**
 * Natural alignment (bytes) of a type as a C compiler for BPF lays it out:
 * scalars/pointers by size (max 8), arrays by element, structs/unions by their
 * most-aligned member — or 1 if a member sits at an offset that proves the struct is packed.
 */
export function typeAlign(btf: Btf, id: number, depth = 0): number | undefined {
  if (depth > MAX_RESOLVE_DEPTH) return undefined;
  const t = skipModifiers(btf, id).type;
  if (t === undefined) return undefined;
  switch (t.kind) {
    case 'INT':
    case 'ENUM':
    case 'ENUM64':
    case 'FLOAT':
      return Math.min(Math.max(t.size, 1), 8);
    case 'PTR':
      return 8;
    case 'ARRAY':
      return typeAlign(btf, t.typeId, depth + 1);
    case 'VAR':
      return typeAlign(btf, t.typeId, depth + 1);
    case 'STRUCT':
    case 'UNION': {
      let align = 1;
      for (const m of t.members) {
        const a = typeAlign(btf, m.typeId, depth + 1) ?? 1;
        if (m.bitfieldSize === undefined && m.bitsOffset % (a * 8) !== 0) return 1; // packed
        if (a > align) align = a;
      }
      return align;
    }
    default:
      return undefined;
  }
}

/**
 * C-like display name of a type: 'int', 'struct task_struct *', 'const char *',
 * 'u64[3]', 'struct task_struct __tag(kptr) *', 'int (*)(void *)'. Cycle-safe.
 */
export function formatTypeName(btf: Btf, id: number, depth = 0): string {
  if (depth > MAX_RESOLVE_DEPTH) return '<cycle>';
  if (id === 0) return 'void';
  const t = getType(btf, id);
  if (t === undefined) return `<bad type id ${id}>`;
  const named = (prefix: string): string => `${prefix}${t.name === '' ? '(anon)' : t.name}`;
  switch (t.kind) {
    case 'VOID':
      return 'void';
    case 'INT':
    case 'FLOAT':
    case 'TYPEDEF':
      return named('');
    case 'STRUCT':
      return named('struct ');
    case 'UNION':
      return named('union ');
    case 'ENUM':
    case 'ENUM64':
      return named('enum ');
    case 'FWD':
      return named(`${t.fwdKind} `);
    case 'PTR': {
      const inner = getType(btf, t.typeId);
      if (inner?.kind === 'FUNC_PROTO') return formatProto(btf, inner.retTypeId, inner.params, '(*)', depth + 1);
      const s = formatTypeName(btf, t.typeId, depth + 1);
      return s.endsWith('*') ? `${s}*` : `${s} *`;
    }
    case 'CONST':
      return `const ${formatTypeName(btf, t.typeId, depth + 1)}`;
    case 'VOLATILE':
      return `volatile ${formatTypeName(btf, t.typeId, depth + 1)}`;
    case 'RESTRICT':
      return `${formatTypeName(btf, t.typeId, depth + 1)} restrict`;
    case 'TYPE_TAG':
      return `${formatTypeName(btf, t.typeId, depth + 1)} __tag(${t.name})`;
    case 'ARRAY':
      return `${formatTypeName(btf, t.typeId, depth + 1)}[${t.nrElems}]`;
    case 'FUNC_PROTO':
      return formatProto(btf, t.retTypeId, t.params, '', depth + 1);
    case 'FUNC':
    case 'VAR':
    case 'DATASEC':
    case 'DECL_TAG':
      return t.name;
    case 'UNKNOWN':
      return `<unknown kind ${id}>`;
  }
}

function formatProto(btf: Btf, ret: number, params: BtfParam[], star: string, depth: number): string {
  const args = params.map((p) => (p.typeId === 0 ? '...' : formatTypeName(btf, p.typeId, depth)));
  return `${formatTypeName(btf, ret, depth)} ${star}(${args.length === 0 ? 'void' : args.join(', ')})`;
}

/** Lazily built name → ids index (all kinds), cached per Btf object. */
const nameIndexCache = new WeakMap<Btf, Map<string, number[]>>();

export function typesByName(btf: Btf, name: string): BtfType[] {
  let idx = nameIndexCache.get(btf);
  if (idx === undefined) {
    idx = new Map();
    for (const t of btf.types) {
      if (t.id === 0 || t.name === '') continue;
      const list = idx.get(t.name);
      if (list === undefined) idx.set(t.name, [t.id]);
      else list.push(t.id);
    }
    nameIndexCache.set(btf, idx);
  }
  const ids = idx.get(name) ?? [];
  const out: BtfType[] = [];
  for (const id of ids) {
    const t = btf.types[id];
    if (t !== undefined) out.push(t);
  }
  return out;
}

/** The reverse map decl-tag target → tags, built in one pass (cached per Btf). */
const declTagCache = new WeakMap<Btf, Map<number, BtfDeclTag[]>>();

export function declTagsOf(btf: Btf, targetId: number): BtfDeclTag[] {
  let idx = declTagCache.get(btf);
  if (idx === undefined) {
    idx = new Map();
    for (const t of btf.types) {
      if (t.kind !== 'DECL_TAG') continue;
      const list = idx.get(t.typeId);
      if (list === undefined) idx.set(t.typeId, [t]);
      else list.push(t);
    }
    declTagCache.set(btf, idx);
  }
  return idx.get(targetId) ?? [];
}
