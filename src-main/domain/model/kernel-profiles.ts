/**
 * Kernel profiles: which ownership feature exists since which mainline release (reference §2.1).
 *
 * Contract: `profileFor('6.6')` gives a profile; `supports(profile, feature)` says whether a kernel of
 * that version has the feature. Rules ask before applying a feature and emit a `feature-unavailable`
 * finding naming the feature and the release when the profile is older.
 */

export type Feature =
  | 'kfunc'
  | 'kptr_xchg'
  | 'obj_new'
  | 'list'
  | 'rbtree'
  | 'non_own_ref'
  | 'refcount'
  | 'local_kptr_in_map'
  | 'percpu_obj'
  | 'local_kptr_dest'
  | 'task_kfuncs'
  | 'cgroup_kfuncs'
  | 'cpumask'
  | 'graph_peek'
  | 'qdisc'
  | 'implicit_kfuncs'
  | 'list_ops'
  | 'sched_ext';

/** Feature → [first release, human description for findings]. */
export const FEATURES: Readonly<Record<Feature, readonly [string, string]>> = {
  kfunc: ['5.13', 'kfunc calls'],
  kptr_xchg: ['5.19', 'bpf_kptr_xchg into a map-value kptr'],
  obj_new: ['6.2', 'bpf_obj_new / bpf_obj_drop local objects'],
  list: ['6.2', 'bpf_list_head / bpf_list_push / bpf_list_pop'],
  rbtree: ['6.3', 'bpf_rbtree_add / remove / first'],
  non_own_ref: ['6.3', 'non-owning references'],
  refcount: ['6.4', 'bpf_refcount_acquire'],
  local_kptr_in_map: ['6.4', 'stashing a local object into a map-value kptr'],
  percpu_obj: ['6.6', 'bpf_percpu_obj_new / per-CPU local objects'],
  local_kptr_dest: ['6.12', 'bpf_kptr_xchg into a local kptr'],
  task_kfuncs: ['6.2', 'bpf_task_acquire / bpf_task_release'],
  cgroup_kfuncs: ['6.2', 'bpf_cgroup_acquire / bpf_cgroup_release'],
  cpumask: ['6.3', 'bpf_cpumask kfuncs'],
  graph_peek: ['6.16', 'bpf_list_front/back and bpf_rbtree_root/left/right'],
  qdisc: ['6.16', 'BPF qdisc skb kfuncs'],
  // Found in the kfunc tables of Debian's 6.19.14, 7.0.13, 7.1.13 and 7.2.13 kernels (probe captures):
  implicit_kfuncs: ['7.1', 'bpf_obj_new / bpf_obj_drop / bpf_refcount_acquire / bpf_rbtree_add without _impl (implicit arguments)'],
  list_ops: ['7.2', 'bpf_list_add / bpf_list_del / bpf_list_is_first / bpf_list_is_last / bpf_list_empty'],
  sched_ext: ['6.12', 'sched_ext schedulers (struct sched_ext_ops)'],
};

export interface KernelProfile {
  name: string;
  major: number;
  minor: number;
  /** ≥ 6.13: spin locks are entries of the reference table (and show in `refs=`). */
  locksInRefs: boolean;
  /** ≥ 7.1: a branch's printed state leaves out registers that are dead there (they are cleared). */
  deadRegsUnprinted: boolean;
  /** ≥ 7.2: bpf_obj_drop in a tracing program refuses types with NMI-unsafe fields. */
  nmiUnsafeDrop: boolean;
  /** ≥ 6.19: RCU read sections nest (the verifier counts them; 6.18 refuses a nested lock). */
  rcuNesting: boolean;
}

/**
 * Every rule a profile switches, with its id, the series that introduced it and what it does: the
 * features above and the profile's behaviour flags. The matrix names one of these when a verdict
 * changes from one kernel to the next.
 */
export interface ProfileRule {
  id: string;
  since: string;
  what: string;
}

const BEHAVIOUR_RULES: readonly ProfileRule[] = [
  { id: 'locksInRefs', since: '6.13', what: 'spin locks are entries of the reference table (a lock held at exit is reported with the leaks)' },
  { id: 'rcuNesting', since: '6.19', what: 'RCU read sections nest (6.18 refuses a nested bpf_rcu_read_lock)' },
  { id: 'deadRegsUnprinted', since: '7.1', what: "a branch's printed state leaves out registers that are dead there" },
  { id: 'nmiUnsafeDrop', since: '7.2', what: 'bpf_obj_drop in a tracing program refuses a type with NMI-unsafe fields' },
];

export const PROFILE_RULES: readonly ProfileRule[] = [
  ...(Object.entries(FEATURES) as [Feature, readonly [string, string]][]).map(([id, [since, what]]) => ({ id, since, what })),
  ...BEHAVIOUR_RULES,
].sort((a, b) => compareVersions(a.since, b.since));

/** Rules whose first release is after `from` and at most `to` (both series, e.g. 6.18, 7.3). */
export function rulesBetween(from: string, to: string): ProfileRule[] {
  return PROFILE_RULES.filter((r) => !versionAtLeast(from, r.since) && versionAtLeast(to, r.since));
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = parseVersion(a);
  const [u, v] = parseVersion(b);
  return x !== u ? x - u : y - v;
}

export const NEWEST = '7.3';
export const KNOWN_PROFILES = ['6.1', '6.2', '6.3', '6.4', '6.6', '6.12', '6.13', '6.16', '6.18', '6.19', '7.0', '7.1', '7.2', '7.3'] as const;

export function parseVersion(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) throw new Error(`not a kernel version: ${v}`);
  return [Number(m[1]), Number(m[2])];
}

export function versionAtLeast(v: string, min: string): boolean {
  const [a, b] = parseVersion(v);
  const [c, d] = parseVersion(min);
  return a > c || (a === c && b >= d);
}

export function profileFor(name: string = NEWEST): KernelProfile {
  const [major, minor] = parseVersion(name);
  return {
    name: `${major}.${minor}`,
    major,
    minor,
    locksInRefs: versionAtLeast(name, '6.13'),
    deadRegsUnprinted: versionAtLeast(name, '7.1'),
    nmiUnsafeDrop: versionAtLeast(name, '7.2'),
    rcuNesting: versionAtLeast(name, '6.19'),
  };
}

export function supports(p: KernelProfile, f: Feature): boolean {
  return versionAtLeast(p.name, FEATURES[f][0]);
}

/** Plain-words reason, e.g. "bpf_kptr_xchg into a local kptr needs Linux ≥ 6.12". */
export function featureMessage(f: Feature): string {
  const [since, what] = FEATURES[f];
  return `${what} needs Linux ≥ ${since}`;
}
