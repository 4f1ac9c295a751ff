/**
 * Electron main's side of the backend process (backend-process.ts): forks it with the system Node
 * (KPTRSCOPE_NODE, npm's node, or `node` on PATH) running the TypeScript sources through tsx, waits
 * for `ready`, then forwards requests and relays events. Electron's main process itself never
 * loads SQLite.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { AppEvent } from '../../contract/contract.ts';
import { AppError } from '../../contract/errors.ts';
import type { ApiErrorCode } from '../../contract/contract.ts';
import type { BackendMessage, BackendRequest } from './backend-process.ts';

export function nodeBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.KPTRSCOPE_NODE || env.npm_node_execpath || 'node';
}

export class BackendClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Set<(e: AppEvent) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: BackendMessage) => {
      if (m.type === 'event') for (const l of this.listeners) l(m.event);
      else if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result);
        else p.reject(new AppError(m.code as ApiErrorCode, m.message));
      }
    });
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new AppError('internal', 'the kptrscope backend stopped'));
      this.pending.clear();
    });
  }

  /** `repoRoot`: the checkout holding bin/run-ts.mjs and src-main (the app runs from sources). */
  static start(repoRoot: string, dbPath: string): Promise<BackendClient> {
    const entry = join(repoRoot, 'src-main', 'hosts', 'electron', 'backend-process.ts');
    const runner = join(repoRoot, 'bin', 'run-ts.mjs');
    // Electron sets these for its own Node; the system Node must not inherit them.
    const env = { ...process.env };
    delete env.ELECTRON_RUN_AS_NODE;
    delete env.NODE_OPTIONS;
    const child = fork(runner, [entry, dbPath], {
      execPath: nodeBinary(),
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const onMessage = (m: BackendMessage) => {
        if (m.type === 'ready') {
          child.off('message', onMessage);
          resolve(new BackendClient(child));
        } else if (m.type === 'fatal') {
          child.off('message', onMessage);
          reject(new Error(m.message));
        }
      };
      child.on('message', onMessage);
      child.once('error', (e) => reject(new Error(`cannot start the backend with ${nodeBinary()}: ${e.message}`)));
      child.once('exit', (code) => reject(new Error(`the backend exited (${code})`)));
    });
  }

  call(method: string, input: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, method, input } satisfies BackendRequest);
    });
  }

  onEvent(l: (e: AppEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/** The checkout this module runs from (src-main/api → repo root), also from a dist/electron bundle. */
export function repoRootFrom(moduleUrl: string, levelsUp: number): string {
  return fileURLToPath(new URL(`${'../'.repeat(levelsUp)}`, moduleUrl));
}
