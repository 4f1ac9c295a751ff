/**
 * Builds the fixture programs written against Linux 7.x headers (test/fixtures/progs/7x/*.bpf.c)
 * and captures them on Debian's 7.2 and 7.3 kernels under QEMU (npm run capture:7x).
 *
 *   node bin/run-ts.mjs scripts/capture-7x.ts [--only NAME[,NAME...]] [KERNEL...]        default: 7.2 7.3-cloud
 *
 * `--only` captures just the sources whose names start with one of the NAMEs (qdisc_fq,scx_).
 *
 * The vmlinux.h they need declares every kfunc, the implicit-argument ones of 7.1+ included: it is
 * generated from the 7.3 guest's own BTF (kept in the kernel cache by a capture) by Debian
 * trixie-backports' bpftool (the guest userland, capture/guest-userland.ts) — bookworm's bpftool
 * 7.1 emits no kfunc prototypes. Each program is compiled like scripts/capture.sh does (clang -g -O2
 * -target bpf, DWARF stripped, BTF kept) and captured with `bpftool -d` plus raw logs at levels 1, 2
 * and 7 into test/fixtures/logs/<major.minor>/. The `accepted:` / `rejected:` and `expect: LINE`
 * comments of each source are checked against every kernel's log: a mismatch ends with status 1. Nothing is written into the repository but those capture files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { captureObjects } from '../src-main/capture/capture-objects.ts';
import { defaultCacheDir, KernelCache } from '../src-main/capture/kernel-cache.ts';
import { ensureUserland } from '../src-main/capture/guest-userland.ts';
import { REPO_ROOT } from '../src-main/capture/tools.ts';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args.splice(onlyAt, 2)[1] ?? '').split(',').filter((p) => p !== '') : [];
const kernels = args.length > 0 ? args : ['7.2', '7.3-cloud'];
const progs = join(REPO_ROOT, 'test', 'fixtures', 'progs', '7x');
const say = (m: string) => process.stderr.write(`capture-7x: ${m}\n`);

function tool(names: string[]): string {
  for (const n of names) if (spawnSync('sh', ['-c', `command -v ${n}`]).status === 0) return n;
  throw new Error(`none of ${names.join(', ')} found (apt-get install clang-19 llvm-19)`);
}

const work = mkdtempSync(join(tmpdir(), 'kptrscope-7x-'));
try {
  const cacheDir = defaultCacheDir();
  const cache = new KernelCache(cacheDir, say);
  const k73 = await cache.ensureKernel('7.3-cloud');
  const btf = join(k73.dir, 'vmlinux.btf');
  if (!existsSync(btf)) {
    say('no 7.3 vmlinux BTF in the cache yet: one capture to fetch it');
    await captureObjects({ objects: [join(REPO_ROOT, 'test', 'fixtures', 'logs', '7.3', 'leak_obj.bpf.o')], kernels: ['7.3-cloud'], level: 7, cacheDir, progress: say });
  }
  const u = ensureUserland(cache, say);
  const lib = join(u.dir, 'usr', 'lib', 'x86_64-linux-gnu');
  const header = execFileSync(join(lib, 'ld-linux-x86-64.so.2'), ['--library-path', lib, join(u.dir, 'usr', 'sbin', 'bpftool'), 'btf', 'dump', 'file', btf, 'format', 'c'], {
    maxBuffer: 256 << 20,
  });
  writeFileSync(join(work, 'vmlinux.h'), header);
  say(`vmlinux.h from ${k73.release}'s BTF (${(header.length / 1e6).toFixed(1)} MB, bpftool ${u.versions.bpftool ?? '?'})`);

  const clang = tool(['clang-19', 'clang']);
  const strip = tool(['llvm-strip-19', 'llvm-strip']);
  const objects: string[] = [];
  for (const src of readdirSync(progs).filter((f) => f.endsWith('.bpf.c') && (only.length === 0 || only.some((p) => f.startsWith(p)))).sort()) {
    const name = basename(src, '.bpf.c');
    const full = join(work, `${name}.full.o`);
    execFileSync(clang, ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I${work}`, `-I${progs}`, '-c', join(progs, src), '-o', full], { stdio: 'inherit' });
    execFileSync(strip, ['-g', full, '-o', join(work, `${name}.bpf.o`)]);
    objects.push(join(work, `${name}.bpf.o`));
  }
  say(`built ${objects.map((o) => basename(o)).join(' ')}`);

  // One guest loads every object four times (bpftool -d, raw levels 1, 2, 7) under TCG: the default
  // 300 s for the whole guest is not enough for a dozen objects.
  const timeoutSec = 120 + 60 * objects.length;
  const captures = await captureObjects({ objects, kernels, level: 7, rawLevels: [1, 2, 7], outDir: join(REPO_ROOT, 'test', 'fixtures', 'logs'), cacheDir, timeoutSec, progress: say });
  let bad = 0;
  for (const kc of captures) {
    for (const o of kc.objects) {
      const src = readFileSync(join(progs, `${o.name}.bpf.c`), 'utf8');
      const want = /\/\* accepted:/.test(src) ? 'accepted' : 'rejected';
      const log = readFileSync(o.log, 'utf8');
      const expects = [...src.matchAll(/\/\* expect: (.*) \*\//g)].map((m) => m[1] as string);
      const missing = expects.filter((e) => !log.split('\n').includes(e));
      const ok = o.verdict === want && missing.length === 0;
      if (!ok) bad += 1;
      say(`${kc.release} ${o.name}: ${o.verdict}${ok ? '' : ` — expected ${want}${missing.length ? `, missing lines: ${missing.join(' | ')}` : ''}`}`);
    }
  }
  process.exitCode = bad > 0 ? 1 : 0;
} finally {
  rmSync(work, { recursive: true, force: true });
}
