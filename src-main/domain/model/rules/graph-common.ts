/**
 * Graph-root helpers shared by the list and rbtree rules: which root a register points at (a
 * global `bpf_list_head`/`bpf_rb_root`, a map-value one, or one inside an owned local object),
 * its holder name, its `contains:` node type and field offset, and the "lock held" check.
 *
 * Contract: `resolveRoot` never throws; without BTF it still names the root by map and offset.
 */
import { mapFieldAt, fieldAt } from '../btf-layout.ts';
import type { MReg } from '../regs.ts';
import type { ModelApi } from './types.ts';

export interface RootInfo {
  holder: string;
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
      info = { holder, alloc: mapAlloc(r) };
      const lock = f.siblings.find((x) => x.kind === 'spin_lock');
      if (lock) info.lockName = lock.name;
      if (f.contains) info.contains = f.contains;
    } else info = { holder: `${map}+${off}`, alloc: mapAlloc(r) };
  } else if (r.own !== undefined && r.obj !== undefined) {
    const f = r.btf !== undefined ? fieldAt(m.layout, r.btf, off) : undefined;
    info = { holder: `${m.objName(r.obj)}.${f?.name ?? `+${off}`}`, alloc: `obj:${r.obj}` };
    const lock = r.btf !== undefined ? m.layout.structsByName.get(r.btf)?.fields.find((x) => x.kind === 'spin_lock') : undefined;
    if (lock) info.lockName = lock.name;
    if (f?.contains) info.contains = f.contains;
  }
  if (info?.contains) {
    const node = m.layout.structsByName.get(info.contains.type)?.fields.find((x) => x.name === info?.contains?.field);
    if (node) info.nodeOff = node.offset;
  }
  return info;
}

/** Lock check for graph kfuncs; emits lock-not-held / contains-missing-type. */
export function checkRoot(m: ModelApi, root: RootInfo | undefined, fn: string, objs: number[]): boolean {
  if (root === undefined) return true;
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
