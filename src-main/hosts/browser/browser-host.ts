/**
 * The browser host: kptrscope's renderer and contract over HTTP on 127.0.0.1, for machines without
 * the Electron binary (`kptrscope serve`, `npm start`'s fallback).
 *
 * Contract:
 * - binds 127.0.0.1 only, and (Linux) closes at once any connection whose socket belongs to another
 *   user of the machine (api/peer-uid.ts); a random 32-byte token per launch is required on EVERY request, as
 *   `?token=` (the first page load, which also sets a SameSite=Strict HttpOnly cookie for this
 *   port), the cookie, or the `X-Kptrscope-Token` header: none → 401, a wrong one → 403; the
 *   browser window we start gets a one-time `?ticket=` instead (`ticketUrl`: arguments are public);
 *   a Host header other than 127.0.0.1:PORT / localhost:PORT → 403 (DNS rebinding); an Origin
 *   other than this host's, or a `Sec-Fetch-Site` other than same-origin/none → 403 (CSRF from
 *   other sites and from other ports of this machine); no CORS headers are ever sent;
 * - `GET /` and `/assets/*`: the built renderer (dist/renderer) with a strict CSP (no inline
 *   script or style, nothing remote) and a Permissions-Policy that switches off camera,
 *   microphone, geolocation, USB, … (src-main/api/csp.ts); paths are decoded, normalised and must
 *   stay inside that directory, symlinks resolved;
 * - `POST /api/call/<method>` with a JSON body: the contract (validated by dispatch → zod);
 *   errors are `{ error: { code, message } }` with 400/404/422/500/501;
 * - `POST /api/upload?name=<file name>`: the raw body is streamed to a temp file; answers a FileRef
 *   `{ kind: 'upload', id }` for `startIngest` (uploads are deleted after their ingest / on close);
 * - `GET /api/events`: server-sent events, one JSON AppEvent per `data:` line.
 * Store reads run in the store worker, ingests in ingest workers: the server thread never blocks.
 */
import { redactLocation } from '../../store/location.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { AppEvent, FileRef, Handlers } from '../../contract/contract.ts';
import { dispatch, type PartialHandlers } from '../../contract/dispatch.ts';
import { AppError, errorBody, httpStatus } from '../../contract/errors.ts';
import { StoreClient } from '../worker/worker-client.ts';
import { IngestQueue } from '../worker/ingest-jobs.ts';
import { CSP_DIRECTIVES, PERMISSIONS_POLICY } from '../csp.ts';
import { resolveAppFile } from '../app-files.ts';
import { peerUid } from './peer-uid.ts';

export const CSP = CSP_DIRECTIVES;

const MAX_JSON_BYTES = 1 << 20;
const TICKET_TTL_MS = 60_000;
/** Uploads not yet used by an ingest (each up to MAX_UPLOAD_BYTES on disk). */
const MAX_WAITING_UPLOADS = 32;
const MAX_UPLOAD_BYTES = 8 * 1024 ** 3;

export interface BrowserHostOptions {
  dbPath: string;
  /** 0 = a free port. */
  port?: number;
  /** Built renderer directory (default: dist/renderer of this checkout). */
  rendererDir?: string;
  /** Where host problems are reported (stderr). */
  log?: (s: string) => void;
}

export interface BrowserHost {
  url: string;
  port: number;
  token: string;
  /** A URL for opening the app in a browser window we start: it carries a one-time ticket (valid
   * once, for TICKET_TTL_MS) instead of the token, because a process's arguments are visible to
   * every user of the machine (`ps`); the page load trades it for the token cookie. */
  ticketUrl(): string;
  close(): Promise<void>;
}

export function defaultRendererDir(): string {
  return fileURLToPath(new URL('../../../dist/renderer/', import.meta.url));
}

function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Base name of an uploaded file, safe for a path (no separators, no control characters). */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  let clean = '';
  // At most 200 bytes of UTF-8 (file systems count bytes: 255 at most), never half a character.
  // eslint-disable-next-line no-control-regex
  for (const ch of base.replace(/[\u0000-\u001f\u007f]/g, '')) {
    if (Buffer.byteLength(clean + ch) > 200) break;
    clean += ch;
  }
  return clean === '' || clean === '.' || clean === '..' ? 'upload.log' : clean;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', { 'Cache-Control': 'no-store' });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_JSON_BYTES) throw new AppError('bad-request', 'request body too large');
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new AppError('bad-request', 'request body is not JSON');
  }
}

interface Upload {
  path: string;
  name: string;
  dir: string;
}

export async function startBrowserHost(opts: BrowserHostOptions): Promise<BrowserHost> {
  const log = opts.log ?? ((s: string) => process.stderr.write(s));
  const rendererDir = resolve(opts.rendererDir ?? defaultRendererDir());
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`the renderer is not built (${join(rendererDir, 'index.html')} missing): run npm run build:renderer`);
  }
  const token = randomBytes(32).toString('hex');
  const store = await StoreClient.start(opts.dbPath);
  const uploadsRoot = mkdtempSync(join(tmpdir(), 'kptrscope-uploads-'));
  const uploads = new Map<string, Upload>();
  const clients = new Set<ServerResponse>();
  const emit = (e: AppEvent) => {
    const data = `data: ${JSON.stringify(e)}\n\n`;
    for (const c of clients) c.write(data);
  };
  const ingest = new IngestQueue(opts.dbPath, emit);
  const version = appVersion();

  const resolveRef = (ref: FileRef): Upload => {
    if (ref.kind === 'path') throw new AppError('unsupported', 'the browser host opens files by upload only');
    const u = uploads.get(ref.id);
    if (!u) throw new AppError('not-found', 'unknown upload (uploads are used once)');
    return u;
  };

  const hostHandlers: Partial<Handlers> = {
    appInfo: () => ({
      host: 'browser',
      version,
      // Shown in the app: a server URL without its password.
      dbPath: redactLocation(opts.dbPath),
      features: { export: true, compare: true, model: false, nativeDialogs: false },
    }),
    pickFiles: () => null,
    recentFiles: () => [],
    startIngest: ({ log: logRef, btf, kernel }) => {
      const l = resolveRef(logRef);
      const b = btf.map(resolveRef);
      const used = [l, ...b];
      for (const u of used) uploads.delete(idOf(u));
      const jobId = ingest.submit({
        log: l.path,
        btf: b.map((x) => x.path),
        kernel: kernel ?? null,
        label: l.name,
        cleanup: () => {
          for (const u of used) rmSync(u.dir, { recursive: true, force: true });
        },
      });
      return { jobId };
    },
  };
  const idOf = (u: Upload) => u.dir.slice(u.dir.lastIndexOf(sep) + 1);
  // One-time tickets: random, used once, for TICKET_TTL_MS.
  const tickets = new Map<string, number>();
  const redeemTicket = (t: string): boolean => {
    const expires = tickets.get(t);
    if (expires === undefined) return false;
    tickets.delete(t);
    return Date.now() <= expires;
  };
  const handlers: PartialHandlers = { ...store.handlers(), ...hostHandlers };

  let port = 0;
  const me = process.getuid?.();
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!(e instanceof AppError)) log(`kptrscope serve: ${(e as Error).stack ?? String(e)}\n`);
      if (!res.headersSent) sendJson(res, e instanceof AppError ? httpStatus(e.code) : 500, errorBody(e));
      else res.destroy();
    });
  });

  // Other users of this machine may not even talk to the host (their connection is closed before
  // a byte is read): on Linux the kernel says who owns the client's socket.
  server.on('connection', (socket) => {
    if (me === undefined || socket.remotePort === undefined) return;
    const owner = peerUid(port, socket.remotePort);
    if (owner !== 'unknown' && owner !== me) socket.destroy();
  });

  const baseHeaders = (res: ServerResponse) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    baseHeaders(res);
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      sendJson(res, 403, { error: { code: 'bad-request', message: 'unexpected Host header' } });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      sendJson(res, 400, { error: { code: 'bad-request', message: 'bad URL' } });
      return;
    }
    // Cross-site requests (checked before the token, so a refused request cannot spend a ticket):
    // a page elsewhere cannot know the token, but refuse foreign Origins anyway.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
      sendJson(res, 403, { error: { code: 'bad-request', message: 'cross-origin request refused' } });
      return;
    }
    // Fetch metadata: a request a browser makes for another site — including another port of this
    // machine, which is "same-site" — is refused; the app's own requests are same-origin, and
    // opening the URL (the app window, a typed or pasted URL) is "none".
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      sendJson(res, 403, { error: { code: 'bad-request', message: `${String(site)} request refused` } });
      return;
    }
    const cookieName = `kptrscope_${port}`;
    // A one-time ticket stands in for the token on the first page load only (see `ticketUrl`); it
    // is spent only by a GET of the page that passed every check above.
    const ticket = url.searchParams.get('ticket');
    const ticketOk = ticket !== null && req.method === 'GET' && url.pathname === '/' && redeemTicket(ticket);
    const given = ticketOk ? token : (url.searchParams.get('token') ?? (req.headers['x-kptrscope-token'] as string | undefined) ?? cookieValue(req, cookieName));
    if (given === undefined || given === '') {
      sendJson(res, 401, { error: { code: 'bad-request', message: 'token required' } });
      return;
    }
    if (!sameToken(given, token)) {
      sendJson(res, 403, { error: { code: 'bad-request', message: 'wrong token' } });
      return;
    }
    const path = url.pathname;
    if (req.method === 'POST' && path.startsWith('/api/call/')) {
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new AppError('bad-request', 'Content-Type must be application/json');
      const method = path.slice('/api/call/'.length);
      const input = await readJson(req);
      const result = await dispatch(handlers, method, input);
      sendJson(res, 200, { result: result ?? null });
      return;
    }
    if (req.method === 'POST' && path === '/api/upload') {
      await receiveUpload(req, res, url.searchParams.get('name') ?? 'upload.log');
      return;
    }
    if (req.method === 'GET' && path === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': kptrscope events\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      serveStatic(req, res, path, url.searchParams.has('token') || ticketOk ? cookieName : null);
      return;
    }
    sendJson(res, 405, { error: { code: 'bad-request', message: 'method not allowed' } });
  }

  async function receiveUpload(req: IncomingMessage, res: ServerResponse, rawName: string): Promise<void> {
    if (uploads.size >= MAX_WAITING_UPLOADS) throw new AppError('bad-request', `${MAX_WAITING_UPLOADS} uploads are already waiting for an ingest; open them first`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) throw new AppError('bad-request', 'file too large');
    const id = randomBytes(16).toString('hex');
    const dir = join(uploadsRoot, id);
    mkdirSync(dir);
    const name = safeFileName(rawName);
    const path = join(dir, name);
    let size = 0;
    try {
      await pipeline(
        req,
        async function* (src: AsyncIterable<Buffer>) {
          for await (const c of src) {
            size += c.length;
            if (size > MAX_UPLOAD_BYTES) throw new AppError('bad-request', 'file too large');
            yield c;
          }
        },
        createWriteStream(path),
      );
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    uploads.set(id, { path, name, dir });
    sendJson(res, 200, { result: { kind: 'upload', id } satisfies FileRef, name, size });
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string, setCookie: string | null): void {
    const f = resolveAppFile(rendererDir, pathname);
    if (!f.ok) {
      const message = f.status === 400 ? 'bad path' : f.status === 403 ? 'path outside the app' : 'not found';
      sendJson(res, f.status, { error: { code: f.status === 404 ? 'not-found' : 'bad-request', message } });
      return;
    }
    const file = f.file;
    const headers: Record<string, string> = {
      'Content-Type': f.type,
      'Content-Length': String(f.size),
      'Cache-Control': file.endsWith('index.html') ? 'no-store' : 'private, max-age=3600',
    };
    if (setCookie) headers['Set-Cookie'] = `${setCookie}=${token}; Path=/; HttpOnly; SameSite=Strict`;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  const keepAlive = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);
  keepAlive.unref();

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    ticketUrl() {
      const now = Date.now();
      for (const [t, expires] of tickets) if (expires < now) tickets.delete(t);
      const t = randomBytes(32).toString('hex');
      tickets.set(t, Date.now() + TICKET_TTL_MS);
      return `http://127.0.0.1:${port}/?ticket=${t}`;
    },
    async close() {
      clearInterval(keepAlive);
      for (const c of clients) c.end();
      clients.clear();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      ingest.stop();
      await store.close();
      rmSync(uploadsRoot, { recursive: true, force: true });
    },
  };
}
