/**
 * The library's rows: stored runs filtered (text, verdict, kernel, finding kind), grouped by the
 * program object they are of (the same object captured on several kernels is one group, its runs
 * in kernel-release order) and the groups sorted by the chosen column. Pure: no DOM, no client.
 *
 * Verdicts are strings from the host: any verdict shows (an unknown one sorts after the known
 * problems and before 'accepted', and gets the neutral badge `verdictClass` names).
 */
import type { ProgramInfo, RunInfo } from '../../../src-main/contract/contract.ts';

export type SortKey = 'object' | 'source' | 'kernel' | 'programs' | 'verdict' | 'insns' | 'date';

/** Worst first: what the kernel refused, what cannot be read, what was never tried, then the good news. */
export const VERDICT_ORDER: readonly string[] = ['rejected', 'truncated', 'not-loaded', 'unsupported', 'unknown', 'accepted'];

/** Sort position of a verdict (an unknown string: after the known problems, before 'accepted'). */
export function verdictRank(v: string): number {
  const i = VERDICT_ORDER.indexOf(v);
  return i >= 0 ? i : VERDICT_ORDER.length - 1.5;
}

/** CSS class of a verdict badge: the known ones by name, anything else the neutral style. */
export function verdictClass(v: string): string {
  return VERDICT_ORDER.includes(v) ? `v-${v}` : 'v-other';
}

export const NO_KERNEL = '(none)';
export const NO_FINDING = '(none)';

export interface Filters {
  text: string;
  /** '' any; else a verdict one of the run's programs has. */
  verdict: string;
  /** '' any; NO_KERNEL: runs without a named kernel; else the run's kernel release. */
  kernel: string;
  /** '' any; NO_FINDING: runs none of whose programs has a finding; else a finding kind. */
  kind: string;
}

export interface Group {
  object: string;
  runs: RunInfo[];
}

export function objectName(r: RunInfo): string {
  return r.object ?? r.sourceName;
}

export function insns(r: RunInfo): number {
  return r.programs.reduce((s, p) => s + (p.insnsProcessed ?? 0), 0);
}

/** The run's programs, worst verdict first (ties: log order). */
export function byVerdict(r: RunInfo): ProgramInfo[] {
  return [...r.programs].sort((a, b) => verdictRank(a.verdict) - verdictRank(b.verdict) || a.index - b.index);
}

export function worst(r: RunInfo): string {
  return byVerdict(r)[0]?.verdict ?? 'unknown';
}

/** The program a run opens on: its worst one that has a log of its own (null: the run's default). */
export function primaryProgram(r: RunInfo): number | null {
  return byVerdict(r).find((p) => p.lines > 0)?.index ?? null;
}

/** A kernel release as numbers for ordering (`6.12.118+deb13-amd64` → [6, 12, 118]); none sorts last. */
export function kernelKey(k: string | null): number[] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(k ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [Number.POSITIVE_INFINITY, 0, 0];
}

/** The short release a kernel chip shows (`6.12.118+deb13-amd64` → 6.12). */
export function kernelShort(k: string | null): string {
  const m = /^(\d+\.\d+)/.exec(k ?? '');
  return m ? (m[1] as string) : (k ?? '?');
}

export function compareKernels(a: string | null, b: string | null): number {
  const x = kernelKey(a);
  const y = kernelKey(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
  return (a ?? '').localeCompare(b ?? '');
}

export function findingLabel(kind: string): string {
  return kind.replace(/-/g, ' ');
}

export function matches(r: RunInfo, f: Filters): boolean {
  const q = f.text.trim().toLowerCase();
  if (
    q !== '' &&
    !(
      r.sourceName.toLowerCase().includes(q) ||
      objectName(r).toLowerCase().includes(q) ||
      (r.kernel ?? '').toLowerCase().includes(q) ||
      r.programs.some((p) => p.name.toLowerCase().includes(q) || p.verdict.includes(q) || (p.findingKind ?? '').includes(q))
    )
  )
    return false;
  if (f.verdict !== '' && !r.programs.some((p) => p.verdict === f.verdict)) return false;
  if (f.kernel !== '' && (f.kernel === NO_KERNEL ? r.kernel !== null : r.kernel !== f.kernel)) return false;
  if (f.kind !== '') {
    if (f.kind === NO_FINDING ? r.programs.some((p) => p.findingKind) : !r.programs.some((p) => p.findingKind === f.kind)) return false;
  }
  return true;
}

type Key = string | number | number[];

function runKey(r: RunInfo, k: SortKey): Key {
  switch (k) {
    case 'object':
      return objectName(r).toLowerCase();
    case 'source':
      return r.sourceName.toLowerCase();
    case 'kernel':
      return kernelKey(r.kernel);
    case 'programs':
      return r.programs.length;
    case 'verdict':
      return verdictRank(worst(r));
    case 'insns':
      return insns(r);
    case 'date':
      return r.createdAt;
  }
}

function cmp(a: Key, b: Key): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i] ?? 0;
      const y = b[i] ?? 0;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The runs that pass the filters, grouped by object; groups ordered by the sort column (a group
 * sorts by its best run for that order: the largest when descending, the smallest ascending), the
 * runs of a group by kernel release, then by id.
 */
export function groupRuns(runs: readonly RunInfo[], f: Filters, sortKey: SortKey, sortDesc: boolean): Group[] {
  const byObject = new Map<string, RunInfo[]>();
  for (const r of runs) {
    if (!matches(r, f)) continue;
    const o = objectName(r);
    const list = byObject.get(o);
    if (list) list.push(r);
    else byObject.set(o, [r]);
  }
  const groups = [...byObject].map(([object, rs]) => ({
    object,
    runs: rs.sort((a, b) => compareKernels(a.kernel, b.kernel) || a.id - b.id),
  }));
  const groupKey = (g: Group): Key => {
    const keys = g.runs.map((r) => runKey(r, sortKey));
    return keys.reduce((best, k) => (sortDesc ? (cmp(k, best) > 0 ? k : best) : cmp(k, best) < 0 ? k : best));
  };
  const keyed = groups.map((g) => ({ g, k: groupKey(g) }));
  keyed.sort((a, b) => {
    const c = cmp(a.k, b.k) || a.g.object.localeCompare(b.g.object);
    return sortDesc ? -c : c;
  });
  return keyed.map((x) => x.g);
}

/** The distinct values the filters offer, from the stored runs. */
export function filterOptions(runs: readonly RunInfo[]): { verdicts: string[]; kernels: string[]; kinds: string[]; noKernel: boolean; noFinding: boolean } {
  const verdicts = new Set<string>();
  const kernels = new Set<string>();
  const kinds = new Set<string>();
  let noKernel = false;
  let noFinding = false;
  for (const r of runs) {
    if (r.kernel === null) noKernel = true;
    else kernels.add(r.kernel);
    if (!r.programs.some((p) => p.findingKind)) noFinding = true;
    for (const p of r.programs) {
      verdicts.add(p.verdict);
      if (p.findingKind) kinds.add(p.findingKind);
    }
  }
  return {
    verdicts: [...verdicts].sort((a, b) => verdictRank(a) - verdictRank(b) || a.localeCompare(b)),
    kernels: [...kernels].sort(compareKernels),
    kinds: [...kinds].sort(),
    noKernel,
    noFinding,
  };
}
