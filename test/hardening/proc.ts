/** Real `kptrscope` processes for the crash-safety tests: start, watch progress, kill -9. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.ts';

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Highest progress percentage printed so far (KPTRSCOPE_PROGRESS=1), -1 before the first. */
  progress: () => number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'kptrscope.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, KPTRSCOPE_PROGRESS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let pct = -1;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const m of d.matchAll(/(\d+)%/g)) pct = Math.max(pct, Number(m[1]));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - t0 })),
  );
  return { child, stdout: () => out, stderr: () => err, progress: () => pct, exited };
}

/** Resolves once the process printed at least `pct`% (or exited: then `reached` is false). */
export async function waitForProgress(r: Running, pct: number, timeoutMs = 60_000): Promise<boolean> {
  const t0 = Date.now();
  let done = false;
  void r.exited.then(() => (done = true));
  while (!done && r.progress() < pct) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`no ${pct}% progress after ${timeoutMs} ms; stderr: ${r.stderr().slice(-300)}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  return !done && r.progress() >= pct;
}

/** stderr that carries a stack trace or an internal error (what a user must never see). */
export const STACK_TRACE = /internal error|\n\s+at \S+ \(|\n\s+at file:|Native stack trace|Fatal error|FATAL ERROR/;
