/**
 * The browser host in-process (no browser): the token on every request (none → 401, wrong → 403),
 * the Host check, CSP and security headers, static files confined to the renderer directory,
 * JSON bodies validated, uploads streamed to temp files and ingested off the request thread with
 * progress events over SSE, and upload names made safe.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startBrowserHost, safeFileName, type BrowserHost } from '../../src-main/hosts/browser/browser-host.ts';
import type { AppEvent } from '../../src-main/contract/contract.ts';

const FIX = join(__dirname, '..', 'fixtures', 'logs', '6.18');
let host: BrowserHost;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kptrscope-host-'));
  const renderer = join(dir, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title><script type="module" src="/assets/a.js"></script>');
  writeFileSync(join(renderer, 'assets', 'a.js'), 'export {};');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  symlinkSync(join(dir, 'secret.txt'), join(renderer, 'assets', 'link.txt'));
  host = await startBrowserHost({ dbPath: join(dir, 'h.db'), rendererDir: renderer, log: () => {} });
  base = `http://127.0.0.1:${host.port}`;
});

afterAll(async () => {
  await host.close();
});

const auth = () => ({ 'X-Kptrscope-Token': host.token });

async function callApi(method: string, body: unknown): Promise<{ status: number; json: { result?: unknown; error?: { code: string; message: string } } }> {
  const r = await fetch(`${base}/api/call/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth() }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as { result?: unknown; error?: { code: string; message: string } } };
}

function rawGet(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser host', () => {
  it('binds 127.0.0.1 and gives a URL with a 64-hex token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
  });

  it('requires the token on every request: none → 401, wrong → 403', async () => {
    for (const p of ['/', '/assets/a.js', '/api/events']) expect((await fetch(`${base}${p}`)).status).toBe(401);
    expect((await fetch(`${base}/?token=${'0'.repeat(64)}`)).status).toBe(403);
    expect((await fetch(`${base}/api/call/listRuns`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Kptrscope-Token': 'x' }, body: '{}' })).status).toBe(403);
    const ok = await fetch(host.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self';/);
    expect(ok.headers.get('x-frame-options')).toBe('DENY');
    expect(ok.headers.get('set-cookie')).toContain(`kptrscope_${host.port}=${host.token}; Path=/; HttpOnly; SameSite=Strict`);
    // The cookie alone authenticates later requests (assets, reloads).
    expect((await fetch(`${base}/assets/a.js`, { headers: { Cookie: `kptrscope_${host.port}=${host.token}` } })).status).toBe(200);
  });

  it('a ticket URL opens the page once (setting the token cookie), never the API', async () => {
    const t = host.ticketUrl();
    expect(t).toMatch(/\?ticket=[0-9a-f]{64}$/);
    const ticket = new URL(t).searchParams.get('ticket') ?? '';
    expect((await fetch(`${base}/api/call/listRuns?ticket=${ticket}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(401);
    const page = await fetch(t);
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toContain(`kptrscope_${host.port}=${host.token};`);
    expect((await fetch(t)).status).toBe(401);
    expect((await fetch(`${base}/?ticket=${'a'.repeat(64)}`)).status).toBe(401);
    // A HEAD, or a request refused for its Origin or fetch metadata, does not spend a ticket.
    const t2 = host.ticketUrl();
    expect((await fetch(t2, { method: 'HEAD' })).status).toBe(401);
    expect((await fetch(t2, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expect((await fetch(t2, { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(t2)).status).toBe(200);
  });

  it('refuses foreign Host headers and Origins', async () => {
    expect(await rawGet(`/?token=${host.token}`, { Host: 'attacker.example' })).toBe(403);
    expect(await rawGet(`/?token=${host.token}`, { Host: `localhost:${host.port}` })).toBe(200);
    const r = await fetch(`${base}/api/call/listRuns`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example', ...auth() }, body: '{}' });
    expect(r.status).toBe(403);
  });

  it('serves only files inside the renderer directory', async () => {
    for (const p of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/%00a.js']) {
      const status = await rawGet(`${p}?token=${host.token}`, { Host: `127.0.0.1:${host.port}` });
      expect([400, 403, 404]).toContain(status);
    }
    expect(await rawGet(`/../secret.txt?token=${host.token}`, { Host: `127.0.0.1:${host.port}` })).not.toBe(200);
    // A symlink inside the renderer directory that leads outside it is refused too.
    const link = await fetch(`${base}/assets/link.txt?token=${host.token}`);
    expect(link.status).toBe(403);
    expect(await link.text()).not.toContain('secret');
  });

  it('validates call payloads and methods', async () => {
    expect((await callApi('getRun', { runId: 'one' })).status).toBe(400);
    expect((await callApi('getRun', { runId: 1, x: 1 })).status).toBe(400);
    expect((await callApi('constructor', {})).status).toBe(404);
    expect((await callApi('startIngest', { log: { kind: 'path', path: '/etc/passwd' }, btf: [] })).json.error?.code).toBe('unsupported');
    const notJson = await fetch(`${base}/api/call/listRuns`, { method: 'POST', headers: { 'Content-Type': 'text/plain', ...auth() }, body: '{}' });
    expect(notJson.status).toBe(400);
  });

  it('uploads a log + BTF, ingests off the request thread, reports progress and the new run', async () => {
    const events: AppEvent[] = [];
    const ctrl = new AbortController();
    const sse = await fetch(`${base}/api/events`, { headers: auth(), signal: ctrl.signal });
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    let buf = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += new TextDecoder().decode(value);
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (chunk.startsWith('data: ')) events.push(JSON.parse(chunk.slice(6)) as AppEvent);
        }
      }
    })();
    const up = async (path: string, name: string) => {
      const r = await fetch(`${base}/api/upload?name=${encodeURIComponent(name)}`, { method: 'POST', headers: auth(), body: readFileSync(path) });
      return ((await r.json()) as { result: { kind: 'upload'; id: string } }).result;
    };
    const log = await up(join(FIX, 'local_kptr_stash.bpftool.log'), '../../evil/<i>stash.log');
    const btf = await up(join(FIX, 'local_kptr_stash.btf.txt'), 'stash.btf.txt');
    const { json } = await callApi('startIngest', { log, btf: [btf] });
    const jobId = (json.result as { jobId: string }).jobId;
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'ingest-done'); i++) await new Promise((r) => setTimeout(r, 50));
    ctrl.abort();
    await pump;
    const done = events.find((e) => e.type === 'ingest-done');
    expect(done).toMatchObject({ type: 'ingest-done', jobId, file: '<i>stash.log', duplicate: false });
    expect(events.some((e) => e.type === 'ingest-progress' && e.jobId === jobId)).toBe(true);
    expect(events.some((e) => e.type === 'runs-changed')).toBe(true);
    const runs = (await callApi('listRuns', {})).json.result as { sourceName: string; btf: unknown[] }[];
    expect(runs[0]?.sourceName).toBe('<i>stash.log');
    expect(runs[0]?.btf).toHaveLength(1);
    // An upload is used once.
    expect((await callApi('startIngest', { log, btf: [] })).json.error?.code).toBe('not-found');
  });

  it('makes upload names safe for paths', () => {
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('a\\b\\c.log')).toBe('c.log');
    expect(safeFileName('..')).toBe('upload.log');
    expect(safeFileName('x\u0000y\n.log')).toBe('xy.log');
    // 200 bytes of UTF-8 at most (a 400-byte name would be ENAMETOOLONG on most file systems),
    // never half a character.
    const long = safeFileName(`${'é'.repeat(300)}.log`);
    expect(Buffer.byteLength(long)).toBe(200);
    expect(long).toBe('é'.repeat(100));
  });

  it('an upload with a 400-byte name is stored (under a shortened name), not an internal error', async () => {
    const r = await fetch(`${base}/api/upload?name=${encodeURIComponent('é'.repeat(200))}`, { method: 'POST', headers: auth(), body: 'x' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { name: string }).name).toBe('é'.repeat(100));
  });

  it('refuses more than 32 uploads waiting for an ingest (each may be 8 GiB on disk)', async () => {
    const statuses: number[] = [];
    let message = '';
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`${base}/api/upload?name=w${i}.log`, { method: 'POST', headers: auth(), body: 'x' });
      statuses.push(r.status);
      if (r.status !== 200) message = ((await r.json()) as { error: { message: string } }).error.message;
    }
    expect(statuses.filter((x) => x === 400).length).toBeGreaterThanOrEqual(8);
    expect(statuses.indexOf(400)).toBeLessThanOrEqual(32);
    expect(statuses.slice(statuses.indexOf(400)).every((x) => x === 400)).toBe(true);
    expect(message).toBe('32 uploads are already waiting for an ingest; open them first');
  });
});
