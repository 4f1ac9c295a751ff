/**
 * Host tools that go into the guest (or run on the host): busybox, bpftool, the two libbpf loaders,
 * and the shared libraries each one needs.
 *
 * Contract: `findTool(name)` searches PATH and the sbin directories and returns an absolute path or
 * throws a `CaptureError` naming the Debian package to install. `sharedLibraries(binary)` runs `ldd`
 * and returns the absolute paths of the libraries plus the dynamic loader (empty for a static binary).
 * `buildLoader(kind, cacheDir)` compiles src-main/capture/guest-loader.c (`level`) or
 * scripts/loader.c (`raw`) with gcc, libbpf linked statically as scripts/capture.sh does, into
 * `<cache>/tools/<name>-<sha of source>`, reusing an earlier build of the same source (`shared`:
 * libbpf linked dynamically, for the guest userland's newer libbpf).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureError } from './errors.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..');

const PACKAGE_OF: Record<string, string> = {
  busybox: 'busybox-static',
  bpftool: 'bpftool',
  gcc: 'gcc',
  'qemu-system-x86_64': 'qemu-system-x86',
  ldd: 'libc-bin',
  'dpkg-deb': 'dpkg',
  tar: 'tar',
  'apt-get': 'apt',
  'apt-cache': 'apt',
};

export function findTool(name: string, purpose: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  const pkg = PACKAGE_OF[name];
  throw new CaptureError(`${name}: not found (needed ${purpose})${pkg ? `; install it: apt-get install ${pkg}` : ''}`);
}

/** Absolute paths of the shared libraries and loader `binary` needs ([] for a static binary). */
export function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.error) throw new CaptureError(`ldd: cannot run it to list the libraries of ${binary}: ${r.error.message}`);
  const text = `${r.stdout}${r.stderr}`;
  if (/not a dynamic executable|statically linked/.test(text)) return [];
  if (r.status !== 0) throw new CaptureError(`${binary}: ldd failed: ${text.trim().split('\n')[0]}`);
  const libs: string[] = [];
  for (const line of text.split('\n')) {
    if (/=> not found/.test(line)) throw new CaptureError(`${binary}: a shared library is missing: ${line.trim()}`);
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1] as string);
  }
  return libs;
}

/** True when the ELF file has no PT_INTERP (a static executable). */
export function isStaticElf(path: string): boolean {
  return sharedLibraries(path).length === 0;
}

export type LoaderKind = 'level' | 'raw';

const LOADERS: Record<LoaderKind, { name: string; source: string }> = {
  level: { name: 'kptrscope-load', source: join(HERE, 'guest-loader.c') },
  raw: { name: 'kptrscope-rawload', source: join(REPO_ROOT, 'scripts', 'loader.c') },
};

/** `linking: 'shared'` links libbpf dynamically, so the binary uses whichever libbpf.so.1 the guest
 * userland brings (guest-userland.ts); `static` (the default) carries this machine's libbpf. */
export function buildLoader(kind: LoaderKind, cacheDir: string, linking: 'static' | 'shared' = 'static'): string {
  const { source } = LOADERS[kind];
  const name = linking === 'shared' ? `${LOADERS[kind].name}-shared` : LOADERS[kind].name;
  if (!existsSync(source)) throw new CaptureError(`${source}: loader source not found (expected in the kptrscope checkout)`);
  const src = readFileSync(source);
  const sha = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = join(cacheDir, 'tools');
  const out = join(dir, `${name}-${sha}`);
  if (existsSync(out)) return out;
  const gcc = findTool('gcc', `to build ${name} from ${source}`);
  if (!existsSync('/usr/include/bpf/libbpf.h')) {
    throw new CaptureError(`/usr/include/bpf/libbpf.h: not found (needed to build ${name}); install it: apt-get install libbpf-dev`);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  const flagsets =
    linking === 'shared'
      ? [['-lbpf', '-lelf', '-lz', '-ldl']]
      : [
          ['-Wl,-Bstatic', '-lbpf', '-Wl,-Bdynamic', '-lelf', '-lz', '-ldl'],
          ['-lbpf', '-lelf', '-lz', '-ldl'],
        ];
  let lastErr = '';
  for (const libs of flagsets) {
    try {
      execFileSync(gcc, ['-O2', '-Wall', '-o', tmp, source, ...libs], { stdio: ['ignore', 'pipe', 'pipe'] });
      renameSync(tmp, out);
      return out;
    } catch (e) {
      lastErr = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().split('\n').slice(-1)[0] ?? '';
    }
  }
  throw new CaptureError(`${source}: gcc could not build ${name}: ${lastErr} (needs gcc, libbpf-dev, libelf-dev, zlib1g-dev)`);
}
