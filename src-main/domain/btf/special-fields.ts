// Contract: `summarizeBtf(btf)` extracts what the ownership model needs from a Btf, as a
// plain JSON-serialisable object (stored in SQLite as JSON):
//   - structs: every STRUCT that has special fields (kptrs, graph roots/nodes, locks, timers,
//     refcounts, ... — also nested in member structs / arrays), plus every struct that is a kptr
//     pointee or a `contains:` target, each with its special fields at byte offsets;
//   - globals: DATASECs (.data.*, .bss, ...) with their vars, special fields, `contains:` tags and a
//     best-effort layout (real offsets when the BTF or the ELF symbol table has them, otherwise the
//     natural-alignment packing libbpf/clang use for an unlinked object);
//   - mapValueTypes: BTF-defined maps from `.maps` (map type, key/value types, value special fields);
//   - kfuncs: extern FUNCs of a program (.ksyms) or, for kernel BTF, FUNCs tagged `bpf_kfunc`;
//   - warnings: human-readable problems (kptr to a FWD, dangling `contains:`, stacked type tags, ...).
// Every resolver is depth/cycle guarded; nothing here throws on odd BTF.

import {
  type Btf,
  type BtfComposite,
  type BtfDatasec,
  type BtfDeclTag,
  type BtfType,
  MAX_RESOLVE_DEPTH,
  declTagsOf,
  formatTypeName,
  getType,
  skipModifiers,
  typeAlign,
  typeSize,
  typesByName,
} from './btf-types.ts';
import type { ElfDataLayout } from './elf.ts';

export type SpecialFieldKind =
  | 'kptr'
  | 'kptr_untrusted'
  | 'percpu_kptr'
  | 'uptr'
  | 'list_head'
  | 'rb_root'
  | 'list_node'
  | 'rb_node'
  | 'refcount'
  | 'spin_lock'
  | 'res_spin_lock'
  | 'timer'
  | 'wq'
  | 'task_work';

/** Kernel struct name → special field kind. */
export const SPECIAL_STRUCTS: Readonly<Record<string, SpecialFieldKind>> = {
  bpf_list_head: 'list_head',
  bpf_rb_root: 'rb_root',
  bpf_list_node: 'list_node',
  bpf_rb_node: 'rb_node',
  bpf_refcount: 'refcount',
  bpf_spin_lock: 'spin_lock',
  bpf_res_spin_lock: 'res_spin_lock',
  bpf_timer: 'timer',
  bpf_wq: 'wq',
  bpf_task_work: 'task_work',
};

/** Type-tag name → kptr kind (`kptr_ref` is the ≤ 6.3 spelling of a referenced kptr). */
export const KPTR_TAGS: Readonly<Record<string, SpecialFieldKind>> = {
  kptr: 'kptr',
  kptr_ref: 'kptr',
  kptr_untrusted: 'kptr_untrusted',
  percpu_kptr: 'percpu_kptr',
  uptr: 'uptr',
};

export interface TypeRef {
  id: number;
  name: string;
}

export interface KptrPointee {
  id: number;
  name: string;
  /** Lower-case BTF kind of the pointee after modifiers ('struct', 'fwd', 'union', ... or 'missing'). */
  kind: string;
  isForward: boolean;
}

export interface GraphContains {
  type: string;
  field: string;
  typeId?: number;
  /** Byte offset of the node field inside the contained type. */
  fieldOffset?: number;
  /** Kind of the node field ('list_node' / 'rb_node' expected). */
  fieldKind?: SpecialFieldKind;
  missing?: 'type' | 'field';
}

export interface SpecialField {
  /** Path inside the containing object: 'task', 'inner.head', 'heads[1]'. */
  name: string;
  /** Bytes from the start of the containing object (struct, or var for globals). */
  offset: number;
  size: number;
  kind: SpecialFieldKind;
  /** Declared type id of the field (before modifiers). */
  typeId: number;
  /** The type tag as written, for kptr kinds ('kptr', 'kptr_ref', ...). */
  tag?: string;
  pointee?: KptrPointee;
  contains?: GraphContains;
}

export interface StructSummary {
  id: number;
  name: string;
  size: number;
  fields: SpecialField[];
}

export interface GlobalSpecialField extends SpecialField {
  /** Offset inside the section's map value (var layoutOffset + offset). */
  valueOffset: number;
}

export interface GlobalVarSummary {
  name: string;
  id: number;
  typeId: number;
  typeName: string;
  linkage: string;
  /** Offset and size as recorded in the DATASEC (offsets are 0 in an unlinked .o). */
  offset: number;
  size: number;
  /** Best-known offset in the section's map value (see GlobalSectionSummary.layoutSource). */
  layoutOffset: number;
  specialFields: GlobalSpecialField[];
  /** `contains:` decl tag on the VAR itself (component_idx -1). */
  contains?: GraphContains;
}

export interface GlobalSectionSummary {
  name: string;
  id: number;
  /** DATASEC size as recorded (0 in an unlinked .o). */
  size: number;
  /** Best-known map value size. */
  layoutSize: number;
  /**
   * 'btf': offsets from the DATASEC; 'elf': from the object's symbol table; 'packed': computed
   * with natural alignment in DATASEC order; 'packed-aligned8': computed with every var aligned
   * to 8 (an `__attribute__((aligned(8)))` section macro), chosen only when a known map value
   * size matches it and not the natural packing.
   */
  layoutSource: 'btf' | 'elf' | 'packed' | 'packed-aligned8';
  vars: GlobalVarSummary[];
}

export interface MapSummary {
  name: string;
  varId: number;
  mapType?: number;
  mapTypeName?: string;
  keyType?: TypeRef;
  valueType?: TypeRef;
  keySize?: number;
  valueSize?: number;
  maxEntries?: number;
  mapFlags?: number;
  /** Special fields of the value type (empty when none / unknown). */
  valueSpecialFields: SpecialField[];
}

export interface KfuncParam {
  name: string;
  typeId: number;
  typeName: string;
}

export interface KfuncSummary {
  id: number;
  name: string;
  linkage: string;
  /** Has a DECL_TAG 'bpf_kfunc' (kernel BTF, pahole >= 1.26). */
  tagged: boolean;
  /** All decl tags on the FUNC itself ('bpf_kfunc', 'bpf_fastcall', ...). */
  tags: string[];
  params: KfuncParam[];
  returns: string;
  returnTypeId: number;
}

export interface BtfSummary {
  version: 1;
  /** 'kernel': vmlinux/module BTF (only kfuncs are summarised); 'program': a BPF object's BTF. */
  source: 'program' | 'kernel';
  typeCount: number;
  startId: number;
  structs: StructSummary[];
  globals: GlobalSectionSummary[];
  mapValueTypes: MapSummary[];
  kfuncs: KfuncSummary[];
  warnings: string[];
}

export interface SummarizeOptions {
  /** Force program/kernel treatment; default: detect (any `bpf_kfunc` decl tag → kernel). */
  source?: 'program' | 'kernel';
  /** Real data-section layout from the ELF symbol table (loadBtfFile returns it for .o files). */
  dataLayout?: ElfDataLayout;
  /**
   * Known map value sizes by section name (the verifier log's `map_value(map=.data.A,ks=4,vs=24)`).
   * Used to pick between natural packing and 8-byte-aligned packing for unlinked objects.
   */
  mapValueSizes?: Record<string, number>;
  /** Max elements of an array of special fields to expand (default 256). */
  maxArrayExpand?: number;
}

/** BPF_MAP_TYPE_* names by number (uapi bpf.h, 6.18), used when the BTF has no enum bpf_map_type. */
export const MAP_TYPE_NAMES: readonly string[] = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array',
  'stack_trace', 'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps',
  'hash_of_maps', 'devmap', 'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage',
  'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack', 'sk_storage', 'devmap_hash',
  'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter', 'user_ringbuf',
  'cgrp_storage', 'arena',
];

/**
 * Special fields listed per object (struct, global, map value). The kernel itself accepts at most
 * a handful (BTF_FIELDS_MAX); without a cap, arrays of structs holding arrays of locks multiply: a
 * 300-byte crafted BTF would describe 16 million fields and exhaust memory.
 */
export const MAX_FIELDS_PER_OBJECT = 1024;
/** Special fields the whole summary may list (the rest are dropped with a warning). */
export const MAX_FIELDS_TOTAL = 1 << 17;

const GRAPH_ROOTS = new Set<SpecialFieldKind>(['list_head', 'rb_root']);
const KPTR_KINDS = new Set<SpecialFieldKind>(['kptr', 'kptr_untrusted', 'percpu_kptr', 'uptr']);
const NODE_FOR_ROOT: Partial<Record<SpecialFieldKind, SpecialFieldKind>> = { list_head: 'list_node', rb_root: 'rb_node' };

function kfuncTagged(btf: Btf): boolean {
  for (const t of btf.types) if (t.kind === 'DECL_TAG' && t.name === 'bpf_kfunc') return true;
  return false;
}

class Summarizer {
  readonly warnings: string[] = [];
  private readonly warned = new Set<string>();
  private readonly memo = new Map<number, SpecialField[]>();
  private readonly visiting = new Set<number>();
  /** Struct ids referenced as kptr pointee or contains: target. */
  readonly referenced = new Set<number>();
  private readonly maxArray: number;
  /** Fields the summary may still create (MAX_FIELDS_TOTAL). */
  private budget = MAX_FIELDS_TOTAL;

  constructor(
    readonly btf: Btf,
    opts: SummarizeOptions,
  ) {
    this.maxArray = opts.maxArrayExpand ?? 256;
  }

  /** Keep at most MAX_FIELDS_PER_OBJECT fields of one object, and charge them to the budget. */
  limit(fields: SpecialField[], where: string): SpecialField[] {
    let out = fields;
    if (out.length > MAX_FIELDS_PER_OBJECT) {
      this.warn(`${where}: ${out.length} special fields; only the first ${MAX_FIELDS_PER_OBJECT} are listed`);
      out = out.slice(0, MAX_FIELDS_PER_OBJECT);
    }
    if (out.length > this.budget) {
      this.warn(`the BTF describes more than ${MAX_FIELDS_TOTAL} special fields in all; the rest are not listed`);
      out = out.slice(0, Math.max(0, this.budget));
    }
    this.budget -= out.length;
    return out;
  }

  warn(msg: string): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    if (this.warnings.length < 200) this.warnings.push(msg);
  }

  displayOwner(ownerId: number): string {
    return formatTypeName(this.btf, ownerId);
  }

  /** Special fields of a STRUCT (offsets relative to its start). Memoised, cycle-guarded. */
  structFields(t: BtfComposite): SpecialField[] {
    const cached = this.memo.get(t.id);
    if (cached !== undefined) return cached;
    if (this.visiting.has(t.id)) {
      this.warn(`${this.displayOwner(t.id)} contains itself by value (cyclic BTF); its fields are ignored`);
      return [];
    }
    if (t.kind !== 'STRUCT' || SPECIAL_STRUCTS[t.name] !== undefined) {
      this.memo.set(t.id, []);
      return [];
    }
    this.visiting.add(t.id);
    const out: SpecialField[] = [];
    // First `contains:` tag per member index (a struct may have 65535 members and as many tags).
    const containsByIdx = new Map<number, BtfDeclTag>();
    for (const d of declTagsOf(this.btf, t.id)) {
      if (d.name.startsWith('contains:') && !containsByIdx.has(d.componentIdx)) containsByIdx.set(d.componentIdx, d);
    }
    t.members.forEach((m, idx) => {
      if (m.bitfieldSize !== undefined) return;
      const containsTag = containsByIdx.get(idx);
      const where = `${this.displayOwner(t.id)} member '${m.name}'`;
      if (out.length >= MAX_FIELDS_PER_OBJECT) return;
      const found = this.collect(m.typeId, m.name, Math.floor(m.bitsOffset / 8), containsTag?.name, where, 0);
      for (const f of found) out.push(f);
    });
    this.visiting.delete(t.id);
    const kept = this.limit(out, this.displayOwner(t.id));
    this.memo.set(t.id, kept);
    return kept;
  }

  /**
   * Special fields found in an object of type `typeId` placed at `offset`, named `path`
   * (a struct member or a global var). `containsTag` is a `contains:` decl tag attached to it.
   */
  collect(typeId: number, path: string, offset: number, containsTag: string | undefined, where: string, depth: number): SpecialField[] {
    if (depth > MAX_RESOLVE_DEPTH) {
      this.warn(`${where}: type nesting deeper than ${MAX_RESOLVE_DEPTH} (cyclic BTF?)`);
      return [];
    }
    const r = skipModifiers(this.btf, typeId);
    if (r.cycle) {
      this.warn(`${where}: type chain from [${typeId}] does not terminate (cyclic BTF)`);
      return [];
    }
    const t = r.type;
    if (t === undefined) {
      if (typeId !== 0) this.warn(`${where}: type id ${typeId} is not in the BTF`);
      return [];
    }
    let result: SpecialField[] = [];
    if (t.kind === 'STRUCT' && SPECIAL_STRUCTS[t.name] !== undefined) {
      const kind = SPECIAL_STRUCTS[t.name] as SpecialFieldKind;
      const f: SpecialField = { name: path, offset, size: t.size, kind, typeId };
      if (containsTag !== undefined) {
        if (GRAPH_ROOTS.has(kind)) f.contains = this.resolveContains(containsTag, kind, where);
        else this.warn(`${where}: '${containsTag}' is attached to a ${kind}, not a bpf_list_head/bpf_rb_root`);
      } else if (GRAPH_ROOTS.has(kind)) {
        this.warn(`${where}: ${kind === 'list_head' ? 'bpf_list_head' : 'bpf_rb_root'} without a contains: declaration tag`);
      }
      result = [f];
    } else if (t.kind === 'PTR') {
      const k = this.classifyPtr(t.typeId, where);
      if (k !== undefined) {
        result = [{ name: path, offset, size: 8, kind: k.kind, typeId, tag: k.tag, pointee: k.pointee }];
      }
    } else if (t.kind === 'ARRAY') {
      const elemSize = typeSize(this.btf, t.typeId);
      const inner = this.collect(t.typeId, `${path}[0]`, 0, containsTag, where, depth + 1);
      if (inner.length > 0 && elemSize !== undefined && elemSize > 0) {
        const n = Math.min(t.nrElems, this.maxArray, Math.max(1, Math.floor(MAX_FIELDS_PER_OBJECT / inner.length)));
        if (t.nrElems > n) this.warn(`${where}: array of ${t.nrElems} elements with special fields; only the first ${n} are listed`);
        for (let i = 0; i < n; i++) {
          for (const f of inner) {
            result.push({ ...f, name: `${path}[${i}]${f.name.slice(path.length + 3)}`, offset: offset + i * elemSize + f.offset });
          }
        }
      }
    } else if (t.kind === 'STRUCT') {
      for (const f of this.structFields(t)) {
        result.push({ ...f, name: `${path}.${f.name}`, offset: offset + f.offset });
      }
      if (containsTag !== undefined) this.warn(`${where}: '${containsTag}' is attached to a struct that is not a graph root`);
    } else if (containsTag !== undefined) {
      this.warn(`${where}: '${containsTag}' is attached to a ${t.kind.toLowerCase()}, not a bpf_list_head/bpf_rb_root`);
    }
    return depth === 0 ? this.limit(result, where) : result;
  }

  /** PTR → [modifiers] → TYPE_TAG(kptr...) → pointee. Undefined if not a kptr. */
  classifyPtr(targetId: number, where: string): { kind: SpecialFieldKind; tag: string; pointee: KptrPointee } | undefined {
    const tagType = getType(this.btf, targetId);
    if (tagType === undefined || tagType.kind !== 'TYPE_TAG') return undefined;
    const kind = KPTR_TAGS[tagType.name];
    if (kind === undefined) return undefined; // rcu, user, percpu, ... are not ownership kptrs
    const next = getType(this.btf, tagType.typeId);
    if (next?.kind === 'TYPE_TAG') {
      this.warn(`${where}: two type tags stacked ('${tagType.name}' then '${next.name}'); the kernel rejects this kptr`);
    }
    const r = skipModifiers(this.btf, tagType.typeId);
    const p = r.type;
    let pointee: KptrPointee;
    if (p === undefined || r.cycle) {
      pointee = { id: tagType.typeId, name: '', kind: 'missing', isForward: false };
      this.warn(`${where}: ${kind} points to type id ${tagType.typeId}, which is ${r.cycle ? 'part of a cyclic chain' : 'not in the BTF'}`);
    } else {
      pointee = { id: p.id, name: p.name, kind: p.kind.toLowerCase(), isForward: p.kind === 'FWD' };
      if (p.kind === 'FWD') {
        this.warn(`${where}: ${kind} points to a forward declaration '${p.fwdKind} ${p.name}' (its definition is not in this BTF)`);
      } else if (p.kind !== 'STRUCT') {
        this.warn(`${where}: ${kind} points to a ${p.kind.toLowerCase()} '${formatTypeName(this.btf, p.id)}'; kptrs must point to a struct`);
      }
      if (p.kind === 'STRUCT') this.referenced.add(p.id);
    }
    return { kind, tag: tagType.name, pointee };
  }

  resolveContains(tag: string, rootKind: SpecialFieldKind | undefined, where: string): GraphContains {
    const parts = tag.split(':');
    const type = parts[1] ?? '';
    const field = parts.slice(2).join(':');
    const c: GraphContains = { type, field };
    if (parts.length !== 3 || type === '' || field === '') {
      this.warn(`${where}: malformed decl tag '${tag}' (expected 'contains:<struct>:<field>')`);
    }
    const candidates = typesByName(this.btf, type).filter((t): t is BtfComposite => t.kind === 'STRUCT');
    const target = candidates[0];
    if (target === undefined) {
      c.missing = 'type';
      const fwd = typesByName(this.btf, type).some((t) => t.kind === 'FWD');
      this.warn(`${where}: '${tag}' names struct '${type}', which is ${fwd ? 'only forward-declared' : 'not'} in the BTF`);
      return c;
    }
    c.typeId = target.id;
    this.referenced.add(target.id);
    const member = this.memberByName(target, field);
    if (member === undefined) {
      c.missing = 'field';
      this.warn(`${where}: '${tag}' names field '${field}', which struct '${type}' does not have`);
      return c;
    }
    if (member.bitsOffset % 8 === 0) c.fieldOffset = member.bitsOffset / 8;
    const nodeType = skipModifiers(this.btf, member.typeId).type;
    const fieldKind = nodeType?.kind === 'STRUCT' ? SPECIAL_STRUCTS[nodeType.name] : undefined;
    if (fieldKind !== undefined) c.fieldKind = fieldKind;
    const wanted = rootKind === undefined ? undefined : NODE_FOR_ROOT[rootKind];
    if (wanted !== undefined && fieldKind !== wanted) {
      this.warn(
        `${where}: '${tag}': field '${type}.${field}' is ${fieldKind === undefined ? `a ${formatTypeName(this.btf, member.typeId)}` : `a ${fieldKind}`}, expected a ${wanted === 'list_node' ? 'bpf_list_node' : 'bpf_rb_node'}`,
      );
    }
    return c;
  }

  private readonly membersByName = new Map<number, Map<string, BtfComposite['members'][number]>>();

  /** The first member named `name` (indexed once per struct). */
  memberByName(t: BtfComposite, name: string): BtfComposite['members'][number] | undefined {
    let idx = this.membersByName.get(t.id);
    if (idx === undefined) {
      idx = new Map();
      for (const m of t.members) if (!idx.has(m.name)) idx.set(m.name, m);
      this.membersByName.set(t.id, idx);
    }
    return idx.get(name);
  }

  /** Warn when an object holds a graph root but not exactly one bpf_spin_lock. */
  checkLocks(fields: SpecialField[], owner: string): void {
    const roots = fields.filter((f) => GRAPH_ROOTS.has(f.kind));
    if (roots.length === 0) return;
    const locks = fields.filter((f) => f.kind === 'spin_lock' || f.kind === 'res_spin_lock').length;
    if (locks !== 1) {
      this.warn(`${owner}: has ${roots.map((r) => `'${r.name}'`).join(', ')} but ${locks === 0 ? 'no' : locks} bpf_spin_lock (exactly one is required)`);
    }
  }
}

function summarizeStructs(s: Summarizer): StructSummary[] {
  const btf = s.btf;
  const out = new Map<number, StructSummary>();
  for (let id = btf.startId; id < btf.types.length; id++) {
    const t = btf.types[id];
    if (t === undefined || t.kind !== 'STRUCT') continue;
    const fields = s.structFields(t);
    if (fields.length > 0) {
      out.set(t.id, { id: t.id, name: t.name, size: t.size, fields });
      s.checkLocks(fields, formatTypeName(btf, t.id));
    }
  }
  for (const id of s.referenced) {
    if (out.has(id)) continue;
    const t = getType(btf, id);
    if (t === undefined || t.kind !== 'STRUCT') continue;
    out.set(id, { id, name: t.name, size: t.size, fields: s.structFields(t) });
  }
  return [...out.values()].sort((a, b) => a.id - b.id);
}

function alignUp(v: number, a: number): number {
  return a <= 1 ? v : Math.ceil(v / a) * a;
}

function summarizeGlobals(s: Summarizer, opts: SummarizeOptions): GlobalSectionSummary[] {
  const btf = s.btf;
  const out: GlobalSectionSummary[] = [];
  for (let id = btf.startId; id < btf.types.length; id++) {
    const sec = btf.types[id];
    if (sec === undefined || sec.kind !== 'DATASEC') continue;
    if (sec.name === '.ksyms' || sec.name === '.maps') continue;
    out.push(summarizeSection(s, sec, opts));
  }
  return out;
}

/** Offsets of the vars when packed in DATASEC order, each aligned to max(natural, minAlign). */
function packVars(btf: Btf, sec: BtfDatasec, minAlign: number): { offsets: number[]; size: number } {
  let cursor = 0;
  const offsets: number[] = [];
  for (const v of sec.vars) {
    const vt = getType(btf, v.typeId);
    const natural = vt?.kind === 'VAR' ? (typeAlign(btf, vt.typeId) ?? 1) : 1;
    const off = alignUp(cursor, Math.max(natural, minAlign));
    offsets.push(off);
    cursor = off + v.size;
  }
  return { offsets, size: cursor };
}

function summarizeSection(s: Summarizer, sec: BtfDatasec, opts: SummarizeOptions): GlobalSectionSummary {
  const btf = s.btf;
  const vars: GlobalVarSummary[] = [];
  const elf = opts.dataLayout?.[sec.name];
  const allZero = sec.vars.every((v) => v.offset === 0);
  let layoutSource: GlobalSectionSummary['layoutSource'] = 'btf';
  let packed: { offsets: number[]; size: number } | undefined;
  if (elf !== undefined) layoutSource = 'elf';
  else if (allZero && sec.vars.length > 1) {
    layoutSource = 'packed';
    packed = packVars(btf, sec, 1);
    const known = opts.mapValueSizes?.[sec.name];
    if (known !== undefined && known !== packed.size) {
      const aligned = packVars(btf, sec, 8);
      if (aligned.size === known) {
        layoutSource = 'packed-aligned8';
        packed = aligned;
      } else {
        s.warn(`DATASEC '${sec.name}': computed layout size ${packed.size} does not match the map value size ${known}; var offsets are uncertain (load the .bpf.o for exact offsets)`);
      }
    }
  }

  sec.vars.forEach((v, idx) => {
    const vt = getType(btf, v.typeId);
    if (vt === undefined || vt.kind !== 'VAR') {
      if (vt?.kind !== 'FUNC') s.warn(`DATASEC '${sec.name}': entry type id ${v.typeId} is not a VAR`);
      return;
    }
    let layoutOffset = v.offset;
    if (layoutSource === 'elf') {
      const sym = elf?.vars.find((x) => x.name === vt.name);
      if (sym !== undefined) layoutOffset = sym.offset;
      else s.warn(`DATASEC '${sec.name}': var '${vt.name}' has no ELF symbol; using its DATASEC offset ${v.offset}`);
    } else if (packed !== undefined) {
      layoutOffset = packed.offsets[idx] ?? v.offset;
    }
    const where = `global '${vt.name}' in ${sec.name}`;
    const tag = declTagsOf(btf, vt.id).find((d) => d.componentIdx === -1 && d.name.startsWith('contains:'));
    const fields = s.collect(vt.typeId, vt.name, 0, tag?.name, where, 0);
    const summary: GlobalVarSummary = {
      name: vt.name,
      id: vt.id,
      typeId: vt.typeId,
      typeName: formatTypeName(btf, vt.typeId),
      linkage: vt.linkage,
      offset: v.offset,
      size: v.size,
      layoutOffset,
      specialFields: fields.map((f) => ({ ...f, valueOffset: layoutOffset + f.offset })),
    };
    const direct = fields.find((f) => f.name === vt.name && f.contains !== undefined);
    if (direct?.contains !== undefined) summary.contains = direct.contains;
    else if (tag !== undefined) summary.contains = s.resolveContains(tag.name, undefined, where);
    vars.push(summary);
  });
  let layoutSize = sec.size;
  if (layoutSource === 'elf' && elf !== undefined) layoutSize = elf.size;
  else if (packed !== undefined) layoutSize = packed.size;
  else if (layoutSize === 0) layoutSize = vars.reduce((m, v) => Math.max(m, v.layoutOffset + v.size), 0);
  s.checkLocks(
    vars.flatMap((v) => v.specialFields),
    `DATASEC '${sec.name}'`,
  );
  return { name: sec.name, id: sec.id, size: sec.size, layoutSize, layoutSource, vars };
}

function mapTypeName(btf: Btf, n: number): string | undefined {
  const e = typesByName(btf, 'bpf_map_type').find((t) => t.kind === 'ENUM');
  if (e !== undefined && e.kind === 'ENUM') {
    const v = e.values.find((x) => x.value === n && !x.name.endsWith('_DEPRECATED'));
    if (v !== undefined) return v.name.replace(/^BPF_MAP_TYPE_/, '').toLowerCase();
  }
  return MAP_TYPE_NAMES[n];
}

function summarizeMaps(s: Summarizer): MapSummary[] {
  const btf = s.btf;
  const out: MapSummary[] = [];
  for (let id = btf.startId; id < btf.types.length; id++) {
    const sec = btf.types[id];
    if (sec === undefined || sec.kind !== 'DATASEC' || sec.name !== '.maps') continue;
    for (const v of sec.vars) {
      const vt = getType(btf, v.typeId);
      if (vt === undefined || vt.kind !== 'VAR') continue;
      const def = skipModifiers(btf, vt.typeId).type;
      if (def === undefined || def.kind !== 'STRUCT') {
        s.warn(`map '${vt.name}': its definition is not a struct (legacy map definition?)`);
        continue;
      }
      const m: MapSummary = { name: vt.name, varId: vt.id, valueSpecialFields: [] };
      for (const mem of def.members) {
        const ptr = skipModifiers(btf, mem.typeId).type;
        if (ptr === undefined || ptr.kind !== 'PTR') continue;
        const target = getType(btf, ptr.typeId);
        // __uint(name, N) is `int (*name)[N]`
        const arrayLen = target?.kind === 'ARRAY' ? target.nrElems : undefined;
        switch (mem.name) {
          case 'type':
            if (arrayLen !== undefined) {
              m.mapType = arrayLen;
              const n = mapTypeName(btf, arrayLen);
              if (n !== undefined) m.mapTypeName = n;
            }
            break;
          case 'key':
            m.keyType = { id: ptr.typeId, name: formatTypeName(btf, ptr.typeId) };
            break;
          case 'value':
            m.valueType = { id: ptr.typeId, name: formatTypeName(btf, ptr.typeId) };
            break;
          case 'key_size':
            if (arrayLen !== undefined) m.keySize = arrayLen;
            break;
          case 'value_size':
            if (arrayLen !== undefined) m.valueSize = arrayLen;
            break;
          case 'max_entries':
            if (arrayLen !== undefined) m.maxEntries = arrayLen;
            break;
          case 'map_flags':
            if (arrayLen !== undefined) m.mapFlags = arrayLen;
            break;
        }
      }
      if (m.valueType !== undefined) {
        m.valueSpecialFields = s.collect(m.valueType.id, '', 0, undefined, `value of map '${vt.name}'`, 0).map((f) => ({
          ...f,
          name: f.name.replace(/^\./, ''),
        }));
        const vs = typeSize(btf, m.valueType.id);
        if (m.valueSize === undefined && vs !== undefined) m.valueSize = vs;
        s.checkLocks(m.valueSpecialFields, `value of map '${vt.name}'`);
      }
      if (m.keyType !== undefined && m.keySize === undefined) {
        const ks = typeSize(btf, m.keyType.id);
        if (ks !== undefined) m.keySize = ks;
      }
      out.push(m);
    }
  }
  return out;
}

function kfuncSummary(btf: Btf, f: Extract<BtfType, { kind: 'FUNC' }>): KfuncSummary {
  const tags = declTagsOf(btf, f.id)
    .filter((d) => d.componentIdx === -1)
    .map((d) => d.name);
  const proto = getType(btf, f.typeId);
  const params: KfuncParam[] = [];
  let returns = 'void';
  let returnTypeId = 0;
  if (proto?.kind === 'FUNC_PROTO') {
    returnTypeId = proto.retTypeId;
    returns = formatTypeName(btf, proto.retTypeId);
    for (const p of proto.params) params.push({ name: p.name, typeId: p.typeId, typeName: p.typeId === 0 ? '...' : formatTypeName(btf, p.typeId) });
  }
  return { id: f.id, name: f.name, linkage: f.linkage, tagged: tags.includes('bpf_kfunc'), tags, params, returns, returnTypeId };
}

function summarizeKfuncs(btf: Btf, source: 'program' | 'kernel'): KfuncSummary[] {
  const out: KfuncSummary[] = [];
  if (source === 'kernel') {
    const seen = new Set<number>();
    for (let id = btf.startId; id < btf.types.length; id++) {
      const t = btf.types[id];
      if (t === undefined || t.kind !== 'DECL_TAG' || t.name !== 'bpf_kfunc' || t.componentIdx !== -1) continue;
      const f = getType(btf, t.typeId);
      if (f?.kind !== 'FUNC' || seen.has(f.id)) continue;
      seen.add(f.id);
      out.push(kfuncSummary(btf, f));
    }
    return out.sort((a, b) => a.id - b.id);
  }
  const ids = new Set<number>();
  for (let id = btf.startId; id < btf.types.length; id++) {
    const t = btf.types[id];
    if (t === undefined) continue;
    if (t.kind === 'DATASEC' && t.name === '.ksyms') {
      for (const v of t.vars) if (getType(btf, v.typeId)?.kind === 'FUNC') ids.add(v.typeId);
    } else if (t.kind === 'FUNC' && t.linkage === 'extern') {
      ids.add(t.id);
    }
  }
  for (const id of [...ids].sort((a, b) => a - b)) {
    const f = getType(btf, id);
    if (f?.kind === 'FUNC') out.push(kfuncSummary(btf, f));
  }
  return out;
}

/** Summarise a Btf for the ownership model. Pure; never throws on odd BTF (see `warnings`). */
export function summarizeBtf(btf: Btf, opts: SummarizeOptions = {}): BtfSummary {
  const source = opts.source ?? (kfuncTagged(btf) ? 'kernel' : 'program');
  const s = new Summarizer(btf, opts);
  const summary: BtfSummary = {
    version: 1,
    source,
    typeCount: btf.types.length,
    startId: btf.startId,
    structs: [],
    globals: [],
    mapValueTypes: [],
    kfuncs: summarizeKfuncs(btf, source),
    warnings: s.warnings,
  };
  if (source === 'program') {
    summary.globals = summarizeGlobals(s, opts);
    summary.mapValueTypes = summarizeMaps(s);
    summary.structs = summarizeStructs(s);
  }
  return summary;
}

/** True when a special field kind is a kptr (stored pointer) kind. */
export function isKptrKind(kind: SpecialFieldKind): boolean {
  return KPTR_KINDS.has(kind);
}
