/**
 * Rows of the log view fetched in windows of WINDOW rows (quantised like Perfetto's tracks: a
 * scroll asks for whole windows, padded by one on each side), kept in a small LRU. `version` is
 * bumped when a window arrives so the pane re-renders; a view change (program, fold) means a new
 * RowCache.
 */
import type { LogLine, LogWindow } from '../../src-main/contract/contract.ts';

export const WINDOW = 256;
const MAX_WINDOWS = 48;

export class RowCache {
  version = $state(0);
  private windows = new Map<number, LogLine[]>();
  private loading = new Set<number>();

  constructor(private readonly fetchWindow: (start: number, count: number) => Promise<LogWindow>) {}

  /** Windows already fetched (the first screen arrives with its windows). */
  seed(starts: number[], windows: LogLine[][]): void {
    starts.forEach((start, i) => {
      const w = windows[i];
      if (w && start % WINDOW === 0) this.windows.set(start / WINDOW, w);
    });
    this.version++;
  }

  get(row: number): LogLine | undefined {
    const w = this.windows.get(Math.floor(row / WINDOW));
    return w?.[row % WINDOW];
  }

  /** Make sure rows [from, to] are (being) loaded, plus one window of padding each side. */
  ensure(from: number, to: number, total: number): void {
    if (total <= 0) return;
    const first = Math.max(0, Math.floor(from / WINDOW) - 1);
    const last = Math.min(Math.floor((total - 1) / WINDOW), Math.floor(to / WINDOW) + 1);
    for (let w = first; w <= last; w++) {
      if (this.windows.has(w)) {
        const hit = this.windows.get(w) as LogLine[];
        this.windows.delete(w);
        this.windows.set(w, hit);
        continue;
      }
      if (this.loading.has(w)) continue;
      this.loading.add(w);
      void this.fetchWindow(w * WINDOW, WINDOW)
        .then((r) => {
          this.windows.set(w, r.lines);
          while (this.windows.size > MAX_WINDOWS) {
            const oldest = this.windows.keys().next().value;
            if (oldest === undefined) break;
            this.windows.delete(oldest);
          }
          this.version++;
        })
        .finally(() => this.loading.delete(w));
    }
  }
}
