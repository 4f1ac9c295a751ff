/**
 * Failpoints: named places where a fault-injection test can make a process pause, so that it can
 * be killed or have its database connection cut at a known moment (test/fleet/faults.test.ts).
 *
 * Contract: `failpoint(name)` resolves at once unless `$KPTRSCOPE_FAILPOINTS` names it —
 * `name=<ms>` pauses every time, `name=<ms>x<n>` the first n times in this process (comma-separated
 * for several). `failpointArmed(name)` says whether it would pause now; the pause is announced on
 * stderr (`failpoint NAME: pausing N ms`), which is what a test waits for. Never set in normal use.
 */
const hits = new Map<string, number>();

function spec(name: string, env: NodeJS.ProcessEnv = process.env): { ms: number; times: number } | null {
  for (const part of (env.KPTRSCOPE_FAILPOINTS ?? '').split(',')) {
    const m = /^\s*([\w-]+)=(\d{1,7})(?:x(\d{1,4}))?\s*$/.exec(part);
    if (m && m[1] === name) return { ms: Number(m[2]), times: m[3] === undefined ? Infinity : Number(m[3]) };
  }
  return null;
}

export function failpointArmed(name: string): boolean {
  const s = spec(name);
  return s !== null && (hits.get(name) ?? 0) < s.times;
}

export async function failpoint(name: string): Promise<void> {
  const s = spec(name);
  if (s === null) return;
  const n = hits.get(name) ?? 0;
  if (n >= s.times) return;
  hits.set(name, n + 1);
  process.stderr.write(`failpoint ${name}: pausing ${s.ms} ms\n`);
  await new Promise((r) => setTimeout(r, s.ms));
}
