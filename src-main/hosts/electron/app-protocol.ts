/**
 * The `kptrscope://app/` scheme: serves the built renderer (dist/renderer) to the Electron window
 * with the same strict CSP and Permissions-Policy as the browser host. Only files inside that
 * directory (api/app-files.ts, symlinks resolved); anything else (other hosts, `..`, missing files)
 * is 404. No remote content is ever loaded.
 */
import { readFile } from 'node:fs/promises';
import { CSP_DIRECTIVES, PERMISSIONS_POLICY } from '../csp.ts';
import { resolveAppFile } from '../app-files.ts';

export const APP_SCHEME = 'kptrscope';
export const APP_ORIGIN = `${APP_SCHEME}://app`;

/**
 * Whether `url` is a page of the app (`kptrscope://app/…`). Compares scheme and host, not
 * `URL.origin`: Node's URL parser knows only the web's special schemes and gives every other
 * scheme the origin "null".
 */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'app' && u.username === '' && u.password === '' && u.port === '';
  } catch {
    return false;
  }
}

export async function serveApp(rendererDir: string, url: string): Promise<Response> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return new Response('bad url', { status: 400 });
  }
  if (!isAppUrl(url)) return new Response('not found', { status: 404 });
  const f = resolveAppFile(rendererDir, u.pathname);
  if (!f.ok) return new Response(f.status === 400 ? 'bad path' : 'not found', { status: f.status === 400 ? 400 : 404 });
  try {
    const body = await readFile(f.file);
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': f.type,
        'Content-Security-Policy': CSP_DIRECTIVES,
        'Permissions-Policy': PERMISSIONS_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return new Response('not found', { status: 404 });
  }
}
