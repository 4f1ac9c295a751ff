/**
 * The guest's initramfs, in two gzip'd cpio parts that the kernel unpacks one after the other:
 *
 *   base  busybox (static), bpftool, the loaders, and every shared library they need (found with
 *         ldd, stored at the same absolute paths) or, for newer guest kernels, the guest userland's
 *         bpftool and libraries under their own root (guest-userland.ts), /dev/console. Depends only on the host's tools, so
 *         it is cached as `<cache>/initramfs/base-<sha>.cpio.gz`, the SHA covering every file's path
 *         and bytes: a changed bpftool or loader gives a new base.
 *   run   `/init` (init-script.ts) and the objects under /objs/oI/. Small; built for every capture.
 *
 * Contract: `baseEntries(tools)` and `runEntries(plan, objectBytes)` are pure (they take bytes, not
 * paths); `ensureBaseInitramfs` and `writeInitrd` do the file work. `writeInitrd` concatenates the two
 * compressed parts into the file QEMU's `-initrd` gets.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioArchive, type CpioEntry } from './cpio.ts';
import { GUEST_BPFTOOL, GUEST_LOADER, GUEST_RAW_LOADER, initScript, type GuestPlan } from './init-script.ts';
import { findTool, isStaticElf, sharedLibraries } from './tools.ts';
import { CaptureError } from './errors.ts';

export interface GuestFile {
  /** Absolute path inside the guest. */
  guestPath: string;
  data: Uint8Array;
  mode: number;
}

/** Adds the directories leading to every file (parents first), then the files, in path order. */
export function treeEntries(files: GuestFile[], extraDirs: string[] = []): CpioEntry[] {
  const dirs = new Set<string>();
  const addDir = (p: string) => {
    const parts = p.split('/').filter((x) => x !== '');
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  };
  for (const d of extraDirs) addDir(d);
  for (const f of files) addDir(f.guestPath.split('/').slice(0, -1).join('/'));
  const entries: CpioEntry[] = [...dirs].sort().map((d) => ({ type: 'dir', path: d }));
  const seen = new Set<string>();
  for (const f of [...files].sort((a, b) => a.guestPath.localeCompare(b.guestPath))) {
    const path = f.guestPath.replace(/^\/+/, '');
    if (seen.has(path)) continue;
    seen.add(path);
    entries.push({ type: 'file', path, data: f.data, mode: f.mode });
  }
  return entries;
}

export interface BaseTools {
  busybox: GuestFile;
  bpftool: GuestFile;
  loaders: GuestFile[];
  libraries: GuestFile[];
}

export function baseEntries(t: BaseTools): CpioEntry[] {
  const files = [t.busybox, t.bpftool, ...t.loaders, ...t.libraries];
  const entries = treeEntries(files, ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/proc', '/sys', '/dev', '/tmp', '/objs']);
  entries.push({ type: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  return entries;
}

/** `kernelConfig`: the guest kernel's config, placed at /boot/config (the init script links it to
 * /boot/config-$(uname -r), where libbpf reads `extern … __kconfig` values). */
export function runEntries(plan: GuestPlan, objectBytes: Uint8Array[], kernelConfig?: Uint8Array): CpioEntry[] {
  const entries: CpioEntry[] = [{ type: 'file', path: 'init', data: Buffer.from(initScript(plan)), mode: 0o755 }, { type: 'dir', path: 'objs' }];
  if (kernelConfig) entries.push({ type: 'dir', path: 'boot' }, { type: 'file', path: 'boot/config', data: kernelConfig, mode: 0o644 });
  plan.objects.forEach((o, i) => {
    const data = objectBytes[i];
    if (!data) throw new CaptureError(`initramfs: no bytes for object ${i} (${o.file})`);
    entries.push({ type: 'dir', path: `objs/${o.dir}` }, { type: 'file', path: `objs/${o.dir}/${o.file}`, data, mode: 0o644 });
  });
  return entries;
}

function hostFile(path: string, guestPath: string, mode = 0o755): GuestFile {
  return { guestPath, data: readFileSync(realpathSync(path)), mode };
}

/** Collects the host's tools (and their libraries) for the base part; with `userland`, that
 * userland's bpftool and libraries instead of this machine's (the loaders then link libbpf shared). */
export function collectBaseTools(opts: { levelLoader?: string; rawLoader?: string; userland?: GuestFile[] }): BaseTools {
  const busyboxPath = findTool('busybox', 'as the guest shell (a static busybox)');
  if (!isStaticElf(busyboxPath)) {
    throw new CaptureError(`${busyboxPath}: busybox is dynamically linked; the guest needs the static one: apt-get install busybox-static`);
  }
  if (opts.userland) {
    const loaders: GuestFile[] = [];
    if (opts.levelLoader) loaders.push(hostFile(opts.levelLoader, GUEST_LOADER));
    if (opts.rawLoader) loaders.push(hostFile(opts.rawLoader, GUEST_RAW_LOADER));
    const bpftool = opts.userland.find((f) => f.guestPath.endsWith('/bpftool'));
    if (!bpftool) throw new CaptureError('guest userland: no bpftool in it');
    return { busybox: hostFile(busyboxPath, '/bin/busybox'), bpftool, loaders, libraries: opts.userland.filter((f) => f !== bpftool) };
  }
  const bpftoolPath = findTool('bpftool', 'to load the programs in the guest');
  const loaders: GuestFile[] = [];
  if (opts.levelLoader) loaders.push(hostFile(opts.levelLoader, GUEST_LOADER));
  if (opts.rawLoader) loaders.push(hostFile(opts.rawLoader, GUEST_RAW_LOADER));
  const libPaths = new Set<string>();
  for (const bin of [bpftoolPath, opts.levelLoader, opts.rawLoader]) {
    if (bin) for (const l of sharedLibraries(bin)) libPaths.add(l);
  }
  return {
    busybox: hostFile(busyboxPath, '/bin/busybox'),
    bpftool: hostFile(bpftoolPath, GUEST_BPFTOOL),
    loaders,
    libraries: [...libPaths].sort().map((l) => hostFile(l, l, 0o755)),
  };
}

export function baseDigest(t: BaseTools): string {
  const h = createHash('sha256');
  for (const f of [t.busybox, t.bpftool, ...t.loaders, ...t.libraries]) {
    h.update(f.guestPath + '\0' + f.mode + '\0');
    h.update(f.data);
  }
  return h.digest('hex').slice(0, 16);
}

/** Path of the cached base part for these tools, building it when missing. */
export function ensureBaseInitramfs(cacheDir: string, tools: BaseTools): { path: string; built: boolean } {
  const dir = join(cacheDir, 'initramfs');
  const path = join(dir, `base-${baseDigest(tools)}.cpio.gz`);
  if (existsSync(path)) return { path, built: false };
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, gzipSync(cpioArchive(baseEntries(tools)), { level: 6 }));
  renameSync(tmp, path);
  return { path, built: true };
}

/** Writes base + run parts into `out`. */
export function writeInitrd(out: string, basePath: string, plan: GuestPlan, objectBytes: Uint8Array[], kernelConfig?: Uint8Array): number {
  const base = readFileSync(basePath);
  const run = gzipSync(cpioArchive(runEntries(plan, objectBytes, kernelConfig)), { level: 1 });
  const all = Buffer.concat([base, run]);
  writeFileSync(out, all);
  return all.length;
}
