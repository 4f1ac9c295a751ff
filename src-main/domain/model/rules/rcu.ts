/**
 * RCU read sections: bpf_rcu_read_lock / bpf_rcu_read_unlock (kfuncs, 6.2). Up to 6.18 the kernel
 * keeps one section at a time: a second lock is "nested rcu read lock"; from 6.19 it counts them
 * (probe captures: rejected by 6.18.44, accepted by 6.19.14, 7.0.13, 7.1.13, 7.2.13; fixture
 * nested_rcu). An unlock without an open section is "unmatched rcu read unlock"; the exit of the main
 * program or a bpf_throw inside a section is refused (checked by calls.ts and exceptions.ts).
 *
 * Contract: the rules count PathState.rcu (open sections); misuse is a `context-violation` finding.
 */
import type { CallRule, ModelApi } from './types.ts';

export const RCU_RULES: readonly CallRule[] = [
  {
    name: 'bpf_rcu_read_lock',
    since: '6.2',
    apply(m: ModelApi) {
      if (m.s.rcu && !m.profile.rcuNesting && !m.s.rcuUnknown) {
        m.finding('context-violation', [], 'bpf_rcu_read_lock is called while an RCU read section is already open (nested rcu read lock; RCU sections nest only from 6.19); close it with bpf_rcu_read_unlock first');
        return undefined;
      }
      m.s.rcu = (m.s.rcu ?? 0) + 1;
      return undefined;
    },
  },
  {
    name: 'bpf_rcu_read_unlock',
    since: '6.2',
    apply(m: ModelApi) {
      if (!m.s.rcu) {
        // A path rebuilt from a printed state (the kernel prints no RCU depth) may be inside one.
        if (m.s.rcuUnknown) {
          delete m.s.rcuUnknown;
          return undefined;
        }
        m.finding('context-violation', [], 'bpf_rcu_read_unlock is called outside an RCU read section (unmatched rcu read unlock)');
        return undefined;
      }
      if (m.s.rcu > 1) m.s.rcu -= 1;
      else delete m.s.rcu;
      return undefined;
    },
  },
];
