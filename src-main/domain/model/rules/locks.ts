/**
 * bpf_spin_lock (#93) / bpf_spin_unlock (#94), both 5.1; the lock lives in a map value / global
 * section or (6.2+) in an owned local object. Since 6.3, bpf_spin_unlock ends every non-owning
 * reference. On ≥ 6.13 logs the held lock is an entry of the reference table (`refs=`), with the
 * locked object's `id` (0 for map values / globals without one).
 *
 * Contract: lock sets PathState.lock; unlock without a lock is `lock-not-held`; exit with a lock
 * held is checked by the replayer (`exit-while-locked`).
 */
import { fieldAt, globalSection, mapFieldAt } from '../btf-layout.ts';
import type { HeldLock } from '../path-state.ts';
import { mapAlloc } from './graph-common.ts';
import type { MReg } from '../regs.ts';
import type { CallRule, ModelApi } from './types.ts';

export interface LockApi {
  /** Whether the log's kernel keeps locks in the reference table. */
  readonly logLocksInRefs: boolean;
}

function lockOf(m: ModelApi, r: MReg | undefined): HeldLock {
  const off = r?.off ?? 0;
  const id = r?.nid ?? 0;
  if (r?.k === 'ptr' && r.base === 'map_value') {
    const map = r.map ?? '?';
    const f = mapFieldAt(m.layout, r.map, off);
    const name = f ? (f.region === 'global' ? `${map}:${f.name}` : `map ${map}[value].${f.name}`) : `map ${map}[value]+${off}`;
    return { name, alloc: mapAlloc(r), id };
  }
  if (r?.own !== undefined && r.obj !== undefined) {
    const f = r.btf !== undefined ? fieldAt(m.layout, r.btf, off) : undefined;
    return { name: `${m.objName(r.obj)}.${f?.name ?? `+${off}`}`, alloc: `obj:${r.obj}`, id };
  }
  return { name: `lock+${off}`, alloc: '?', id };
}

/**
 * The lock argument must point exactly at the allocation's bpf_spin_lock (kernel: "off N doesn't
 * point to 'struct bpf_spin_lock' that is at M", process_spin_lock, 5.1). True when it does, or
 * when the model cannot tell (no BTF, an unknown region).
 */
function lockAtOffset(m: ModelApi, r: MReg | undefined, fn: string): boolean {
  if (!m.hasBtf || r?.k !== 'ptr') return true;
  const off = r.off ?? 0;
  let fields: readonly { name: string; offset: number; kind: string }[] | undefined;
  if (r.base === 'map_value') {
    const f = mapFieldAt(m.layout, r.map, off);
    fields = f?.siblings;
    if (fields === undefined) {
      const g = globalSection(m.layout, r.map);
      if (g) fields = g;
    }
  } else if (r.own !== undefined && r.btf !== undefined) fields = m.layout.structsByName.get(r.btf)?.fields;
  const lock = fields?.find((x) => x.kind === 'spin_lock');
  if (!fields || !lock || lock.offset === off) return true;
  m.finding('graph-field-mismatch', r.obj !== undefined ? [r.obj] : [], `R1 passed to ${fn} points at offset ${off}, but the allocation's bpf_spin_lock ${lock.name} is at offset ${lock.offset} (off ${off} doesn't point to 'struct bpf_spin_lock' that is at ${lock.offset})`);
  return false;
}

/**
 * What may be called while a lock is held (kernel: "function calls are not allowed while holding a
 * lock", 5.1): the helper bpf_spin_unlock and the kfuncs the verifier names safe under a lock — the
 * graph API (list/rbtree, refcount_acquire; 6.2+), the numeric iterator (6.7) and the resilient
 * lock kfuncs (6.15); 7.x adds its list operations and implicit-argument twins (KF_SPINLOCK_SAFE in
 * 7.3). Everything else, a global function included, is refused.
 */
const SAFE_UNDER_LOCK = new Set([
  'bpf_spin_unlock',
  'bpf_list_push_front_impl', 'bpf_list_push_back_impl', 'bpf_list_push_front', 'bpf_list_push_back',
  'bpf_list_pop_front', 'bpf_list_pop_back', 'bpf_list_front', 'bpf_list_back',
  'bpf_list_add', 'bpf_list_add_impl', 'bpf_list_del', 'bpf_list_is_first', 'bpf_list_is_last', 'bpf_list_empty',
  'bpf_rbtree_add_impl', 'bpf_rbtree_add', 'bpf_rbtree_remove', 'bpf_rbtree_first', 'bpf_rbtree_root',
  'bpf_rbtree_left', 'bpf_rbtree_right',
  'bpf_refcount_acquire_impl', 'bpf_refcount_acquire',
  'bpf_iter_num_new', 'bpf_iter_num_next', 'bpf_iter_num_destroy',
  'bpf_res_spin_lock', 'bpf_res_spin_unlock', 'bpf_res_spin_lock_irqsave', 'bpf_res_spin_unlock_irqrestore',
]);

/**
 * Whether `name` may be called with a lock held. A release whose kfunc table defines
 * KF_SPINLOCK_SAFE (7.3) decides by the flag (kernel/bpf/verifier.c `kfunc_spin_allowed`), and its
 * helpers bpf_spin_unlock and bpf_kptr_xchg are allowed; older releases (and kfuncs the table does
 * not know) by the hand list above (6.x `is_bpf_graph_api_kfunc` and friends).
 */
export function callableUnderLock(name: string, by?: { isHelper: boolean; spinlockSafeFlag: boolean; spinlockSafe: boolean | undefined }): boolean {
  if (by?.spinlockSafeFlag) {
    if (by.isHelper) return name === 'bpf_spin_unlock' || name === 'bpf_kptr_xchg';
    if (by.spinlockSafe !== undefined) return by.spinlockSafe;
  }
  return SAFE_UNDER_LOCK.has(name);
}

export function lockRules(api: LockApi): CallRule[] {
  const lock = (name: string, helper: number | undefined, since: string): CallRule => {
    const rule: CallRule = {
      name,
      since,
      apply(m, call) {
        if (!lockAtOffset(m, call.args[0], name)) return undefined;
        const l = lockOf(m, call.args[0]);
        m.s.lock = l;
        if (api.logLocksInRefs) m.s.refs.push({ id: l.id, kind: 'lock' });
        return undefined;
      },
    };
    if (helper !== undefined) rule.helper = helper;
    return rule;
  };
  const unlock = (name: string, helper: number | undefined, since: string): CallRule => {
    const rule: CallRule = {
      name,
      since,
      apply(m) {
        if (m.s.lock === null) {
          m.finding('lock-not-held', [], `${name} without a held lock`);
          return undefined;
        }
        m.s.lock = null;
        const i = m.s.refs.findIndex((e) => e.kind === 'lock');
        if (i >= 0) m.s.refs.splice(i, 1);
        m.invalidateNonOwning();
        return undefined;
      },
    };
    if (helper !== undefined) rule.helper = helper;
    return rule;
  };
  return [
    lock('bpf_spin_lock', 93, '5.1'),
    unlock('bpf_spin_unlock', 94, '5.1'),
    lock('bpf_res_spin_lock', undefined, '6.15'),
    unlock('bpf_res_spin_unlock', undefined, '6.15'),
  ];
}
