/**
 * Every kfunc the hand-written families do not cover, judged from the kernel's own flag tables
 * (kfuncs/*.json, generated from each release's BTF_ID_FLAGS): an acquire kfunc (KF_ACQUIRE) gives
 * R0 a new owning reference, maybe NULL with KF_RET_NULL; a release kfunc (KF_RELEASE) releases the
 * owning reference in R1; an iterator constructor (KF_ITER_NEW) acquires the iterator state in the
 * stack slot R1 points at and its destructor (KF_ITER_DESTROY) releases it. So a task, cgroup,
 * cpumask, crypto context, iterator or a kfunc never seen before gets the same ownership story.
 *
 * Contract: `tableRule(table, name)` is a CallRule for a kfunc of that release's table with an
 * ownership effect, else undefined (no effect: R0 becomes an unknown scalar). The acquired type is
 * the kfunc's return type in the program's BTF (its `.ksyms` prototype); without it the type is
 * learnt from the kernel's print. `since` is the first release among the tables that has it.
 */
import type { MReg } from '../regs.ts';
import { kfunc, type KfuncTable } from '../kfuncs/index.ts';
import { checkOwned } from './common.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

function acquireRule(name: string, since: string, maybeNull: boolean): CallRule {
  return {
    name,
    since,
    apply(m: ModelApi): MReg | undefined {
      const type = m.layout.kfuncReturns.get(name) ?? '?';
      const obj = m.newObject(type, name, false);
      m.addRef(obj);
      m.event('acquire', obj, null, 'R0');
      const r0: MReg = { k: 'ptr', base: 'ptr', own: 'own', obj, off: 0 };
      if (type !== '?') r0.btf = type;
      if (maybeNull) {
        r0.nul = true;
        r0.ng = m.nullGroup();
      }
      return r0;
    },
  };
}

function releaseRule(name: string, since: string): CallRule {
  return {
    name,
    since,
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      const obj = checkOwned(m, call.args[0], 'R1', name, { zeroOff: true });
      if (obj !== undefined) m.dropRef(obj, 'release', 'release', 'released');
      return undefined;
    },
  };
}

/** The stack slot a pointer argument names (`fp-8`), when it points into the current frame's stack. */
function slotOf(m: ModelApi, r: MReg | undefined): string | undefined {
  if (r?.k !== 'fp') return undefined;
  const off = Number(r.v ?? r.off ?? 0);
  return m.frame > 0 ? `frame${m.frame}.fp${off}` : `fp${off}`;
}

function iterNewRule(name: string, since: string): CallRule {
  const iter = name.replace(/^bpf_/, '').replace(/_new$/, '');
  return {
    name,
    since,
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      const slot = slotOf(m, call.args[0]) ?? 'stack';
      const obj = m.newObject(iter, name, false);
      m.addRef(obj);
      m.s.placed.set(obj, slot);
      m.event('acquire', obj, null, slot);
      return undefined;
    },
  };
}

function iterDestroyRule(name: string, since: string): CallRule {
  const iter = name.replace(/^bpf_/, '').replace(/_destroy$/, '');
  return {
    name,
    since,
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      const slot = slotOf(m, call.args[0]);
      let obj: number | undefined;
      for (const [o, h] of m.s.placed) if (h === slot) obj = o;
      if (obj === undefined) {
        // A path restarted from a printed state knows the iterator only by its reference: the
        // one live reference of this iterator kind.
        const live = m.s.refs.filter((e) => e.kind === 'ptr' && e.obj !== undefined && m.object(e.obj)?.type.replace(/^\?$/, iter) === iter);
        if (live.length === 1) obj = live[0]?.obj;
      }
      if (obj === undefined) return undefined; // an iterator the model did not see start: the kernel's print tells
      m.s.placed.delete(obj);
      m.dropRef(obj, 'release', 'release', 'released');
      return undefined;
    },
  };
}

export function tableRule(table: KfuncTable, name: string): CallRule | undefined {
  const k = kfunc(table, name);
  if (!k) return undefined;
  const since = k.since ?? table.release;
  if (k.flags.iterNew) return iterNewRule(name, since);
  if (k.flags.iterDestroy) return iterDestroyRule(name, since);
  if (k.flags.acquire) return acquireRule(name, since, k.flags.retNull);
  if (k.flags.release) return releaseRule(name, since);
  return undefined;
}
