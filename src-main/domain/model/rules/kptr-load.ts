/**
 * A plain load of a referenced kptr field of a map value (`r1 = *(u64 *)(r6 +8)` where the field
 * is `__kptr`): the program gets no reference. (A kptr field of a local object cannot be loaded at
 * all: rules/special-access.ts.) For a program-local pointee (a bpf_obj_new type) the kernel
 * hands out an RCU-protected pointer, maybe NULL (btf.c/verifier.c: MEM_ALLOC|MEM_RCU), good for
 * bpf_refcount_acquire — non-owning (`rcu_ptr_or_null_T(id=N,non_own_ref)`) only when the type has a
 * list or rbtree node (NON_OWN_REF is set for graph nodes alone, verifier.c
 * btf_ld_kptr_type), else a plain RCU pointer with no ownership claim; a kernel pointee
 * (task_struct, cgroup, …) is a trusted-under-RCU pointer without ownership, which the model
 * leaves to the kernel's print (no claim).
 *
 * Contract: `kptrLoad(m, base, off)` returns the loaded value when the model has something to say
 * (a non-owning reference to the object stashed there, when the model knows it, else to a new
 * object of the pointee type), else undefined (the load is a plain one). Since 6.4 (local kptrs).
 */
import { mapFieldAt } from '../btf-layout.ts';
import type { MReg } from '../regs.ts';
import type { ModelApi } from './types.ts';

/** A struct of the program's own: it carries special fields (refcount, list/rbtree node, kptr, lock). */
function isLocalType(m: ModelApi, name: string): boolean {
  const s = m.layout.structsByName.get(name);
  return s !== undefined && s.fields.some((f) => f.kind !== 'plain');
}

export function kptrLoad(m: ModelApi, base: MReg | undefined, off: number): MReg | undefined {
  if (base?.k !== 'ptr') return undefined;
  const at = (base.off ?? 0) + off;
  let holder: string | undefined;
  let pointee: string | undefined;
  if (base.base === 'map_value') {
    const f = mapFieldAt(m.layout, base.map, at);
    if (!f || f.kind !== 'kptr' || f.pointee === undefined) return undefined;
    holder = f.region === 'global' ? `${base.map ?? '?'}:${f.name}` : `map ${base.map ?? '?'}[value].${f.name}`;
    pointee = f.pointee;
  }
  if (holder === undefined || pointee === undefined || !isLocalType(m, pointee)) return undefined;
  let obj: number | undefined;
  for (const [o, h] of m.s.placed) if (h === holder) obj = o;
  obj ??= m.newObject(pointee, `load of ${holder}`, true);
  const graphNode = m.layout.structsByName.get(pointee)?.fields.some((f) => f.kind === 'list_node' || f.kind === 'rb_node') ?? false;
  if (!graphNode) return { k: 'ptr', base: 'ptr', btf: pointee, obj, off: 0, nul: true, ng: m.nullGroup(), flags: ['rcu', 'alloc'] };
  return { k: 'ptr', base: 'ptr', btf: pointee, own: 'nonown', obj, off: 0, nul: true, ng: m.nullGroup(), flags: ['rcu'] };
}
