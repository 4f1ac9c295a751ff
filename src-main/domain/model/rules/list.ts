/**
 * bpf_list kfuncs: push_front/back (6.2; `_impl` names since 6.4, the plain names again from 7.1
 * with implicit arguments), pop_front/back (6.2), list_front/back (6.16), and from 7.2 add (insert
 * after a node), del (take a given node out), is_first/is_last/empty (questions). All need the
 * root's bpf_spin_lock held.
 *
 * Contract: push and add move an owning node reference into the list (aliases become non-owning,
 * the reference entry goes away); pop and del return a new maybe-NULL owning reference pointing at
 * the node field (del: the same object as its node argument); front/back return a maybe-NULL
 * non-owning reference; is_first/is_last/empty return a plain scalar.
 */
import type { MReg } from '../regs.ts';
import { checkOwned, deadFinding } from './common.ts';
import { checkNode, checkRoot, resolveRoot } from './graph-common.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

export function insertNode(m: ModelApi, call: CallInfo, fn: string, kind: 'push' | 'add'): boolean {
  const [r1, r2] = call.args;
  const root = resolveRoot(m, r1);
  const objs = r2?.obj !== undefined ? [r2.obj] : [];
  if (!checkRoot(m, root, fn, objs)) return false;
  if (!checkNode(m, root, r2, fn)) return false;
  const obj = checkOwned(m, r2, 'R2', fn);
  if (obj === undefined) return false;
  const to = root?.holder ?? 'collection';
  m.event(kind, obj, m.holders(obj).join(',') || null, to);
  m.toNonOwning(obj);
  m.s.placed.set(obj, to);
  m.endObject(obj, kind);
  return true;
}

export function peekNode(m: ModelApi, call: CallInfo, fn: string): MReg | undefined {
  const root = resolveRoot(m, call.args[0]);
  if (!checkRoot(m, root, fn, [])) return undefined;
  const type = root?.contains?.type;
  const obj = m.newObject(type ?? '?', fn, true);
  // Without BTF the node type and offset are unknown until the kernel's print names them (bindType/bindOff).
  const r: MReg = { k: 'ptr', base: 'ptr', own: 'nonown', obj, nul: true, ng: m.nullGroup() };
  if (type !== undefined) r.btf = type;
  if (root?.nodeOff !== undefined) r.off = root.nodeOff;
  return r;
}

export function takeNode(m: ModelApi, call: CallInfo, fn: string, kind: 'pop' | 'remove', sameAs?: number): MReg | undefined {
  const root = resolveRoot(m, call.args[0]);
  const type = root?.contains?.type;
  const obj = m.newObject(type ?? '?', fn, true, sameAs);
  m.addRef(obj);
  m.event(kind, obj, root?.holder ?? null, 'R0');
  const r: MReg = { k: 'ptr', base: 'ptr', own: 'own', obj, nul: true, ng: m.nullGroup() };
  if (type !== undefined) r.btf = type;
  if (root?.nodeOff !== undefined) r.off = root.nodeOff;
  return r;
}

function push(name: string, since: string): CallRule {
  return {
    name,
    since,
    feature: 'list',
    apply(m, call) {
      if (!m.requireFeature('list', name)) return undefined;
      insertNode(m, call, name, 'push');
      return undefined;
    },
  };
}

function pop(name: string): CallRule {
  return {
    name,
    since: '6.2',
    feature: 'list',
    apply(m, call) {
      if (!m.requireFeature('list', name)) return undefined;
      const root = resolveRoot(m, call.args[0]);
      if (!checkRoot(m, root, name, [])) return undefined;
      return takeNode(m, call, name, 'pop');
    },
  };
}

function peek(name: string): CallRule {
  return {
    name,
    since: '6.16',
    feature: 'graph_peek',
    apply(m, call) {
      if (!m.requireFeature('graph_peek', name)) return undefined;
      return peekNode(m, call, name);
    },
  };
}

/** 7.2: bpf_list_add(head, new, prev) inserts `new` after `prev` (a node of the list, non-owning allowed). */
const listAdd: CallRule = {
  name: 'bpf_list_add',
  since: '7.2',
  feature: 'list_ops',
  apply(m, call) {
    if (!m.requireFeature('list_ops', 'bpf_list_add')) return undefined;
    insertNode(m, call, 'bpf_list_add', 'push');
    return undefined;
  },
};

/** Take the node R2 names out of the collection R1 roots (bpf_rbtree_remove, bpf_list_del): a new
 * maybe-NULL owning reference to that same object; a node already invalid is a dead-use finding. */
export function removeGivenNode(m: ModelApi, call: CallInfo, fn: string): MReg | undefined {
  const root = resolveRoot(m, call.args[0]);
  if (!checkRoot(m, root, fn, [])) return undefined;
  const node = call.args[1];
  if (node?.k === 'dead') {
    deadFinding(m, node, 'R2', fn);
    return undefined;
  }
  if (node?.obj !== undefined) m.s.placed.delete(node.obj);
  return takeNode(m, call, fn, 'remove', node?.obj);
}

/** 7.2: bpf_list_del(head, node) takes `node` (owning or non-owning) out of the list: a new maybe-NULL owning reference. */
const listDel: CallRule = {
  name: 'bpf_list_del',
  since: '7.2',
  feature: 'list_ops',
  apply(m, call) {
    if (!m.requireFeature('list_ops', 'bpf_list_del')) return undefined;
    return removeGivenNode(m, call, 'bpf_list_del');
  },
};

/** 7.2: bpf_list_is_first / is_last / empty: questions about the list, under its lock. */
function question(name: string): CallRule {
  return {
    name,
    since: '7.2',
    feature: 'list_ops',
    apply(m, call) {
      if (!m.requireFeature('list_ops', name)) return undefined;
      checkRoot(m, resolveRoot(m, call.args[0]), name, []);
      return undefined;
    },
  };
}

export const LIST_RULES: readonly CallRule[] = [
  listAdd,
  listDel,
  question('bpf_list_is_first'),
  question('bpf_list_is_last'),
  question('bpf_list_empty'),
  push('bpf_list_push_front_impl', '6.4'),
  push('bpf_list_push_back_impl', '6.4'),
  push('bpf_list_push_front', '6.2'),
  push('bpf_list_push_back', '6.2'),
  pop('bpf_list_pop_front'),
  pop('bpf_list_pop_back'),
  peek('bpf_list_front'),
  peek('bpf_list_back'),
];
