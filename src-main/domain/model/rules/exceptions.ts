/**
 * BPF exceptions: bpf_throw (6.7) ends the program at once, unwinding every frame. So it is judged
 * like an exit of the whole program: not inside an RCU read section ("bpf_throw cannot be used
 * inside bpf_rcu_read_lock-ed region"), not from a callback ("cannot be called from callback
 * subprog"), and every reference still held on any frame leaks ("bpf_throw would lead to reference
 * leak"). Calling it with a lock held is refused before (calls.ts: function calls under a lock).
 *
 * Contract: the rule ends the path (nothing follows a throw on this path) and reports at most one
 * finding: `context-violation` or `leak`.
 */
import { holdersOf } from '../path-state.ts';
import { leakExplanation } from '../findings.ts';
import type { CallRule, ModelApi } from './types.ts';

export const EXCEPTION_RULES: readonly CallRule[] = [
  {
    name: 'bpf_throw',
    since: '6.7',
    apply(m: ModelApi) {
      m.endPath();
      const s = m.s;
      if (s.rcu) {
        m.finding('context-violation', [], `bpf_throw at insn ${m.insn} is inside an RCU read section: the program would end without bpf_rcu_read_unlock`);
        return undefined;
      }
      if (s.frames.some((f) => f.cb)) {
        m.finding('context-violation', [], `bpf_throw at insn ${m.insn} is called from a callback (frame ${s.cur}): a callback may not throw`);
        return undefined;
      }
      const leaked = s.refs.filter((e) => e.kind === 'ptr' && e.obj !== undefined).map((e) => e.obj as number);
      if (leaked.length === 0) return undefined;
      for (const obj of leaked) {
        m.event('leak', obj, holdersOf(s, obj).join(',') || null, null);
        m.endObject(obj, 'leak');
      }
      const texts = leaked.map((obj) => leakExplanation(m.object(obj), m.objName(obj), holdersOf(s, obj), undefined, m.insn, s.path).replace('when the program exits', 'when bpf_throw ends the program'));
      m.finding('leak', leaked, texts.join('; '));
      return undefined;
    },
  },
];
