/**
 * bpf_rbtree kfuncs (6.3): add (with its synchronous `less(a, b)` callback frame whose arguments
 * are non-owning node references), first (maybe-NULL non-owning), remove (non-owning node in —
 * 6.16+ also owning — new maybe-NULL owning reference out); root/left/right (6.16, non-owning).
 *
 * Contract: like list.ts; `bpf_rbtree_add_impl` also queues the callback frame as a pending branch
 * of the call instruction (6.18 explores it as `from <call> to <less>:`).
 */
import type { MReg } from '../regs.ts';
import { resolveRoot } from './graph-common.ts';
import { insertNode, peekNode, removeGivenNode } from './list.ts';
import type { CallRule } from './types.ts';

function add(name: string, since: string): CallRule {
  return {
    name,
    since,
    feature: 'rbtree',
    apply(m, call) {
      if (!m.requireFeature('rbtree', name)) return undefined;
      const root = resolveRoot(m, call.args[0]);
      const type = root?.contains?.type ?? call.args[1]?.btf ?? '?';
      const off = root?.nodeOff ?? call.args[1]?.off ?? 0;
      const cbArg = (): MReg => ({ k: 'ptr', base: 'ptr', btf: type, own: 'nonown', off });
      m.pushCallback([cbArg(), cbArg()]);
      insertNode(m, call, name, 'add');
      return undefined;
    },
  };
}

const remove: CallRule = {
  name: 'bpf_rbtree_remove',
  since: '6.3',
  feature: 'rbtree',
  apply(m, call) {
    if (!m.requireFeature('rbtree', 'bpf_rbtree_remove')) return undefined;
    return removeGivenNode(m, call, 'bpf_rbtree_remove');
  },
};

function peek(name: string, since: string): CallRule {
  return {
    name,
    since,
    feature: since === '6.3' ? 'rbtree' : 'graph_peek',
    apply(m, call) {
      if (!m.requireFeature(since === '6.3' ? 'rbtree' : 'graph_peek', name)) return undefined;
      return peekNode(m, call, name);
    },
  };
}

export const RBTREE_RULES: readonly CallRule[] = [
  add('bpf_rbtree_add_impl', '6.4'),
  add('bpf_rbtree_add', '6.3'),
  remove,
  peek('bpf_rbtree_first', '6.3'),
  peek('bpf_rbtree_root', '6.16'),
  peek('bpf_rbtree_left', '6.16'),
  peek('bpf_rbtree_right', '6.16'),
];
