/**
 * Special fields are the kernel's: a program may not read or write a bpf_spin_lock, a list/rbtree
 * root or node, or a bpf_refcount with plain loads and stores (kernel: "direct access to
 * bpf_spin_lock is disallowed", btf_struct_access / check_map_access, since 6.2 for graph fields,
 * 5.1 for locks). Only the kfuncs and helpers that own them may touch them. In a local object (a
 * bpf_obj_new type: owning, non-owning or RCU) every field of its record is off limits, kptr
 * fields included ("direct access to kptr is disallowed", btf_struct_access checks the object's
 * whole record before it walks the struct): a kptr stashed in a local object can only be taken
 * out with bpf_kptr_xchg. A map value's kptr field may be loaded (rules/kptr-load.ts).
 *
 * Contract: `specialFieldAccess(m, base, off, size, write)` emits one `special-field-access`
 * finding and returns true when the access [off, off+size) overlaps such a field of a map value
 * (global section or map element) or of a local object; false otherwise (or without BTF).
 */
import { globalSection, type BtfLayout, type FieldKind } from '../btf-layout.ts';
import type { MReg } from '../regs.ts';
import type { ModelApi } from './types.ts';

const NAMES: Partial<Record<FieldKind, string>> = {
  spin_lock: 'bpf_spin_lock',
  list_head: 'bpf_list_head',
  list_node: 'bpf_list_node',
  rb_root: 'bpf_rb_root',
  rb_node: 'bpf_rb_node',
  refcount: 'bpf_refcount',
};

/** Fields a local object's record also holds (btf_field_type_name's spelling). */
const LOCAL_ONLY: Partial<Record<FieldKind, string>> = {
  kptr: 'kptr',
  kptr_untrusted: 'kptr',
  percpu_kptr: 'percpu_kptr',
};

interface Hit {
  name: string;
  kind: FieldKind;
  /** The kernel's name of the field's type. */
  what: string;
}

function overlap(fields: readonly { name: string; offset: number; size: number; kind: FieldKind }[], lo: number, hi: number, local: boolean): Hit | undefined {
  for (const f of fields) {
    const what = NAMES[f.kind] ?? (local ? LOCAL_ONLY[f.kind] : undefined);
    if (what === undefined) continue;
    if (lo < f.offset + f.size && f.offset < hi) return { name: f.name, kind: f.kind, what };
  }
  return undefined;
}

/** A pointer to a local object (the kernel's MEM_ALLOC: owning, non-owning, or RCU from a kptr). */
function isLocalObject(base: MReg): boolean {
  return base.k === 'ptr' && base.base !== 'map_value' && base.btf !== undefined && (base.own !== undefined || (base.flags?.includes('alloc') ?? false));
}

function regionFields(layout: BtfLayout, base: MReg) {
  if (base.base === 'map_value') {
    const g = globalSection(layout, base.map);
    if (g) return g;
    const vs = base.map !== undefined ? [...layout.mapValues].find(([n]) => n === base.map || (n.length > 15 && n.slice(0, 15) === base.map))?.[1] : undefined;
    return vs !== undefined ? layout.structsByName.get(vs)?.fields : undefined;
  }
  if (isLocalObject(base) && base.btf !== undefined) return layout.structsByName.get(base.btf)?.fields;
  return undefined;
}

export function specialFieldAccess(m: ModelApi, base: MReg | undefined, off: number, size: number, write: boolean): boolean {
  if (!m.hasBtf || base?.k !== 'ptr') return false;
  const fields = regionFields(m.layout, base);
  if (!fields) return false;
  const lo = (base.off ?? 0) + off;
  const local = isLocalObject(base);
  const hit = overlap(fields, lo, lo + size, local);
  if (!hit) return false;
  const what = hit.what;
  const objs = base.obj !== undefined ? [base.obj] : [];
  m.finding(
    'special-field-access',
    objs,
    LOCAL_ONLY[hit.kind] !== undefined
      ? `the ${write ? 'store to' : 'load from'} offset ${lo} touches ${hit.name}, a kptr field of a local object: a kptr stashed there can only be exchanged with bpf_kptr_xchg, not ${write ? 'written' : 'read'} directly (direct access to ${what} is disallowed)`
      : `the ${write ? 'store to' : 'load from'} offset ${lo} touches ${hit.name}, a ${what}: only its kfuncs and helpers may access it (direct access to ${what} is disallowed)`,
  );
  return true;
}
