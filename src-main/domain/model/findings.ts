/**
 * Plain-words explanations for findings (leaks in particular: who still owns the object, or who
 * held it last, on which path, and how to fix it).
 *
 * Contract: pure string builders; no model state is changed here.
 */
import type { ModelObject } from './types.ts';

const RELEASE_HINT: Record<string, string> = {
  task_struct: 'bpf_task_release',
  cgroup: 'bpf_cgroup_release',
  bpf_cpumask: 'bpf_cpumask_release',
  sock: 'bpf_sk_release',
  sock_common: 'bpf_sk_release',
  file: 'bpf_put_file',
  sk_buff: 'bpf_qdisc_skb_drop',
};

export function fixHint(o: ModelObject | undefined): string {
  if (o === undefined) return 'release it before the exit';
  if (o.local) return 'release it with bpf_obj_drop or hand it to a list, rbtree or kptr';
  const rel = RELEASE_HINT[o.type] ?? 'its release kfunc';
  return `release it with ${rel} or stash it in a kptr with bpf_kptr_xchg`;
}

export function originText(o: ModelObject | undefined): string {
  if (o === undefined) return 'an object';
  const verb = o.local && o.origin.startsWith('bpf_obj_new') ? 'allocated' : 'acquired';
  return `${o.type} ${verb} by ${o.origin} at insn ${o.allocInsn}${o.refId !== undefined ? ` (ref ${o.refId})` : ''}`;
}

export function leakExplanation(
  o: ModelObject | undefined,
  _name: string,
  current: string[],
  last: { holders: string[]; insn: number; lostAt?: number } | undefined,
  exitInsn: number,
  path: number[],
  how = 'the program exits',
): string {
  const where =
    current.length > 0
      ? `is still owned by ${current.join(', ')}`
      : last
        ? `is no longer held by any register (last held by ${last.holders.join(', ')}, overwritten at insn ${last.lostAt ?? last.insn})`
        : 'is held by nothing';
  return `${originText(o)} ${where} when ${how} at insn ${exitInsn} (path ${path.join('→')}); ${fixHint(o)}`;
}
