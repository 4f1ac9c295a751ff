/**
 * Debian kernel images in the user's cache, fetched with apt from Debian's archive.
 *
 * Contract:
 * - `defaultCacheDir()` is `$XDG_CACHE_HOME/kptrscope` or `~/.cache/kptrscope` (`KPTRSCOPE_CACHE_DIR`
 *   overrides).
 * - apt runs with a private state under `<cache>/apt/` (its own sources.list naming bookworm, trixie,
 *   forky and sid with their security/updates suites, its own package lists and archive dir, no
 *   locking of the host's apt): the host's sources, lists and installed packages are never touched,
 *   and nothing is installed. `KPTRSCOPE_DEBIAN_MIRROR` / `KPTRSCOPE_DEBIAN_SECURITY` change the mirror.
 * - `kernelPackageFor(spec, names)` is pure: `linux-image-…` names a package; `6.1.0-56-amd64` names
 *   the package of that release; a version prefix (`6.1`, `6.12`, `6.12.118`) picks among the amd64
 *   images (never -cloud/-rt/-dbg/-unsigned or meta packages) the highest Debian version.
 * - `ensureKernel(spec)` returns the cached kernel (`<cache>/kernels/<package>/`: `vmlinuz`,
 *   `config`, `kernel.json`), downloading the .deb with `apt-get download` and extracting only
 *   /boot/vmlinuz-* and /boot/config-* (the .deb is deleted afterwards) when it is not there yet. A spec
 *   that was resolved before is answered from `<cache>/kernels/index.json` without running apt, so a
 *   cached kernel works offline. The guest's vmlinux BTF and kfunc table are stored beside it by the
 *   capture service (`vmlinux.btf`, `kfuncs.json`).
 * Every step writes to a temporary name first and renames, so an interrupted download leaves nothing
 * half-made.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CaptureError } from './errors.ts';
import { findTool } from './tools.ts';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KPTRSCOPE_CACHE_DIR) return env.KPTRSCOPE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'kptrscope');
}

// ---------------------------------------------------------------- Debian versions (pure) ----

function orderChar(c: string): number {
  if (c === '~') return -1;
  if (c === '') return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/\d/.test(a[i] as string)) || (j < b.length && !/\d/.test(b[j] as string))) {
      const ac = i < a.length && !/\d/.test(a[i] as string) ? orderChar(a[i] as string) : 0;
      const bc = j < b.length && !/\d/.test(b[j] as string) ? orderChar(b[j] as string) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && /\d/.test(a[i] as string) && j < b.length && /\d/.test(b[j] as string)) {
      if (!firstDiff) firstDiff = (a.charCodeAt(i) - b.charCodeAt(j));
      i++;
      j++;
    }
    if (i < a.length && /\d/.test(a[i] as string)) return 1;
    if (j < b.length && /\d/.test(b[j] as string)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** dpkg's version ordering (epoch:upstream-revision): <0, 0, >0. */
export function compareDebianVersions(a: string, b: string): number {
  const split = (v: string) => {
    const colon = v.indexOf(':');
    const epoch = colon >= 0 ? Number(v.slice(0, colon)) : 0;
    const rest = colon >= 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf('-');
    return { epoch, upstream: dash >= 0 ? rest.slice(0, dash) : rest, revision: dash >= 0 ? rest.slice(dash + 1) : '' };
  };
  const x = split(a);
  const y = split(b);
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return compareFragment(x.upstream, y.upstream) || compareFragment(x.revision, y.revision);
}

// ---------------------------------------------------------------- package choice (pure) ----

const IMAGE_RE = /^linux-image-(\d+\.\d+\.\d+[-+][A-Za-z0-9.+~-]*-amd64)$/;

/** The uname release of a Debian amd64 kernel image package, or null for other packages. */
export function releaseOfPackage(pkg: string): string | null {
  const m = IMAGE_RE.exec(pkg);
  if (!m) return null;
  const rel = m[1] as string;
  if (/-(cloud|rt)-amd64$/.test(rel)) return null;
  return rel;
}

export interface PackageVersion {
  name: string;
  version: string;
}

/** Picks the package for a spec among the known packages (name + Debian version). */
export function kernelPackageFor(spec: string, packages: PackageVersion[]): PackageVersion | null {
  if (spec.startsWith('linux-image-')) return packages.find((p) => p.name === spec) ?? null;
  const exact = packages.find((p) => p.name === `linux-image-${spec}`);
  if (exact && releaseOfPackage(exact.name)) return exact;
  if (!/^\d+\.\d+(\.\d+)?$/.test(spec)) return null;
  const candidates = packages.filter((p) => {
    const rel = releaseOfPackage(p.name);
    if (!rel || !rel.startsWith(spec)) return false;
    const next = rel.charAt(spec.length);
    return next === '.' || next === '-' || next === '+';
  });
  candidates.sort((a, b) => compareDebianVersions(b.version, a.version));
  return candidates[0] ?? null;
}

/** A kernel spec as the user writes it: `host`, a release, a version prefix, or a package name. */
export function isKernelSpec(spec: string): boolean {
  return spec === 'host' || /^linux-image-\S+$/.test(spec) || /^\d+\.\d+(\.\d+)?([-+][A-Za-z0-9.+~-]*)?$/.test(spec);
}

// ---------------------------------------------------------------- apt with a private state ----

const SUITES: [string, string][] = [
  ['main', 'bookworm'],
  ['main', 'bookworm-updates'],
  ['security', 'bookworm-security'],
  ['main', 'trixie'],
  ['main', 'trixie-updates'],
  ['security', 'trixie-security'],
  ['main', 'forky'],
  ['main', 'sid'],
];

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface CachedKernel {
  package: string;
  version: string;
  /** `uname -r` of the guest: the package's release until the guest said otherwise. */
  release: string;
  dir: string;
  vmlinuz: string;
  config: string;
}

export type Progress = (msg: string) => void;

export class KernelCache {
  readonly aptDir: string;
  readonly kernelsDir: string;

  constructor(
    readonly dir: string,
    private readonly progress: Progress = () => {},
  ) {
    this.aptDir = join(dir, 'apt');
    this.kernelsDir = join(dir, 'kernels');
  }

  private aptOptions(): string[] {
    const a = this.aptDir;
    return [
      '-o', `Dir::Etc::sourcelist=${join(a, 'sources.list')}`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::Etc::preferences=${join(a, 'preferences')}`,
      '-o', 'Dir::Etc::preferencesparts=-',
      '-o', `Dir::State=${join(a, 'state')}`,
      '-o', `Dir::State::Lists=${join(a, 'lists')}`,
      '-o', `Dir::State::status=${join(a, 'status')}`,
      '-o', `Dir::Cache=${join(a, 'cache')}`,
      '-o', 'APT::Architectures=amd64',
      '-o', 'Acquire::Languages=none',
      '-o', 'Debug::NoLocking=1',
      '-o', 'APT::Sandbox::User=root',
      '-qq',
    ];
  }

  private setupApt(): void {
    if (!existsSync(KEYRING)) {
      throw new CaptureError(`${KEYRING}: not found; Debian's archive keyring is needed to fetch kernels (apt-get install debian-archive-keyring)`);
    }
    const mirror = process.env.KPTRSCOPE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
    const security = process.env.KPTRSCOPE_DEBIAN_SECURITY ?? 'http://deb.debian.org/debian-security';
    for (const d of ['lists/partial', 'cache/archives/partial', 'state', 'download']) mkdirSync(join(this.aptDir, d), { recursive: true });
    const sources = SUITES.map(([kind, suite]) => `deb [signed-by=${KEYRING}] ${kind === 'security' ? security : mirror} ${suite} main`).join('\n') + '\n';
    writeFileSync(join(this.aptDir, 'sources.list'), sources);
    if (!existsSync(join(this.aptDir, 'status'))) writeFileSync(join(this.aptDir, 'status'), '');
    if (!existsSync(join(this.aptDir, 'preferences'))) writeFileSync(join(this.aptDir, 'preferences'), '');
  }

  private listsAgeMs(): number {
    const lists = join(this.aptDir, 'lists');
    if (!existsSync(lists)) return Infinity;
    const files = readdirSync(lists).filter((f) => /_Packages(\.\w+)?$/.test(f));
    if (files.length === 0) return Infinity;
    const newest = Math.max(...files.map((f) => statSync(join(lists, f)).mtimeMs));
    return Date.now() - newest;
  }

  /** `apt-get update` on the private state (≈30 MB of package lists; a few seconds). */
  updateLists(): void {
    this.setupApt();
    const apt = findTool('apt-get', 'to fetch Debian kernel images');
    this.progress('apt-get update (private package lists in the cache: bookworm, trixie, forky, sid)');
    const r = spawnSync(apt, [...this.aptOptions(), 'update'], { encoding: 'utf8' });
    if (r.status !== 0) {
      const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').filter((l) => /^(E|Err):/.test(l))[0] ?? r.error?.message ?? `exit ${r.status}`;
      throw new CaptureError(`apt-get update of the kernel package lists failed: ${why}`);
    }
  }

  /** Every linux-image package with its versions, from the private lists. */
  listKernelPackages(): PackageVersion[] {
    const aptCache = findTool('apt-cache', 'to look up Debian kernel images');
    const names = spawnSync(aptCache, [...this.aptOptions(), 'pkgnames', 'linux-image-'], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (names.status !== 0) throw new CaptureError(`apt-cache pkgnames failed: ${(names.stderr ?? '').trim().split('\n')[0]}`);
    const images = names.stdout.split('\n').filter((n) => releaseOfPackage(n) !== null);
    if (images.length === 0) return [];
    const r = spawnSync(aptCache, [...this.aptOptions(), 'madison', ...images], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const out: PackageVersion[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*(\S+)\s*\|\s*(\S+)\s*\|/.exec(line);
      if (m) out.push({ name: m[1] as string, version: m[2] as string });
    }
    return out;
  }

  private indexPath(): string {
    return join(this.kernelsDir, 'index.json');
  }

  private readIndex(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.indexPath(), 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }

  private writeIndex(idx: Record<string, string>): void {
    mkdirSync(this.kernelsDir, { recursive: true });
    const tmp = `${this.indexPath()}.tmp${process.pid}`;
    writeFileSync(tmp, JSON.stringify(idx, null, 2) + '\n');
    renameSync(tmp, this.indexPath());
  }

  /** The cached kernel of a package, or null. */
  cached(pkg: string): CachedKernel | null {
    const dir = join(this.kernelsDir, pkg);
    const meta = join(dir, 'kernel.json');
    if (!existsSync(meta)) return null;
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { package: string; version: string; release: string };
    return { package: m.package, version: m.version, release: m.release, dir, vmlinuz: join(dir, 'vmlinuz'), config: join(dir, 'config') };
  }

  /** Records the guest's own `uname -r` for a cached kernel. */
  setRelease(k: CachedKernel, release: string): void {
    if (k.release === release) return;
    k.release = release;
    writeFileSync(join(k.dir, 'kernel.json'), JSON.stringify({ package: k.package, version: k.version, release }, null, 2) + '\n');
  }

  async ensureKernel(spec: string): Promise<CachedKernel> {
    const idx = this.readIndex();
    const known = idx[spec];
    if (known) {
      const k = this.cached(known);
      if (k) return k;
    }
    if (spec.startsWith('linux-image-')) {
      const k = this.cached(spec);
      if (k) return k;
    }
    let pv: PackageVersion | null = null;
    if (this.listsAgeMs() < 24 * 3600 * 1000) pv = kernelPackageFor(spec, this.listKernelPackages());
    if (!pv) {
      this.updateLists();
      pv = kernelPackageFor(spec, this.listKernelPackages());
    }
    if (!pv) {
      throw new CaptureError(
        `--kernel ${spec}: no Debian amd64 kernel image matches (expected host, a version such as 6.1 or 6.12, a release such as 6.1.0-56-amd64, or a linux-image-… package)`,
      );
    }
    const k = this.cached(pv.name) ?? (await this.download(pv));
    idx[spec] = pv.name;
    this.writeIndex(idx);
    return k;
  }

  private async download(pv: PackageVersion): Promise<CachedKernel> {
    this.setupApt();
    const apt = findTool('apt-get', 'to fetch Debian kernel images');
    const work = join(this.aptDir, 'download', `${pv.name}.${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    try {
      this.progress(`downloading ${pv.name} ${pv.version} (Debian)`);
      const t0 = Date.now();
      const r = spawnSync(apt, [...this.aptOptions(), 'download', `${pv.name}=${pv.version}`], { cwd: work, encoding: 'utf8' });
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (r.status !== 0 || !deb) {
        const why = `${r.stderr ?? ''}`.trim().split('\n').filter((l) => /^(E|Err|W):/.test(l))[0] ?? `exit ${r.status}`;
        throw new CaptureError(`apt-get download ${pv.name}=${pv.version} failed: ${why}`);
      }
      const size = statSync(join(work, deb)).size;
      this.progress(`downloaded ${(size / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s; extracting /boot`);
      await extractBoot(join(work, deb), work);
      const boot = join(work, 'boot');
      const files = existsSync(boot) ? readdirSync(boot) : [];
      const vmlinuz = files.find((f) => f.startsWith('vmlinuz-'));
      const config = files.find((f) => f.startsWith('config-'));
      if (!vmlinuz) throw new CaptureError(`${deb}: no /boot/vmlinuz-* in the package`);
      const release = vmlinuz.slice('vmlinuz-'.length);
      const dir = join(this.kernelsDir, pv.name);
      const tmp = `${dir}.tmp${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      renameSync(join(boot, vmlinuz), join(tmp, 'vmlinuz'));
      if (config) renameSync(join(boot, config), join(tmp, 'config'));
      writeFileSync(join(tmp, 'kernel.json'), JSON.stringify({ package: pv.name, version: pv.version, release }, null, 2) + '\n');
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
      const k = this.cached(pv.name);
      if (!k) throw new CaptureError(`${dir}: kernel cache entry unreadable after writing it`);
      return k;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

/** `dpkg-deb --fsys-tarfile DEB | tar -x ./boot/vmlinuz-* ./boot/config-*` into `dest`. */
function extractBoot(deb: string, dest: string): Promise<void> {
  const dpkgDeb = findTool('dpkg-deb', 'to unpack the kernel package');
  const tar = findTool('tar', 'to unpack the kernel package');
  return new Promise((resolvePromise, reject) => {
    const a = spawn(dpkgDeb, ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(tar, ['-x', '-C', dest, '--wildcards', './boot/vmlinuz-*', './boot/config-*'], { stdio: ['pipe', 'ignore', 'pipe'] });
    a.stdout.pipe(b.stdin);
    let err = '';
    a.stderr.on('data', (d: Buffer) => (err += d.toString()));
    b.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let aCode: number | null = null;
    a.on('close', (c) => (aCode = c));
    b.on('close', (c) => {
      if (c === 0 && (aCode === 0 || aCode === null)) resolvePromise();
      else reject(new CaptureError(`${deb}: cannot extract /boot from the package: ${err.trim().split('\n')[0] ?? `tar exit ${c}`}`));
    });
    a.on('error', (e) => reject(new CaptureError(`dpkg-deb: ${e.message}`)));
    b.on('error', (e) => reject(new CaptureError(`tar: ${e.message}`)));
  });
}
