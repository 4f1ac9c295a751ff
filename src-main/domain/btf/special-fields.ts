/**
 * Special fields as the kernel finds them: kptrs (referenced, untrusted, per-CPU, uptr), graph
 * roots and nodes, spin locks, refcounts, timers… in a struct — also nested in member structs and
 * arrays — with their byte offsets, kptr pointees and `contains:` targets (btf.c's
 * btf_parse_fields, re-read from the BTF alone).
 *
 * Contract: `Summarizer.structFields(struct)` returns the special fields of a struct (memoised,
 * depth- and cycle-guarded, bounded by MAX_FIELDS_PER_OBJECT / MAX_FIELDS_TOTAL with a warning
 * instead of an exception); problems (a kptr to a FWD, a dangling `contains:`, stacked type tags,
 * a graph root without exactly one lock) become `warnings`. The summary's vocabulary lives in
 * summary-types.ts (re-exported here); summarize.ts assembles the whole summary.
 */
import {
  type Btf,
  type BtfComposite,
  type BtfDeclTag,
  MAX_RESOLVE_DEPTH,
  declTagsOf,
  formatTypeName,
  getType,
  skipModifiers,
  typeSize,
  typesByName,
} from './btf-types.ts';
import {
  KPTR_TAGS,
  MAX_FIELDS_PER_OBJECT,
  MAX_FIELDS_TOTAL,
  SPECIAL_STRUCTS,
  type GraphContains,
  type KptrPointee,
  type SpecialField,
  type SpecialFieldKind,
  type SummarizeOptions,
} from './summary-types.ts';

export * from './summary-types.ts';

export const GRAPH_ROOTS = new Set<SpecialFieldKind>(['list_head', 'rb_root']);
export const KPTR_KINDS = new Set<SpecialFieldKind>(['kptr', 'kptr_untrusted', 'percpu_kptr', 'uptr']);
export const NODE_FOR_ROOT: Partial<Record<SpecialFieldKind, SpecialFieldKind>> = { list_head: 'list_node', rb_root: 'rb_node' };
export function kfuncTagged(btf: Btf): boolean {
  for (const t of btf.types) if (t.kind === 'DECL_TAG' && t.name === 'bpf_kfunc') return true;
  return false;
}

export class Summarizer {
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

/** True when a special field kind is a kptr (stored pointer) kind. */
export function isKptrKind(kind: SpecialFieldKind): boolean {
  return KPTR_KINDS.has(kind);
}
