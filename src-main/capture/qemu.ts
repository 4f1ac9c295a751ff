/**
 * Runs one guest under qemu-system-x86_64 and streams its data port.
 *
 * Contract: `qemuArgs(opts)` is pure (the exact command line). `runGuest(opts)` starts QEMU with the
 * kernel console (ttyS0) going to `opts.consoleLog` and the data port (ttyS1) on QEMU's stdout, feeds
 * every stdout chunk to `opts.onData`, and resolves when QEMU exits, with how it ended: `exited`
 * (the guest powered off), `timeout` (killed after `opts.timeoutMs`), `no-hello` (killed because no
 * byte came on the data port within `opts.helloTimeoutMs`: used to give up on a KVM that hangs),
 * `aborted` (opts.signal fired: SIGINT/SIGTERM) or `failed` (QEMU could not start or died on its own
 * with a non-zero status; `stderr` says why). In every case QEMU is no longer running when the
 * promise resolves: it is sent SIGTERM, then SIGKILL after 2 s. Every live QEMU is also tracked so
 * that `killAllGuests()` (called from the CLI's exit and signal handlers) can end them synchronously.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export type Accel = 'kvm' | 'tcg';

export interface GuestOptions {
  qemu: string;
  kernel: string;
  initrd: string;
  append: string;
  accel: Accel;
  memoryMb: number;
  consoleLog: string;
  pidFile?: string;
  timeoutMs: number;
  helloTimeoutMs?: number;
  onData: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export type GuestEnd = 'exited' | 'timeout' | 'no-hello' | 'aborted' | 'failed';

export interface GuestResult {
  end: GuestEnd;
  exitCode: number | null;
  exitSignal: string | null;
  stderr: string;
  ms: number;
  pid: number | undefined;
}

export const DEFAULT_APPEND = 'console=ttyS0 panic=-1 quiet loglevel=4 nokaslr';

export function qemuArgs(o: Pick<GuestOptions, 'kernel' | 'initrd' | 'append' | 'accel' | 'memoryMb' | 'consoleLog' | 'pidFile'>): string[] {
  const args = [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-machine',
    o.accel === 'kvm' ? 'pc,accel=kvm' : 'pc,accel=tcg',
    '-cpu',
    o.accel === 'kvm' ? 'host' : 'max',
    '-smp',
    '1',
    '-m',
    String(o.memoryMb),
    '-kernel',
    o.kernel,
    '-initrd',
    o.initrd,
    '-append',
    o.append,
    '-chardev',
    `file,id=console,path=${o.consoleLog}`,
    '-serial',
    'chardev:console',
    '-chardev',
    'stdio,id=data,signal=off',
    '-serial',
    'chardev:data',
    '-monitor',
    'none',
  ];
  if (o.pidFile) args.push('-pidfile', o.pidFile);
  return args;
}

const live = new Set<ChildProcess>();

/** Ends every running guest now (SIGKILL). Safe to call from an `exit` handler. */
export function killAllGuests(): number {
  let n = 0;
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
        n++;
      } catch {
        /* already gone */
      }
    }
  }
  return n;
}

export function liveGuestCount(): number {
  return live.size;
}

export function runGuest(o: GuestOptions): Promise<GuestResult> {
  const start = Date.now();
  // Create/truncate the console log before QEMU opens it (QEMU appends otherwise on some versions).
  closeSync(openSync(o.consoleLog, 'w'));
  return new Promise((resolvePromise) => {
    let end: GuestEnd | null = null;
    let stderr = '';
    let gotData = false;
    const child = spawn(o.qemu, qemuArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    const stop = (why: GuestEnd) => {
      if (end === null) end = why;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const k = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, 2000);
      k.unref();
    };
    const timer = setTimeout(() => stop('timeout'), o.timeoutMs);
    const helloTimer = o.helloTimeoutMs !== undefined ? setTimeout(() => !gotData && stop('no-hello'), o.helloTimeoutMs) : null;
    const onAbort = () => stop('aborted');
    if (o.signal) {
      if (o.signal.aborted) onAbort();
      else o.signal.addEventListener('abort', onAbort, { once: true });
    }
    child.stdout.on('data', (b: Buffer) => {
      gotData = true;
      o.onData(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += b.toString('utf8');
    });
    let settled = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (helloTimer) clearTimeout(helloTimer);
      o.signal?.removeEventListener('abort', onAbort);
      live.delete(child);
      if (spawnError) stderr += spawnError.message;
      const e: GuestEnd = end ?? (spawnError || code !== 0 ? 'failed' : 'exited');
      resolvePromise({ end: e, exitCode: code, exitSignal: sig, stderr, ms: Date.now() - start, pid: child.pid });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, sig) => finish(code, sig));
  });
}
