/**
 * bpf_local_irq_save / bpf_local_irq_restore (kfuncs, 6.14): the saved IRQ flags are an entry of the
 * kernel's reference table (printed among `refs=`), restored in LIFO order. The model keeps the
 * entry so that its reference list reads like the kernel's; the flags own no object.
 *
 * Contract: save pushes an `irq` entry (its id learnt from the next `refs=` print); restore removes
 * the newest one, and restoring with none saved is a `context-violation`.
 */
import type { CallRule } from './types.ts';

export const IRQ_RULES: readonly CallRule[] = [
  {
    name: 'bpf_local_irq_save',
    since: '6.14',
    apply(m) {
      m.s.refs.push({ id: undefined, kind: 'irq' });
      return undefined;
    },
  },
  {
    name: 'bpf_local_irq_restore',
    since: '6.14',
    apply(m) {
      let i = -1;
      for (let j = m.s.refs.length - 1; j >= 0 && i < 0; j--) if (m.s.refs[j]?.kind === 'irq') i = j;
      if (i < 0) {
        m.finding('context-violation', [], 'bpf_local_irq_restore is called with no IRQ flags saved on this path (bpf_local_irq_save is missing)');
        return undefined;
      }
      m.s.refs.splice(i, 1);
      return undefined;
    },
  },
];
