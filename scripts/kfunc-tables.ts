/**
 * Generates the per-release kfunc tables src-main/domain/model/kfuncs/<release>.json from the
 * kernel source's kfunc id sets (and, for 6.18, from the 6.12 and 7.2 tables limited to the kfuncs
 * of 6.18's BTF).
 *
 *   node bin/run-ts.mjs scripts/kfunc-tables.ts [--releases 6.1,6.12,7.2,7.3,6.18]
 *        [--src-root DIR]... [--no-system-src] [--cache DIR] [--out DIR] [--btf FILE [--btf-release R]] [--check]
 *
 * Contract. For a source release R it reads, from a tree linux-source-R (looked up in --src-root
 * dirs, $KPTRSCOPE_LINUX_SRC_ROOT, /usr/src, /work/src and CACHE/src) or the tarball
 * /usr/src/linux-source-R.tar.xz, else from the Debian package linux-source-R fetched with a
 * PRIVATE apt configuration under CACHE/apt-src (own sources list, lists, archives, status; the
 * system's apt is not touched; CACHE = --cache or ~/.cache/kptrscope; only the files with kfunc
 * sets are kept, in CACHE/src/linux-source-R): the KF_* definitions of include/linux/btf.h, the
 * program type → kfunc hook switch of kernel/bpf/btf.c, whether the verifier treats arguments as
 * trusted by default, every `BTF_KFUNCS_START/BTF_SET8_START … BTF_ID_FLAGS(func, NAME[, KF_…])`
 * set (preprocessor guards recorded, every branch included), every `struct btf_kfunc_id_set`
 * (`.set`, `.filter`) and every `register_btf_kfunc_id_set(BPF_PROG_TYPE_X, &struct)` /
 * `register_btf_fmodret_id_set(&struct)` call. Functions of sets registered only for fmod_ret are
 * not kfuncs. What cannot be resolved is listed in the table's `unresolved`. Only facts (names,
 * flags, program types, files, guards) are written, never source text.
 *
 * 6.18 has no Debian source package: its table is derived. Names: the FUNCs of the running
 * kernel's BTF (/sys/kernel/btf/vmlinux, or --btf) when that kernel is 6.18, kept in
 * kfuncs/6.18-names.txt so a machine without 6.18 regenerates the same table; facts: the 7.2
 * entry when 7.2 has the name, else the 6.12 one (see derive618 for the flag vocabulary).
 *
 * --no-system-src looks only in --src-root dirs and the cache (then fetches): a fresh machine's path.
 * --check regenerates in memory and exits 1 if a committed file differs (nothing is written).
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type {
  KfuncFlagDefJson,
  KfuncJson,
  KfuncRegistrationJson,
  KfuncSetJson,
  KfuncTableJson,
} from '../src-main/domain/model/kfuncs/index.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DEFAULT = join(REPO, 'src-main/domain/model/kfuncs');
export const SOURCE_RELEASES = ['6.1', '6.12', '7.2', '7.3'] as const;
export const DERIVED_RELEASE = '6.18';
const DERIVED_BASIS = ['7.2', '6.12'] as const;
/** Debian suites that carry linux-source-R (first match wins in apt's candidate choice). */
const SUITES: Record<string, string[]> = {
  '6.1': ['bookworm'],
  '6.12': ['trixie'],
  '7.2': ['sid', 'forky', 'trixie-backports'],
  '7.3': ['trixie-backports', 'sid', 'forky'],
};
/** Top-level directories never scanned (no kernel code registering kfuncs). */
const SKIP_TOP = new Set(['tools', 'Documentation', 'samples', 'scripts', 'LICENSES', 'usr', 'debian', '.git', '.pc']);

/** kptrscope's wording of each flag's meaning (the source gives only the name and bit). */
const FLAG_MEANINGS: Record<string, string> = {
  KF_ACQUIRE: 'returns a referenced pointer: the program must release it (or move it into a kptr) before exiting',
  KF_RELEASE: 'releases the reference passed as its (first referenced) argument',
  KF_RET_NULL: 'the returned pointer may be NULL and must be checked before use',
  KF_KPTR_GET: 'takes the address of a referenced kptr in a map value and returns a new reference to its object',
  KF_TRUSTED_ARGS: 'pointer arguments must be trusted (referenced, or handed over by the kernel) and unmodified',
  KF_SLEEPABLE: 'may sleep: callable from sleepable programs only',
  KF_DESTRUCTIVE: 'performs a destructive action on the system (needs CAP_SYS_BOOT)',
  KF_RCU: 'pointer arguments may be RCU-protected as well as trusted',
  KF_ITER_NEW: 'constructor of an open-coded iterator',
  KF_ITER_NEXT: 'next method of an open-coded iterator (returns NULL at the end)',
  KF_ITER_DESTROY: 'destructor of an open-coded iterator',
  KF_RCU_PROTECTED: 'must be called inside an RCU read-side critical section',
  KF_FASTCALL: 'supports the bpf_fastcall convention (caller-saved registers it does not use are preserved)',
  KF_ARENA_RET: 'returns a pointer into a BPF arena',
  KF_ARENA_ARG1: 'its first argument is an arena pointer',
  KF_ARENA_ARG2: 'its second argument is an arena pointer',
  KF_IMPLICIT_ARGS: 'some arguments are supplied by the verifier and hidden from the program (the _impl twin takes them explicitly)',
  KF_SPINLOCK_SAFE: 'may be called while a bpf_spin_lock is held',
  KF_PERFMON: 'requires CAP_PERFMON',
};

// -------------------------------------------------------------------------- source files ----

/** The files of one release the parser needs: path (relative to the tree) → text. */
export interface SourceFiles {
  release: string;
  kernelVersion: string;
  origin: string;
  files: Map<string, string>;
}

const RELEVANT = /BTF_ID_FLAGS|register_btf_kfunc_id_set|register_btf_fmodret_id_set|btf_kfunc_id_set/;
const ALWAYS = new Set(['include/linux/btf.h', 'kernel/bpf/btf.c', 'kernel/bpf/verifier.c', 'Makefile']);

function wantPath(rel: string): boolean {
  if (ALWAYS.has(rel)) return true;
  const top = rel.split('/')[0]!;
  if (SKIP_TOP.has(top)) return false;
  return rel.endsWith('.c') || rel.endsWith('.h');
}

/** Headers defining a `…KFUNC…` macro may hold the list a set expands (net/core/xdp.c's XDP_METADATA_KFUNC_xxx). */
const KFUNC_LIST_MACRO = /^\s*#\s*define\s+\w*KFUNC\w*[\s\\]/m;

function keepText(rel: string, text: string): boolean {
  if (ALWAYS.has(rel)) return true;
  if (rel === 'include/linux/btf_ids.h') return false;
  return RELEVANT.test(text) || (rel.endsWith('.h') && KFUNC_LIST_MACRO.test(text));
}

function makefileVersion(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const v = /^VERSION\s*=\s*(\d+)/m.exec(text)?.[1];
  const p = /^PATCHLEVEL\s*=\s*(\d+)/m.exec(text)?.[1];
  const s = /^SUBLEVEL\s*=\s*(\d+)/m.exec(text)?.[1];
  return v && p ? `${v}.${p}${s ? `.${s}` : ''}` : undefined;
}

function isTree(dir: string): boolean {
  return existsSync(join(dir, 'include/linux/btf.h')) && existsSync(join(dir, 'kernel/bpf/btf.c'));
}

/** Reads the relevant files of an extracted (or partially extracted) tree. */
export function readTree(dir: string, release: string): SourceFiles {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (e.isDirectory()) {
        if (!rel.includes('/') && SKIP_TOP.has(e.name)) continue;
        walk(p);
      } else if (e.isFile() && wantPath(rel)) {
        const text = readFileSync(p, 'latin1');
        if (keepText(rel, text)) files.set(rel, text);
      }
    }
  };
  walk(dir);
  const mk = files.get('Makefile');
  const kernelVersion = makefileVersion(mk) ?? readIfExists(join(dir, '.kernel-version'))?.trim() ?? release;
  return { release, kernelVersion, origin: dir, files };
}

function readIfExists(p: string): string | undefined {
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** Minimal streaming tar reader (ustar, GNU long names, pax path): calls onFile for wanted files. */
class TarScanner {
  private buf: Buffer = Buffer.alloc(0);
  private state: { kind: 'header' } | { kind: 'body'; name: string; size: number; left: number; chunks: Buffer[] | null; type: string } = {
    kind: 'header',
  };
  private longName: string | undefined;
  private done = false;
  constructor(
    private readonly want: (name: string, type: string) => boolean,
    private readonly onFile: (name: string, data: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.done) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.state.kind === 'header') {
        if (this.buf.length < 512) return;
        const h = this.buf.subarray(0, 512);
        this.buf = this.buf.subarray(512);
        if (h.every((b) => b === 0)) continue;
        const str = (o: number, n: number): string => {
          const s = h.subarray(o, o + n);
          const z = s.indexOf(0);
          return (z >= 0 ? s.subarray(0, z) : s).toString('utf8');
        };
        const size = parseInt(str(124, 12).trim() || '0', 8);
        const type = str(156, 1) || '0';
        // POSIX ustar (magic "ustar\0") has a name prefix; GNU tar ("ustar  ") uses those bytes otherwise
        const prefix = h.subarray(257, 263).toString('latin1') === 'ustar\0' ? str(345, 155) : '';
        let name = prefix ? `${prefix}/${str(0, 100)}` : str(0, 100);
        if (this.longName !== undefined && type !== 'L' && type !== 'x') {
          name = this.longName;
          this.longName = undefined;
        }
        const meta = type === 'L' || type === 'x' || type === 'g';
        const keep = meta || ((type === '0' || type === '\0' || type === '7') && this.want(name, type));
        this.state = { kind: 'body', name, size, left: size, chunks: keep ? [] : null, type };
        if (size === 0) this.finishBody();
      } else {
        const st = this.state;
        const padded = Math.ceil(st.size / 512) * 512;
        const consumedSoFar = st.size - st.left;
        const need = padded - consumedSoFar;
        const take = Math.min(need, this.buf.length);
        if (take === 0) return;
        const dataPart = Math.min(take, Math.max(0, st.left));
        if (st.chunks && dataPart > 0) st.chunks.push(this.buf.subarray(0, dataPart));
        st.left -= take;
        this.buf = this.buf.subarray(take);
        if (st.size - st.left >= padded) this.finishBody();
        else return;
      }
    }
  }

  private finishBody(): void {
    const st = this.state;
    if (st.kind !== 'body') return;
    this.state = { kind: 'header' };
    if (!st.chunks) return;
    const data = Buffer.concat(st.chunks);
    if (st.type === 'L') this.longName = data.toString('utf8').replace(/\0+$/, '');
    else if (st.type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) this.longName = m[1];
    } else if (st.type !== 'g') this.onFile(st.name, data);
  }
}

/** Streams a linux-source tarball (xz, gz or plain tar) and keeps the relevant files. */
export async function readTarball(tarball: string, release: string, cmd?: string): Promise<SourceFiles> {
  const files = new Map<string, string>();
  const strip = (name: string): string => name.replace(/^\.\//, '').replace(/^[^/]+\//, '');
  const scanner = new TarScanner(
    (name) => wantPath(strip(name)),
    (name, data) => {
      const rel = strip(name);
      const text = data.toString('latin1');
      if (keepText(rel, text)) files.set(rel, text);
    },
  );
  const shell = cmd ?? (tarball.endsWith('.xz') ? `xz -dc -T0 '${tarball}'` : tarball.endsWith('.gz') ? `gzip -dc '${tarball}'` : `cat '${tarball}'`);
  await new Promise<void>((ok, fail) => {
    // bash for pipefail (a failing dpkg-deb or tar must not pass for an empty tarball)
    const bash = spawnSync('bash', ['-c', 'true']).status === 0;
    const p = spawn(bash ? 'bash' : 'sh', bash ? ['-o', 'pipefail', '-c', shell] : ['-c', shell], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.on('data', (c: Buffer) => scanner.push(c));
    p.on('error', fail);
    p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`${shell}: exit ${code}`))));
  });
  if (!files.has('include/linux/btf.h')) throw new Error(`${tarball}: no include/linux/btf.h (not a linux-source tarball?)`);
  return { release, kernelVersion: makefileVersion(files.get('Makefile')) ?? release, origin: tarball, files };
}

/** Writes a SourceFiles into a partial tree (so the next run reads it from disk). */
function saveTree(src: SourceFiles, dir: string, debianVersion: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const [rel, text] of src.files) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text, 'latin1');
  }
  writeFileSync(join(dir, '.debian-version'), `${debianVersion}\n`);
  writeFileSync(join(dir, '.kernel-version'), `${src.kernelVersion}\n`);
  writeFileSync(join(dir, '.kptrscope-partial'), 'only the files scripts/kfunc-tables.ts reads\n');
}

function debianMirror(): string {
  const env = process.env['KPTRSCOPE_DEBIAN_MIRROR'];
  if (env) return env.replace(/\/$/, '');
  const texts: string[] = [];
  for (const d of ['/etc/apt/sources.list.d']) {
    if (existsSync(d)) for (const f of readdirSync(d)) if (/\.(sources|list)$/.test(f)) texts.push(readFileSync(join(d, f), 'utf8'));
  }
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  for (const t of texts) {
    for (const m of t.matchAll(/^(?:URIs:\s*(.+)|deb\s+(?:\[[^\]]*\]\s+)?(\S+))/gm)) {
      for (const u of (m[1] ?? m[2] ?? '').split(/\s+/)) if (/^(https?|file):.*\/debian\/?$/.test(u)) return u.replace(/\/$/, '');
    }
  }
  return 'http://deb.debian.org/debian';
}

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
}

/** Downloads linux-source-R with a private apt configuration and keeps the relevant files. */
async function fetchDebianSource(release: string, cache: string): Promise<SourceFiles> {
  const suites = SUITES[release];
  if (!suites) throw new Error(`no Debian suite known for linux-source-${release} (add it to SUITES)`);
  const aptd = join(cache, 'apt-src');
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  if (!existsSync(keyring)) throw new Error(`${keyring} missing (apt-get install debian-archive-keyring)`);
  for (const d of ['lists/partial', 'archives/partial', 'state', 'dl', 'sources.list.d', 'preferences.d', 'trusted.gpg.d']) mkdirSync(join(aptd, d), { recursive: true });
  if (!existsSync(join(aptd, 'status'))) writeFileSync(join(aptd, 'status'), '');
  const mirror = debianMirror();
  const allSuites = [...new Set(Object.values(SUITES).flat())];
  writeFileSync(join(aptd, 'sources.list'), allSuites.map((s) => `deb [signed-by=${keyring}] ${mirror} ${s} main\n`).join(''));
  const arch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim() || 'amd64';
  writeFileSync(
    join(aptd, 'apt.conf'),
    [
      `Dir::Etc::sourcelist "${aptd}/sources.list";`,
      `Dir::Etc::sourceparts "${aptd}/sources.list.d";`,
      `Dir::Etc::preferences "${aptd}/preferences";`,
      `Dir::Etc::preferencesparts "${aptd}/preferences.d";`,
      `Dir::Etc::trustedparts "${aptd}/trusted.gpg.d";`,
      `Dir::State "${aptd}/state";`,
      `Dir::State::Lists "${aptd}/lists";`,
      `Dir::State::status "${aptd}/status";`,
      `Dir::Cache "${aptd}";`,
      `Dir::Cache::archives "${aptd}/archives";`,
      'Debug::NoLocking "true";',
      `APT::Architecture "${arch}";`,
      // as root apt downloads as _apt, which cannot write into a private cache: stay root there
      ...(process.getuid?.() === 0 ? ['APT::Sandbox::User "root";'] : []),
      '',
    ].join('\n'),
  );
  // prefer the release's own suites (backports are pinned low by default)
  writeFileSync(
    join(aptd, 'preferences'),
    suites.map((s, i) => `Package: linux-source-${release}\nPin: release n=${s}\nPin-Priority: ${900 - i}\n`).join('\n'),
  );
  const conf = join(aptd, 'apt.conf');
  process.stderr.write(`kfunc-tables: fetching linux-source-${release} (private apt config ${conf})\n`);
  run('apt-get', ['-c', conf, '-qq', 'update']);
  const dl = join(aptd, 'dl');
  for (const f of readdirSync(dl)) if (f.startsWith(`linux-source-${release}_`)) rmSync(join(dl, f));
  run('apt-get', ['-c', conf, '-qq', 'download', `linux-source-${release}`], dl);
  const deb = readdirSync(dl).find((f) => f.startsWith(`linux-source-${release}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download linux-source-${release}: no .deb in ${dl}`);
  const debPath = join(dl, deb);
  const debianVersion = spawnSync('dpkg-deb', ['-f', debPath, 'Version'], { encoding: 'utf8' }).stdout.trim();
  process.stderr.write(`kfunc-tables: scanning ${deb}\n`);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `dpkg-deb --fsys-tarfile ${q(debPath)} | tar -xOf - --wildcards './usr/src/linux-source-${release}.tar.*' | xz -dc -T0`;
  const src = await readTarball(`${deb}:/usr/src/linux-source-${release}.tar.xz`, release, cmd);
  const tree = join(cache, 'src', `linux-source-${release}`);
  saveTree(src, tree, debianVersion);
  rmSync(debPath);
  return { ...src, origin: `${tree} (from ${deb})` };
}

async function loadSource(release: string, roots: string[], cache: string): Promise<SourceFiles> {
  for (const r of roots) {
    const dir = join(r, `linux-source-${release}`);
    if (isTree(dir)) return readTree(dir, release);
  }
  for (const r of roots) {
    for (const ext of ['tar.xz', 'tar.gz', 'tar']) {
      const tb = join(r, `linux-source-${release}.${ext}`);
      if (existsSync(tb) && statSync(tb).isFile()) return readTarball(tb, release);
    }
  }
  return fetchDebianSource(release, cache);
}

// ------------------------------------------------------------------------------- parsing ----

/** Comments and string/char literals blanked (newlines kept, so offsets keep their lines). */
export function stripComments(text: string): string {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const d = text[i + 1];
    if (c === '/' && d === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out.push(text.slice(i, stop).replace(/[^\n]/g, ' '));
      i = stop;
    } else if (c === '/' && d === '/') {
      let end = text.indexOf('\n', i);
      if (end < 0) end = n;
      out.push(' '.repeat(end - i));
      i = end;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out.push(c + ' '.repeat(Math.max(0, Math.min(j, n) - i - 1)) + (j < n && text[j] === c ? c : ''));
      i = j < n && text[j] === c ? j + 1 : j;
    } else {
      out.push(c);
      i++;
    }
  }
  return out.join('');
}

function normCond(expr: string): string {
  return expr
    .replace(/\\\n/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\b(?:defined|IS_ENABLED|IS_BUILTIN)\s*\(\s*(\w+)\s*\)/g, '$1')
    .replace(/\bdefined\s+(\w+)/g, '$1');
}

/** `A && B`, `B && C` → `A && B && C` (top-level terms, each once). */
export function joinConds(...conds: string[]): string {
  const terms: string[] = [];
  for (const c of conds) {
    let depth = 0;
    let start = 0;
    for (let i = 0; i <= c.length; i++) {
      const ch = c[i];
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      if (i === c.length || (depth === 0 && c.startsWith(' && ', i))) {
        const t = c.slice(start, i).trim();
        if (t && !terms.includes(t)) terms.push(t);
        start = i + 4;
        if (i < c.length) i += 3;
      }
    }
  }
  return terms.join(' && ');
}

function negate(c: string): string {
  return /^!?\w+$/.test(c) ? (c.startsWith('!') ? c.slice(1) : `!${c}`) : `!(${c})`;
}

/** For each line (0-based), the preprocessor guard in force ('' when none). */
export function guardsByLine(stripped: string): string[] {
  const lines = stripped.split('\n');
  const out: string[] = new Array<string>(lines.length).fill('');
  // frame: the raw conditions of the #if/#elif branches so far, and the current branch's guard
  const stack: { conds: string[]; cur: string; guard: boolean }[] = [];
  const current = (): string => joinConds(...stack.filter((f) => !f.guard && f.cur).map((f) => f.cur));
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      out[i] = current();
      line = line.slice(0, -1) + ' ' + lines[++i]!;
    }
    const m = /^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$/.exec(line);
    if (m) {
      const [, dir, rest = ''] = m;
      const e = normCond(rest);
      const f = stack[stack.length - 1];
      if (dir === 'if' || dir === 'ifdef' || dir === 'ifndef') {
        const cond = dir === 'ifndef' ? negate(e) : e;
        // include guards (`#ifndef _LINUX_FOO_H`) are not configuration
        stack.push({ conds: [cond], cur: cond, guard: dir === 'ifndef' && /_H_*$/.test(e) });
      } else if (dir === 'elif' && f) {
        f.cur = joinConds(...f.conds.map(negate), e);
        f.conds.push(e);
      } else if (dir === 'else' && f) {
        f.cur = joinConds(...f.conds.map(negate));
      } else if (dir === 'endif') stack.pop();
    }
    out[i] = current();
  }
  return out;
}

export interface ParsedEntry {
  name: string;
  flags: string[];
  config: string;
}
export interface ParsedSet {
  name: string;
  file: string;
  kind: 'kfuncs' | 'set8';
  config: string;
  entries: ParsedEntry[];
}
export interface ParsedStruct {
  name: string;
  file: string;
  set: string | null;
  filter: string | null;
  config: string;
}
export interface ParsedRegistration {
  file: string;
  line: number;
  progType: string | null;
  /** The first argument when it is not a BPF_PROG_TYPE_ constant. */
  progTypeExpr?: string;
  struct: string;
  fmodret: boolean;
  config: string;
}
export interface ParsedFile {
  sets: ParsedSet[];
  structs: ParsedStruct[];
  registrations: ParsedRegistration[];
}

function lineAt(text: string, offset: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function splitFlags(expr: string | undefined): string[] {
  if (!expr) return [];
  return expr
    .replace(/[()]/g, ' ')
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== '0');
}

/** Object-like macros (`#define NAME body`, continuation lines joined) of a file. */
export function objectMacros(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const s = stripComments(text).replace(/\\\r?\n/g, ' ');
  for (const m of s.matchAll(/^[ \t]*#[ \t]*define[ \t]+(\w+)(?![\w(])[ \t]*(.*)$/gm)) if (!out.has(m[1]!)) out.set(m[1]!, m[2]!.trim());
  return out;
}

/** Splits `a, f(b, c), d` at top-level commas. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

interface FnMacro {
  params: string[];
  body: string;
}

/** Expands object-like macros and the set's local function-like macros in one line (bounded). */
function expandLine(line: string, objs: ReadonlyMap<string, string>, fns: ReadonlyMap<string, FnMacro>): string {
  let cur = line;
  for (let round = 0; round < 6; round++) {
    let changed = false;
    cur = cur.replace(/\b[A-Za-z_]\w*\b/g, (id, off: number) => {
      // KF_* stay names (their values are bits); BTF_ID_FLAGS and func are the matched syntax
      if (fns.has(id) || /^(?:BTF_ID_FLAGS|func|KF_\w+)$/.test(id)) return id;
      const body = objs.get(id);
      if (body === undefined || /^\s*\(/.test(cur.slice(off + id.length))) return id;
      changed = true;
      return ` ${body} `;
    });
    for (const [name, fn] of fns) {
      const re = new RegExp(`\\b${name}\\s*\\(`, 'g');
      let m: RegExpExecArray | null;
      let out = '';
      let last = 0;
      while ((m = re.exec(cur))) {
        let depth = 1;
        let j = m.index + m[0].length;
        for (; j < cur.length && depth > 0; j++) {
          if (cur[j] === '(') depth++;
          else if (cur[j] === ')') depth--;
        }
        if (depth !== 0) break;
        const args = splitArgs(cur.slice(m.index + m[0].length, j - 1));
        const sub = fn.body.replace(/\b\w+\b/g, (t) => {
          const i = fn.params.indexOf(t);
          return i >= 0 ? (args[i] ?? '') : t;
        });
        out += `${cur.slice(last, m.index)} ${sub} `;
        last = j;
        re.lastIndex = j;
        changed = true;
      }
      cur = out + cur.slice(last);
    }
    if (!changed) break;
  }
  return cur;
}

/** The BTF_ID_FLAGS(func, …) entries of a set body, local list macros expanded. */
function parseSetBody(body: string, firstLine: number, guards: readonly string[], macros: ReadonlyMap<string, string>): ParsedEntry[] {
  const entries: ParsedEntry[] = [];
  const lines = body.split('\n');
  const fns = new Map<string, FnMacro>();
  const objs = new Map(macros);
  for (let i = 0; i < lines.length; i++) {
    const at = i;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i]!;
    const d = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    // an entry spread over lines: join until its parentheses balance
    const depth = (t: string): number => (t.match(/\(/g)?.length ?? 0) - (t.match(/\)/g)?.length ?? 0);
    while (!d && depth(line) > 0 && i + 1 < lines.length && !/^\s*#/.test(lines[i + 1]!)) line += ' ' + lines[++i]!;
    if (d) {
      const def = d[1] === 'define' ? /^(\w+)(\(([^)]*)\))?\s*(.*)$/.exec(d[2]!) : null;
      if (def && def[2]) fns.set(def[1]!, { params: def[3]!.split(',').map((x) => x.trim()), body: def[4]! });
      else if (def) objs.set(def[1]!, def[4]!);
      if (d[1] === 'undef') {
        fns.delete(d[2]!.trim());
        objs.delete(d[2]!.trim());
      }
      continue;
    }
    const text = expandLine(line, objs, fns);
    for (const e of text.matchAll(/\bBTF_ID_FLAGS\s*\(\s*func\s*,\s*(\w+)\s*(?:,([^)]*))?\)/g)) {
      entries.push({ name: e[1]!, flags: splitFlags(e[2]), config: guards[firstLine + at] ?? '' });
    }
  }
  return entries;
}

/** Parses one C file's kfunc sets, id-set structs and registrations. */
export function parseKfuncFile(file: string, text: string, macros: ReadonlyMap<string, string> = new Map()): ParsedFile {
  const s = stripComments(text);
  const guards = guardsByLine(s);
  const g = (off: number): string => guards[lineAt(s, off)] ?? '';
  const sets: ParsedSet[] = [];
  const startRe = /\bBTF_(KFUNCS|SET8)_START\s*\(\s*(\w+)\s*\)/g;
  for (const m of s.matchAll(startRe)) {
    if (/^\s*#\s*define\b/.test(s.slice(s.lastIndexOf('\n', m.index) + 1, m.index + 1))) continue;
    const name = m[2]!;
    const endRe = new RegExp(`\\bBTF_(?:KFUNCS|SET8)_END\\s*\\(\\s*${name}\\s*\\)`, 'g');
    endRe.lastIndex = m.index + m[0].length;
    const end = endRe.exec(s);
    const bodyOff = m.index + m[0].length;
    const body = s.slice(bodyOff, end ? end.index : s.length);
    const entries = parseSetBody(body, lineAt(s, bodyOff), guards, macros);
    sets.push({ name, file, kind: m[1] === 'KFUNCS' ? 'kfuncs' : 'set8', config: g(m.index), entries });
  }
  const structs: ParsedStruct[] = [];
  for (const m of s.matchAll(/\bstruct\s+btf_kfunc_id_set\s+(\w+)\s*=\s*\{([^}]*)\}/g)) {
    const body = m[2]!;
    structs.push({
      name: m[1]!,
      file,
      set: /\.set\s*=\s*&?\s*(\w+)/.exec(body)?.[1] ?? null,
      filter: /\.filter\s*=\s*&?\s*(\w+)/.exec(body)?.[1] ?? null,
      config: g(m.index),
    });
  }
  const registrations: ParsedRegistration[] = [];
  for (const m of s.matchAll(/\bregister_btf_kfunc_id_set\s*\(\s*([^,()]+?)\s*,\s*&?\s*(\w+)\s*\)/g)) {
    const arg = m[1]!.trim();
    const pt = /^BPF_PROG_TYPE_(\w+)$/.exec(arg)?.[1] ?? null;
    const r: ParsedRegistration = { file, line: lineAt(s, m.index) + 1, progType: pt, struct: m[2]!, fmodret: false, config: g(m.index) };
    if (!pt) r.progTypeExpr = arg;
    registrations.push(r);
  }
  for (const m of s.matchAll(/\bregister_btf_fmodret_id_set\s*\(\s*&?\s*(\w+)\s*\)/g)) {
    registrations.push({ file, line: lineAt(s, m.index) + 1, progType: null, struct: m[1]!, fmodret: true, config: g(m.index) });
  }
  return { sets, structs, registrations };
}

/** `#define KF_X (1 << n)` (or BIT(n)) of include/linux/btf.h. */
export function parseFlagDefs(btfH: string): KfuncFlagDefJson[] {
  const s = stripComments(btfH);
  const out: KfuncFlagDefJson[] = [];
  for (const m of s.matchAll(/^\s*#\s*define\s+(KF_\w+)\s+\(?\s*(?:1U?\s*<<\s*(\d+)|BIT\s*\(\s*(\d+)\s*\))\s*\)?/gm)) {
    const name = m[1]!;
    out.push({ name, bit: Number(m[2] ?? m[3]), key: flagKeyOf(name), meaning: FLAG_MEANINGS[name] ?? null });
  }
  return out.sort((a, b) => a.bit - b.bit);
}

function flagKeyOf(kfName: string): string {
  const parts = kfName.replace(/^KF_/, '').toLowerCase().split('_').filter(Boolean);
  return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
}

/** bpf_prog_type_to_kfunc_hook()'s switch: program type → hook (prefixes dropped). */
export function parseHooks(btfC: string): Record<string, string> {
  const s = stripComments(btfC);
  const start = s.search(/\bbpf_prog_type_to_kfunc_hook\s*\(\s*enum\s+bpf_prog_type\s+\w+\s*\)\s*\{/);
  if (start < 0) return {};
  const end = s.indexOf('\n}', start);
  const body = s.slice(start, end < 0 ? undefined : end);
  const hooks: Record<string, string> = {};
  let pending: string[] = [];
  for (const m of body.matchAll(/\bcase\s+BPF_PROG_TYPE_(\w+)\s*:|\breturn\s+BTF_KFUNC_HOOK_(\w+)\s*;|\bdefault\s*:/g)) {
    if (m[1]) pending.push(m[1]);
    else if (m[2]) {
      if (m[2] !== 'MAX') for (const p of pending) hooks[p] = m[2];
      pending = [];
    } else pending = [];
  }
  return hooks;
}

/** Whether the verifier checks trust by KF_TRUSTED_ARGS (and also for KF_RELEASE) or always. */
export function parseVerifierTrust(verifierC: string, flagDefs: readonly KfuncFlagDefJson[]): KfuncTableJson['verifier'] {
  const hasFlag = flagDefs.some((d) => d.name === 'KF_TRUSTED_ARGS');
  const s = stripComments(verifierC);
  const m = /\bis_kfunc_trusted_args\s*\([^)]*\)\s*\{([^}]*)\}/.exec(s);
  return { trustedArgsDefault: !hasFlag, releaseImpliesTrustedArgs: hasFlag && !!m && /is_kfunc_release|KF_RELEASE/.test(m[1]!) };
}

// ----------------------------------------------------------------------------- one table ----

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Builds a release's table from its source files. */
export function buildTable(src: SourceFiles): KfuncTableJson {
  const btfH = src.files.get('include/linux/btf.h');
  const btfC = src.files.get('kernel/bpf/btf.c');
  if (!btfH || !btfC) throw new Error(`${src.origin}: include/linux/btf.h or kernel/bpf/btf.c missing`);
  const flagDefs = parseFlagDefs(btfH);
  const hooks = parseHooks(btfC);
  const verifier = parseVerifierTrust(src.files.get('kernel/bpf/verifier.c') ?? '', flagDefs);
  const unresolved: string[] = [];

  const sets: ParsedSet[] = [];
  const structs: ParsedStruct[] = [];
  const regs: ParsedRegistration[] = [];
  const sorted = [...src.files].sort(([a], [b]) => (a < b ? -1 : 1));
  // list macros a set may expand: the headers' and the file's own object-like macros
  const headerMacros = new Map<string, string>();
  for (const [file, text] of sorted) {
    if (!file.endsWith('.h') || !KFUNC_LIST_MACRO.test(text)) continue;
    for (const [k, v] of objectMacros(text)) if (!headerMacros.has(k)) headerMacros.set(k, v);
  }
  for (const [file, text] of sorted) {
    if (file === 'Makefile' || file.startsWith('include/linux/btf') || !file.endsWith('.c')) continue;
    const p = parseKfuncFile(file, text, new Map([...headerMacros, ...objectMacros(text)]));
    sets.push(...p.sets);
    structs.push(...p.structs);
    regs.push(...p.registrations);
  }
  const byFile = <T extends { name: string; file: string }>(list: T[], name: string, file: string): T | undefined => {
    const same = list.find((x) => x.name === name && x.file === file);
    if (same) return same;
    const all = list.filter((x) => x.name === name);
    return all.length === 1 ? all[0] : undefined;
  };
  const setKey = (st: ParsedSet): string => {
    const dup = sets.filter((x) => x.name === st.name).length > 1;
    return dup ? `${st.name}@${st.file}` : st.name;
  };

  const setRegs = new Map<ParsedSet, KfuncRegistrationJson[]>();
  const fmodret = new Set<ParsedSet>();
  for (const r of regs) {
    if (r.file === 'kernel/bpf/btf.c') continue;
    const st = byFile(structs, r.struct, r.file);
    if (!st) {
      unresolved.push(`${r.file}:${r.line}: ${r.fmodret ? 'register_btf_fmodret_id_set' : 'register_btf_kfunc_id_set'} of '${r.struct}': no struct btf_kfunc_id_set of that name`);
      continue;
    }
    const set = st.set ? byFile(sets, st.set, st.file) : undefined;
    if (!set) {
      unresolved.push(`${r.file}:${r.line}: struct ${st.name} (.set = ${st.set ?? '?'}): no id set of that name`);
      continue;
    }
    if (r.fmodret) {
      fmodret.add(set);
      continue;
    }
    if (!r.progType) {
      unresolved.push(`${r.file}:${r.line}: register_btf_kfunc_id_set(${r.progTypeExpr ?? '?'}, &${r.struct}): program type not a constant`);
      continue;
    }
    if (r.progType !== 'UNSPEC' && hooks[r.progType] === undefined && Object.keys(hooks).length) {
      unresolved.push(`${r.file}:${r.line}: ${r.progType} has no kfunc hook in this release (the registration fails at boot)`);
    }
    const list = setRegs.get(set) ?? [];
    const reg: KfuncRegistrationJson = { struct: st.name, progType: r.progType, filter: st.filter };
    const cfg = joinConds(r.config, st.config);
    if (cfg) reg.config = cfg;
    if (!list.some((x) => x.struct === reg.struct && x.progType === reg.progType)) list.push(reg);
    setRegs.set(set, list);
  }

  const setsJson: Record<string, KfuncSetJson> = {};
  const fmodretJson: KfuncTableJson['fmodretSets'] = {};
  const kfuncs: Record<string, KfuncJson> = {};
  for (const st of sets) {
    const key = setKey(st);
    const registrations = setRegs.get(st) ?? [];
    if (!registrations.length && fmodret.has(st)) {
      fmodretJson[key] = { file: st.file, functions: [...new Set(st.entries.map((e) => e.name))].sort() };
      continue;
    }
    if (!registrations.length) unresolved.push(`${st.file}: set ${st.name} is not registered for any program type (used by a filter or not at all)`);
    const sj: KfuncSetJson = { file: st.file, kind: st.kind, registrations, count: st.entries.length };
    if (st.config) sj.config = st.config;
    setsJson[key] = sj;
    for (const e of st.entries) {
      const have = kfuncs[e.name];
      if (!have) {
        const k: KfuncJson = { flags: e.flags, sets: [key], file: st.file };
        const cfg = joinConds(st.config, e.config);
        if (cfg) k.config = cfg;
        kfuncs[e.name] = k;
        continue;
      }
      if (!have.sets.includes(key)) have.sets.push(key);
      const same = have.flags.length === e.flags.length && have.flags.every((f) => e.flags.includes(f));
      if (!same || have.flagsBySet) {
        have.flagsBySet ??= { [have.sets[0]!]: have.flags };
        have.flagsBySet[key] = e.flags;
      }
    }
  }
  // a kfunc only in unregistered sets has no program type
  for (const [name, k] of Object.entries(kfuncs)) {
    if (k.sets.every((s) => !setsJson[s]?.registrations.length)) unresolved.push(`kfunc ${name}: only in unregistered sets (${k.sets.join(', ')})`);
  }
  return {
    schema: 1,
    release: src.release,
    kernelVersion: src.kernelVersion,
    source: `linux-source-${src.release} ${src.kernelVersion}`,
    derived: null,
    flagDefs,
    verifier,
    hooks: sortObject(hooks),
    sets: sortObject(setsJson),
    fmodretSets: sortObject(fmodretJson),
    unresolved: [...new Set(unresolved)],
    kfuncs: sortObject(kfuncs),
  };
}

// ------------------------------------------------------------------------- 6.18, derived ----

/** FUNC names and `bpf_kfunc` / `bpf_fastcall` decl-tagged FUNCs of a raw BTF blob. */
export function btfFuncNames(blob: Uint8Array): { funcs: Set<string>; tagged: Set<string>; fastcall: Set<string> } {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const le = dv.getUint16(0, true) === 0xeb9f;
  if (!le && dv.getUint16(0, false) !== 0xeb9f) throw new Error('not a raw BTF blob (magic 0xeB9F)');
  const u32 = (o: number): number => dv.getUint32(o, le);
  const hdrLen = u32(4);
  const typeOff = hdrLen + u32(8);
  const typeLen = u32(12);
  const strOff = hdrLen + u32(16);
  const str = (off: number): string => {
    let e = strOff + off;
    while (e < blob.length && blob[e] !== 0) e++;
    return Buffer.from(blob.subarray(strOff + off, e)).toString('utf8');
  };
  const names: string[] = [''];
  const kinds: number[] = [0];
  const tags: [string, number][] = [];
  for (let o = typeOff; o < typeOff + typeLen; ) {
    const nameOff = u32(o);
    const info = u32(o + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const ref = u32(o + 8);
    o += 12;
    names.push(str(nameOff));
    kinds.push(kind);
    switch (kind) {
      case 1: o += 4; break; // INT
      case 3: o += 12; break; // ARRAY
      case 4: case 5: o += 12 * vlen; break; // STRUCT, UNION
      case 6: o += 8 * vlen; break; // ENUM
      case 13: o += 8 * vlen; break; // FUNC_PROTO
      case 14: o += 4; break; // VAR
      case 15: o += 12 * vlen; break; // DATASEC
      case 17: tags.push([names[names.length - 1]!, ref]); o += 4; break; // DECL_TAG
      case 19: o += 12 * vlen; break; // ENUM64
      default: break; // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
    }
  }
  const funcs = new Set<string>();
  kinds.forEach((k, i) => k === 12 && funcs.add(names[i]!));
  const tagged = new Set<string>();
  const fastcall = new Set<string>();
  for (const [tag, id] of tags) {
    if (kinds[id] !== 12) continue;
    if (tag === 'bpf_kfunc') tagged.add(names[id]!);
    if (tag === 'bpf_fastcall') fastcall.add(names[id]!);
  }
  return { funcs, tagged, fastcall };
}

export interface Names618 {
  btfRelease: string;
  /** name → has the bpf_kfunc decl tag. */
  names: Map<string, boolean>;
  fastcall: Set<string>;
}

const NAMES_HEADER = [
  '# 6.18 kfunc names for src-main/domain/model/kfuncs/6.18.json (scripts/kfunc-tables.ts reads this',
  '# list when the running kernel is not 6.18). One line per FUNC of the 6.18 BTF that is a kfunc in',
  '# a sourced table or carries the bpf_kfunc decl tag: NAME TAB decl-tags (bpf_kfunc, bpf_fastcall',
  '# or -). Only names: no source.',
];

export function formatNames(n: Names618): string {
  const lines = [...n.names].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, tag]) => {
    const tags = [tag ? 'bpf_kfunc' : '', n.fastcall.has(name) ? 'bpf_fastcall' : ''].filter(Boolean).join(',');
    return `${name}\t${tags || '-'}`;
  });
  return [...NAMES_HEADER, `# btf-release: ${n.btfRelease}`, ...lines, ''].join('\n');
}

export function parseNames(text: string): Names618 {
  const names = new Map<string, boolean>();
  const fastcall = new Set<string>();
  let btfRelease = DERIVED_RELEASE;
  for (const line of text.split('\n')) {
    const rel = /^#\s*btf-release:\s*(\S+)/.exec(line);
    if (rel) btfRelease = rel[1]!;
    if (!line.trim() || line.startsWith('#')) continue;
    const [name, tags = '-'] = line.split('\t');
    names.set(name!.trim(), tags.includes('bpf_kfunc'));
    if (tags.includes('bpf_fastcall')) fastcall.add(name!.trim());
  }
  return { btfRelease, names, fastcall };
}

/** The 6.18 names from a BTF blob: FUNCs that are kfuncs in any sourced table, or decl-tagged. */
export function names618FromBtf(blob: Uint8Array, btfRelease: string, sourced: readonly KfuncTableJson[]): Names618 {
  const { funcs, tagged, fastcall } = btfFuncNames(blob);
  const known = new Set(sourced.flatMap((t) => Object.keys(t.kfuncs)));
  const names = new Map<string, boolean>();
  for (const f of funcs) if (known.has(f) || tagged.has(f)) names.set(f, tagged.has(f));
  return { btfRelease, names, fastcall: new Set([...fastcall].filter((f) => names.has(f))) };
}

/**
 * The derived 6.18 table. Per kfunc name of 6.18: the 7.2 entry (flags, sets, program types, file)
 * when 7.2 has the name, else the 6.12 one. Flag vocabulary: 6.12's and 7.2's flags, except
 *  - KF_TRUSTED_ARGS (a 6.12 flag 7.2 no longer has: 7.x trusts arguments by default; 6.18 still
 *    had the flag): taken from the 6.12 entry; unknown (listed in `uncertain`) for kfuncs new since;
 *  - KF_IMPLICIT_ARGS (7.x): dropped when 6.18's BTF has none of the implicit-args twins (the
 *    `X` of a 7.2 `X_impl` pair), i.e. the mechanism did not exist yet;
 *  - KF_FASTCALL: checked against the BTF's bpf_fastcall decl tags.
 * Flags on which 6.12 and 7.2 disagree for a kfunc both have are listed in its `uncertain`.
 */
export function derive618(names: Names618, t612: KfuncTableJson, t72: KfuncTableJson): KfuncTableJson {
  const basis: Record<string, KfuncTableJson> = { '7.2': t72, '6.12': t612 };
  const twins = Object.keys(t72.kfuncs).filter((n) => t72.kfuncs[n]!.flags.includes('KF_IMPLICIT_ARGS') && t72.kfuncs[`${n}_impl`]);
  const twinsIn618 = twins.filter((n) => names.names.has(n));
  const dropped: Record<string, string> = {};
  if (twinsIn618.length === 0) {
    dropped['KF_IMPLICIT_ARGS'] = `none of 7.2's implicit-args twins (${twins.slice(0, 3).join(', ')}, …) is in ${names.btfRelease}'s BTF`;
  }
  const flagDefs: KfuncFlagDefJson[] = [];
  for (const d of [...t612.flagDefs, ...t72.flagDefs]) {
    if (dropped[d.name] || flagDefs.some((x) => x.name === d.name)) continue;
    flagDefs.push(d);
  }
  flagDefs.sort((a, b) => a.bit - b.bit);
  const vocab = new Set(flagDefs.map((d) => d.name));
  const kfuncs: Record<string, KfuncJson> = {};
  const usedSets: Record<string, Set<string>> = { '7.2': new Set(), '6.12': new Set() };
  const unmatched: string[] = [];
  const fastcallMismatch: string[] = [];
  // BTF with decl tags says which FUNCs are kfuncs of this build: untagged FUNCs are not
  const useTags = [...names.names.values()].some(Boolean);
  const fmodret = new Set([t612, t72].flatMap((t) => Object.values(t.fmodretSets).flatMap((x) => x.functions)));
  const notKfuncs: string[] = [];
  const renamed: string[] = [];
  for (const [name, tag] of [...names.names].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (useTags && !tag) {
      notKfuncs.push(name);
      continue;
    }
    let from: string | undefined = DERIVED_BASIS.find((r) => basis[r]!.kfuncs[name]);
    let basisName = name;
    // 6.18's X_impl became 7.x's implicit-args X (bpf_stream_vprintk_impl → bpf_stream_vprintk)
    const twin = name.endsWith('_impl') ? name.slice(0, -'_impl'.length) : undefined;
    if (!from && twin && t72.kfuncs[twin]?.flags.includes('KF_IMPLICIT_ARGS')) {
      from = '7.2';
      basisName = twin;
      renamed.push(`${name} ← 7.2 ${twin}`);
    }
    if (!from) {
      if (!fmodret.has(name)) unmatched.push(name);
      continue;
    }
    const e = basis[from]!.kfuncs[basisName]!;
    const old = t612.kfuncs[name];
    let flags = e.flags.filter((f) => vocab.has(f));
    const uncertain = new Set<string>();
    if (basisName !== name) uncertain.add('KF_TRUSTED_ARGS');
    if (from === '7.2') {
      if (old) {
        if (old.flags.includes('KF_TRUSTED_ARGS')) flags.push('KF_TRUSTED_ARGS');
        for (const f of new Set([...old.flags, ...e.flags])) {
          if (f === 'KF_TRUSTED_ARGS' || dropped[f] || !vocab.has(f)) continue;
          if (old.flags.includes(f) !== e.flags.includes(f)) uncertain.add(f);
        }
      } else uncertain.add('KF_TRUSTED_ARGS');
    }
    // the BTF's bpf_fastcall decl tags (pahole emits them when it emits any) settle KF_FASTCALL
    if (names.fastcall.size && tag) {
      uncertain.delete('KF_FASTCALL');
      if (flags.includes('KF_FASTCALL') !== names.fastcall.has(name)) {
        fastcallMismatch.push(name);
        flags = names.fastcall.has(name) ? [...flags, 'KF_FASTCALL'] : flags.filter((f) => f !== 'KF_FASTCALL');
      }
    }
    const order = new Map(flagDefs.map((d) => [d.name, d.bit]));
    flags = [...new Set(flags)].sort((a, b) => (order.get(a) ?? 99) - (order.get(b) ?? 99));
    // keep the source's order of the flags when it had them all
    if (flags.length === e.flags.length && flags.every((f) => e.flags.includes(f))) flags = e.flags;
    const k: KfuncJson = { flags, sets: [...e.sets], file: e.file, basis: from, btfTag: tag };
    if (basisName !== name) k.basisName = basisName;
    if (e.config) k.config = e.config;
    if (e.flagsBySet) {
      k.flagsBySet = Object.fromEntries(Object.entries(e.flagsBySet).map(([s, f]) => [s, f.filter((x) => vocab.has(x))]));
    }
    if (uncertain.size) k.uncertain = [...uncertain].sort();
    for (const s of e.sets) usedSets[from]!.add(s);
    kfuncs[name] = k;
  }
  // sets: 7.2's and 6.12's sets used, renamed on a clash (`name@6.12`)
  const sets: Record<string, KfuncSetJson> = {};
  const rename = new Map<string, string>();
  for (const r of DERIVED_BASIS) {
    for (const s of usedSets[r]!) {
      const key = sets[s] ? `${s}@${r}` : s;
      if (key !== s) rename.set(`${r}:${s}`, key);
      sets[key] = basis[r]!.sets[s]!;
    }
  }
  for (const k of Object.values(kfuncs)) {
    k.sets = k.sets.map((s) => rename.get(`${k.basis}:${s}`) ?? s);
    if (k.flagsBySet) k.flagsBySet = Object.fromEntries(Object.entries(k.flagsBySet).map(([s, f]) => [rename.get(`${k.basis}:${s}`) ?? s, f]));
  }
  const notes = [
    `Debian has no linux-source-${DERIVED_RELEASE}: facts are the 7.2 table's when 7.2 has the kfunc, else 6.12's (each kfunc's basis).`,
    `Names are the FUNCs of ${names.btfRelease}'s BTF that are kfuncs in a sourced table or carry the bpf_kfunc decl tag; kfuncs of other configurations or modules are missing.`,
    'KF_TRUSTED_ARGS (still a flag in 6.18; trusted-by-default came with 7.0) is taken from 6.12; kfuncs added after 6.12 list it as uncertain.',
    'Program types and hooks: the basis release\'s registrations; hooks are 7.2\'s.',
  ];
  if (useTags) notes.push(`Only FUNCs with the bpf_kfunc decl tag are kfuncs of this build; left out (FUNC without the tag): ${notKfuncs.join(', ') || 'none'}.`);
  if (renamed.length) notes.push(`X_impl names of ${names.btfRelease} whose 7.2 successor is the implicit-args X (facts from X, KF_IMPLICIT_ARGS dropped): ${renamed.join('; ')}.`);
  const fm = [...names.names.keys()].filter((n) => fmodret.has(n) && !kfuncs[n]);
  if (fm.length) notes.push(`fmod_ret targets pahole tags like kfuncs, not kfuncs: ${fm.join(', ')}.`);
  if (fastcallMismatch.length) notes.push(`KF_FASTCALL set from the BTF's bpf_fastcall decl tags for: ${fastcallMismatch.join(', ')}`);
  return {
    schema: 1,
    release: DERIVED_RELEASE,
    kernelVersion: names.btfRelease,
    source: `derived from the 7.2 and 6.12 tables, names from ${names.btfRelease}'s BTF`,
    derived: {
      from: [...DERIVED_BASIS],
      rule: 'for each kfunc name of the release: the 7.2 entry when 7.2 has the name, else the 6.12 entry; flag vocabulary as in scripts/kfunc-tables.ts derive618',
      names: `FUNC names of /sys/kernel/btf/vmlinux of ${names.btfRelease}`,
      namesFile: `${DERIVED_RELEASE}-names.txt`,
      btfRelease: names.btfRelease,
      droppedFlags: dropped,
      unmatched,
      notes,
    },
    flagDefs,
    verifier: { trustedArgsDefault: false, releaseImpliesTrustedArgs: t612.verifier.releaseImpliesTrustedArgs },
    hooks: t72.hooks,
    sets: sortObject(sets),
    fmodretSets: {},
    unresolved: [],
    kfuncs,
  };
}

// ---------------------------------------------------------------------------------- output ----

/** JSON with one line per kfunc / set / flag definition (diff-friendly, still compact). */
export function formatTable(t: KfuncTableJson): string {
  const inline = (v: unknown): string => JSON.stringify(v);
  const block = (o: Record<string, unknown>, indent: string): string => {
    const keys = Object.keys(o);
    if (!keys.length) return '{}';
    return `{\n${keys.map((k) => `${indent}  ${JSON.stringify(k)}: ${inline(o[k])}`).join(',\n')}\n${indent}}`;
  };
  const parts: string[] = [];
  for (const [k, v] of Object.entries(t)) {
    let text: string;
    if (k === 'kfuncs' || k === 'sets' || k === 'fmodretSets' || k === 'hooks') text = block(v as Record<string, unknown>, '  ');
    else if ((k === 'flagDefs' || k === 'unresolved') && Array.isArray(v))
      text = v.length ? `[\n${v.map((x) => `    ${inline(x)}`).join(',\n')}\n  ]` : '[]';
    else if (k === 'derived' && v) text = block(v as Record<string, unknown>, '  ');
    else text = inline(v);
    parts.push(`  ${JSON.stringify(k)}: ${text}`);
  }
  return `{\n${parts.join(',\n')}\n}\n`;
}

function summary(t: KfuncTableJson): string {
  const ks = Object.values(t.kfuncs);
  const n = (f: string): number => ks.filter((k) => k.flags.includes(f)).length;
  return `${t.release}: ${ks.length} kfuncs (${n('KF_ACQUIRE')} acquire, ${n('KF_RELEASE')} release, ${n('KF_RET_NULL')} ret-null), ${Object.keys(t.sets).length} sets, ${t.unresolved.length} unresolved`;
}

interface Options {
  releases: string[];
  roots: string[];
  cache: string;
  out: string;
  btf: string | undefined;
  btfRelease: string | undefined;
  check: boolean;
}


function parseArgs(argv: string[]): Options {
  const o: Options = { releases: [...SOURCE_RELEASES, DERIVED_RELEASE], roots: [], cache: join(homedir(), '.cache/kptrscope'), out: OUT_DEFAULT, btf: undefined, btfRelease: undefined, check: false };
  let systemRoots = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--releases') o.releases = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--src-root') o.roots.push(resolve(val()));
    else if (a === '--cache') o.cache = resolve(val());
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--btf') o.btf = resolve(val());
    else if (a === '--btf-release') o.btfRelease = val();
    else if (a === '--check') o.check = true;
    else if (a === '--no-system-src') systemRoots = false;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node bin/run-ts.mjs scripts/kfunc-tables.ts [--releases 6.1,6.12,7.2,7.3,6.18] [--src-root DIR]... [--no-system-src] [--cache DIR] [--out DIR] [--btf FILE [--btf-release R]] [--check]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  const env = process.env['KPTRSCOPE_LINUX_SRC_ROOT'];
  if (systemRoots) o.roots.push(...(env ? [resolve(env)] : []), '/usr/src', '/work/src');
  o.roots.push(join(o.cache, 'src'));
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const outputs = new Map<string, string>();
  const tables = new Map<string, KfuncTableJson>();
  const committed = (r: string): KfuncTableJson | undefined => {
    const p = join(o.out, `${r}.json`);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as KfuncTableJson) : undefined;
  };
  for (const r of o.releases) {
    if (r === DERIVED_RELEASE) continue;
    if (!(SOURCE_RELEASES as readonly string[]).includes(r)) throw new Error(`release ${r}: not one of ${SOURCE_RELEASES.join(', ')}, ${DERIVED_RELEASE}`);
    const src = await loadSource(r, o.roots, o.cache);
    const t = buildTable(src);
    tables.set(r, t);
    outputs.set(`${r}.json`, formatTable(t));
    process.stderr.write(`kfunc-tables: ${summary(t)} [${src.origin}, ${src.files.size} files]\n`);
  }
  if (o.releases.includes(DERIVED_RELEASE)) {
    const get = (r: string): KfuncTableJson => {
      const t = tables.get(r) ?? committed(r);
      if (!t) throw new Error(`${DERIVED_RELEASE} needs the ${r} table: add ${r} to --releases`);
      return t;
    };
    const namesPath = join(o.out, `${DERIVED_RELEASE}-names.txt`);
    const running = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    const btfFile = o.btf ?? (running.startsWith(`${DERIVED_RELEASE}.`) ? '/sys/kernel/btf/vmlinux' : undefined);
    let names: Names618;
    if (btfFile && existsSync(btfFile)) {
      const sourced = SOURCE_RELEASES.map((r) => tables.get(r) ?? committed(r)).filter((t): t is KfuncTableJson => !!t);
      names = names618FromBtf(readFileSync(btfFile), o.btfRelease ?? (o.btf ? basename(o.btf) : running), sourced);
      outputs.set(`${DERIVED_RELEASE}-names.txt`, formatNames(names));
      process.stderr.write(`kfunc-tables: ${DERIVED_RELEASE} names from ${btfFile}: ${names.names.size}\n`);
    } else {
      if (!existsSync(namesPath)) throw new Error(`${namesPath} missing and the running kernel (${running}) is not ${DERIVED_RELEASE}: pass --btf FILE`);
      names = parseNames(readFileSync(namesPath, 'utf8'));
      process.stderr.write(`kfunc-tables: ${DERIVED_RELEASE} names from ${namesPath}: ${names.names.size}\n`);
    }
    const t = derive618(names, get('6.12'), get('7.2'));
    outputs.set(`${DERIVED_RELEASE}.json`, formatTable(t));
    process.stderr.write(`kfunc-tables: ${summary(t)} (derived; ${t.derived!.unmatched.length} tagged names unmatched)\n`);
  }
  let differ = 0;
  for (const [f, text] of outputs) {
    const p = join(o.out, f);
    if (o.check) {
      if (readIfExists(p) !== text) {
        differ++;
        process.stderr.write(`kfunc-tables: ${p} differs from a regeneration\n`);
      }
    } else {
      mkdirSync(o.out, { recursive: true });
      writeFileSync(p, text);
      process.stdout.write(`${p} (${Buffer.byteLength(text)} bytes)\n`);
    }
  }
  if (differ) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`kfunc-tables: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
