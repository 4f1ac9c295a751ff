/**
 * bpf_refcount_acquire_impl (6.4; `bpf_refcount_acquire` from 7.1, implicit meta argument): a new
 * owning reference to an object whose type has a `struct bpf_refcount`; from an owning argument R0
 * is non-NULL, from a non-owning one maybe NULL.
 *
 * Contract: the new reference is its own model object with `sameAs` = the argument's object.
 */
import type { MReg } from '../regs.ts';
import { checkOwned } from './common.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

function acquire(name: string, since: string): CallRule {
  return {
    name,
    since,
    feature: 'refcount',
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (!m.requireFeature('refcount', name)) return undefined;
      const a = call.args[0];
      const src = checkOwned(m, a, 'R1', name, { allowNonOwning: true });
      if (src === undefined || a === undefined) return undefined;
      const type = a.btf ?? m.object(src)?.type ?? '?';
      const obj = m.newObject(type, 'bpf_refcount_acquire', true, src);
      m.addRef(obj);
      m.event('acquire', obj, m.holders(src)[0] ?? null, 'R0');
      const r0: MReg = { k: 'ptr', base: 'ptr', btf: type, own: 'own', obj, off: 0 };
      // From anything but an owning reference (non-owning, or an RCU pointer from a kptr field) the
      // object may be on its way out: R0 may be NULL.
      if (a.own !== 'own') {
        r0.nul = true;
        r0.ng = m.nullGroup();
      }
      return r0;
    },
  };
}

export const REFCOUNT_RULES: readonly CallRule[] = [acquire('bpf_refcount_acquire_impl', '6.4'), acquire('bpf_refcount_acquire', '7.1')];
