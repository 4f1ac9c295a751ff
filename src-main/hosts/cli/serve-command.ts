/**
 * `kptrscope serve [--db <path>] [--port <n>] [--no-open]`: starts the browser host (see
 * src-main/browser-host.ts) and keeps running until SIGINT/SIGTERM.
 *
 * Contract: the FIRST stdout line is `kptrscope listening on http://127.0.0.1:PORT/?token=…`
 * (scripts and tests read it); when a display exists (DISPLAY or WAYLAND_DISPLAY) and --no-open is
 * not given, opens a Chromium `--app` window (KPTRSCOPE_BROWSER overrides the binary) on a one-time
 * ticket URL, never the token: a process's arguments are visible to every local user.
 * Builds the renderer first when it is missing. Exit status: 0 after a signal, 1 when the host
 * cannot start (database refused, port taken), 2 on usage errors.
 */
import type { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultStoreLocation } from '../../store/location.ts';
import { defaultRendererDir, startBrowserHost } from '../browser/browser-host.ts';

export interface ServeIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

function findBrowser(): string | null {
  const candidates = [process.env.KPTRSCOPE_BROWSER, 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].filter(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  for (const c of candidates) {
    if (c.includes('/')) {
      if (existsSync(c)) return c;
      continue;
    }
    const r = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', c], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return null;
}

/** Open a Chromium app window on `url` (its own profile: no extensions, no sync). */
export function openAppWindow(url: string, err: (s: string) => void): void {
  const browser = findBrowser();
  if (!browser) {
    err('kptrscope: no Chromium found; open the URL above yourself\n');
    return;
  }
  const profile = mkdtempSync(join(tmpdir(), 'kptrscope-chromium-'));
  const child = spawn(browser, [`--app=${url}`, `--user-data-dir=${profile}`, '--no-first-run', '--disable-sync', '--disable-background-networking', '--disable-component-update'], {
    detached: true,
    stdio: 'ignore',
  });
  child.on('error', (e) => err(`kptrscope: cannot start ${browser}: ${e.message}\n`));
  child.unref();
}

async function ensureRenderer(err: (s: string) => void): Promise<void> {
  if (existsSync(join(defaultRendererDir(), 'index.html'))) return;
  err('kptrscope: building the renderer (first start)…\n');
  const { buildRenderer } = await import('../../../scripts/build-renderer.ts');
  await buildRenderer({ quiet: true });
}

export function registerServeCommand(program: Command, io: ServeIo, setStatus: (code: number) => void): void {
  program
    .command('serve')
    .description('serve the kptrscope app to a local browser (127.0.0.1 only, random token per launch)')
    .option('--db <path>', 'database file or postgresql:// URL (default: $KPTRSCOPE_DB, else your data dir)')
    .option('--port <n>', 'port (default: a free one)')
    .option('--no-open', 'do not open a browser window')
    .action(async (o: { db?: string; port?: string; open: boolean }) => {
      const port = o.port === undefined ? 0 : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        io.err(`kptrscope: --port must be 0..65535, got "${o.port}"\n`);
        setStatus(2);
        return;
      }
      let host;
      try {
        await ensureRenderer(io.err);
        host = await startBrowserHost({ dbPath: o.db ?? defaultStoreLocation(), port, log: io.err });
      } catch (e) {
        io.err(`kptrscope: ${(e as Error).message}\n`);
        setStatus(1);
        return;
      }
      io.out(`kptrscope listening on ${host.url}\n`);
      const display = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
      if (o.open && display) openAppWindow(host.ticketUrl(), io.err);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void host.close().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      setStatus(0);
    });
}
