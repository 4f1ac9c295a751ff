/**
 * A one-line progress bar on stderr (never stdout): percentage, MB done, MB/s. Redraws at most 10×/s.
 */
export interface ProgressBar {
  update(bytes: number): void;
  done(): void;
}

export function createProgressBar(write: (s: string) => void, label: string, total: number): ProgressBar {
  const start = Date.now();
  let last = 0;
  let drawn = false;
  const name = label.length > 30 ? `…${label.slice(-29)}` : label;
  return {
    update(bytes: number) {
      const now = Date.now();
      if (now - last < 100 && bytes < total) return;
      last = now;
      const frac = total > 0 ? Math.min(1, bytes / total) : 1;
      const width = 30;
      const filled = Math.round(frac * width);
      const mb = bytes / 1e6;
      const rate = mb / Math.max(0.001, (now - start) / 1000);
      write(`\r${name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb.toFixed(0)} MB ${rate.toFixed(0)} MB/s`);
      drawn = true;
    },
    done() {
      if (drawn) write('\n');
      drawn = false;
    },
  };
}
