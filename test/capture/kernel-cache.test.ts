// Pure parts of the kernel cache and the kfunc table: Debian version order, which package a
// --kernel spec means, the cache location, libbpf's failure reason, and the kfunc table of real BTF.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import {
  compareDebianVersions,
  defaultCacheDir,
  isKernelSpec,
  kernelPackageFor,
  releaseOfPackage,
  type PackageVersion,
} from '../../src-main/capture/kernel-cache.ts';
import { loaderReasonOf } from '../../src-main/capture/loader-reason.ts';
import { formatKfuncTable, kfuncTable } from '../../src-main/capture/kfuncs.ts';
import { FIXTURES } from '../helpers/fixtures.ts';

describe('Debian version order (dpkg rules)', () => {
  const cases: [string, string, number][] = [
    ['6.1.192-2', '6.1.176-1', 1],
    ['6.12.118-1', '6.12.117-1~deb12u1', 1],
    ['6.12.100-1~deb12u1', '6.12.100-1', -1],
    ['1:1.0', '2.0', 1],
    ['1.0a', '1.0', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.01', '1.1', 0],
    ['7.2.13-1', '6.12.118-1', 1],
  ];
  for (const [a, b, sign] of cases) {
    it(`${a} vs ${b}`, () => {
      expect(Math.sign(compareDebianVersions(a, b))).toBe(sign);
      expect(Math.sign(compareDebianVersions(b, a))).toBe(sign === 0 ? 0 : -sign);
    });
  }
});

describe('--kernel spec → Debian package', () => {
  // Names and versions as Debian's lists give them (bookworm, bookworm-security, trixie-security, sid).
  const pkgs: PackageVersion[] = [
    { name: 'linux-image-6.1.0-50-amd64', version: '6.1.176-1' },
    { name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2' },
    { name: 'linux-image-6.1.0-56-cloud-amd64', version: '6.1.192-2' },
    { name: 'linux-image-6.1.0-56-rt-amd64', version: '6.1.192-2' },
    { name: 'linux-image-6.12-amd64', version: '6.12.118-1' },
    { name: 'linux-image-6.12.117+deb12-amd64', version: '6.12.117-1~deb12u1' },
    { name: 'linux-image-6.12.118+deb13-amd64', version: '6.12.118-1' },
    { name: 'linux-image-7.2.13+deb14-amd64', version: '7.2.13-1' },
  ];

  it('knows which names are real amd64 images', () => {
    expect(releaseOfPackage('linux-image-6.1.0-56-amd64')).toBe('6.1.0-56-amd64');
    expect(releaseOfPackage('linux-image-6.12.118+deb13-amd64')).toBe('6.12.118+deb13-amd64');
    expect(releaseOfPackage('linux-image-6.12-amd64')).toBeNull();
    expect(releaseOfPackage('linux-image-6.1.0-56-cloud-amd64')).toBeNull();
    expect(releaseOfPackage('linux-image-6.1.0-56-amd64-dbg')).toBeNull();
    expect(releaseOfPackage('linux-image-6.1.0-56-amd64-unsigned')).toBeNull();
  });

  it('picks the newest image of a series, an exact release, or a named package', () => {
    expect(kernelPackageFor('6.1', pkgs)?.name).toBe('linux-image-6.1.0-56-amd64');
    expect(kernelPackageFor('6.12', pkgs)?.name).toBe('linux-image-6.12.118+deb13-amd64');
    expect(kernelPackageFor('6.12.117', pkgs)?.name).toBe('linux-image-6.12.117+deb12-amd64');
    expect(kernelPackageFor('7.2', pkgs)?.name).toBe('linux-image-7.2.13+deb14-amd64');
    expect(kernelPackageFor('6.1.0-50-amd64', pkgs)?.name).toBe('linux-image-6.1.0-50-amd64');
    expect(kernelPackageFor('linux-image-6.1.0-50-amd64', pkgs)?.version).toBe('6.1.176-1');
    expect(kernelPackageFor('6.2', pkgs)).toBeNull();
    expect(kernelPackageFor('6', pkgs)).toBeNull();
  });

  it('validates specs', () => {
    for (const s of ['host', '6.1', '6.12.118', '6.1.0-56-amd64', 'linux-image-6.1.0-56-amd64', '6.12.118+deb13-amd64']) expect(isKernelSpec(s), s).toBe(true);
    for (const s of ['', 'latest', '6', 'x.y', '6.1; rm -rf /']) expect(isKernelSpec(s), s).toBe(false);
  });

  it('caches under $XDG_CACHE_HOME/kptrscope or ~/.cache/kptrscope', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/kptrscope');
    expect(defaultCacheDir({})).toBe(join(homedir(), '.cache', 'kptrscope'));
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(join(homedir(), '.cache', 'kptrscope'));
    expect(defaultCacheDir({ KPTRSCOPE_CACHE_DIR: '/x', XDG_CACHE_HOME: '/c' })).toBe('/x');
  });
});

describe("libbpf's failure reason", () => {
  it('the extern line on 6.1, the program line after a verifier rejection, null when loaded', () => {
    const logs = join(FIXTURES, 'logs');
    expect(loaderReasonOf(readFileSync(join(logs, '6.1', 'leak_obj.bpftool.log'), 'utf8'))).toBe(
      "extern (func ksym) 'bpf_obj_new_impl': not found in kernel or module BTFs",
    );
    expect(loaderReasonOf(readFileSync(join(logs, '6.12', 'leak_obj.bpftool.log'), 'utf8'))).toBe("prog 'leak_sample': failed to load: -22");
    expect(loaderReasonOf(readFileSync(join(logs, '6.12', 'list_push_pop.bpftool.log'), 'utf8'))).toBeNull();
    expect(loaderReasonOf('Error: failed to open object file: No such file or directory\n')).toBe('failed to open object file: No such file or directory');
  });
});

describe('kfunc table', () => {
  it('from BTF without bpf_kfunc tags: every FUNC named bpf_*, marked inexact', () => {
    // A program's raw .BTF has no kernel tags; its bpf_* externs are FUNCs.
    const t = kfuncTable(readFileSync(join(FIXTURES, 'logs', '6.18', 'local_kptr_stash.btf')), 'test');
    expect(t.exact).toBe(false);
    expect(t.selection).toBe('FUNC named bpf_*');
    expect(t.kfuncs.map((k) => k.name)).toContain('bpf_obj_new_impl');
    expect(t.kfuncs.every((k) => k.name.startsWith('bpf_'))).toBe(true);
    const again = JSON.parse(formatKfuncTable(t));
    expect(again).toEqual(JSON.parse(JSON.stringify(t)));
  });
});
