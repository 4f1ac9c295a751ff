/**
 * bpf_refcount_acquire_impl (6.4): a new owning reference to an object whose type has a
 * `struct bpf_refcount`; from an owning argument R0 is non-NULL, from a non-owning one maybe NULL.
 *
 * Contract: the new reference is its own model object with `sameAs` = the argument's object.
 */
import type { MReg } from '../regs.ts';
import { checkOwned } from './common.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

export const REFCOUNT_RULES: readonly CallRule[] = [
  {
    name: 'bpf_refcount_acquire_impl',
    since: '6.4',
    feature: 'refcount',
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (!m.requireFeature('refcount', 'bpf_refcount_acquire_impl')) return undefined;
      const a = call.args[0];
      const src = checkOwned(m, a, 'R1', 'bpf_refcount_acquire_impl', { allowNonOwning: true });
      if (src === undefined || a === undefined) return undefined;
      const type = a.btf ?? m.object(src)?.type ?? '?';
      const obj = m.newObject(type, 'bpf_refcount_acquire', true, src);
      m.addRef(obj);
      m.event('acquire', obj, m.holders(src)[0] ?? null, 'R0');
      const r0: MReg = { k: 'ptr', base: 'ptr', btf: type, own: 'own', obj, off: 0 };
      if (a.own === 'nonown') {
        r0.nul = true;
        r0.ng = m.nullGroup();
      }
      return r0;
    },
  },
];
