/**
 * The compare view's use cases: two runs side by side (the comparison, each program pair's step
 * alignment and both findings) and stepping both runs together.
 *
 * Contract: `CompareViews.handlers()` answers `compare` and `alignedStep`; the last comparison and
 * its alignment are cached (a compare view steps through one pair of runs).
 */
import type { Store } from '../store/types.ts';
import type { Handlers } from '../contract/contract.ts';
import { AppError } from '../contract/errors.ts';
import { lastAtMost } from '../lib/sorted.ts';
import { alignRuns, compareRuns, type Comparison } from './compare.ts';
import type { AlignedPrograms } from './compare.ts';
import { runInfo } from './library.ts';
import type { RunViews } from './run-view.ts';

interface Compared {
  key: string;
  comparison: Comparison;
  aligned: AlignedPrograms[];
}

export class CompareViews {
  private compared: Compared | null = null;

  constructor(
    private readonly store: Store,
    private readonly runs: RunViews,
  ) {}

  async comparisonOf(a: number, b: number): Promise<Compared> {
    const key = `${a}:${b}`;
    if (this.compared?.key === key) return this.compared;
    for (const r of [a, b]) if (!(await this.store.getRun(r))) throw new AppError('not-found', `no run ${r} in this database`);
    this.compared = { key, comparison: await compareRuns(this.store, a, b), aligned: await alignRuns(this.store, a, b) };
    return this.compared;
  }

  forget(): void {
    this.compared = null;
  }

  handlers(): Handlers<'compare' | 'alignedStep'> {
    return {
      compare: async ({ a, b }) => {
        const ra = await runInfo(this.store, a);
        const rb = await runInfo(this.store, b);
        if (!ra || !rb) throw new AppError('not-found', `no run ${!ra ? a : b} in this database`);
        const { comparison, aligned } = await this.comparisonOf(a, b);
        const ia = await this.runs.index(a);
        const ib = await this.runs.index(b);
        const pairs = [];
        for (const al of aligned) {
          const d = al.lines[al.divergence];
          pairs.push({
            programA: al.programA,
            programB: al.programB,
            steps: al.lines.length,
            divergence: d ? { a: d[0], b: d[1], index: al.divergence } : null,
            findings: { a: await this.runs.findingOf(ia, al.programA), b: await this.runs.findingOf(ib, al.programB) },
          });
        }
        return { comparison, runs: { a: ra, b: rb }, pairs };
      },
      alignedStep: async ({ a, b, pair, side, line, direction, at }) => {
        const al = (await this.comparisonOf(a, b)).aligned[pair];
        if (!al) throw new AppError('not-found', `the comparison of runs ${a} and ${b} has no program pair ${pair}`);
        const k = side === 'a' ? 0 : 1;
        const key = (i: number) => (al.lines[i] as [number, number])[k];
        const n = al.lines.length;
        if (n === 0) return null;
        // Start from the caller's current pair when it is still at this line, else the last pair at or
        // before the line; consecutive pairs always differ (at least one side moves).
        let i = at !== undefined && at < n && key(at) === line ? at : Math.max(0, lastAtMost(n, key, line));
        if (direction === 'next') i++;
        else if (direction === 'prev') i--;
        if (i < 0 || i >= n) return null;
        const [la, lb] = al.lines[i] as [number, number];
        return { index: i, total: n, a: la, b: lb };
      },
    };
  }
}
