/**
 * Electron preload (sandboxed, context-isolated): exposes the contract's Bridge as
 * `window.kptrscope` — `call(method, input)`, `onEvent(listener)`, `pathForFile(file)` (which also
 * grants that path to the main process, electron/path-grants.ts) — and nothing else. No Node, no
 * ipcRenderer, no electron module reaches the page.
 * Built to dist/electron/preload.cjs (sandboxed preloads must be one CommonJS file).
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { AppEvent, Bridge, Method } from '../../contract/contract.ts';

type Reply = { ok: true; result: unknown } | { ok: false; code: string; message: string };

class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const bridge: Bridge = {
  async call(method: Method, input: unknown): Promise<unknown> {
    if (typeof method !== 'string') throw new BridgeError('bad-request', 'method must be a string');
    const r = (await ipcRenderer.invoke('kptrscope:call', method, input)) as Reply;
    if (!r.ok) throw new BridgeError(r.code, r.message);
    return r.result;
  },
  onEvent(listener: (e: AppEvent) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, event: AppEvent) => listener(event);
    ipcRenderer.on('kptrscope:event', wrapped);
    return () => ipcRenderer.removeListener('kptrscope:event', wrapped);
  },
  pathForFile(file: File): string {
    const path = webUtils.getPathForFile(file);
    // A real file the user dropped or picked: tell the main process it may be opened (synchronous,
    // so the grant is in place before the page's startIngest arrives). Files the page makes up
    // have no path ('') and grant nothing.
    if (path !== '') ipcRenderer.sendSync('kptrscope:grant-path', path);
    return path;
  },
};

contextBridge.exposeInMainWorld('kptrscope', bridge);
