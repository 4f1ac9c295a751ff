/**
 * Local objects: bpf_obj_new_impl / bpf_percpu_obj_new_impl (new owning reference, maybe NULL)
 * and bpf_obj_drop_impl / bpf_percpu_obj_drop_impl (release; dropping an object also frees what is
 * stashed in its kptr fields and what its list/rbtree roots hold). From 7.1 the same kfuncs without
 * `_impl` (KF_IMPLICIT_ARGS: the verifier fills the meta argument itself; R1 is the same).
 *
 * Contract: the new object's type comes from the constant local type id in R1 and the program BTF
 * (unknown → '?' until the log names the type). From 7.2, a drop in a tracing program (kprobe,
 * tracepoint, perf_event, raw_tp, non-sleepable non-iterator tracing) of a type with NMI-unsafe
 * fields (referenced or per-CPU kptrs, list/rbtree roots and nodes) is a `prog-type-violation`
 * (probe captures: accepted by 7.1.13, rejected by 7.2.13).
 */
import type { MReg } from '../regs.ts';
import type { FieldKind } from '../btf-layout.ts';
import { isTracingForObjDrop } from '../prog-types.ts';
import { checkOwned } from './common.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

function newRule(name: string, since: string, percpu: boolean): CallRule {
  return {
    name,
    since,
    feature: percpu ? 'percpu_obj' : 'obj_new',
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (!m.requireFeature(percpu ? 'percpu_obj' : 'obj_new', name)) return undefined;
      const a1 = call.args[0];
      const typeId = a1?.k === 'const' ? Number(a1.v) : NaN;
      const type = m.layout.structsById.get(typeId)?.name ?? '?';
      const obj = m.newObject(type, percpu ? 'bpf_percpu_obj_new' : 'bpf_obj_new', true);
      m.addRef(obj);
      m.event('acquire', obj, null, 'R0');
      const r0: MReg = { k: 'ptr', base: 'ptr', own: 'own', obj, off: 0, nul: true, ng: m.nullGroup() };
      if (type !== '?') r0.btf = type;
      if (percpu) r0.flags = ['percpu'];
      return r0;
    },
  };
}

/** Free everything placed inside `obj` (kptr fields, list/rbtree roots), recursively. */
export function freeContents(m: ModelApi, obj: number, depth = 0): void {
  if (depth > 16) return;
  const prefix = `${m.objName(obj)}.`;
  for (const [inner, holder] of [...m.s.placed]) {
    if (!holder.startsWith(prefix)) continue;
    m.s.placed.delete(inner);
    m.event('drop', inner, holder, 'freed');
    m.endObject(inner, 'freed-with-parent');
    freeContents(m, inner, depth + 1);
  }
}

function dropRule(name: string, since: string, percpu: boolean): CallRule {
  return {
    name,
    since,
    feature: percpu ? 'percpu_obj' : 'obj_new',
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (!m.requireFeature(percpu ? 'percpu_obj' : 'obj_new', name)) return undefined;
      const obj = checkOwned(m, call.args[0], 'R1', name, { zeroOff: true });
      if (obj === undefined) return undefined;
      if (m.profile.nmiUnsafeDrop && isTracingForObjDrop(m.progType)) {
        const type = m.object(obj)?.type;
        const unsafe = (type !== undefined ? m.layout.structsByName.get(type)?.fields : undefined)?.filter((f) => NMI_UNSAFE.has(f.kind)) ?? [];
        if (unsafe.length > 0) {
          m.finding(
            'prog-type-violation',
            [obj],
            `${name} drops ${m.objName(obj)} in a ${m.progType?.prefix ?? 'tracing'} program, but ${type} has NMI-unsafe fields (${unsafe.map((f) => `${f.name}: ${f.kind}`).join(', ')}): since 7.2 bpf_obj_drop cannot be used in tracing programs on types with NMI unsafe fields; hand the object to a map kptr, a list or an rbtree instead, or drop it from a non-tracing program`,
          );
          return undefined;
        }
      }
      m.dropRef(obj, 'drop', 'drop', 'freed');
      freeContents(m, obj);
      return undefined;
    },
  };
}

/** Field kinds the kernel's btf_field_is_nmi_safe() says no to (include/linux/bpf.h, 7.2+). */
const NMI_UNSAFE = new Set<FieldKind>(['kptr', 'percpu_kptr', 'list_head', 'rb_root', 'list_node', 'rb_node']);

export const OBJ_NEW_RULES: readonly CallRule[] = [
  newRule('bpf_obj_new_impl', '6.2', false),
  newRule('bpf_percpu_obj_new_impl', '6.6', true),
  dropRule('bpf_obj_drop_impl', '6.2', false),
  dropRule('bpf_percpu_obj_drop_impl', '6.6', true),
  newRule('bpf_obj_new', '7.1', false),
  newRule('bpf_percpu_obj_new', '7.1', true),
  dropRule('bpf_obj_drop', '7.1', false),
  dropRule('bpf_percpu_obj_drop', '7.1', true),
];
