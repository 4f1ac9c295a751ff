/**
 * Which file of the built renderer (dist/renderer) a URL path names — the one rule both hosts use
 * (the browser host's static route and Electron's `kptrscope://app/` protocol).
 *
 * Contract: `resolveAppFile(rootDir, urlPath)` percent-decodes the path once, maps `/` to
 * `/index.html`, and answers
 * - `{ ok: true, file, type }`: a regular file inside `rootDir` after resolving symlinks, with
 *   its Content-Type;
 * - `{ ok: false, status: 400 }`: undecodable percent-encoding;
 * - `{ ok: false, status: 403 }`: a NUL byte, a `..` segment (with `/` or `\`), or a path whose
 *   real location is outside `rootDir` (a symlink leading out);
 * - `{ ok: false, status: 404 }`: nothing there, or not a regular file.
 * Nothing is read; the caller streams `file`.
 */
import { realpathSync, statSync } from 'node:fs';
import { extname, normalize, resolve, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export type AppFile = { ok: true; file: string; type: string; size: number } | { ok: false; status: 400 | 403 | 404 };

export function resolveAppFile(rootDir: string, urlPath: string): AppFile {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return { ok: false, status: 400 };
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  if (rel.includes('\0') || rel.split(/[/\\]/).includes('..')) return { ok: false, status: 403 };
  const root = resolve(rootDir);
  const file = resolve(root, normalize(rel).replace(/^[/\\]+/, ''));
  if (!file.startsWith(root + sep)) return { ok: false, status: 403 };
  let real: string;
  let realRoot: string;
  try {
    real = realpathSync(file);
    realRoot = realpathSync(root);
  } catch {
    return { ok: false, status: 404 };
  }
  if (!real.startsWith(realRoot + sep)) return { ok: false, status: 403 };
  const st = statSync(real);
  if (!st.isFile()) return { ok: false, status: 404 };
  return { ok: true, file: real, type: MIME[extname(real)] ?? 'application/octet-stream', size: st.size };
}
