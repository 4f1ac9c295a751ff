/**
 * A real, throw-away PostgreSQL cluster for tests and benches (no mocks).
 *
 * Contract:
 * - `startThrowawayCluster()` initdb's a new cluster in a fresh directory kptrscope-pg-XXXXXX
 *   (data/ for the cluster, sock/ for its unix socket, server.log) under /dev/shm when that is a
 *   roomy tmpfs, else under os.tmpdir() ($KPTRSCOPE_PG_TMPDIR overrides; see baseDir()), with the
 *   highest PostgreSQL found under /usr/lib/postgresql/<v>/bin (Debian's layout). It starts
 *   `postgres` on 127.0.0.1 at a free port (fsync and friends off: the data is thrown away), waits
 *   until it accepts connections (30 s at most; the error quotes the server log's tail), and creates
 *   the LOGIN CREATEDB role `kptrscope` with a random password and the database `kptrscope` it owns.
 * - `url` is what a user would have: password (SCRAM) authenticated TCP,
 *   postgresql://kptrscope:<password>@127.0.0.1:<port>/kptrscope.
 * - `adminUrl` is the superuser `postgres` over the unix socket (trust, local only), in the libpq
 *   form postgresql://postgres@/postgres?host=<sockdir>&port=<port>, which `pg` (pg-connection-string)
 *   and psql both understand.
 * - `stop()` stops the server (`pg_ctl -m immediate`) and removes the directory. It is idempotent.
 *   A cluster whose stop() is never called is stopped and removed when this process exits; clusters
 *   left by a process that died without exiting (SIGKILL) are swept by the next start.
 * - As root, initdb/postgres/pg_ctl run as user `postgres` through `runuser -u postgres --` (they refuse
 *   to run as root) on a directory chowned to it; otherwise they run as the current user.
 * - The cluster uses the C locale with UTF8 encoding: ordering is bytewise and does not depend on
 *   which locales the machine has.
 *
 * As a script (`npx tsx scripts/pg-cluster.ts`) it starts a cluster, prints
 * `KPTRSCOPE_TEST_PG=<url>` and keeps it running until SIGINT/SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

export interface ThrowawayCluster {
  /** postgresql://kptrscope:<password>@127.0.0.1:<port>/kptrscope (SCRAM over TCP). */
  url: string;
  /** postgresql://postgres@/postgres?host=<sockdir>&port=<port> (superuser, trust, unix socket). */
  adminUrl: string;
  port: number;
  /** The cluster's directory (data/, sock/, server.log); removed by stop(). */
  dir: string;
  /** The password of role kptrscope. */
  password: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Progress lines (initdb, start, ready); silent by default. */
  log?: (s: string) => void;
}

const PG_ROOT = '/usr/lib/postgresql';
const DIR_PREFIX = 'kptrscope-pg-';
const READY_TIMEOUT_MS = 30_000;

/** The bin directory of the highest PostgreSQL version under /usr/lib/postgresql that has a server, or null. */
export function findPgBinDir(): string | null {
  let versions: string[];
  try {
    versions = readdirSync(PG_ROOT);
  } catch {
    return null;
  }
  const found = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => ['initdb', 'postgres', 'pg_ctl'].every((b) => existsSync(join(PG_ROOT, v, 'bin', b))))
    .sort((a, b) => Number(b) - Number(a));
  return found[0] === undefined ? null : join(PG_ROOT, found[0], 'bin');
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** The command line that runs `argv` as the cluster's owner (user postgres when we are root). */
function asOwner(argv: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', ...argv]] : [argv[0]!, argv.slice(1)];
}

function runSync(argv: string[], what: string): void {
  const [cmd, args] = asOwner(argv);
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${(r.stderr || r.stdout).trim()}`);
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops (synchronously) whatever server runs on `dir`/data and removes `dir`. Never throws. */
function destroySync(bin: string, dir: string): void {
  const data = join(dir, 'data');
  if (existsSync(join(data, 'postmaster.pid'))) {
    const [cmd, args] = asOwner([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-s', 'stop']);
    spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    // pg_ctl failed or timed out: kill the postmaster outright (its children exit with it).
    try {
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file any more: stopped
    }
  }
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // nothing more to do
  }
}

/** Clusters left in tmpdir by processes that died without exiting (SIGKILL, OOM): stop and remove them. */
function sweepStale(bin: string, base: string): void {
  let names: string[];
  try {
    names = readdirSync(base).filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = join(base, n);
    try {
      const owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8').trim());
      if (owner > 0 && !alive(owner)) destroySync(bin, dir);
    } catch {
      // not ours, or being created right now (no owner.pid yet): leave it
    }
  }
}

/** Whether user postgres (when we are root) can reach `dir` and a socket path under it fits sun_path (108 bytes). */
function usable(dir: string): boolean {
  try {
    let p = realpathSync(dir);
    if (p.length + 45 > 100) return false; // <dir>/kptrscope-pg-XXXXXX/sock/.s.PGSQL.NNNNN
    if (isRoot()) {
      for (;;) {
        if ((statSync(p).mode & 0o001) === 0) return false; // every ancestor searchable by others
        if (p === '/') break;
        p = join(p, '..');
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Where to put the cluster: $KPTRSCOPE_PG_TMPDIR if set; else /dev/shm when it is a tmpfs with at
 * least 2 GiB free (initdb is about twice as fast there, CREATE DATABASE about fifteen times:
 * ~15 ms instead of ~250 ms on ext4, fsync=off notwithstanding); else os.tmpdir(); else /tmp.
 */
function baseDir(): string {
  const forced = process.env.KPTRSCOPE_PG_TMPDIR;
  if (forced) return forced;
  try {
    const TMPFS_MAGIC = 0x01021994;
    const st = statfsSync('/dev/shm');
    if (st.type === TMPFS_MAGIC && st.bavail * st.bsize >= 2 ** 31 && usable('/dev/shm')) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no usable /dev/shm
  }
  return usable(tmpdir()) ? tmpdir() : '/tmp';
}

async function connectWhenReady(config: pg.ClientConfig, server: ChildProcess, logFile: string, deadline: number): Promise<pg.Client> {
  let lastErr = '';
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw Object.assign(new Error(`postgres exited (${server.exitCode ?? server.signalCode}) before accepting connections; server log:\n${tail(logFile)}`), {
        serverLog: tail(logFile, 200),
      });
    }
    const c = new pg.Client(config);
    try {
      await c.connect();
      return c;
    } catch (e) {
      lastErr = (e as Error).message;
      await c.end().catch(() => {});
    }
    if (Date.now() > deadline) {
      throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s (last error: ${lastErr}); server log:\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startThrowawayCluster(opts: StartOptions = {}): Promise<ThrowawayCluster> {
  const log = opts.log ?? (() => {});
  const bin = findPgBinDir();
  if (bin === null) throw new Error(`PostgreSQL server binaries not found under ${PG_ROOT}: apt-get install postgresql`);
  const base = baseDir();
  sweepStale(bin, base);

  const t0 = Date.now();
  const dir = mkdtempSync(join(base, DIR_PREFIX));
  writeFileSync(join(dir, 'owner.pid'), `${process.pid}\n`);
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  const logFile = join(dir, 'server.log');
  mkdirSync(sock);

  let stopped = false;
  const onExit = (): void => {
    if (!stopped) destroySync(bin, dir);
  };
  process.on('exit', onExit);

  try {
    if (isRoot()) {
      const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      const uid = Number(id.stdout.trim());
      if (id.status !== 0 || !(uid > 0)) throw new Error('running as root, but there is no user postgres to run the server as (apt-get install postgresql creates it)');
      for (const p of [dir, sock]) chownSync(p, uid, Number(gid.stdout.trim()));
    }

    log(`initdb (${bin}) in ${data}`);
    runSync(
      [join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      'initdb',
    );
    log(`initdb done in ${Date.now() - t0} ms`);

    // The port is free when chosen, but another process may take it before postgres binds: retry then.
    let port = 0;
    let server: ChildProcess | undefined;
    let admin: pg.Client | undefined;
    for (let attempt = 1; admin === undefined; attempt++) {
      port = await freePort();
      const out = openSync(logFile, 'a');
      const [cmd, args] = asOwner([
        join(bin, 'postgres'), '-D', data, '-k', sock, '-p', String(port), '-h', '127.0.0.1',
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
      ]);
      server = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
      closeSync(out);
      server.unref();
      server.on('error', () => {}); // an exec failure shows as exitCode below
      try {
        admin = await connectWhenReady({ host: sock, port, user: 'postgres', database: 'postgres' }, server, logFile, Date.now() + READY_TIMEOUT_MS);
      } catch (e) {
        const serverLog = (e as { serverLog?: string }).serverLog ?? '';
        if (attempt < 5 && /could not (bind|create listen socket)|Address already in use/i.test(serverLog)) {
          log(`port ${port} was taken; trying another`);
          continue;
        }
        throw e;
      }
    }
    log(`postgres ready on 127.0.0.1:${port} after ${Date.now() - t0} ms`);

    const password = randomBytes(16).toString('hex');
    try {
      await admin.query(`CREATE ROLE kptrscope LOGIN CREATEDB PASSWORD '${password}'`);
      await admin.query('CREATE DATABASE kptrscope OWNER kptrscope');
    } finally {
      await admin.end();
    }

    const cluster: ThrowawayCluster = {
      url: `postgresql://kptrscope:${password}@127.0.0.1:${port}/kptrscope`,
      adminUrl: `postgresql://postgres@/postgres?host=${encodeURIComponent(sock)}&port=${port}`,
      port,
      dir,
      password,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', onExit);
        const [cmd, args] = asOwner([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-s', 'stop']);
        await new Promise<void>((resolve) => {
          const p = spawn(cmd, args, { stdio: 'ignore' });
          p.on('error', () => resolve());
          p.on('exit', () => resolve());
        });
        destroySync(bin, dir); // kills a postmaster pg_ctl could not stop; removes the directory
      },
    };
    return cluster;
  } catch (e) {
    stopped = true;
    process.off('exit', onExit);
    destroySync(bin, dir);
    throw e;
  }
}

async function main(): Promise<void> {
  const c = await startThrowawayCluster({ log: (s) => process.stderr.write(`pg-cluster: ${s}\n`) });
  process.stdout.write(`KPTRSCOPE_TEST_PG=${c.url}\n`);
  process.stderr.write(`pg-cluster: superuser: psql '${c.adminUrl}'; Ctrl-C stops and removes the cluster\n`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  const quit = (): void => {
    clearInterval(keepAlive);
    void c.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((e: unknown) => {
    process.stderr.write(`pg-cluster: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
