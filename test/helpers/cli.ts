/** Test helper: run the real `kptrscope` command (bin/kptrscope.mjs) in a child process. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './fixtures.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function kptrscope(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'kptrscope.mjs'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningCli {
  child: import('node:child_process').ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches `re` (rejects after `ms`, or when the process ends first). */
  waitFor(re: RegExp, ms: number): Promise<void>;
  /** The process's end. */
  done: Promise<CliResult>;
}

/** `kptrscope ARGS` started in a child process (for workers, waits and faults). */
export function startKptrscope(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'kptrscope.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    for (const l of listeners) l();
  });
  const done = new Promise<CliResult>((resolve) => child.on('close', (status) => {
    for (const l of listeners) l();
    resolve({ status, stdout: out, stderr: err });
  }));
  let ended = false;
  void done.then(() => (ended = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    waitFor: (re, ms) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (re.test(err)) {
            cleanup();
            resolve();
          } else if (ended || child.exitCode !== null) {
            cleanup();
            reject(new Error(`kptrscope ${args.join(' ')} ended before ${re}: ${err.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${re} within ${ms} ms from kptrscope ${args.join(' ')}: ${err.slice(-2000)}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
  };
}
