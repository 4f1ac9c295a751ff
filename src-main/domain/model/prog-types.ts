/**
 * A program's type from its ELF section name, as libbpf maps it (tools/lib/bpf/libbpf.c
 * `section_defs`): `tp_btf/task_newtask` → TRACING, `kprobe/…` → KPROBE, `struct_ops/…` →
 * STRUCT_OPS, `tc` → SCHED_CLS, … The `.s` suffix marks a sleepable program.
 *
 * Contract: `progTypeOfSection(section)` is pure; null for a section libbpf would not load by name.
 * `isTracingForObjDrop(p)` is the 7.2+ verifier's test for "tracing programs" in its NMI-unsafe
 * bpf_obj_drop rule: KPROBE, TRACEPOINT, PERF_EVENT, RAW_TRACEPOINT[_WRITABLE], and TRACING
 * programs that are neither iterators nor sleepable.
 */

export interface ProgType {
  /** BPF_PROG_TYPE_ without the prefix. */
  type: string;
  sleepable: boolean;
  /** The section's prefix (`tp_btf`, `fentry`, `iter`, …). */
  prefix: string;
}

/** Section prefix → program type (longest prefixes first where they share a start). */
const PREFIXES: readonly [string, string][] = [
  ['kretprobe.multi', 'KPROBE'],
  ['kprobe.multi', 'KPROBE'],
  ['kretprobe', 'KPROBE'],
  ['kprobe', 'KPROBE'],
  ['uretprobe', 'KPROBE'],
  ['uprobe', 'KPROBE'],
  ['ksyscall', 'KPROBE'],
  ['kretsyscall', 'KPROBE'],
  ['usdt', 'KPROBE'],
  ['tracepoint', 'TRACEPOINT'],
  ['tp_btf', 'TRACING'],
  ['tp', 'TRACEPOINT'],
  ['raw_tracepoint.w', 'RAW_TRACEPOINT_WRITABLE'],
  ['raw_tp.w', 'RAW_TRACEPOINT_WRITABLE'],
  ['raw_tracepoint', 'RAW_TRACEPOINT'],
  ['raw_tp', 'RAW_TRACEPOINT'],
  ['perf_event', 'PERF_EVENT'],
  ['fentry', 'TRACING'],
  ['fexit', 'TRACING'],
  ['fmod_ret', 'TRACING'],
  ['fsession', 'TRACING'],
  ['iter', 'TRACING'],
  ['lsm_cgroup', 'LSM'],
  ['lsm', 'LSM'],
  ['struct_ops', 'STRUCT_OPS'],
  ['syscall', 'SYSCALL'],
  ['freplace', 'EXT'],
  ['socket', 'SOCKET_FILTER'],
  ['sk_reuseport', 'SK_REUSEPORT'],
  ['tcx', 'SCHED_CLS'],
  ['netkit', 'SCHED_CLS'],
  ['tc', 'SCHED_CLS'],
  ['classifier', 'SCHED_CLS'],
  ['action', 'SCHED_ACT'],
  ['xdp', 'XDP'],
  ['cgroup_skb', 'CGROUP_SKB'],
  ['cgroup/skb', 'CGROUP_SKB'],
  ['cgroup/sock_create', 'CGROUP_SOCK'],
  ['cgroup/sysctl', 'CGROUP_SYSCTL'],
  ['cgroup/dev', 'CGROUP_DEVICE'],
  ['cgroup', 'CGROUP_SOCK_ADDR'],
  ['sockops', 'SOCK_OPS'],
  ['sk_skb', 'SK_SKB'],
  ['sk_msg', 'SK_MSG'],
  ['flow_dissector', 'FLOW_DISSECTOR'],
  ['lwt_in', 'LWT_IN'],
  ['lwt_out', 'LWT_OUT'],
  ['lwt_xmit', 'LWT_XMIT'],
  ['lwt_seg6local', 'LWT_SEG6LOCAL'],
  ['sk_lookup', 'SK_LOOKUP'],
  ['netfilter', 'NETFILTER'],
];

export function progTypeOfSection(section: string | null | undefined): ProgType | null {
  if (!section) return null;
  const head = section.split('/')[0] as string;
  const sleepable = /\.s$/.test(head) || head.includes('.s+');
  const bare = head.replace(/\.s$/, '');
  for (const [prefix, type] of PREFIXES) {
    if (prefix.includes('/') ? section.startsWith(prefix) : bare === prefix) return { type, sleepable, prefix };
  }
  return null;
}

export function isTracingForObjDrop(p: ProgType | null): boolean {
  if (!p) return false;
  if (['KPROBE', 'TRACEPOINT', 'PERF_EVENT', 'RAW_TRACEPOINT', 'RAW_TRACEPOINT_WRITABLE'].includes(p.type)) return true;
  return p.type === 'TRACING' && p.prefix !== 'iter' && !p.sleepable;
}
