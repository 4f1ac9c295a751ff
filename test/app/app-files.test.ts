/**
 * The one rule both hosts use to serve the built renderer (src-main/api/app-files.ts), and
 * Electron's `kptrscope://app/` protocol handler built on it (serveApp: pure, no Electron needed):
 * only regular files inside the renderer directory, in every spelling of `..`, encoded separators,
 * NUL, and symlinks that lead out; the protocol's responses carry the CSP and Permissions-Policy.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAppFile } from '../../src-main/hosts/app-files.ts';
import { isAppUrl, serveApp } from '../../src-main/hosts/electron/app-protocol.ts';
import { CSP_DIRECTIVES, PERMISSIONS_POLICY } from '../../src-main/hosts/csp.ts';

let root: string;
let outside: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'kptrscope-appfiles-'));
  root = join(dir, 'renderer');
  outside = join(dir, 'secret.txt');
  mkdirSync(join(root, 'assets', 'sub'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'assets', 'a.js'), 'export {};');
  writeFileSync(outside, 'secret');
  symlinkSync(outside, join(root, 'assets', 'out.txt'));
  symlinkSync(join(dir), join(root, 'assets', 'up'));
  symlinkSync(join(root, 'assets', 'a.js'), join(root, 'assets', 'in.js'));
});

const TRAVERSALS = [
  '/../secret.txt',
  '/assets/../../secret.txt',
  '/..%2fsecret.txt',
  '/assets/..%2f..%2fsecret.txt',
  '/%2e%2e/secret.txt',
  '/.%2e/secret.txt',
  '/..%5csecret.txt',
  '/assets/..\\..\\secret.txt',
  '/assets/%00a.js',
  '/assets/a.js%00.html',
  '/assets/out.txt',
  '/assets/up/secret.txt',
];

describe('resolveAppFile', () => {
  it('serves the page, its assets and symlinks that stay inside', () => {
    for (const [p, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/assets/a.js', 'text/javascript; charset=utf-8'],
      ['/assets/in.js', 'text/javascript; charset=utf-8'],
      ['//assets//a.js', 'text/javascript; charset=utf-8'],
    ] as const) {
      const f = resolveAppFile(root, p);
      expect(f, p).toMatchObject({ ok: true, type });
    }
  });

  it('refuses every way out of the directory: 403; nothing there or a directory: 404; bad encoding: 400', () => {
    for (const p of TRAVERSALS) expect(resolveAppFile(root, p), p).toEqual({ ok: false, status: 403 });
    for (const p of ['/missing.js', '/assets', '/assets/sub', '/%252e%252e/secret.txt', '/assets/%c0%ae%c0%ae/secret.txt']) {
      expect(resolveAppFile(root, p).ok, p).toBe(false);
    }
    expect(resolveAppFile(root, '/assets/sub')).toEqual({ ok: false, status: 404 });
    expect(resolveAppFile(root, '/%E0%A4%A')).toEqual({ ok: false, status: 400 });
  });
});

describe("Electron's kptrscope://app/ protocol (serveApp)", () => {
  it('knows its own pages (the IPC sender check and navigation guard use this), and nothing else', () => {
    // Node gives non-web schemes the origin "null": comparing origins would refuse every IPC call.
    expect(new URL('kptrscope://app/index.html').origin).toBe('null');
    for (const u of ['kptrscope://app/index.html', 'kptrscope://app/', 'kptrscope://app/index.html#/run/3']) expect(isAppUrl(u), u).toBe(true);
    for (const u of ['kptrscope://evil/index.html', 'kptrscope://app.evil/x', 'kptrscope://app:1/x', 'kptrscope://u:p@app/x', 'https://app/index.html', 'file:///app/index.html', 'null', '']) {
      expect(isAppUrl(u), u).toBe(false);
    }
  });

  it('serves the renderer with the CSP and Permissions-Policy', async () => {
    const r = await serveApp(root, 'kptrscope://app/index.html');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CSP_DIRECTIVES);
    expect(r.headers.get('permissions-policy')).toBe(PERMISSIONS_POLICY);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toContain('<title>t</title>');
  });

  it('answers nothing outside the renderer, on another host or scheme', async () => {
    for (const p of TRAVERSALS) {
      const r = await serveApp(root, `kptrscope://app${p}`);
      expect(r.status, p).not.toBe(200);
      expect(await r.text()).not.toContain('secret');
    }
    for (const u of ['kptrscope://evil/index.html', 'file:///etc/passwd', 'https://app/index.html', 'not a url']) {
      expect((await serveApp(root, u)).status, u).not.toBe(200);
    }
  });
});
