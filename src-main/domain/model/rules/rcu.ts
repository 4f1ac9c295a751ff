/**
 * RCU read sections: bpf_rcu_read_lock / bpf_rcu_read_unlock (kfuncs, 6.2). The kernel keeps one
 * section at a time: a second lock is "nested rcu read lock", an unlock without a lock "unmatched
 * rcu read unlock"; the exit of the main program or a bpf_throw inside a section is refused
 * (checked by calls.ts and exceptions.ts).
 *
 * Contract: the rules set and clear PathState.rcu; misuse is a `context-violation` finding.
 */
import type { CallRule, ModelApi } from './types.ts';

export const RCU_RULES: readonly CallRule[] = [
  {
    name: 'bpf_rcu_read_lock',
    since: '6.2',
    apply(m: ModelApi) {
      if (m.s.rcu) {
        m.finding('context-violation', [], 'bpf_rcu_read_lock is called while an RCU read section is already open (nested rcu read lock); close it with bpf_rcu_read_unlock first');
        return undefined;
      }
      m.s.rcu = true;
      return undefined;
    },
  },
  {
    name: 'bpf_rcu_read_unlock',
    since: '6.2',
    apply(m: ModelApi) {
      if (!m.s.rcu) {
        m.finding('context-violation', [], 'bpf_rcu_read_unlock is called outside an RCU read section (unmatched rcu read unlock)');
        return undefined;
      }
      delete m.s.rcu;
      return undefined;
    },
  },
];
