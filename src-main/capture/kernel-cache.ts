/**
 * Debian kernel images in the user's cache, fetched with apt from Debian's archive.
 *
 * Contract:
 * - `defaultCacheDir()` is `$XDG_CACHE_HOME/kptrscope` or `~/.cache/kptrscope` (`KPTRSCOPE_CACHE_DIR`
 *   overrides).
 * - apt runs with a private state under `<cache>/apt/` (its own sources.list naming bookworm, trixie,
 *   trixie-backports, forky, sid and experimental, with the security/updates suites, its own package
 *   lists and archive dir, no locking of the host's apt): the host's sources, lists and installed packages are never touched,
 *   and nothing is installed. `KPTRSCOPE_DEBIAN_MIRROR` / `KPTRSCOPE_DEBIAN_SECURITY` change the mirror.
 * - `kernelPackageFor(spec, names)` is pure: `linux-image-…` names a package; `6.1.0-56-amd64` or
 *   `7.3.4+deb13-cloud-amd64` names the package of that release; a version prefix (`6.1`, `7.3`,
 *   `7.3.4`) picks among the generic amd64 images the highest Debian version, never a release
 *   candidate (`-cloud`/`-rt` after it picks that flavor); `7.3-rc[N]` picks a release candidate.
 *   `availableKernels` (for `capture --list-kernels`) lists them all with the specs that pick each.
 * - `ensureKernel(spec)` returns the cached kernel (`<cache>/kernels/<package>/`: `vmlinuz`,
 *   `config`, `kernel.json`), downloading the .debs with `apt-get download` and extracting only the
 *   image and its config (the .debs are deleted afterwards) when it is not there yet. Both of Debian's
 *   layouts: up to 6.18 the image package holds /boot/vmlinuz-REL and /boot/config-REL; from 6.19 it
 *   is empty and depends on `linux-binary[-unsigned]-REL` (/usr/lib/modules/REL/vmlinuz) and
 *   `linux-base-REL` (…/config), which are fetched with it. A spec
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

/** `linux-image-<release>`: a release (6.1.0-56-amd64, 7.3.4+deb13-cloud-amd64) or, for release
 * candidates and experimental's meta-like names, a series (7.3-amd64). */
const IMAGE_RE = /^linux-image-(\d+\.\d+(?:\.\d+)?(?:[-+][A-Za-z0-9.+~-]*)?-amd64)$/;

export type KernelFlavor = 'generic' | 'cloud' | 'rt';

export interface KernelImage {
  /** The package's release part (`uname -r` of the kernel, except for release candidates). */
  release: string;
  /** `major.minor` */
  series: string;
  flavor: KernelFlavor;
}

/** What a Debian amd64 kernel image package name says, or null for other packages (-dbg, meta,
 * -unsigned, headers). */
export function kernelImageOf(pkg: string): KernelImage | null {
  const m = IMAGE_RE.exec(pkg);
  if (!m) return null;
  const rel = m[1] as string;
  if (/-unsigned/.test(rel)) return null;
  const series = /^(\d+\.\d+)/.exec(rel)?.[1] as string;
  const flavor: KernelFlavor = /-cloud-amd64$/.test(rel) ? 'cloud' : /-rt-amd64$/.test(rel) ? 'rt' : 'generic';
  return { release: rel, series, flavor };
}

/** The uname release of a Debian amd64 generic kernel image package (not cloud/rt, not a series
 * name such as 7.3-amd64), or null for other packages. */
export function releaseOfPackage(pkg: string): string | null {
  const k = kernelImageOf(pkg);
  if (!k || k.flavor !== 'generic' || !/^\d+\.\d+\.\d+/.test(k.release)) return null;
  return k.release;
}

export interface PackageVersion {
  name: string;
  version: string;
  /** The archive suite apt found it in (trixie-backports, experimental, …), when known. */
  suite?: string;
}

/** A Debian version of a release candidate (7.3~rc7-1~exp1). */
export function isReleaseCandidate(version: string): boolean {
  return /~rc\d*/.test(version);
}

const SPEC_RE = /^(\d+\.\d+(?:\.\d+)?)(?:-(cloud|rt))?$/;
const RC_SPEC_RE = /^(\d+\.\d+)[-~]rc(\d*)(?:-(cloud|rt))?$/;

/**
 * Picks the package for a spec among the known packages (name + Debian version): a package name;
 * a release (any flavor); `X.Y[.Z][-cloud|-rt]`, the highest Debian version of that series or patch
 * release in that flavor (generic by default), never a release candidate; `X.Y-rc[N]` (or `~rc`), the
 * newest release candidate of the series (of candidate N when given).
 */
export function kernelPackageFor(spec: string, packages: PackageVersion[]): PackageVersion | null {
  if (spec.startsWith('linux-image-')) return newest(packages.filter((p) => p.name === spec));
  const exact = packages.filter((p) => p.name === `linux-image-${spec}` && kernelImageOf(p.name));
  if (exact.length > 0) return newest(exact);
  const rc = RC_SPEC_RE.exec(spec);
  if (rc) {
    const [, series, n, flavor] = rc as unknown as [string, string, string, string | undefined];
    return newest(
      packages.filter((p) => {
        const k = kernelImageOf(p.name);
        return k && k.series === series && k.flavor === (flavor ?? 'generic') && isReleaseCandidate(p.version) && (n === '' || new RegExp(`~rc${n}(?!\\d)`).test(p.version));
      }),
    );
  }
  const m = SPEC_RE.exec(spec);
  if (!m) return null;
  const version = m[1] as string;
  const flavor = (m[2] as KernelFlavor | undefined) ?? 'generic';
  return newest(
    packages.filter((p) => {
      const k = kernelImageOf(p.name);
      if (!k || k.flavor !== flavor || isReleaseCandidate(p.version) || !/^\d+\.\d+\.\d+/.test(k.release)) return false;
      if (!k.release.startsWith(version)) return false;
      const next = k.release.charAt(version.length);
      return next === '.' || next === '-' || next === '+';
    }),
  );
}

function newest(ps: PackageVersion[]): PackageVersion | null {
  return [...ps].sort((a, b) => compareDebianVersions(b.version, a.version))[0] ?? null;
}

/** A kernel spec as the user writes it: `host`, a release, a version prefix (with an optional
 * `-cloud`/`-rt` flavor), a release candidate (`7.3-rc7`), or a package name. */
export function isKernelSpec(spec: string): boolean {
  return spec === 'host' || /^linux-image-\S+$/.test(spec) || RC_SPEC_RE.test(spec) || /^\d+\.\d+(\.\d+)?([-+][A-Za-z0-9.+~-]*)?$/.test(spec);
}

export interface AvailableKernel {
  package: string;
  version: string;
  suite: string | null;
  release: string;
  series: string;
  flavor: KernelFlavor;
  releaseCandidate: boolean;
  cached: boolean;
  /** The specs (`7.3`, `7.3-cloud`, `7.3-rc`) that pick this package today. */
  pickedBy: string[];
}

/** Every kernel image the lists offer, newest first, with the specs that pick each (pure). */
export function availableKernels(packages: PackageVersion[], cachedPackages: Set<string>): AvailableKernel[] {
  const out: AvailableKernel[] = [];
  for (const p of packages) {
    const k = kernelImageOf(p.name);
    // A series name (6.12-amd64) is a release candidate in experimental, else a meta package.
    if (!k || (!/^\d+\.\d+\.\d+/.test(k.release) && !isReleaseCandidate(p.version))) continue;
    out.push({ package: p.name, version: p.version, suite: p.suite ?? null, release: k.release, series: k.series, flavor: k.flavor, releaseCandidate: isReleaseCandidate(p.version), cached: cachedPackages.has(p.name), pickedBy: [] });
  }
  const series = [...new Set(out.map((k) => k.series))];
  for (const s of series) {
    for (const [flavor, suffix] of [['generic', ''], ['cloud', '-cloud'], ['rt', '-rt']] as const) {
      for (const spec of [`${s}${suffix}`, `${s}-rc${suffix}`]) {
        const pick = kernelPackageFor(spec, packages);
        if (!pick) continue;
        const k = out.find((x) => x.package === pick.name && x.version === pick.version && x.flavor === flavor);
        if (k) k.pickedBy.push(spec);
      }
    }
  }
  const seriesKey = (s: string) => s.split('.').map(Number) as [number, number];
  out.sort((a, b) => {
    const [am, an] = seriesKey(a.series);
    const [bm, bn] = seriesKey(b.series);
    return bm - am || bn - an || a.flavor.localeCompare(b.flavor) || compareDebianVersions(b.version, a.version);
  });
  return out;
}

// ---------------------------------------------------------------- apt with a private state ----

const SUITES: [string, string][] = [
  ['main', 'bookworm'],
  ['main', 'bookworm-updates'],
  ['security', 'bookworm-security'],
  ['main', 'trixie'],
  ['main', 'trixie-updates'],
  ['security', 'trixie-security'],
  ['main', 'trixie-backports'],
  ['main', 'forky'],
  ['main', 'sid'],
  ['main', 'experimental'],
];

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface CachedKernel {
  package: string;
  version: string;
  /** `uname -r` of the guest: the package's release until the guest said otherwise. */
  release: string;
  /** The archive suite it came from (absent in caches made before suites were recorded). */
  suite?: string;
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
      '-o', `Dir::Etc::sourceparts=${join(a, 'sources.list.d')}`,
      '-o', `Dir::Etc::preferences=${join(a, 'preferences')}`,
      '-o', `Dir::Etc::preferencesparts=${join(a, 'preferences.d')}`,
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
    for (const d of ['lists/partial', 'cache/archives/partial', 'state', 'download', 'sources.list.d', 'preferences.d']) mkdirSync(join(this.aptDir, d), { recursive: true });
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
    this.progress(`apt-get update (private package lists in the cache: ${[...new Set(SUITES.map(([, x]) => x.replace(/-(updates|security)$/, '')))].join(', ')})`);
    const r = spawnSync(apt, [...this.aptOptions(), 'update'], { encoding: 'utf8' });
    if (r.status !== 0) {
      const why = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').filter((l) => /^(E|Err):/.test(l))[0] ?? r.error?.message ?? `exit ${r.status}`;
      throw new CaptureError(`apt-get update of the kernel package lists failed: ${why}`);
    }
  }

  /** Every linux-image package with its versions and suites, from the private lists. */
  listKernelPackages(): PackageVersion[] {
    const aptCache = findTool('apt-cache', 'to look up Debian kernel images');
    const names = spawnSync(aptCache, [...this.aptOptions(), 'pkgnames', 'linux-image-'], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (names.status !== 0) throw new CaptureError(`apt-cache pkgnames failed: ${(names.stderr ?? '').trim().split('\n')[0]}`);
    const images = names.stdout.split('\n').filter((n) => kernelImageOf(n) !== null);
    if (images.length === 0) return [];
    const r = spawnSync(aptCache, [...this.aptOptions(), 'madison', ...images], { encoding: 'utf8', maxBuffer: 16 << 20 });
    return parseMadison(r.stdout);
  }

  /** The package lists, refreshed when older than a day (or missing). */
  private freshPackages(): PackageVersion[] {
    if (this.listsAgeMs() < 24 * 3600 * 1000) {
      const ps = this.listKernelPackages();
      if (ps.length > 0) return ps;
    }
    this.updateLists();
    return this.listKernelPackages();
  }

  /** What `capture --list-kernels` shows: every image the archive offers plus what is cached. */
  availableKernels(): { kernels: AvailableKernel[]; cached: CachedKernel[] } {
    const cached = this.cachedKernels();
    return { kernels: availableKernels(this.freshPackages(), new Set(cached.map((k) => k.package))), cached };
  }

  /** Every kernel in the cache. */
  cachedKernels(): CachedKernel[] {
    if (!existsSync(this.kernelsDir)) return [];
    return readdirSync(this.kernelsDir)
      .filter((d) => d.startsWith('linux-image-') && !d.includes('.tmp'))
      .map((d) => this.cached(d))
      .filter((k): k is CachedKernel => k !== null)
      .sort((a, b) => compareDebianVersions(b.version, a.version));
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
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { package: string; version: string; release: string; suite?: string };
    return { package: m.package, version: m.version, release: m.release, ...(m.suite ? { suite: m.suite } : {}), dir, vmlinuz: join(dir, 'vmlinuz'), config: join(dir, 'config') };
  }

  /** Records the guest's own `uname -r` for a cached kernel. */
  setRelease(k: CachedKernel, release: string): void {
    if (k.release === release) return;
    k.release = release;
    writeFileSync(join(k.dir, 'kernel.json'), JSON.stringify({ package: k.package, version: k.version, release, ...(k.suite ? { suite: k.suite } : {}) }, null, 2) + '\n');
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
        `--kernel ${spec}: no Debian amd64 kernel image matches in ${SUITES.map(([, x]) => x).filter((x) => !/-(updates|security)$/.test(x)).join(', ')} (expected host, a version such as 6.1 or 7.3, a flavor such as 7.3-cloud, a release candidate such as 7.3-rc7, a release such as 7.3.4+deb13-cloud-amd64, or a linux-image-… package; kptrscope capture --list-kernels shows them)`,
      );
    }
    const k = this.cached(pv.name) ?? (await this.download(pv));
    idx[spec] = pv.name;
    this.writeIndex(idx);
    return k;
  }

  /** `apt-get download` of packages (`name`, `name=version` or `name/suite`) into `dir` with the
   * private state; returns the .deb paths. */
  downloadPackages(specs: string[], dir: string): string[] {
    this.setupApt();
    if (this.listsAgeMs() >= 24 * 3600 * 1000) this.updateLists();
    const apt = findTool('apt-get', 'to fetch Debian packages');
    const r = spawnSync(apt, [...this.aptOptions(), 'download', ...specs], { cwd: dir, encoding: 'utf8' });
    const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
    if (r.status !== 0 || debs.length < specs.length) {
      throw new CaptureError(`apt-get download ${specs.join(' ')} failed: ${aptProblem(r.stderr, r.status)}`);
    }
    return debs.sort().map((d) => join(dir, d));
  }

  /** The packages that carry a kernel image's files: the image itself and, from 6.19 on (where the
   * image is an empty package), the `linux-binary[-unsigned]-<rel>` and `linux-base-<rel>` it depends on. */
  private partsOf(pv: PackageVersion): string[] {
    const aptCache = findTool('apt-cache', 'to look up Debian kernel images');
    const r = spawnSync(aptCache, [...this.aptOptions(), 'show', `${pv.name}=${pv.version}`], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const wanted = kernelPartsFromDepends(r.stdout, kernelImageOf(pv.name)?.release ?? '');
    if (wanted.length === 0) return [`${pv.name}=${pv.version}`];
    // The archive does not always hold every part (6.19.14's linux-base is missing): fetch what is there.
    const names = wanted.map((w) => w.split('=')[0] as string);
    const have = parseMadison(spawnSync(aptCache, [...this.aptOptions(), 'madison', ...names], { encoding: 'utf8', maxBuffer: 16 << 20 }).stdout);
    const present = wanted.filter((w) => {
      const [name, version] = w.split('=');
      return have.some((h) => h.name === name && (version === undefined || h.version === version));
    });
    const missing = wanted.filter((w) => !present.includes(w));
    if (missing.length > 0) this.progress(`not in the archive: ${missing.join(' ')} (going on without it)`);
    return [`${pv.name}=${pv.version}`, ...present];
  }

  private async download(pv: PackageVersion): Promise<CachedKernel> {
    this.setupApt();
    const apt = findTool('apt-get', 'to fetch Debian kernel images');
    const work = join(this.aptDir, 'download', `${pv.name}.${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    try {
      const parts = this.partsOf(pv);
      this.progress(`downloading ${parts.join(' ')} (Debian${pv.suite ? ` ${pv.suite}` : ''})`);
      const t0 = Date.now();
      const r = spawnSync(apt, [...this.aptOptions(), 'download', ...parts], { cwd: work, encoding: 'utf8' });
      const debs = readdirSync(work).filter((f) => f.endsWith('.deb'));
      if (r.status !== 0 || debs.length === 0) {
        throw new CaptureError(`apt-get download ${parts.join(' ')} failed: ${aptProblem(r.stderr, r.status)}`);
      }
      const size = debs.reduce((n, d) => n + statSync(join(work, d)).size, 0);
      this.progress(`downloaded ${(size / 1e6).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s; extracting the kernel and its config`);
      const out = join(work, 'files');
      mkdirSync(out, { recursive: true });
      let found: KernelFiles = { vmlinuz: null, config: null, release: null };
      for (const deb of debs.sort()) {
        const names = await listDeb(join(work, deb));
        const f = kernelFilesIn(names);
        const wanted = [f.vmlinuz, f.config].filter((x): x is string => x !== null && x !== undefined);
        if (wanted.length === 0) continue;
        await extractFromDeb(join(work, deb), out, wanted);
        found = { vmlinuz: found.vmlinuz ?? f.vmlinuz, config: found.config ?? f.config, release: found.release ?? f.release };
      }
      if (!found.vmlinuz || !found.release) {
        throw new CaptureError(`${parts.join(' ')}: no kernel image in the packages (looked for /boot/vmlinuz-* and /usr/lib/modules/*/vmlinuz*)`);
      }
      const release = found.release;
      const dir = join(this.kernelsDir, pv.name);
      const tmp = `${dir}.tmp${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      renameSync(join(out, found.vmlinuz), join(tmp, 'vmlinuz'));
      if (found.config) renameSync(join(out, found.config), join(tmp, 'config'));
      writeFileSync(join(tmp, 'kernel.json'), JSON.stringify({ package: pv.name, version: pv.version, release, ...(pv.suite ? { suite: pv.suite } : {}) }, null, 2) + '\n');
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

/** The line of apt's stderr that says what went wrong: an error before any warning. */
function aptProblem(stderr: string | null | undefined, status: number | null): string {
  const lines = `${stderr ?? ''}`.trim().split('\n');
  return lines.find((l) => /^(E|Err):/.test(l)) ?? lines.find((l) => /^W:/.test(l)) ?? `exit ${status}`;
}

/** `apt-cache madison` output → packages with versions and suites (pure). */
export function parseMadison(text: string): PackageVersion[] {
  const out: PackageVersion[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(.*)$/.exec(line);
    if (!m) continue;
    const suite = /\s([a-z-]+)\/main\b/.exec(m[3] as string)?.[1];
    out.push({ name: m[1] as string, version: m[2] as string, ...(suite ? { suite } : {}) });
  }
  return out;
}

/** From an image package's `apt-cache show` text: the `linux-binary[-unsigned]-REL` and
 * `linux-base-REL` packages (with their pinned versions) that hold its files (pure). */
export function kernelPartsFromDepends(showText: string, release: string): string[] {
  const depends = /^Depends:\s*(.*)$/m.exec(showText)?.[1] ?? '';
  const parts: string[] = [];
  for (const alt of depends.split(',')) {
    const m = /^\s*(linux-(binary|binary-unsigned|base)-(\S+))\s*(?:\(=\s*([^)\s]+)\))?/.exec(alt.split('|')[0] ?? '');
    if (!m || m[3] !== release) continue;
    parts.push(m[4] ? `${m[1]}=${m[4]}` : (m[1] as string));
  }
  // Only a split kernel (6.19 on) needs its parts: an older image holds its own files, even when it
  // names a linux-base-REL (6.18.15 does, and no suite carries it).
  const signed = parts.filter((p) => p.startsWith('linux-binary-') && !p.startsWith('linux-binary-unsigned-'));
  const unsigned = parts.filter((p) => p.startsWith('linux-binary-unsigned-'));
  if (signed.length === 0 && unsigned.length === 0) return [];
  // The signed binary when both are named (they hold the same kernel).
  return parts.filter((p) => !p.startsWith('linux-binary') || (signed.length > 0 ? signed.includes(p) : unsigned.includes(p)));
}

interface KernelFiles {
  vmlinuz: string | null;
  config: string | null;
  release: string | null;
}

/** Which member names of a kernel package are the image and the config: /boot/vmlinuz-REL and
 * /boot/config-REL (≤ 6.18), or /usr/lib/modules/REL/vmlinuz[.unsigned] and …/config (6.19 on). */
export function kernelFilesIn(names: string[]): KernelFiles {
  let vmlinuz: string | null = null;
  let config: string | null = null;
  let release: string | null = null;
  for (const n of names) {
    const boot = /^\.\/boot\/(vmlinuz|config)-(.+)$/.exec(n);
    const mods = /^\.\/usr\/lib\/modules\/([^/]+)\/(vmlinuz(?:\.unsigned)?|config)$/.exec(n);
    if (boot) {
      if (boot[1] === 'vmlinuz') {
        vmlinuz = n;
        release = boot[2] as string;
      } else config = n;
    } else if (mods) {
      if ((mods[2] as string).startsWith('vmlinuz')) {
        if (!vmlinuz || mods[2] === 'vmlinuz') vmlinuz = n;
        release = mods[1] as string;
      } else config = n;
    }
  }
  return { vmlinuz, config, release };
}

/** Member names of a .deb's data archive (`./boot/…`; symlinks and directories included). */
function listDeb(deb: string): Promise<string[]> {
  const dpkgDeb = findTool('dpkg-deb', 'to unpack the kernel package');
  const tar = findTool('tar', 'to unpack the kernel package');
  return new Promise((resolvePromise, reject) => {
    const a = spawn(dpkgDeb, ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(tar, ['-t'], { stdio: ['pipe', 'pipe', 'pipe'] });
    a.stdout.pipe(b.stdin);
    let names = '';
    b.stdout.on('data', (d: Buffer) => (names += d.toString()));
    b.on('close', (c) => (c === 0 ? resolvePromise(names.split('\n').filter((x) => x !== '')) : reject(new CaptureError(`${deb}: cannot list the package (tar exit ${c})`))));
    a.on('error', (e) => reject(new CaptureError(`dpkg-deb: ${e.message}`)));
    b.on('error', (e) => reject(new CaptureError(`tar: ${e.message}`)));
  });
}

/** `dpkg-deb --fsys-tarfile DEB | tar -x MEMBER...` into `dest`. */
function extractFromDeb(deb: string, dest: string, members: string[]): Promise<void> {
  const dpkgDeb = findTool('dpkg-deb', 'to unpack the kernel package');
  const tar = findTool('tar', 'to unpack the kernel package');
  return new Promise((resolvePromise, reject) => {
    const a = spawn(dpkgDeb, ['--fsys-tarfile', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(tar, ['-x', '-C', dest, ...members], { stdio: ['pipe', 'ignore', 'pipe'] });
    a.stdout.pipe(b.stdin);
    let err = '';
    a.stderr.on('data', (d: Buffer) => (err += d.toString()));
    b.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let aCode: number | null = null;
    a.on('close', (c) => (aCode = c));
    b.on('close', (c) => {
      if (c === 0 && (aCode === 0 || aCode === null)) resolvePromise();
      else reject(new CaptureError(`${deb}: cannot extract ${members.join(' ')} from the package: ${err.trim().split('\n')[0] ?? `tar exit ${c}`}`));
    });
    a.on('error', (e) => reject(new CaptureError(`dpkg-deb: ${e.message}`)));
    b.on('error', (e) => reject(new CaptureError(`tar: ${e.message}`)));
  });
}
