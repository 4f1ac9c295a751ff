/**
 * A guest userland newer than this machine's: Debian trixie-backports' bpftool with trixie's
 * libraries, for guest kernels that this machine's bpftool/libbpf are too old for (7.3 refuses the BTF
 * that bookworm's libbpf 1.1 loads for some objects: "BTF loading error: -40", and the programs load
 * without BTF). trixie's binaries need a newer glibc than bookworm's, so they never run through the
 * guest's (or this machine's) dynamic loader: every command runs as
 * `<root>/…/ld-linux-x86-64.so.2 --library-path <root>/…/x86_64-linux-gnu <binary>`.
 *
 * Contract:
 * - `USERLAND_PACKAGES` names what is fetched: bpftool (trixie-backports) and libc6, libelf1t64,
 *   zlib1g, libzstd1, libcap2, libssl3t64, libbpf1 (trixie; the last for the bundled loaders, which
 *   are built here against libbpf's shared library and so use trixie's libbpf in the guest).
 * - `needsNewUserland(release)` is pure: true for kernels after 6.12 (the newest series bookworm's
 *   bpftool 7.1/libbpf 1.1 were checked against); `KPTRSCOPE_GUEST_USERLAND=host|trixie` overrides.
 * - `ensureUserland(cache)` downloads the packages once with the kernel cache's private apt state
 *   and unpacks the shared libraries and bpftool into `<cache>/userland/<digest>/` (written under a
 *   temporary name, then renamed); later captures reuse it offline. `userlandFiles(u)` turns it into
 *   guest files under `GUEST_USERLAND_ROOT` (symlinks become copies: the initramfs holds plain files).
 * - `runner(u)` is the command prefix that runs a binary with the userland's own loader and libraries.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CaptureError } from './errors.ts';
import type { KernelCache } from './kernel-cache.ts';
import { findTool } from './tools.ts';
import type { GuestFile } from './initramfs.ts';

export const USERLAND_PACKAGES = [
  'bpftool/trixie-backports',
  'libbpf1/trixie',
  'libc6/trixie',
  'libelf1t64/trixie',
  'zlib1g/trixie',
  'libzstd1/trixie',
  'libcap2/trixie',
  'libssl3t64/trixie',
];

/** Where the userland lives inside the guest. */
export const GUEST_USERLAND_ROOT = '/opt/kptrscope-userland';
const LIB_DIR = 'usr/lib/x86_64-linux-gnu';
const LD = `${LIB_DIR}/ld-linux-x86-64.so.2`;
const BPFTOOL = 'usr/sbin/bpftool';

export interface Userland {
  dir: string;
  /** Debian versions of the packages, by name. */
  versions: Record<string, string>;
}

/** True when a guest kernel of this release needs a newer bpftool/libbpf than bookworm's. */
export function needsNewUserland(release: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KPTRSCOPE_GUEST_USERLAND === 'host') return false;
  if (env.KPTRSCOPE_GUEST_USERLAND === 'trixie') return true;
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 6 || (major === 6 && minor > 12);
}

/** The command prefix that runs a guest binary with the userland's loader and libraries. */
export function runner(): string {
  return `${GUEST_USERLAND_ROOT}/${LD} --library-path ${GUEST_USERLAND_ROOT}/${LIB_DIR}`;
}

/** The guest path of the userland's bpftool. */
export const GUEST_USERLAND_BPFTOOL = `${GUEST_USERLAND_ROOT}/${BPFTOOL}`;

export function ensureUserland(cache: KernelCache, progress: (m: string) => void): Userland {
  const key = createHash('sha256').update(USERLAND_PACKAGES.join('\n')).digest('hex').slice(0, 12);
  const base = join(cache.dir, 'userland');
  const dir = join(base, key);
  const meta = join(dir, 'userland.json');
  if (existsSync(meta)) return { dir, versions: (JSON.parse(readFileSync(meta, 'utf8')) as { versions: Record<string, string> }).versions };
  const work = join(base, `${key}.tmp${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'debs'), { recursive: true });
  try {
    progress(`fetching the guest userland (${USERLAND_PACKAGES.join(' ')})`);
    const debs = cache.downloadPackages(USERLAND_PACKAGES, join(work, 'debs'));
    const dpkgDeb = findTool('dpkg-deb', 'to unpack the guest userland');
    const versions: Record<string, string> = {};
    for (const deb of debs) {
      const r = spawnSync(dpkgDeb, ['-x', deb, join(work, 'root')], { encoding: 'utf8' });
      if (r.status !== 0) throw new CaptureError(`${deb}: cannot unpack: ${(r.stderr ?? '').trim().split('\n')[0]}`);
      const f = spawnSync(dpkgDeb, ['-f', deb, 'Package', 'Version'], { encoding: 'utf8' });
      const pkg = /^Package:\s*(\S+)/m.exec(f.stdout)?.[1];
      const ver = /^Version:\s*(\S+)/m.exec(f.stdout)?.[1];
      if (pkg && ver) versions[pkg] = ver;
    }
    for (const need of [LD, BPFTOOL, `${LIB_DIR}/libbpf.so.1`, `${LIB_DIR}/libc.so.6`]) {
      if (!existsSync(join(work, 'root', need))) throw new CaptureError(`guest userland: /${need} is missing from the unpacked packages`);
    }
    writeFileSync(join(work, 'root', 'userland.json'), JSON.stringify({ packages: USERLAND_PACKAGES, versions }, null, 2) + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'root'), dir);
    return { dir, versions };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The userland's bpftool and shared libraries as guest files. */
export function userlandFiles(u: Userland): GuestFile[] {
  const files: GuestFile[] = [];
  const libs = join(u.dir, LIB_DIR);
  for (const name of readdirSync(libs).sort()) {
    if (!/\.so(\.\d+)*$/.test(name) && !name.startsWith('ld-linux')) continue;
    const p = join(libs, name);
    if (lstatSync(p).isDirectory()) continue;
    files.push({ guestPath: `${GUEST_USERLAND_ROOT}/${relative(u.dir, p)}`, data: readFileSync(realpathSync(p)), mode: 0o755 });
  }
  files.push({ guestPath: GUEST_USERLAND_BPFTOOL, data: readFileSync(join(u.dir, BPFTOOL)), mode: 0o755 });
  return files;
}
