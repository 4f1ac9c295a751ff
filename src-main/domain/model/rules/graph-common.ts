/**
 * Graph-root helpers shared by the list and rbtree rules: which root a register points at (a
 * global `bpf_list_head`/`bpf_rb_root`, a map-value one, or one inside an owned local object),
 * its holder name, its `contains:` node type and field offset, and the "lock held" check.
 *
 * Contract: `resolveRoot` never throws; without BTF it still names the root by map and offset.
 */
import { globalSection, mapFieldAt, fieldAt, type FieldKind } from '../btf-layout.ts';
import type { MReg } from '../regs.ts';
import type { ModelApi } from './types.ts';

export interface RootInfo {
  holder: string;
  /** The byte offset the root pointer points at, and the kind of the field found there (none: undefined). */
  off: number;
  fieldKind?: FieldKind;
  /** The pointer was moved by a register of unknown value. */
  varOff?: boolean;
  /** The region (map, section or struct) is known, so a missing field is really missing. */
  known: boolean;
  /** Allocation the root lives in (must be the held lock's). */
  alloc: string;
  lockName?: string;
  contains?: { type: string; field: string };
  /** Offset of the node field inside the contained type, when BTF tells. */
  nodeOff?: number;
}

/**
 * The allocation a map-value pointer points into: one element of the map, known by the kernel's id
 * for the value a lookup returned (two lookups are two allocations, even in the same map); a global
 * section (one element, no id) is one allocation.
 */
export function mapAlloc(r: MReg): string {
  return r.nid !== undefined && r.nid > 0 ? `map:${r.map ?? '?'}#${r.nid}` : `map:${r.map ?? '?'}`;
}

export function resolveRoot(m: ModelApi, r: MReg | undefined): RootInfo | undefined {
  if (r === undefined || r.k !== 'ptr') return undefined;
  const off = r.off ?? 0;
  let info: RootInfo | undefined;
  if (r.base === 'map_value') {
    const f = mapFieldAt(m.layout, r.map, off);
    const map = r.map ?? '?';
    if (f) {
      const holder = f.region === 'global' ? `${map}:${f.name}` : `map ${map}[value].${f.name}`;
      info = { holder, alloc: mapAlloc(r), off, fieldKind: f.kind, known: true };
      const lock = f.siblings.find((x) => x.kind === 'spin_lock');
      if (lock) info.lockName = lock.name;
      if (f.contains) info.contains = f.contains;
    } else info = { holder: `${map}+${off}`, alloc: mapAlloc(r), off, known: r.map !== undefined && (globalSection(m.layout, r.map) !== undefined || m.layout.mapValues.has(r.map)) };
  } else if (r.own !== undefined && r.obj !== undefined) {
    const f = r.btf !== undefined ? fieldAt(m.layout, r.btf, off) : undefined;
    info = { holder: `${m.objName(r.obj)}.${f?.name ?? `+${off}`}`, alloc: `obj:${r.obj}`, off, known: r.btf !== undefined && m.layout.structsByName.has(r.btf) };
    if (f) info.fieldKind = f.kind;
    const lock = r.btf !== undefined ? m.layout.structsByName.get(r.btf)?.fields.find((x) => x.kind === 'spin_lock') : undefined;
    if (lock) info.lockName = lock.name;
    if (f?.contains) info.contains = f.contains;
  }
  if (info && r.varOff) info.varOff = true;
  if (info?.contains) {
    const node = m.layout.structsByName.get(info.contains.type)?.fields.find((x) => x.name === info?.contains?.field);
    if (node) info.nodeOff = node.offset;
  }
  return info;
}

const ROOT_NAME: Record<'list_head' | 'rb_root', string> = { list_head: 'bpf_list_head', rb_root: 'bpf_rb_root' };

/** The root a graph kfunc needs: an rbtree kfunc a bpf_rb_root, a list kfunc a bpf_list_head. */
function rootKindOf(fn: string): 'list_head' | 'rb_root' {
  return fn.includes('rbtree') ? 'rb_root' : 'list_head';
}

/**
 * Root, lock and node checks of graph kfuncs (kernel order: the root's constant offset and field,
 * then the lock, then the node); emits graph-field-mismatch / lock-not-held / contains-missing-type.
 */
export function checkRoot(m: ModelApi, root: RootInfo | undefined, fn: string, objs: number[]): boolean {
  if (root === undefined) return true;
  const want = rootKindOf(fn);
  if (m.hasBtf && root.varOff) {
    m.finding('graph-field-mismatch', objs, `R1 passed to ${fn} was moved by a register of unknown value: a ${ROOT_NAME[want]} has to be at a constant offset`);
    return false;
  }
  if (m.hasBtf && root.known && root.fieldKind !== want) {
    m.finding('graph-field-mismatch', objs, `${fn} needs a ${ROOT_NAME[want]}, but there is none at offset ${root.off} of ${root.holder.replace(/[.:+][^.:+]*$/, '')} (${ROOT_NAME[want]} not found at offset=${root.off})`);
    return false;
  }
  if (root.contains && m.hasBtf && !m.layout.structsByName.has(root.contains.type)) {
    m.finding(
      'contains-missing-type',
      objs,
      `${root.holder} is declared __contains(${root.contains.type}, ${root.contains.field}) but the program BTF has no struct ${root.contains.type}; the kernel rejects the root (use the type in the program so it is emitted)`,
    );
    return false;
  }
  const lock = m.s.lock;
  if (lock === null || lock.alloc !== root.alloc) {
    const lockName = root.lockName ?? 'the bpf_spin_lock of the same allocation';
    const held = lock === null ? 'no lock is held' : `the held lock is ${lock.name}, in another allocation`;
    m.finding(
      'lock-not-held',
      objs,
      `${fn} on ${root.holder} needs ${lockName} held, but ${held}; take bpf_spin_lock(&${lockName}) before touching the collection`,
    );
    return false;
  }
  return true;
}

const NODE_NAME: Record<'list_head' | 'rb_root', string> = { list_head: 'bpf_list_node', rb_root: 'bpf_rb_node' };

/**
 * The node argument of an insert: a node field of the type the root's `__contains` names, at the
 * offset it names (kernel: "bpf_list_node not found at offset=N", "expects arg#1 bpf_list_node at
 * offset=X in struct T, but arg is at offset=Y in struct S", "arg#1 offset=Y, but expected …").
 */
export function checkNode(m: ModelApi, root: RootInfo | undefined, node: MReg | undefined, fn: string): boolean {
  if (!m.hasBtf || root === undefined || node?.k !== 'ptr' || node.btf === undefined) return true;
  const want = rootKindOf(fn);
  const nodeKind = want === 'rb_root' ? 'rb_node' : 'list_node';
  const objs = node.obj !== undefined ? [node.obj] : [];
  if (node.varOff) {
    m.finding('graph-field-mismatch', objs, `R2 passed to ${fn} was moved by a register of unknown value: a ${NODE_NAME[want]} has to be at a constant offset`);
    return false;
  }
  const off = node.off ?? 0;
  const f = fieldAt(m.layout, node.btf, off);
  if (!f || f.kind !== nodeKind) {
    m.finding('graph-field-mismatch', objs, `R2 passed to ${fn} points at offset ${off} of struct ${node.btf}, where there is no ${NODE_NAME[want]} (${NODE_NAME[want]} not found at offset=${off})`);
    return false;
  }
  const c = root.contains;
  if (c === undefined) return true;
  const expected = m.layout.structsByName.get(c.type)?.fields.find((x) => x.name === c.field);
  if (node.btf !== c.type) {
    m.finding('graph-field-mismatch', objs, `${root.holder} holds struct ${c.type} (__contains(${c.type}, ${c.field})), but R2 passed to ${fn} is the ${NODE_NAME[want]} at offset ${off} of struct ${node.btf}`);
    return false;
  }
  if (expected !== undefined && expected.offset !== off) {
    m.finding('graph-field-mismatch', objs, `${root.holder} links struct ${c.type} by ${c.field} at offset ${expected.offset}, but R2 passed to ${fn} points at offset ${off}`);
    return false;
  }
  return true;
}
