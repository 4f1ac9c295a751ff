/**
 * The desktop app under Playwright's Electron driver — runs only where the Electron binary is
 * installed (this CI installs with ELECTRON_SKIP_BINARY_DOWNLOAD, so it reports itself skipped).
 * Checks the window's hardening (context isolation, no Node, sandbox, window.open refused), that
 * the preload exposes only the contract bridge, that IPC validates payloads, that the page opens
 * only files the user chose, and a real ingest → finding through the UI.
 */
import { test, expect, _electron, type ElectronApplication } from '@playwright/test';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './helpers/host.ts';

function electronBinary(): string | null {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

const ELECTRON = electronBinary();
if (ELECTRON === null) process.stderr.write('electron.spec: no Electron binary (ELECTRON_SKIP_BINARY_DOWNLOAD) — the Electron launch test is SKIPPED\n');

test.describe('electron', () => {
  test.skip(ELECTRON === null, 'SKIPPED: the Electron binary is not installed here (ELECTRON_SKIP_BINARY_DOWNLOAD); the browser-host suite covers the app');

  let app: ElectronApplication;

  test.beforeAll(async () => {
    const { buildRenderer, rendererIsStale } = await import('../../scripts/build-renderer.ts');
    const { buildElectron } = await import('../../scripts/build-electron.ts');
    if (rendererIsStale()) await buildRenderer({ quiet: true });
    await buildElectron();
    const dir = mkdtempSync(join(tmpdir(), 'kptrscope-electron-'));
    app = await _electron.launch({
      executablePath: ELECTRON as string,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), join(REPO, 'dist', 'electron', 'main.js')],
      env: { ...process.env, KPTRSCOPE_DB: join(dir, 'e.db'), KPTRSCOPE_NODE: process.execPath, XDG_CONFIG_HOME: dir },
    });
  });

  test.afterAll(async () => {
    await app?.close();
  });

  test('hardened window, bridge only, validated IPC, open a log', async () => {
    const win = await app.firstWindow();
    await expect(win.getByText('Library')).toBeVisible();
    // From the page: no Node globals, exactly the contract bridge (context isolation: the page's
    // world never sees ipcRenderer), permission requests denied by the session's handlers.
    expect(await win.evaluate(() => typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer)).toBe('undefined');
    expect(await win.evaluate(() => navigator.permissions.query({ name: 'geolocation' }).then((p) => p.state))).toBe('denied');
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await win.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await win.evaluate(() => Object.keys((window as unknown as { kptrscope: object }).kptrscope).sort())).toEqual(['call', 'onEvent', 'pathForFile']);
    expect(await win.evaluate(() => window.open('https://example.com') === null)).toBe(true);
    const bad = await win.evaluate(() => (window as unknown as { kptrscope: { call: (m: string, i: unknown) => Promise<unknown> } }).kptrscope.call('getRun', { runId: 'x' }).then(() => 'accepted', (e: Error) => e.message));
    expect(bad).toMatch(/getRun/);
    const log = join(REPO, 'test', 'fixtures', 'logs', '6.18', 'use_after_unlock.bpftool.log');
    const btf = join(REPO, 'test', 'fixtures', 'logs', '6.18', 'use_after_unlock.btf.txt');
    type Call = { kptrscope: { call: (m: string, i: unknown) => Promise<unknown> } };
    // The page cannot open a path by naming it: only files the user chose.
    const named = await win.evaluate(
      ([l, b]) => (window as unknown as Call).kptrscope.call('startIngest', { log: { kind: 'path', path: l }, btf: [{ kind: 'path', path: b }] }).then(() => 'accepted', (e: Error) => e.message),
      [log, btf],
    );
    expect(named).toMatch(/was not opened by you/);
    // Chosen in the open dialog (stubbed in the main process): then it opens.
    await app.evaluate(({ dialog }, paths) => {
      dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: paths })) as typeof dialog.showOpenDialog;
    }, [log, btf]);
    await win.evaluate(async () => {
      const k = (window as unknown as Call).kptrscope;
      const picked = (await k.call('pickFiles', {})) as { log: unknown; btf: unknown[] };
      await k.call('startIngest', { log: picked.log, btf: picked.btf });
    });
    await expect(win.getByRole('button', { name: 'use_after_unlock.bpftool.log' })).toBeVisible();
    await win.getByRole('button', { name: 'use_after_unlock.bpftool.log' }).click();
    await expect(win.getByTestId('finding')).toContainText('The kernel rejected fire_first');
    await win.screenshot({ path: join(REPO, 'test-results', 'e2e', 'electron-run-view.png') });
  });

  test('no navigation away, no remote fetch, exports only where the save dialog says', async () => {
    const win = await app.firstWindow();
    const before = win.url();
    await win.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await win.waitForTimeout(500);
    expect(win.url()).toBe(before);
    expect(await win.evaluate(() => fetch('https://example.com/').then(() => 'fetched', (e: Error) => e.name))).toBe('TypeError');
    // The save dialog (stubbed in the main process) answers a path; main writes exactly that file.
    const out = mkdtempSync(join(tmpdir(), 'kptrscope-electron-export-'));
    const target = join(out, 'chosen.svg');
    await app.evaluate(({ dialog }, p) => {
      dialog.showSaveDialog = (async () => ({ canceled: false, filePath: p })) as typeof dialog.showSaveDialog;
    }, target);
    const call = (m: string, i: unknown) => win.evaluate(([mm, ii]) => (window as unknown as { kptrscope: { call: (m: string, i: unknown) => Promise<unknown> } }).kptrscope.call(mm as string, ii), [m, i] as const);
    const runs = (await call('listRuns', {})) as { id: number }[];
    const runId = runs[0]?.id ?? 0;
    const saved = (await call('saveExport', { what: { kind: 'graph', runId, program: 0, line: 1, format: 'svg' } })) as { path: string | null };
    expect(saved.path).toBe(target);
    expect(readdirSync(out)).toEqual(['chosen.svg']);
    expect(readFileSync(target, 'utf8')).toMatch(/^<\?xml|^<svg/);
    // Cancelled: nothing written; a path from the page is not even part of the request.
    await app.evaluate(({ dialog }) => {
      dialog.showSaveDialog = (async () => ({ canceled: true, filePath: '' })) as typeof dialog.showSaveDialog;
    });
    expect(await call('saveExport', { what: { kind: 'graph', runId, program: 0, line: 1, format: 'svg' } })).toEqual({ path: null });
    expect(await call('saveExport', { what: { kind: 'graph', runId, program: 0, line: 1, format: 'svg' }, path: '/tmp/x.svg' }).then(() => 'accepted', (e: Error) => e.message)).not.toBe('accepted');
    expect(readdirSync(out)).toEqual(['chosen.svg']);
  });
});
