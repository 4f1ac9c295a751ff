/**
 * struct_ops callbacks whose arguments the kernel passes referenced, and callbacks whose returned
 * pointer hands a reference back to the kernel (bpf qdisc, 6.16+: net/sched/bpf_qdisc.c marks
 * `Qdisc_ops.enqueue`'s skb `__ref`; `dequeue` returns the skb it takes off the queue). sched_ext
 * passes tasks without a reference (a scheduler must bpf_task_acquire one before stashing it), so it
 * has no entry here.
 *
 * Contract: `structOpsArgs(info)` → the referenced arguments of the callback a program implements
 * (`{type, member}` from libbpf's `struct_ops init_kern NAME: func ptr MEMBER is set to prog P`):
 * each `{ off, type, since }`, `off` the byte offset of the argument in the program's context (arg i
 * at 8·i). The program owns each from instruction 0 (the kernel prints `refs=N` in its first state)
 * and must release it (`bpf_qdisc_skb_drop`, `bpf_kfree_skb`), stash it in a kptr, or — for a
 * callback returning that type — return it. `returnsReference(info)` → the type a callback may hand
 * back by returning it, or null.
 */

export interface StructOpsInfo {
  /** The struct_ops type (`Qdisc_ops`). */
  type: string;
  /** The member the program is the callback of (`enqueue`). */
  member: string;
}

export interface RefArg {
  off: number;
  type: string;
  since: string;
}

interface Entry {
  type: string;
  member: string;
  args?: { index: number; type: string }[];
  returns?: string;
  since: string;
}

const TABLE: readonly Entry[] = [
  { type: 'Qdisc_ops', member: 'enqueue', args: [{ index: 0, type: 'sk_buff' }], since: '6.16' },
  { type: 'Qdisc_ops', member: 'dequeue', returns: 'sk_buff', since: '6.16' },
  { type: 'Qdisc_ops', member: 'peek', returns: 'sk_buff', since: '6.16' },
];

function entry(info: StructOpsInfo | null | undefined): Entry | undefined {
  if (!info) return undefined;
  return TABLE.find((e) => e.type === info.type && e.member === info.member);
}

export function structOpsArgs(info: StructOpsInfo | null | undefined): RefArg[] {
  const e = entry(info);
  return (e?.args ?? []).map((a) => ({ off: a.index * 8, type: a.type, since: e?.since ?? '' }));
}

export function returnsReference(info: StructOpsInfo | null | undefined): string | null {
  return entry(info)?.returns ?? null;
}
