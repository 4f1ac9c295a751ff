/**
 * Binary searches over ascending sequences — the one implementation every layer uses (log lines
 * of blocks and programs, steps of a replay, aligned step pairs). Generic helpers with no
 * dependencies: src-main/lib may be imported from anywhere and imports nothing.
 *
 * Contract: `lastAtMost(n, key, v)` is the last index i in [0, n) with key(i) <= v, or -1;
 * `lowerBound(a, x)` the first index with a[i] >= x; `upperBound(a, x)` the first with a[i] > x
 * (both a.length when there is none). Sequences must be non-decreasing.
 */

export function lastAtMost(n: number, key: (i: number) => number, v: number): number {
  let lo = 0;
  let hi = n - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(mid) <= v) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

type Sorted = ArrayLike<number>;

export function lowerBound(a: Sorted, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function upperBound(a: Sorted, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
