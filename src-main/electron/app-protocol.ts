/**
 * The `kptrscope://app/` scheme: serves the built renderer (dist/renderer) to the Electron window
 * with the same strict CSP and Permissions-Policy as the browser host. Only files inside that directory; anything else
 * (other hosts, `..`, missing files) is 404. No remote content is ever loaded.
 */
import { readFile } from 'node:fs/promises';
import { extname, normalize, resolve, sep } from 'node:path';
import { CSP_DIRECTIVES, PERMISSIONS_POLICY } from '../api/csp.ts';

export const APP_SCHEME = 'kptrscope';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export async function serveApp(rendererDir: string, url: string): Promise<Response> {
  const root = resolve(rendererDir);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new Response('bad url', { status: 400 });
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== 'app') return new Response('not found', { status: 404 });
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return new Response('bad path', { status: 400 });
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = resolve(root, normalize(rel).replace(/^[/\\]+/, ''));
  if (rel.includes('\0') || rel.split(/[/\\]/).includes('..') || !file.startsWith(root + sep)) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CSP_DIRECTIVES,
        'Permissions-Policy': PERMISSIONS_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return new Response('not found', { status: 404 });
  }
}
