/**
 * The BTF summary: what the ownership model needs from a program's (or the kernel's) BTF, as plain
 * JSON-serialisable data (stored with each run) — special fields of structs, global sections,
 * BTF-defined maps, kfuncs — and the vocabulary of special fields.
 *
 * Contract: types and constant tables only; special-fields.ts and summarize.ts produce the data.
 */
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
