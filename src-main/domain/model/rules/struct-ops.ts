/**
 * struct_ops callbacks: which arguments the kernel passes referenced, which it passes borrowed,
 * and which callbacks hand a reference back by returning it.
 *
 * - bpf qdisc (6.16+, net/sched/bpf_qdisc.c): `Qdisc_ops.enqueue`'s skb is passed referenced (the
 *   kernel marks it `__ref`): the program owns it from instruction 0 (the kernel prints `refs=N` in
 *   its first state) and must drop it (`bpf_qdisc_skb_drop`, `bpf_kfree_skb`), stash it in a kptr, or
 *   — `dequeue` and `peek` return an skb — return it.
 * - sched_ext (6.12+, kernel/sched/ext.c): every callback's task is passed WITHOUT a reference:
 *   trusted for the duration of the call only. A scheduler that keeps one past the callback (a
 *   kptr stash) must take its own with `bpf_task_acquire`; stashing the argument itself is a
 *   release of a reference the program never had.
 *
 * Contract: `structOpsArgs(info)` → the referenced arguments of the callback a program implements
 * (`{type, member}` from libbpf's `struct_ops init_kern NAME: func ptr MEMBER is set to prog P`):
 * each `{ off, type, since }`, `off` the byte offset of the argument in the program's context (arg i
 * at 8·i). `borrowedArgs(info)` → the pointer arguments passed without a reference (same shape).
 * `returnsReference(info)` → the type a callback may hand back by returning it, or null.
 * `borrowedHint(info, type)` → a sentence for a finding about an unreferenced pointer of `type`
 * given where a reference is needed, when the callback takes an argument of that type borrowed
 * (`sched_ext_ops.enqueue passes its task_struct argument without a reference …`), else ''.
 * `structOpsFromArgLine(text, declared)` → the callback a raw log's program implements, read from
 * the kernel's `func 'MEMBER' argN has btf_id ID type STRUCT 'T'` line (printed on the first load
 * of a pointer argument from the context): the table entry whose member has that name and whose
 * argument N is that struct. `declared` (the struct_ops types the object's BTF declares, maybe
 * empty) narrows the choice; with no declared type the signature alone decides. null when no entry
 * or more than one matches.
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
  /** The callback's parameters: the struct a pointer points to, or null (a scalar). */
  params: (string | null)[];
  /** Indexes into params of the arguments passed referenced. */
  refs?: number[];
  /** Indexes into params of pointer arguments passed without a reference (sched_ext's tasks). */
  borrowed?: number[];
  returns?: string;
  since: string;
}

const T = 'task_struct';

const QDISC: readonly Entry[] = [
  { type: 'Qdisc_ops', member: 'enqueue', params: ['sk_buff', 'Qdisc', 'bpf_sk_buff_ptr'], refs: [0], since: '6.16' },
  { type: 'Qdisc_ops', member: 'dequeue', params: ['Qdisc'], returns: 'sk_buff', since: '6.16' },
  { type: 'Qdisc_ops', member: 'peek', params: ['Qdisc'], returns: 'sk_buff', since: '6.16' },
  { type: 'Qdisc_ops', member: 'init', params: ['Qdisc', 'nlattr', 'netlink_ext_ack'], since: '6.16' },
  { type: 'Qdisc_ops', member: 'reset', params: ['Qdisc'], since: '6.16' },
  { type: 'Qdisc_ops', member: 'destroy', params: ['Qdisc'], since: '6.16' },
];

/** sched_ext_ops callbacks that take tasks (struct sched_ext_ops, 6.12; the 7.3 layout). */
function scx(member: string, params: (string | null)[]): Entry {
  const borrowed = params.flatMap((p, i) => (p === T ? [i] : []));
  return { type: 'sched_ext_ops', member, params, borrowed, since: '6.12' };
}

const SCHED_EXT: readonly Entry[] = [
  scx('select_cpu', [T, null, null]),
  scx('enqueue', [T, null]),
  scx('dequeue', [T, null]),
  scx('dispatch', [null, T]),
  scx('tick', [T]),
  scx('runnable', [T, null]),
  scx('running', [T]),
  scx('stopping', [T, null]),
  scx('quiescent', [T, null]),
  scx('yield', [T, T]),
  scx('core_sched_before', [T, T]),
  scx('set_weight', [T, null]),
  scx('set_cpumask', [T, 'cpumask']),
  scx('init_task', [T, 'scx_init_task_args']),
  scx('exit_task', [T, 'scx_exit_task_args']),
  scx('enable', [T]),
  scx('disable', [T]),
  scx('dump_task', ['scx_dump_ctx', T]),
  scx('cgroup_prep_move', [T, 'cgroup', 'cgroup']),
  scx('cgroup_move', [T, 'cgroup', 'cgroup']),
  scx('cgroup_cancel_move', [T, 'cgroup', 'cgroup']),
  scx('exit', ['scx_exit_info']),
];

const TABLE: readonly Entry[] = [...QDISC, ...SCHED_EXT];

function entry(info: StructOpsInfo | null | undefined): Entry | undefined {
  if (!info) return undefined;
  return TABLE.find((e) => e.type === info.type && e.member === info.member);
}

function argsAt(e: Entry | undefined, which: number[] | undefined): RefArg[] {
  if (!e) return [];
  return (which ?? []).map((i) => ({ off: i * 8, type: e.params[i] as string, since: e.since }));
}

export function structOpsArgs(info: StructOpsInfo | null | undefined): RefArg[] {
  const e = entry(info);
  return argsAt(e, e?.refs);
}

export function borrowedArgs(info: StructOpsInfo | null | undefined): RefArg[] {
  const e = entry(info);
  return argsAt(e, e?.borrowed);
}

export function returnsReference(info: StructOpsInfo | null | undefined): string | null {
  return entry(info)?.returns ?? null;
}

const ARG_LINE_RE = /^func '([^']+)' arg(\d+) has btf_id \d+ type STRUCT '([^']+)'/;

export function structOpsFromArgLine(text: string, declared: readonly string[]): StructOpsInfo | null {
  const m = ARG_LINE_RE.exec(text);
  if (!m) return null;
  const member = m[1] as string;
  const idx = Number(m[2]);
  const struct = m[3] as string;
  let hits = TABLE.filter((e) => e.member === member && e.params[idx] === struct);
  if (declared.length > 0) hits = hits.filter((e) => declared.includes(e.type));
  if (hits.length !== 1) return null;
  const e = hits[0] as Entry;
  return { type: e.type, member: e.member };
}

/** How a program takes its own reference to a borrowed argument of this type. */
const ACQUIRE: Readonly<Record<string, string>> = { task_struct: 'bpf_task_acquire' };

export function borrowedHint(info: StructOpsInfo | null | undefined, type: string | undefined): string {
  if (!info || type === undefined) return '';
  const b = borrowedArgs(info).find((a) => a.type === type);
  if (!b) return '';
  const how = ACQUIRE[type];
  return `${info.type}.${info.member} passes its struct ${type} argument without a reference (trusted for the call only)${how ? `: take one with ${how} first` : ''}`;
}
