/**
 * The branches the verifier still has to explore, as the path walk keeps them: the state of a
 * conditional jump's other side, or a callback frame's start, until the log shows that path.
 *
 * Contract: `push` queues (the oldest is dropped past MAX_SAVED, so a hostile log cannot grow it
 * without bound); `take(from, to)` removes and returns the newest entry queued at `from` for `to`
 * (or a callback entry of `from`, whose target is only known from the log), else the newest for
 * `to`; `hasCallback(from)` says whether a call at `from` queued a callback frame; `clear` when a
 * new function's verification starts.
 */
import type { PathState } from './path-state.ts';

export const MAX_SAVED = 4096;

export interface NullEnd {
  obj: number;
  from: string | null;
  insn: number;
  line: number;
}

export interface Saved {
  from: number;
  /** Undefined for a callback frame (its start is only known from the `from` line). */
  to?: number;
  state: PathState;
  /** Reference that ends when this branch is entered (the NULL branch of a check). */
  nullEnds?: NullEnd;
}

export class SavedBranches {
  private saved: Saved[] = [];

  push(sv: Saved): void {
    this.saved.push(sv);
    if (this.saved.length > MAX_SAVED) this.saved.shift();
  }

  clear(): void {
    this.saved = [];
  }

  hasCallback(from: number): boolean {
    return this.saved.some((sv) => sv.from === from && sv.to === undefined);
  }

  take(from: number | null, to: number): Saved | undefined {
    let idx = -1;
    if (from !== null) idx = this.findLast((sv) => sv.from === from && (sv.to === to || sv.to === undefined));
    if (idx < 0) idx = this.findLast((sv) => sv.to === to);
    if (idx < 0) return undefined;
    const [sv] = this.saved.splice(idx, 1);
    return sv;
  }

  private findLast(pred: (sv: Saved) => boolean): number {
    for (let i = this.saved.length - 1; i >= 0; i--) if (pred(this.saved[i] as Saved)) return i;
    return -1;
  }
}
