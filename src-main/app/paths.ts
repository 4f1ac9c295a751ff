/**
 * A replayed program told path by path: the verifier walks a program once from its first
 * instruction, then again from every branch it left pending; each walk is a path. A flat list of
 * ownership events jumps back and forth between them (5 … 55, then 40, 52, 32, …); this tells each
 * path on its own: the branch that leads there and that path's events — the path the kernel
 * rejected first.
 *
 * Contract: `pathStories(store, runId, pr)` reads the replay's steps and the program's branch lines
 * (`from 4 to 48: …`) and instructions from the store and returns one PathStory per path that has
 * ownership events or the finding, the rejected one first, then in walk order. `fork` is null for
 * the first walk (from the program's start); else the branch instruction, its text and whether the
 * jump was taken on this path.
 */
import type { Store } from '../store/types.ts';
import type { OwnershipEvent } from '../domain/model/types.ts';
import { recordFromStored } from '../domain/log/stored-lines.ts';
import type { ProgramReplay } from './replay.ts';
import { lastAtMost } from '../lib/sorted.ts';

/** key → the values with that key, in input order. */
function indexBy<K, V>(pairs: readonly (readonly [K, V])[]): Map<K, V[]> {
  const m = new Map<K, V[]>();
  for (const [k, v] of pairs) {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  }
  return m;
}

export interface PathStory {
  index: number;
  /** The instruction the path starts at. */
  startInsn: number;
  fork: { from: number; to: number; condition: string | null; taken: boolean } | null;
  /** The path the model (and the kernel) rejected. */
  rejected: boolean;
  /** What happened before the fork, on the walks this path branched off from. */
  before: OwnershipEvent[];
  events: OwnershipEvent[];
}

export async function pathStories(store: Store, runId: number, pr: ProgramReplay): Promise<PathStory[]> {
  const p = pr.program;
  if (p.lines === 0) return [];
  const steps = await store.loadSteps(pr.replay.id);
  if (steps.length === 0) return [];
  const branches: { line: number; from: number; to: number }[] = [];
  const asm = new Map<number, string>();
  for await (const batch of store.readLines(runId, p.firstLine, p.lastLine - p.firstLine + 1)) {
    for (const l of batch) {
      const r = recordFromStored(l, p.index);
      if (r.kind === 'branch') branches.push({ line: r.line, from: r.from, to: r.to });
      else if (r.kind === 'insn' && !asm.has(r.insn)) asm.set(r.insn, r.asm);
    }
  }
  const firstStep = new Map<number, number>();
  steps.forEach((s, i) => {
    if (!firstStep.has(s.pathIndex)) firstStep.set(s.pathIndex, i);
  });
  const f = pr.replay.finding;
  const rejectedPath = f ? (steps.find((s) => s.line === f.line)?.pathIndex ?? steps.filter((s) => s.insn === f.insn).pop()?.pathIndex ?? null) : null;
  const byPath = new Map<number, OwnershipEvent[]>();
  for (const e of pr.events) {
    const k = steps[e.step]?.pathIndex ?? 0;
    const list = byPath.get(k);
    if (list) list.push(e);
    else byPath.set(k, [e]);
  }
  // Per instruction, the steps (in walk order) and the branch lines that jump to it: a path's fork
  // is a binary search, not a scan of the whole walk (a big log has a million steps, many paths).
  const stepsAt = indexBy(steps.map((s, i) => [s.insn, i] as const));
  const branchesTo = indexBy(branches.map((b) => [b.to, b] as const));
  const byIndex = new Map<number, PathStory>();
  const all: PathStory[] = [];
  for (const [index, first] of [...firstStep].sort((a, b) => a[0] - b[0])) {
    const events = byPath.get(index) ?? [];
    const start = steps[first] as (typeof steps)[number];
    let fork: PathStory['fork'] = null;
    let before: OwnershipEvent[] = [];
    if (index > 0) {
      const to = branchesTo.get(start.insn) ?? [];
      const b = to[lastAtMost(to.length, (i) => (to[i] as (typeof to)[number]).line, start.line)];
      if (b) {
        fork = { from: b.from, to: b.to, condition: asm.get(b.from) ?? null, taken: b.to !== b.from + 1 };
        // The walk it branched off: the latest earlier path that went through the branch.
        const through = stepsAt.get(b.from) ?? [];
        const at = through[lastAtMost(through.length, (i) => through[i] as number, first - 1)];
        const parent = at !== undefined ? byIndex.get((steps[at] as (typeof steps)[number]).pathIndex) : undefined;
        if (parent && at !== undefined) before = [...parent.before, ...parent.events.filter((e) => e.step <= at)];
      }
    }
    const story = { index, startInsn: start.insn, fork, rejected: index === rejectedPath, before, events };
    all.push(story);
    byIndex.set(index, story);
  }
  return all.filter((x) => x.events.length > 0 || x.rejected).sort((a, b) => Number(b.rejected) - Number(a.rejected) || a.index - b.index);
}
