/**
 * Electron entry (built to dist/electron/main.js by scripts/build-electron.ts; `npm start` runs it
 * when the Electron binary exists, else the browser host).
 *
 * Contract:
 * - hardening: sandbox for every renderer (app.enableSandbox), contextIsolation on,
 *   nodeIntegration off, webSecurity on (written literally at `new BrowserWindow`); the renderer
 *   is served from the privileged `kptrscope://app/` scheme with the strict CSP; navigation away, new windows,
 *   <webview>, permission requests and every http(s)/file request are refused;
 * - IPC: ONE channel, `kptrscope:call` — the handler checks the sender (our window's main frame on
 *   our origin) and validates the payload with the contract's zod schema (dispatch) before doing
 *   anything; events go out on `kptrscope:event`; `kptrscope:grant-path` (from the preload only)
 *   records a file the user dropped: `startIngest` opens only paths the user chose (dialog, drop,
 *   recent files — electron/path-grants.ts), never one the page names by itself;
 * - SQLite never runs in this process: the backend child process (system Node) owns the store
 *   worker and the ingest workers;
 * - native menu (File: Open…, Open Recent, Export…, Quit; View: Library, Compare), open dialog,
 *   drag and drop (the preload turns dropped Files into paths),
 *   recent files and window bounds in <userData>/kptrscope-state.json;
 * - exports: the backend renders the bytes (`renderExport`), the native save dialog asks where, and
 *   this process writes exactly that one file (`saveExport`): exports go only where the user chose.
 */
import { defaultStoreLocation, redactLocation } from '../../store/location.ts';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, screen, session, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { electronConfig } from '../../../electron.config.ts';
import type { AppEvent, ExportFile, FileRef, Handlers } from '../../contract/contract.ts';
import { dispatch } from '../../contract/dispatch.ts';
import { AppError } from '../../contract/errors.ts';
import { BackendClient } from './backend-client.ts';
import { STORE_METHODS } from '../../contract/contract.ts';
import { APP_ORIGIN, APP_SCHEME, isAppUrl, serveApp } from './app-protocol.ts';
import { buildMenu } from './menu.ts';
import { addRecent, loadState, saveState, visibleBounds, type AppState } from './window-state.ts';
import { PathGrants } from './path-grants.ts';

/** Repository root: this file runs as dist/electron/main.js. */
const ROOT = process.env.KPTRSCOPE_ROOT ?? fileURLToPath(new URL('../../', import.meta.url));
const RENDERER = join(ROOT, 'dist', 'renderer');
const PRELOAD = join(ROOT, 'dist', 'electron', 'preload.cjs');
const FEATURES = { export: true, compare: true, model: false, nativeDialogs: true };

const BTF_NAME = /\.(btf|btf\.txt|btf\.json|bpf\.o|o)$/i;

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

let win: BrowserWindow | null = null;
let backend: BackendClient | null = null;
const stateFile = () => join(app.getPath('userData'), 'kptrscope-state.json');
let state: AppState = { recent: [] };
/** Files the user chose (dialogs, drops, recent files): the only paths the page may open. */
const grants = new PathGrants();

function send(e: AppEvent): void {
  if (win && !win.isDestroyed()) win.webContents.send('kptrscope:event', e);
}

/** Only our window's top frame, on our own origin, may call. */
function assertSender(e: IpcMainInvokeEvent | IpcMainEvent): void {
  const frame = e.senderFrame;
  if (!win || e.sender !== win.webContents || !frame || frame !== win.webContents.mainFrame) throw new AppError('bad-request', 'unexpected sender');
  if (!isAppUrl(frame.url)) throw new AppError('bad-request', 'unexpected sender origin');
}

function refreshMenu(): void {
  Menu.setApplicationMenu(
    buildMenu(
      state.recent,
      {
        open: () => send({ type: 'menu', action: 'open' }),
        openRecent: (path) => void openRecent(path),
        clearRecent: () => {
          state = { ...state, recent: [] };
          saveState(stateFile(), state);
          refreshMenu();
        },
        library: () => send({ type: 'menu', action: 'library' }),
        exportDiagram: () => send({ type: 'menu', action: 'export' }),
        compare: () => send({ type: 'menu', action: 'compare' }),
      },
      FEATURES,
    ),
  );
}

function remember(log: string, btf: string[]): void {
  state = addRecent(state, log, btf);
  saveState(stateFile(), state);
  refreshMenu();
}

async function openRecent(path: string): Promise<void> {
  if (!backend) return;
  const r = state.recent.find((x) => x.path === path);
  if (!existsSync(path)) {
    dialog.showErrorBox('kptrscope', `${path} no longer exists.`);
    return;
  }
  const { jobId } = (await backend.call('startIngest', { log: { kind: 'path', path }, btf: (r?.btf ?? []).filter(existsSync).map((p) => ({ kind: 'path', path: p })) })) as {
    jobId: string;
  };
  const off = backend.onEvent((e) => {
    if ((e.type === 'ingest-done' || e.type === 'ingest-failed') && e.jobId === jobId) {
      off();
      if (e.type === 'ingest-done') send({ type: 'open-run', runId: e.runId });
    }
  });
  remember(path, r?.btf ?? []);
}

function hostHandlers(): Partial<Handlers> {
  return {
    appInfo: () => ({ host: 'electron', version: app.getVersion(), dbPath: redactLocation(dbPath()), features: FEATURES }),
    recentFiles: () => state.recent.map((r) => ({ path: r.path, openedAt: r.openedAt })),
    pickFiles: async () => {
      const opts = {
        title: 'Open a verifier log (and its BTF)',
        properties: ['openFile', 'multiSelections'] as ('openFile' | 'multiSelections')[],
        filters: [
          { name: 'Verifier logs and BTF', extensions: ['log', 'txt', 'btf', 'json', 'o'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      if (r.canceled || r.filePaths.length === 0) return null;
      for (const p of r.filePaths) grants.grant(p);
      const btf = r.filePaths.filter((p) => BTF_NAME.test(p));
      const logs = r.filePaths.filter((p) => !BTF_NAME.test(p));
      const log = logs[0];
      if (!log) return null;
      remember(log, btf);
      return { log: { kind: 'path', path: log } satisfies FileRef, btf: btf.map((p) => ({ kind: 'path', path: p }) satisfies FileRef), label: log };
    },
    saveExport: async ({ what }) => {
      if (!backend) throw new AppError('internal', 'the backend is not running');
      const file = (await backend.call('renderExport', { what })) as ExportFile;
      const ext = file.fileName.slice(file.fileName.lastIndexOf('.') + 1);
      const opts = { title: 'Export', defaultPath: join(app.getPath('documents'), file.fileName), filters: [{ name: ext.toUpperCase(), extensions: [ext] }] };
      const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
      if (r.canceled || !r.filePath) return { path: null };
      try {
        writeFileSync(r.filePath, Buffer.from(file.base64, 'base64'));
      } catch (e) {
        throw new AppError('internal', `cannot write ${r.filePath}: ${(e as Error).message}`);
      }
      return { path: r.filePath };
    },
    startIngest: async (input) => {
      if (!backend) throw new AppError('internal', 'the backend is not running');
      for (const ref of [input.log, ...input.btf]) {
        if (ref.kind === 'path' && !grants.allows(ref.path)) {
          throw new AppError('bad-request', `${ref.path} was not opened by you: use File › Open, drop it on the window, or Open Recent`);
        }
      }
      if (input.log.kind === 'path') remember(input.log.path, input.btf.flatMap((b) => (b.kind === 'path' ? [b.path] : [])));
      return (await backend.call('startIngest', input)) as { jobId: string };
    },
  };
}

/** Same default as the CLI (store/location.ts loads no database driver: this process must never
 * load SQLite, built for another ABI). */
function dbPath(): string {
  return defaultStoreLocation();
}

function harden(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

function createWindow(): BrowserWindow {
  const areas = screen.getAllDisplays().map((d) => d.workArea);
  const bounds = visibleBounds(state.bounds, areas);
  const w = new BrowserWindow({
    ...electronConfig.window,
    ...(bounds ?? {}),
    title: 'kptrscope',
    show: false,
    // Written out here, literally, so that a reader and Electronegativity see exactly what every
    // window gets (no spread from elsewhere): isolation, sandbox, no Node, web security, no
    // experimental or insecure-content features, and middle-click (auxclick) cannot open windows.
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      disableBlinkFeatures: 'Auxclick',
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: true,
      preload: PRELOAD,
    },
  });
  if (state.maximized) w.maximize();
  w.once('ready-to-show', () => w.show());
  const keep = () => {
    if (w.isDestroyed()) return;
    state = { ...state, bounds: w.getNormalBounds(), maximized: w.isMaximized() };
  };
  w.on('resize', keep);
  w.on('move', keep);
  w.on('close', () => {
    keep();
    saveState(stateFile(), state);
  });
  void w.loadURL(`${APP_ORIGIN}/index.html`);
  return w;
}

async function start(): Promise<void> {
  state = loadState(stateFile());
  for (const r of state.recent) for (const p of [r.path, ...r.btf]) grants.grant(p);
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
  // Nothing but our own scheme (and devtools) is ever fetched.
  ses.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'file://*/*'] }, (_d, cb) => cb({ cancel: true }));
  protocol.handle(APP_SCHEME, (req) => serveApp(RENDERER, req.url));
  app.on('web-contents-created', (_e, contents) => harden(contents));

  try {
    backend = await BackendClient.start(ROOT, dbPath());
  } catch (e) {
    dialog.showErrorBox('kptrscope', `Cannot open the database ${dbPath()}:\n${(e as Error).message}`);
    app.exit(1);
    return;
  }
  backend.onEvent(send);
  const b = backend;
  const forwarded: Partial<Handlers> = {};
  for (const m of STORE_METHODS) (forwarded as Record<string, (i: unknown) => Promise<unknown>>)[m] = (i: unknown) => b.call(m, i);
  const handlers: Partial<Handlers> = { ...forwarded, ...hostHandlers() };

  ipcMain.on('kptrscope:grant-path', (e, path: unknown) => {
    try {
      assertSender(e);
      if (typeof path === 'string') grants.grant(path);
      e.returnValue = true;
    } catch {
      e.returnValue = false;
    }
  });
  ipcMain.handle('kptrscope:call', async (e, method: unknown, input: unknown) => {
    try {
      assertSender(e);
      if (typeof method !== 'string') throw new AppError('bad-request', 'method must be a string');
      return { ok: true, result: await dispatch(handlers, method, input) };
    } catch (err) {
      if (!(err instanceof AppError)) console.error('kptrscope:', err);
      return { ok: false, code: err instanceof AppError ? err.code : 'internal', message: err instanceof AppError ? err.message : 'internal error' };
    }
  });

  refreshMenu();
  win = createWindow();
  win.on('closed', () => (win = null));
}

app.whenReady().then(start, (e: unknown) => {
  console.error(e);
  app.exit(1);
});
app.on('window-all-closed', () => app.quit());
app.on('before-quit', () => backend?.stop());
app.on('activate', () => {
  if (!win && backend) win = createWindow();
});
