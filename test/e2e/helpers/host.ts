/**
 * Starts `kptrscope serve --no-open` (bin/kptrscope.mjs) as a real child process on a database and
 * reads the first stdout line (`kptrscope listening on http://127.0.0.1:PORT/?token=…`); `openViaInputs`
 * opens a log and its BTF through the page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Host {
  url: string;
  base: string;
  port: number;
  token: string;
  firstLine: string;
  stderr: () => string;
  stop: () => Promise<number | null>;
  child: ChildProcess;
}

export function serveCommand(): string[] {
  return [join(REPO, 'bin', 'kptrscope.mjs'), 'serve'];
}

export async function startHost(dbPath: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Host> {
  const child = spawn(process.execPath, [...serveCommand(), '--db', dbPath, '--no-open', ...extra], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once('line', (l) => resolve(l));
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
    setTimeout(() => reject(new Error(`serve did not start in 30 s: ${err}`)), 30_000);
  });
  const url = firstLine.replace(/^kptrscope listening on /, '');
  const u = new URL(url);
  return {
    url,
    base: `${u.protocol}//${u.host}`,
    port: Number(u.port),
    token: u.searchParams.get('token') ?? '',
    firstLine,
    stderr: () => err,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

/** Call a contract method over HTTP (as the renderer does). */
export async function call<T>(h: Host, method: string, input: unknown): Promise<T> {
  const res = await fetch(`${h.base}/api/call/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Kptrscope-Token': h.token },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (!res.ok || body.error) throw new Error(`${method}: ${res.status} ${body.error?.message}`);
  return body.result as T;
}

/** Opens a log and its BTF through the page's file inputs and waits for the run view and its finding. */
export async function openViaInputs(page: Page, h: Host, log: string, btf: string, kernel?: string): Promise<void> {
  await page.goto(h.url);
  await page.getByTestId('open-file').click();
  await page.getByTestId('log-input').setInputFiles(log);
  await page.getByTestId('btf-input').setInputFiles(btf);
  if (kernel !== undefined) await page.getByLabel('Kernel release (optional)').fill(kernel);
  await page.getByTestId('ingest').click();
  await expect(page.getByTestId('run-view')).toBeVisible();
  await expect(page.getByTestId('finding')).toBeVisible();
}
