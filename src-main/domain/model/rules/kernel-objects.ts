/**
 * Acquire/release helpers and kfuncs for kernel objects (task, cgroup, cpumask, sockets, ring
 * buffer records, qdisc skbs, files): an explicit table with the release each appeared in, plus the
 * name heuristics `*_acquire` (new reference of the argument's type) and `*_release`.
 *
 * Contract: acquire → R0 is a new owning reference (maybe NULL when the kfunc is RET_NULL);
 * release → the argument must be an owning reference at offset 0, its entry is removed and all
 * aliases die.
 */
import type { Feature } from '../kernel-profiles.ts';
import type { MReg } from '../regs.ts';
import { checkOwned } from './common.ts';
import type { CallInfo, CallRule, ModelApi } from './types.ts';

interface AcquireEntry {
  name: string;
  helper?: number;
  since: string;
  feature?: Feature;
  /** Type of R0: a struct name, or 'arg1' = the first argument's type. */
  type: string;
  maybeNull: boolean;
}

interface ReleaseEntry {
  name: string;
  helper?: number;
  since: string;
  feature?: Feature;
}

export const ACQUIRE_TABLE: readonly AcquireEntry[] = [
  { name: 'bpf_task_acquire', since: '6.2', feature: 'task_kfuncs', type: 'task_struct', maybeNull: true },
  { name: 'bpf_task_from_pid', since: '6.2', feature: 'task_kfuncs', type: 'task_struct', maybeNull: true },
  { name: 'bpf_task_from_vpid', since: '6.13', type: 'task_struct', maybeNull: true },
  { name: 'bpf_cgroup_acquire', since: '6.2', feature: 'cgroup_kfuncs', type: 'cgroup', maybeNull: true },
  { name: 'bpf_cgroup_from_id', since: '6.2', feature: 'cgroup_kfuncs', type: 'cgroup', maybeNull: true },
  { name: 'bpf_cgroup_ancestor', since: '6.2', feature: 'cgroup_kfuncs', type: 'cgroup', maybeNull: true },
  { name: 'bpf_task_get_cgroup1', since: '6.8', type: 'cgroup', maybeNull: true },
  { name: 'bpf_cpumask_create', since: '6.3', feature: 'cpumask', type: 'bpf_cpumask', maybeNull: true },
  { name: 'bpf_cpumask_acquire', since: '6.3', feature: 'cpumask', type: 'bpf_cpumask', maybeNull: false },
  { name: 'bpf_get_task_exe_file', since: '6.12', type: 'file', maybeNull: true },
  { name: 'bpf_sk_lookup_tcp', helper: 84, since: '4.20', type: 'sock', maybeNull: true },
  { name: 'bpf_sk_lookup_udp', helper: 85, since: '4.20', type: 'sock', maybeNull: true },
  { name: 'bpf_skc_lookup_tcp', helper: 99, since: '5.2', type: 'sock_common', maybeNull: true },
  { name: 'bpf_ringbuf_reserve', helper: 131, since: '5.8', type: 'mem', maybeNull: true },
];

export const RELEASE_TABLE: readonly ReleaseEntry[] = [
  { name: 'bpf_task_release', since: '6.2', feature: 'task_kfuncs' },
  { name: 'bpf_cgroup_release', since: '6.2', feature: 'cgroup_kfuncs' },
  { name: 'bpf_cpumask_release', since: '6.3', feature: 'cpumask' },
  { name: 'bpf_put_file', since: '6.12' },
  { name: 'bpf_qdisc_skb_drop', since: '6.16', feature: 'qdisc' },
  { name: 'bpf_kfree_skb', since: '6.16', feature: 'qdisc' },
  { name: 'bpf_sk_release', helper: 86, since: '4.20' },
  { name: 'bpf_ringbuf_submit', helper: 132, since: '5.8' },
  { name: 'bpf_ringbuf_discard', helper: 133, since: '5.8' },
];

function acquireRule(e: AcquireEntry): CallRule {
  const rule: CallRule = {
    name: e.name,
    since: e.since,
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (e.feature && !m.requireFeature(e.feature, e.name)) return undefined;
      const a1 = call.args[0];
      const type = e.type === 'arg1' ? (a1?.btf ?? '?') : e.type;
      const obj = m.newObject(type, e.name, false);
      m.addRef(obj);
      m.event('acquire', obj, null, 'R0');
      const r0: MReg = { k: 'ptr', base: 'ptr', btf: type, own: 'own', obj, off: 0 };
      if (e.maybeNull) {
        r0.nul = true;
        r0.ng = m.nullGroup();
      }
      return r0;
    },
  };
  if (e.helper !== undefined) rule.helper = e.helper;
  if (e.feature) rule.feature = e.feature;
  return rule;
}

function releaseRule(e: ReleaseEntry): CallRule {
  const rule: CallRule = {
    name: e.name,
    since: e.since,
    apply(m: ModelApi, call: CallInfo): MReg | undefined {
      if (e.feature && !m.requireFeature(e.feature, e.name)) return undefined;
      const obj = checkOwned(m, call.args[0], 'R1', e.name, { zeroOff: true });
      if (obj !== undefined) m.dropRef(obj, 'release', 'release', 'released');
      return undefined;
    },
  };
  if (e.helper !== undefined) rule.helper = e.helper;
  if (e.feature) rule.feature = e.feature;
  return rule;
}

export const KERNEL_OBJECT_RULES: readonly CallRule[] = [...ACQUIRE_TABLE.map(acquireRule), ...RELEASE_TABLE.map(releaseRule)];

/** Name heuristics for kfuncs missing from the tables. */
export function heuristicRule(name: string): CallRule | undefined {
  if (/_acquire$/.test(name)) return acquireRule({ name, since: '6.2', type: 'arg1', maybeNull: true });
  if (/_release$/.test(name)) return releaseRule({ name, since: '6.2' });
  return undefined;
}
