/**
 * The renderer's only way out: a `Bridge` (contract.ts) given by Electron's preload
 * (`window.kptrscope`) or, in the browser host, built here over fetch + EventSource. `makeClient`
 * turns either into the typed `Client` (one async function per contract method).
 */
import type { AppEvent, ApiErrorBody, Bridge, Client, FileRef, Method } from '../../src-main/contract/contract.ts';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

declare global {
  interface Window {
    kptrscope?: Bridge;
  }
}

export interface Transport {
  bridge: Bridge;
  kind: 'electron' | 'browser';
  /** Browser host only: send a File's bytes, get a FileRef for startIngest. */
  upload?: (file: File, onProgress: (sent: number, total: number) => void) => Promise<FileRef>;
}

function httpBridge(token: string | null): Transport {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers['X-Kptrscope-Token'] = token;
  const listeners = new Set<(e: AppEvent) => void>();
  let source: EventSource | null = null;
  const ensureEvents = () => {
    if (source) return;
    source = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    source.onmessage = (m: MessageEvent<string>) => {
      let e: AppEvent;
      try {
        e = JSON.parse(m.data) as AppEvent;
      } catch {
        return;
      }
      for (const l of listeners) l(e);
    };
  };
  const bridge: Bridge = {
    async call(method: Method, input: unknown): Promise<unknown> {
      const res = await fetch(`/api/call/${method}`, { method: 'POST', headers, body: JSON.stringify(input ?? {}), credentials: 'same-origin' });
      const body = (await res.json().catch(() => null)) as { result: unknown } | ApiErrorBody | null;
      if (!res.ok || !body || 'error' in body) {
        const err = body && 'error' in body ? body.error : { code: 'internal', message: `HTTP ${res.status}` };
        throw new ApiError(err.code, err.message);
      }
      return body.result;
    },
    onEvent(listener) {
      ensureEvents();
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const upload = (file: File, onProgress: (sent: number, total: number) => void) =>
    new Promise<FileRef>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/upload?name=${encodeURIComponent(file.name)}`);
      if (token) xhr.setRequestHeader('X-Kptrscope-Token', token);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total);
      xhr.onload = () => {
        try {
          const body = JSON.parse(xhr.responseText) as { result: FileRef } | ApiErrorBody;
          if ('error' in body) reject(new ApiError(body.error.code, body.error.message));
          else resolve(body.result);
        } catch {
          reject(new ApiError('internal', `upload failed (HTTP ${xhr.status})`));
        }
      };
      xhr.onerror = () => reject(new ApiError('internal', 'upload failed'));
      xhr.send(file);
    });
  return { bridge, kind: 'browser', upload };
}

/** The transport of this window: Electron's preload bridge, else the browser host over HTTP. */
export function connect(): Transport {
  if (window.kptrscope) return { bridge: window.kptrscope, kind: 'electron' };
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  if (token !== null || params.has('ticket')) {
    // Keep the token (or the spent one-time ticket) out of the address bar and history; the
    // host's cookie covers reloads.
    params.delete('token');
    params.delete('ticket');
    const q = params.toString();
    history.replaceState(null, '', `${location.pathname}${q ? `?${q}` : ''}${location.hash}`);
  }
  return httpBridge(token);
}

export function makeClient(bridge: Bridge): Client {
  return new Proxy({} as Client, {
    get: (_t, method: string) => (input: unknown) => bridge.call(method as Method, input),
  });
}
