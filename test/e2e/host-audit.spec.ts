/**
 * Security audit of the browser host as a real process (`kptrscope serve --no-open`) with real HTTP
 * clients (curl and Node's http/net; Chromium for the ticket): where it listens (the kernel's socket
 * table and connections to every other address of this machine), who may connect (another user's
 * curl is cut off), the token on every route, foreign Origins
 * and cross-site fetch metadata on every route, CORS never granted, path traversal in every
 * spelling on the file-serving route and in upload names. docs/security.md maps each point here.
 */
import { test, expect } from './helpers/csp-watch.ts';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO, serveCommand, startHost, type Host } from './helpers/host.ts';

let host: Host;
let dir: string;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kptrscope-audit-'));
  host = await startHost(join(dir, 'audit.db'));
});

test.afterAll(async () => {
  expect(await host.stop()).toBe(0);
});

interface CurlResult {
  exit: number;
  status: number;
  headers: string;
  body: string;
}

/** One request with curl: `--path-as-is` sends the path byte for byte (no client-side normalising). */
function curl(url: string, args: string[] = []): CurlResult {
  const out = join(dir, `body-${randomBytes(4).toString('hex')}`);
  const hdr = `${out}.h`;
  const r = spawnSync('curl', ['-sS', '--path-as-is', '--max-time', '5', '-o', out, '-D', hdr, '-w', '%{http_code}', ...args, url], { encoding: 'utf8' });
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  return { exit: r.status ?? -1, status: Number(r.stdout || 0), headers: read(hdr), body: read(out) };
}

function tcpConnect(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: 3000 });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('timeout', () => {
      s.destroy();
      resolve('timeout');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Listening TCP sockets on `port` from the kernel's tables: [local address hex, family]. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const [file, fam] of [
    ['/proc/net/tcp', 'v4'],
    ['/proc/net/tcp6', 'v6'],
  ] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const [addr, p] = (f[1] ?? '').split(':');
      if (p === hexPort && f[3] === '0A') found.push(`${fam}:${addr}`);
    }
  }
  return found;
}

test('listens on 127.0.0.1 only: one socket in the kernel table, every other address of this machine refuses', async () => {
  expect(listeners(host.port)).toEqual(['v4:0100007F']);
  const others = ['127.0.0.2', '::1'];
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80')) others.push(a.address);
  for (const address of others) {
    expect(await tcpConnect(address, host.port), `connect to ${address}`).toBe('ECONNREFUSED');
    const bracketed = address.includes(':') ? `[${address}]` : address;
    const r = curl(`http://${bracketed}:${host.port}/?token=${host.token}`);
    expect(r.exit, `curl ${address}: couldn't connect`).toBe(7);
  }
  // …and the loopback address it does listen on answers.
  expect(curl(host.url).status).toBe(200);
});

test('another user of this machine cannot even talk to it: the connection is closed before a byte is read', () => {
  test.skip(process.getuid?.() !== 0, 'SKIPPED: switching to another user (runuser) needs root');
  const asNobody = spawnSync('runuser', ['-u', 'nobody', '--', 'curl', '-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', host.url], { encoding: 'utf8' });
  // curl: 52 = empty reply, 56 = connection reset — never an HTTP status.
  expect([52, 56], `curl as nobody: exit ${asNobody.status}, ${asNobody.stderr}`).toContain(asNobody.status);
  expect(asNobody.stdout).toBe('000');
  // The same request from this user goes through.
  expect(curl(host.url).status).toBe(200);
});

test('the token on every route: none → 401, a wrong one → 403, never a body from the app', () => {
  const routes: [string, string[]][] = [
    ['/', []],
    ['/index.html', []],
    ['/api/events', []],
    ['/api/call/listRuns', ['-X', 'POST', '-H', 'Content-Type: application/json', '--data', '{}']],
    ['/api/upload?name=a.log', ['-X', 'POST', '--data-binary', 'x']],
  ];
  for (const [path, args] of routes) {
    const none = curl(`${host.base}${path}`, args);
    expect(none.status, `${path} without a token`).toBe(401);
    const wrong = curl(`${host.base}${path}`, [...args, '-H', `X-Kptrscope-Token: ${'f'.repeat(64)}`]);
    expect(wrong.status, `${path} with a wrong token`).toBe(403);
    for (const r of [none, wrong]) expect(r.body).not.toMatch(/<html|"result"/i);
  }
});

test('foreign Origins and cross-site fetch metadata are refused on every route, CORS is never granted', () => {
  const refusedName = `refused-${randomBytes(6).toString('hex')}.log`;
  const routes: [string, string[]][] = [
    [`/?token=${host.token}`, []],
    ['/api/events', ['-H', `X-Kptrscope-Token: ${host.token}`]],
    ['/api/call/listRuns', ['-X', 'POST', '-H', 'Content-Type: application/json', '-H', `X-Kptrscope-Token: ${host.token}`, '--data', '{}']],
    [`/api/upload?name=${refusedName}`, ['-X', 'POST', '-H', `X-Kptrscope-Token: ${host.token}`, '--data-binary', 'x']],
  ];
  const foreign = [
    'Origin: http://evil.example',
    'Origin: null',
    `Origin: http://127.0.0.1:${host.port === 65535 ? 1 : host.port + 1}`,
    `Origin: https://127.0.0.1:${host.port}`,
    'Sec-Fetch-Site: cross-site',
    'Sec-Fetch-Site: same-site',
  ];
  for (const [path, args] of routes) {
    for (const h of foreign) {
      const r = curl(`${host.base}${path}`, [...args, '-H', h]);
      expect(r.status, `${path} with ${h}`).toBe(403);
      expect(r.headers).not.toMatch(/access-control-allow/i);
    }
  }
  // The app's own requests (same origin) go through, still without CORS headers.
  for (const [path, args] of routes.filter(([p]) => !p.startsWith('/api/events') && !p.startsWith('/api/upload'))) {
    const own = curl(`${host.base}${path}`, [...args, '-H', `Origin: http://127.0.0.1:${host.port}`, '-H', 'Sec-Fetch-Site: same-origin']);
    expect(own.status, `${path} from our own origin`).toBe(200);
    expect(own.headers).not.toMatch(/access-control-allow/i);
  }
  // A CORS preflight from a foreign page is not answered with any Access-Control header.
  const pre = curl(`${host.base}/api/call/listRuns`, ['-X', 'OPTIONS', '-H', 'Origin: http://evil.example', '-H', 'Access-Control-Request-Method: POST', '-H', `X-Kptrscope-Token: ${host.token}`]);
  expect(pre.status).toBe(403);
  expect(pre.headers).not.toMatch(/access-control-allow/i);
  // The refused uploads stored nothing, anywhere under the temp directory.
  const hits = execFileSync('find', [tmpdir(), '-maxdepth', '4', '-name', refusedName], { encoding: 'utf8' }).trim();
  expect(hits).toBe('');
});

test('path traversal in every spelling is refused; only the app’s own files are served', () => {
  const pkg = readFileSync(join(REPO, 'package.json'), 'utf8');
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8').split('\n')[0] ?? 'root:' : 'root:';
  const attempts = [
    '/../package.json',
    '/../../package.json',
    '/assets/../../package.json',
    '/assets/../../../../../../etc/passwd',
    '/..%2fpackage.json',
    '/assets/..%2f..%2fpackage.json',
    '/%2e%2e/%2e%2e/package.json',
    '/.%2e/.%2e/package.json',
    '/%252e%252e/%252e%252e/package.json',
    '/..%5c..%5cpackage.json',
    '/assets/..\\..\\package.json',
    '/assets/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/assets/%2e%2e%2f%2e%2e%2fpackage.json%00.js',
    '/index.html%00/../../package.json',
    '/dist/renderer/index.html',
    '/src-main/hosts/cli/main.ts',
  ];
  for (const p of attempts) {
    const r = curl(`${host.base}${p}${p.includes('?') ? '&' : '?'}token=${host.token}`);
    expect([400, 403, 404], `${p} → ${r.status}`).toContain(r.status);
    expect(r.body).not.toContain(pkg.slice(0, 40));
    expect(r.body).not.toContain(passwd);
  }
  // The page itself and its assets are served.
  const index = curl(`${host.base}/index.html?token=${host.token}`);
  expect(index.status).toBe(200);
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.body)?.[1] ?? '';
  expect(curl(`${host.base}${asset}?token=${host.token}`).status).toBe(200);
});

test('an upload name cannot place the file outside the host’s upload directory', () => {
  const marker = `kptrscope-audit-${randomBytes(6).toString('hex')}`;
  for (const name of [`../../${marker}`, `..%2f..%2f${marker}`, `/tmp/${marker}`, `..\\..\\${marker}`]) {
    const r = curl(`${host.base}/api/upload?name=${encodeURIComponent(name)}`, ['-X', 'POST', '-H', `X-Kptrscope-Token: ${host.token}`, '--data-binary', 'log']);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).name).not.toMatch(/[\\/]|^\.\.?$/);
  }
  const hits = execFileSync('find', [tmpdir(), REPO, dir, '-maxdepth', '3', '-name', `*${marker}*`, '-not', '-path', '*/kptrscope-uploads-*'], { encoding: 'utf8' }).trim();
  expect(hits).toBe('');
});

test('the browser window it opens gets a one-time ticket, never the token (process arguments are public)', async ({ page }) => {
  // A stand-in "Chromium" that records its arguments: everything a local user could read in `ps`.
  const argsFile = join(dir, 'browser-args.txt');
  const fake = join(dir, 'fake-chromium.sh');
  writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n`);
  chmodSync(fake, 0o755);
  const db = join(dir, 'open.db');
  execFileSync(process.execPath, [join(REPO, 'bin', 'kptrscope.mjs'), 'ingest', join(REPO, 'test', 'fixtures', 'logs', '6.18', 'leak_obj.bpftool.log'), '--db', db], { stdio: 'ignore' });
  const child = spawn(process.execPath, [...serveCommand(), '--db', db], {
    cwd: REPO,
    env: { ...process.env, DISPLAY: ':99', KPTRSCOPE_BROWSER: fake },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    const token = new URL(first.replace(/^kptrscope listening on /, '')).searchParams.get('token') ?? '';
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    for (let i = 0; i < 100 && !existsSync(argsFile); i++) await new Promise((r) => setTimeout(r, 50));
    const args = readFileSync(argsFile, 'utf8');
    expect(args).not.toContain(token);
    const app = /^--app=(.*)$/m.exec(args)?.[1] ?? '';
    expect(app).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?ticket=[0-9a-f]{64}$/);
    expect(args).toMatch(/^--user-data-dir=/m);
    // In Chromium, the ticket opens the app once; the token cookie carries every later request
    // (the library lists the database's runs) and the ticket leaves the address bar.
    const load = page.waitForResponse((r) => r.url() === app);
    await page.goto(app);
    expect((await (await load).allHeaders())['set-cookie']).toMatch(new RegExp(`^kptrscope_\\d+=${token}; Path=/; HttpOnly; SameSite=Strict$`));
    await expect(page.getByText('Library')).toBeVisible();
    await expect(page.getByTestId('runs')).toContainText('leak_obj.bpftool.log');
    expect(page.url()).not.toContain('ticket=');
    // Used again, the ticket is refused.
    expect(curl(app).status).toBe(401);
  } finally {
    child.kill('SIGINT');
  }
});
