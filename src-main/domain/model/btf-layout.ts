/**
 * What the model needs from a program's BTF: struct layouts with their special fields (kptr kinds,
 * graph roots/nodes, refcount, spin lock, byte offsets), global data sections with their variables'
 * load-time offsets, and BTF-defined maps with their value types.
 *
 * Contract: `layoutFromBtf(btf)` is pure and never throws; unknown or odd types are skipped.
 * Global variable offsets are recomputed with natural alignment when the object is unlinked (all
 * DATASEC offsets 0), as libbpf lays them out at load time.
 */
import {
  declTagsOf,
  getType,
  skipModifiers,
  typeAlign,
  typeSize,
  type Btf,
  type BtfType,
} from '../btf/btf-types.ts';

export type FieldKind =
  | 'kptr'
  | 'kptr_untrusted'
  | 'percpu_kptr'
  | 'list_head'
  | 'rb_root'
  | 'list_node'
  | 'rb_node'
  | 'refcount'
  | 'spin_lock'
  | 'plain';

export interface LayoutField {
  name: string;
  offset: number;
  size: number;
  kind: FieldKind;
  /** kptr pointee struct name. */
  pointee?: string;
  /** kptr pointee is only a forward declaration. */
  pointeeFwd?: boolean;
  /** Graph root: `contains:TYPE:FIELD`. */
  contains?: { type: string; field: string };
}

export interface LayoutStruct {
  name: string;
  id: number;
  size: number;
  fields: LayoutField[];
}

export interface LayoutGlobal {
  section: string;
  /** The variable's name, or a special field inside it (`masks[1]`, `outer.inner.task`). */
  name: string;
  offset: number;
  size: number;
  kind: FieldKind;
  pointee?: string;
  pointeeFwd?: boolean;
  contains?: { type: string; field: string };
}

export interface BtfLayout {
  structsByName: Map<string, LayoutStruct>;
  structsById: Map<number, LayoutStruct>;
  /** section name (e.g. `.data.A`) → variables. */
  globals: Map<string, LayoutGlobal[]>;
  /** BTF-defined map name → value struct name. */
  mapValues: Map<string, string>;
  /** kfunc name → the struct its prototype returns a pointer to (the program's `.ksyms` externs). */
  kfuncReturns: Map<string, string>;
  /** kfunc name → its parameters as the program's prototype names them (pointer or not). */
  kfuncParams: Map<string, { name: string; pointer: boolean }[]>;
  /** The struct_ops types the object declares (the types of the vars of its `.struct_ops*` sections: `Qdisc_ops`). */
  structOpsTypes: string[];
}

const SPECIAL_STRUCTS: Record<string, FieldKind> = {
  bpf_list_head: 'list_head',
  bpf_rb_root: 'rb_root',
  bpf_list_node: 'list_node',
  bpf_rb_node: 'rb_node',
  bpf_refcount: 'refcount',
  bpf_spin_lock: 'spin_lock',
};

const KPTR_TAGS: Record<string, FieldKind> = {
  kptr: 'kptr',
  kptr_untrusted: 'kptr_untrusted',
  percpu_kptr: 'percpu_kptr',
  kptr_ref: 'kptr',
};

function classify(btf: Btf, typeId: number): Pick<LayoutField, 'kind' | 'pointee' | 'pointeeFwd'> {
  const r = skipModifiers(btf, typeId);
  const t = r.type;
  if (t === undefined) return { kind: 'plain' };
  if (t.kind === 'STRUCT') {
    const k = SPECIAL_STRUCTS[t.name];
    return { kind: k ?? 'plain' };
  }
  if (t.kind === 'PTR') {
    const inner = skipModifiers(btf, t.typeId);
    const tag = inner.typeTags.map((n) => KPTR_TAGS[n]).find((k) => k !== undefined);
    if (tag === undefined || inner.type === undefined) return { kind: 'plain' };
    const p = inner.type;
    return { kind: tag, pointee: p.name, pointeeFwd: p.kind === 'FWD' };
  }
  return { kind: 'plain' };
}

function parseContains(name: string): { type: string; field: string } | undefined {
  const m = /^contains:([^:]+):(.+)$/.exec(name);
  return m ? { type: m[1] as string, field: m[2] as string } : undefined;
}

function structLayout(btf: Btf, t: BtfType & { kind: 'STRUCT' | 'UNION' }): LayoutStruct {
  const tags = declTagsOf(btf, t.id);
  const fields: LayoutField[] = t.members.map((m, idx) => {
    const f: LayoutField = {
      name: m.name,
      offset: Math.floor(m.bitsOffset / 8),
      size: typeSize(btf, m.typeId) ?? 0,
      ...classify(btf, m.typeId),
    };
    const tag = tags.find((d) => d.componentIdx === idx && d.name.startsWith('contains:'));
    if (tag) {
      const c = parseContains(tag.name);
      if (c) f.contains = c;
    }
    return f;
  });
  return { name: t.name, id: t.id, size: t.size, fields };
}

/** libbpf's struct_ops map sections: `.struct_ops`, `.struct_ops.link` (and `.struct_ops.NAME`). */
export function isStructOpsSection(name: string): boolean {
  return name === '.struct_ops' || name.startsWith('.struct_ops.');
}

export function emptyLayout(): BtfLayout {
  return { structsByName: new Map(), structsById: new Map(), globals: new Map(), mapValues: new Map(), kfuncReturns: new Map(), kfuncParams: new Map(), structOpsTypes: [] };
}

export function layoutFromBtf(btf: Btf): BtfLayout {
  const out = emptyLayout();
  for (const t of btf.types) {
    if (t.kind === 'STRUCT' && t.name !== '') {
      const s = structLayout(btf, t);
      out.structsById.set(t.id, s);
      const prev = out.structsByName.get(t.name);
      // Prefer the definition with special fields / more members (duplicates are rare).
      if (prev === undefined || prev.fields.length < s.fields.length) out.structsByName.set(t.name, s);
    }
  }
  for (const t of btf.types) {
    if (t.kind !== 'DATASEC') continue;
    if (t.name === '.maps') {
      for (const v of t.vars) {
        const vt = getType(btf, v.typeId);
        if (vt?.kind !== 'VAR') continue;
        const def = skipModifiers(btf, vt.typeId).type;
        if (def?.kind !== 'STRUCT') continue;
        const value = def.members.find((m) => m.name === 'value');
        if (!value) continue;
        const p = skipModifiers(btf, value.typeId).type;
        if (p?.kind !== 'PTR') continue;
        const vs = skipModifiers(btf, p.typeId).type;
        if (vs && vs.name !== '') out.mapValues.set(vt.name, vs.name);
      }
      continue;
    }
    if (isStructOpsSection(t.name)) {
      for (const v of t.vars) {
        const vt = getType(btf, v.typeId);
        if (vt?.kind !== 'VAR') continue;
        const def = skipModifiers(btf, vt.typeId).type;
        if (def?.kind === 'STRUCT' && def.name !== '' && !out.structOpsTypes.includes(def.name)) out.structOpsTypes.push(def.name);
      }
      continue;
    }
    if (!t.name.startsWith('.data') && !t.name.startsWith('.bss') && !t.name.startsWith('.rodata')) continue;
    const unlinked = t.vars.length > 1 && t.vars.every((v) => v.offset === 0);
    let cursor = 0;
    const vars: LayoutGlobal[] = [];
    for (const v of t.vars) {
      const vt = getType(btf, v.typeId);
      if (vt?.kind !== 'VAR') continue;
      const size = typeSize(btf, vt.typeId) ?? v.size;
      const align = typeAlign(btf, vt.typeId) ?? 1;
      let offset = v.offset;
      if (unlinked) {
        offset = Math.ceil(cursor / align) * align;
        cursor = offset + size;
      }
      const g: LayoutGlobal = { section: t.name, name: vt.name, offset, size, kind: classify(btf, vt.typeId).kind };
      const tag = declTagsOf(btf, vt.id).find((d) => d.componentIdx === -1 && d.name.startsWith('contains:'));
      if (tag) {
        const c = parseContains(tag.name);
        if (c) g.contains = c;
      }
      vars.push(g);
    }
    out.globals.set(t.name, vars);
  }
  return out;
}

/** Kernel map names are cut to 15 characters (BPF_OBJ_NAME_LEN): the entry a printed name means. */
function byMapName<T>(m: Map<string, T>, printed: string): T | undefined {
  const exact = m.get(printed);
  if (exact !== undefined) return exact;
  for (const [name, v] of m) {
    if (name.length > 15 && name.slice(0, 15) === printed) return v;
    if (name.endsWith(printed)) return v;
  }
  return undefined;
}

/** The global section a printed map name means. */
export function globalSection(layout: BtfLayout, mapName: string | undefined): LayoutGlobal[] | undefined {
  return mapName === undefined ? undefined : byMapName(layout.globals, mapName);
}

/** The special field of a memory region at a byte offset: a map value (by map name) or a local struct. */
export interface RegionField {
  /** Holder prefix, e.g. `map tmap[value]`, `.data.A`, or a struct name. */
  region: 'map' | 'global' | 'struct';
  name: string;
  offset: number;
  kind: FieldKind;
  pointee?: string;
  pointeeFwd?: boolean;
  contains?: { type: string; field: string };
  /** The enclosing struct (for lock lookups): all fields of the allocation. */
  siblings: { name: string; offset: number; kind: FieldKind }[];
}

export function fieldAt(layout: BtfLayout, struct: string, offset: number): LayoutField | undefined {
  return layout.structsByName.get(struct)?.fields.find((f) => f.offset === offset);
}

export function mapFieldAt(layout: BtfLayout, mapName: string | undefined, offset: number): RegionField | undefined {
  if (mapName === undefined) return undefined;
  const globals = globalSection(layout, mapName);
  if (globals) {
    // A special field first (an array element at offset 0 shares it with its variable).
    const g = globals.find((v) => v.offset === offset && v.kind !== 'plain') ?? globals.find((v) => v.offset === offset);
    if (!g) return undefined;
    const r: RegionField = {
      region: 'global',
      name: g.name,
      offset,
      kind: g.kind,
      siblings: globals.map((v) => ({ name: v.name, offset: v.offset, kind: v.kind })),
    };
    if (g.pointee !== undefined) r.pointee = g.pointee;
    if (g.pointeeFwd !== undefined) r.pointeeFwd = g.pointeeFwd;
    if (g.contains) r.contains = g.contains;
    return r;
  }
  const vs = byMapName(layout.mapValues, mapName);
  if (vs === undefined) return undefined;
  const s = layout.structsByName.get(vs);
  const f = s?.fields.find((x) => x.offset === offset);
  if (!s || !f) return undefined;
  const r: RegionField = {
    region: 'map',
    name: f.name,
    offset,
    kind: f.kind,
    siblings: s.fields.map((x) => ({ name: x.name, offset: x.offset, kind: x.kind })),
  };
  if (f.pointee !== undefined) r.pointee = f.pointee;
  if (f.pointeeFwd !== undefined) r.pointeeFwd = f.pointeeFwd;
  if (f.contains) r.contains = f.contains;
  return r;
}
