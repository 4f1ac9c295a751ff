/**
 * BPF exceptions: bpf_throw (6.7) ends the program at once, unwinding every frame. So it is judged
 * like the exit of the main program (calls.ts checkMainExit: not inside an RCU read section — "bpf_throw
 * cannot be used inside bpf_rcu_read_lock-ed region" —, and every reference still held on any frame
 * leaks: "bpf_throw would lead to reference leak"), and besides not from a callback ("cannot be
 * called from callback subprog"). Calling it with a lock held is refused before (calls.ts: function
 * calls under a lock).
 *
 * Contract: the rule ends the path (nothing follows a throw on it); from a callback it is a
 * `context-violation`, else the exit judgment reports what it finds.
 */
import type { CallRule, ModelApi } from './types.ts';

export const EXCEPTION_RULES: readonly CallRule[] = [
  {
    name: 'bpf_throw',
    since: '6.7',
    apply(m: ModelApi) {
      if (m.s.frames.some((f) => f.cb)) {
        m.finding('context-violation', [], `bpf_throw at insn ${m.insn} is called from a callback (frame ${m.s.cur}): a callback may not throw`);
        m.endPath();
      } else {
        m.endPath('bpf_throw ends the program');
      }
      return undefined;
    },
  },
];
