/**
 * The ownership story in words: one sentence per ownership event of the model ("stashed into
 * task_node#2.task (from R2)"), as the app's lifetime list, the CLI and the exports tell it.
 *
 * Contract: `eventText(event)` is pure and never throws; unknown kinds read `<kind> from → to`.
 */
import type { OwnershipEvent } from '../model/types.ts';

export function eventText(e: OwnershipEvent): string {
  const from = e.from ?? '—';
  const to = e.to ?? '—';
  switch (e.kind) {
    case 'acquire':
      return `acquired into ${to}`;
    case 'stash':
      return `stashed into ${to} (from ${from})`;
    case 'unstash':
      return `taken out of ${from} into ${to}`;
    case 'push':
      return `pushed into ${to} (from ${from})`;
    case 'add':
      return `added to ${to} (from ${from})`;
    case 'pop':
      return `popped from ${from} into ${to}`;
    case 'remove':
      return `removed from ${from} into ${to}`;
    case 'drop':
      return `dropped (from ${from})`;
    case 'release':
      if (to === 'NULL') return `NULL on this branch (${from})`;
      // Handed over rather than freed: a struct_ops callback's return (dequeue's skb back to the kernel).
      if (e.to !== null && e.to !== 'released') return `handed to ${to} (from ${from})`;
      return `released (from ${from})`;
    case 'invalidate':
      return `invalidated in ${from}`;
    case 'leak':
      return `leaked (last held by ${from})`;
    case 'convert':
      return `became non-owning in ${from}`;
    default:
      return `${e.kind} ${from} → ${to}`;
  }
}
