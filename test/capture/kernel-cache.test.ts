// Pure parts of the kernel cache and the kfunc table: Debian version order, which package a
// --kernel spec means (flavors, release candidates, exact releases), `apt-cache madison` and
// `apt-cache show` parsing, which packages and .deb members hold a kernel (both of Debian's
// layouts), --list-kernels' pickedBy, the cache location, libbpf's failure reason, and the kfunc
// table of real BTF.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import {
  availableKernels,
  compareDebianVersions,
  defaultCacheDir,
  isKernelSpec,
  isReleaseCandidate,
  kernelFilesIn,
  kernelImageOf,
  kernelPackageFor,
  kernelPartsFromDepends,
  parseMadison,
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

// Real `apt-cache madison` output of the private lists (bookworm, bookworm-security, trixie,
// trixie-security, trixie-backports, sid, experimental), copied verbatim: note the padded version
// column, the same package in two suites, the experimental release candidates named after their
// series (linux-image-7.3-amd64, 7.3~rc7-1~exp1) and bookworm-security's 6.12 meta package
// (linux-image-6.12-amd64), which is no kernel of its own.
const MADISON = `linux-image-7.3-amd64 | 7.3~rc7-1~exp1 | http://deb.debian.org/debian experimental/main amd64 Packages
linux-image-7.3-cloud-amd64 | 7.3~rc7-1~exp1 | http://deb.debian.org/debian experimental/main amd64 Packages
linux-image-7.3-rt-amd64 | 7.3~rc7-1~exp1 | http://deb.debian.org/debian experimental/main amd64 Packages
linux-image-7.3.4+deb13-amd64 | 7.3.4-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages
linux-image-7.3.4+deb13-cloud-amd64 | 7.3.4-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages
linux-image-7.3.4+deb13-rt-amd64 | 7.3.4-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages
linux-image-7.2.13+deb14-amd64 |   7.2.13-1 | http://deb.debian.org/debian sid/main amd64 Packages
linux-image-7.2.12+deb13-amd64 | 7.2.12-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages
linux-image-6.18.15+deb13-amd64 | 6.18.15-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages
linux-image-6.12-amd64 | 6.12.117-1~deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
linux-image-6.12.117+deb12-amd64 | 6.12.117-1~deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
linux-image-6.12.117+deb13-amd64 | 6.12.117-1 | http://deb.debian.org/debian trixie/main amd64 Packages
linux-image-6.12.117+deb13-amd64 | 6.12.117-1 | http://deb.debian.org/debian-security trixie-security/main amd64 Packages
linux-image-6.12.118+deb13-amd64 | 6.12.118-1 | http://deb.debian.org/debian-security trixie-security/main amd64 Packages
linux-image-6.12.118+deb13-cloud-amd64 | 6.12.118-1 | http://deb.debian.org/debian-security trixie-security/main amd64 Packages
linux-image-6.1.0-57-amd64 |  6.1.192-3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
linux-image-6.1.0-57-cloud-amd64 |  6.1.192-3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
linux-image-6.1.0-50-amd64 |  6.1.176-1 | http://deb.debian.org/debian bookworm/main amd64 Packages
linux-image-6.1.0-50-amd64 |  6.1.176-1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
`;

describe('apt-cache madison → packages with suites', () => {
  const pkgs = parseMadison(MADISON);

  it('reads every line: name, version (padding trimmed), suite', () => {
    expect(pkgs).toHaveLength(MADISON.trim().split('\n').length);
    expect(pkgs[0]).toEqual({ name: 'linux-image-7.3-amd64', version: '7.3~rc7-1~exp1', suite: 'experimental' });
    expect(pkgs.find((p) => p.name === 'linux-image-7.3.4+deb13-cloud-amd64')).toEqual({ name: 'linux-image-7.3.4+deb13-cloud-amd64', version: '7.3.4-1~bpo13+1', suite: 'trixie-backports' });
    expect(pkgs.find((p) => p.name === 'linux-image-7.2.13+deb14-amd64')).toEqual({ name: 'linux-image-7.2.13+deb14-amd64', version: '7.2.13-1', suite: 'sid' });
    expect(pkgs.find((p) => p.name === 'linux-image-6.1.0-57-amd64')).toEqual({ name: 'linux-image-6.1.0-57-amd64', version: '6.1.192-3', suite: 'bookworm-security' });
    expect(pkgs.filter((p) => p.name === 'linux-image-6.12.117+deb13-amd64').map((p) => p.suite)).toEqual(['trixie', 'trixie-security']);
    expect(pkgs.filter((p) => p.name === 'linux-image-6.1.0-50-amd64').map((p) => p.suite)).toEqual(['bookworm', 'bookworm-security']);
    expect(new Set(pkgs.map((p) => p.suite))).toEqual(new Set(['experimental', 'trixie-backports', 'sid', 'bookworm-security', 'trixie', 'trixie-security', 'bookworm']));
  });

  it('ignores what is not a madison line', () => {
    expect(parseMadison('')).toEqual([]);
    expect(parseMadison('\nN: Unable to locate package linux-image-9.9-amd64\n')).toEqual([]);
  });
});

describe('kernel image names: flavor, series, release candidates', () => {
  it('reads the release, series and flavor of real image names', () => {
    expect(kernelImageOf('linux-image-7.3.4+deb13-cloud-amd64')).toEqual({ release: '7.3.4+deb13-cloud-amd64', series: '7.3', flavor: 'cloud' });
    expect(kernelImageOf('linux-image-7.3.4+deb13-rt-amd64')).toEqual({ release: '7.3.4+deb13-rt-amd64', series: '7.3', flavor: 'rt' });
    expect(kernelImageOf('linux-image-7.3.4+deb13-amd64')).toEqual({ release: '7.3.4+deb13-amd64', series: '7.3', flavor: 'generic' });
    expect(kernelImageOf('linux-image-6.1.0-57-cloud-amd64')).toEqual({ release: '6.1.0-57-cloud-amd64', series: '6.1', flavor: 'cloud' });
    expect(kernelImageOf('linux-image-6.12.115+deb13.1-amd64')).toEqual({ release: '6.12.115+deb13.1-amd64', series: '6.12', flavor: 'generic' });
    // experimental's release candidates are named after the series
    expect(kernelImageOf('linux-image-7.3-cloud-amd64')).toEqual({ release: '7.3-cloud-amd64', series: '7.3', flavor: 'cloud' });
    expect(kernelImageOf('linux-image-7.3-amd64')).toEqual({ release: '7.3-amd64', series: '7.3', flavor: 'generic' });
  });

  it('is null for debug, unsigned and meta packages', () => {
    for (const n of ['linux-image-6.1.0-57-amd64-dbg', 'linux-image-6.1.0-57-cloud-amd64-unsigned', 'linux-image-amd64', 'linux-image-cloud-amd64', 'linux-image-rt-amd64', 'linux-image-amd64-signed-template']) {
      expect(kernelImageOf(n), n).toBeNull();
    }
  });

  it('releaseOfPackage: generic images with a full release only', () => {
    expect(releaseOfPackage('linux-image-7.3.4+deb13-amd64')).toBe('7.3.4+deb13-amd64');
    expect(releaseOfPackage('linux-image-7.3.4+deb13-cloud-amd64')).toBeNull();
    expect(releaseOfPackage('linux-image-7.3-amd64')).toBeNull();
  });

  it('knows a release candidate by its Debian version', () => {
    expect(isReleaseCandidate('7.3~rc7-1~exp1')).toBe(true);
    for (const v of ['7.3.4-1~bpo13+1', '6.12.117-1~deb12u1', '6.1.192-3', '7.2.13-1']) expect(isReleaseCandidate(v), v).toBe(false);
  });
});

describe('--kernel spec → package, with flavors and release candidates (real lists)', () => {
  const pkgs = parseMadison(MADISON);
  const pick = (spec: string, ps = pkgs) => kernelPackageFor(spec, ps);

  it('X.Y picks the newest generic release, never a release candidate', () => {
    expect(pick('7.3')).toEqual({ name: 'linux-image-7.3.4+deb13-amd64', version: '7.3.4-1~bpo13+1', suite: 'trixie-backports' });
    expect(pick('6.12')?.name).toBe('linux-image-6.12.118+deb13-amd64'); // not the 6.12-amd64 meta package
    expect(pick('6.1')).toEqual({ name: 'linux-image-6.1.0-57-amd64', version: '6.1.192-3', suite: 'bookworm-security' });
    expect(pick('7.3.4')?.name).toBe('linux-image-7.3.4+deb13-amd64');
    expect(pick('6.12.117')).toMatchObject({ name: 'linux-image-6.12.117+deb13-amd64', version: '6.12.117-1' }); // over +deb12 (6.12.117-1~deb12u1)
    // Before 7.3 is released, experimental's candidate is all there is: `7.3` still finds nothing.
    const onlyRc = pkgs.filter((p) => p.suite === 'experimental');
    expect(pick('7.3', onlyRc)).toBeNull();
    expect(pick('7.3-cloud', onlyRc)).toBeNull();
  });

  it('X.Y-cloud / X.Y-rt pick that flavor', () => {
    expect(pick('7.3-cloud')).toEqual({ name: 'linux-image-7.3.4+deb13-cloud-amd64', version: '7.3.4-1~bpo13+1', suite: 'trixie-backports' });
    expect(pick('7.3-rt')?.name).toBe('linux-image-7.3.4+deb13-rt-amd64');
    expect(pick('6.1-cloud')?.name).toBe('linux-image-6.1.0-57-cloud-amd64');
    expect(pick('6.12-cloud')?.name).toBe('linux-image-6.12.118+deb13-cloud-amd64');
    expect(pick('7.2-cloud')).toBeNull();
    expect(pick('6.1-rt')).toBeNull();
  });

  it('X.Y-rc[N] picks the release candidate (of that number)', () => {
    expect(pick('7.3-rc')).toEqual({ name: 'linux-image-7.3-amd64', version: '7.3~rc7-1~exp1', suite: 'experimental' });
    expect(pick('7.3-rc7')?.name).toBe('linux-image-7.3-amd64');
    expect(pick('7.3~rc7')?.name).toBe('linux-image-7.3-amd64');
    expect(pick('7.3-rc6')).toBeNull();
    expect(pick('7.3-rc70')).toBeNull();
    expect(pick('7.3-rc-cloud')?.name).toBe('linux-image-7.3-cloud-amd64');
    expect(pick('7.3-rc7-rt')?.name).toBe('linux-image-7.3-rt-amd64');
    expect(pick('7.2-rc')).toBeNull();
  });

  it('an exact release (any flavor) or a package name', () => {
    expect(pick('7.3.4+deb13-cloud-amd64')).toEqual({ name: 'linux-image-7.3.4+deb13-cloud-amd64', version: '7.3.4-1~bpo13+1', suite: 'trixie-backports' });
    expect(pick('6.1.0-57-cloud-amd64')?.name).toBe('linux-image-6.1.0-57-cloud-amd64');
    expect(pick('linux-image-7.3-cloud-amd64')?.version).toBe('7.3~rc7-1~exp1');
    expect(pick('7.3.9+deb13-cloud-amd64')).toBeNull();
  });

  it('the new spec forms are valid specs', () => {
    for (const s of ['7.3', '7.3-cloud', '7.3-rt', '7.3-rc', '7.3-rc7', '7.3~rc7', '7.3-rc-cloud', '7.3.4+deb13-cloud-amd64', 'linux-image-7.3.4+deb13-cloud-amd64']) expect(isKernelSpec(s), s).toBe(true);
  });
});

describe('--list-kernels: every image with the specs that pick it', () => {
  const list = availableKernels(parseMadison(MADISON), new Set(['linux-image-7.3.4+deb13-cloud-amd64']));
  const of = (pkg: string) => list.filter((k) => k.package === pkg);

  it('pickedBy names the specs that pick each package today', () => {
    expect(of('linux-image-7.3.4+deb13-amd64')).toEqual([
      { package: 'linux-image-7.3.4+deb13-amd64', version: '7.3.4-1~bpo13+1', suite: 'trixie-backports', release: '7.3.4+deb13-amd64', series: '7.3', flavor: 'generic', releaseCandidate: false, cached: false, pickedBy: ['7.3'] },
    ]);
    expect(of('linux-image-7.3.4+deb13-cloud-amd64')[0]).toMatchObject({ flavor: 'cloud', cached: true, pickedBy: ['7.3-cloud'] });
    expect(of('linux-image-7.3.4+deb13-rt-amd64')[0]).toMatchObject({ flavor: 'rt', pickedBy: ['7.3-rt'] });
    expect(of('linux-image-7.3-amd64')[0]).toMatchObject({ releaseCandidate: true, suite: 'experimental', pickedBy: ['7.3-rc'] });
    expect(of('linux-image-7.3-cloud-amd64')[0]).toMatchObject({ releaseCandidate: true, pickedBy: ['7.3-rc-cloud'] });
    expect(of('linux-image-6.12.118+deb13-amd64')[0]?.pickedBy).toEqual(['6.12']);
    expect(of('linux-image-6.1.0-57-amd64')[0]).toMatchObject({ suite: 'bookworm-security', pickedBy: ['6.1'] });
    expect(of('linux-image-6.1.0-57-cloud-amd64')[0]?.pickedBy).toEqual(['6.1-cloud']);
    for (const p of ['linux-image-6.1.0-50-amd64', 'linux-image-6.12-amd64', 'linux-image-7.2.12+deb13-amd64', 'linux-image-6.12.117+deb13-amd64']) {
      for (const k of of(p)) expect(k.pickedBy, p).toEqual([]);
    }
    // Every spec that picks something is listed exactly once.
    const specs = list.flatMap((k) => k.pickedBy);
    expect(new Set(specs).size).toBe(specs.length);
    for (const s of specs) expect(kernelPackageFor(s, parseMadison(MADISON))?.name, s).toBe(list.find((k) => k.pickedBy.includes(s))?.package);
  });

  it('newest series first, then flavor, then Debian version; one entry per suite line, meta packages left out', () => {
    expect([...new Set(list.map((k) => k.series))]).toEqual(['7.3', '7.2', '6.18', '6.12', '6.1']);
    expect(list.slice(0, 6).map((k) => k.package)).toEqual([
      'linux-image-7.3.4+deb13-cloud-amd64',
      'linux-image-7.3-cloud-amd64',
      'linux-image-7.3.4+deb13-amd64',
      'linux-image-7.3-amd64',
      'linux-image-7.3.4+deb13-rt-amd64',
      'linux-image-7.3-rt-amd64',
    ]);
    // bookworm-security's linux-image-6.12-amd64 is a meta package (a series name, not a candidate).
    expect(list.map((k) => k.package)).not.toContain('linux-image-6.12-amd64');
    expect(list).toHaveLength(parseMadison(MADISON).length - 1);
    expect(list.filter((k) => k.cached).map((k) => k.package)).toEqual(['linux-image-7.3.4+deb13-cloud-amd64']);
  });
});

describe('which packages hold a kernel: apt-cache show Depends (real records)', () => {
  // `apt-cache show linux-image-7.3.4+deb13-cloud-amd64=7.3.4-1~bpo13+1`, verbatim (6.19+ layout:
  // the image package is empty and depends on linux-base-REL and linux-binary-REL).
  const SHOW_73_CLOUD = `Package: linux-image-7.3.4+deb13-cloud-amd64
Source: linux-signed-amd64 (7.3.4+1~bpo13+1)
Version: 7.3.4-1~bpo13+1
Installed-Size: 15
Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
Architecture: amd64
Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-modules-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1)
Pre-Depends: linux-base (>= 4.17~)
Recommends: apparmor
Suggests: debian-kernel-handbook, firmware-linux-free, grub-pc | grub-efi-amd64 | extlinux, linux-doc-7.3
Breaks: fwupdate (<< 12-7), initramfs-tools (<< 0.120+deb8u2), wireless-regdb (<< 2019.06.03-1~)
Description: Linux 7.3.4 for x86-64 cloud
Filename: pool/main/l/linux-signed-amd64/linux-image-7.3.4+deb13-cloud-amd64_7.3.4-1~bpo13+1_amd64.deb
Size: 1928
`;
  const DEP_73_RC_CLOUD =
    'Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.3-cloud-amd64 (= 7.3~rc7-1~exp1), linux-binary-7.3-cloud-amd64 (= 7.3~rc7-1~exp1), linux-modules-7.3-cloud-amd64 (= 7.3~rc7-1~exp1)\nPre-Depends: linux-base (>= 4.17~)\n';
  const DEP_618 = 'Depends: dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, kmod, linux-base-6.18.15+deb13-amd64 (= 6.18.15-1~bpo13+1)\nPre-Depends: linux-base (>= 4.12~)\n';
  const DEP_6112 = 'Depends: kmod, initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool\n';
  const DEP_61 = 'Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool\n';

  it('split layout: linux-base and linux-binary of that release, pinned to their versions (not modules)', () => {
    expect(kernelPartsFromDepends(SHOW_73_CLOUD, '7.3.4+deb13-cloud-amd64')).toEqual([
      'linux-base-7.3.4+deb13-cloud-amd64=7.3.4-1~bpo13+1',
      'linux-binary-7.3.4+deb13-cloud-amd64=7.3.4-1~bpo13+1',
    ]);
    expect(kernelPartsFromDepends(DEP_73_RC_CLOUD, '7.3-cloud-amd64')).toEqual(['linux-base-7.3-cloud-amd64=7.3~rc7-1~exp1', 'linux-binary-7.3-cloud-amd64=7.3~rc7-1~exp1']);
    // Another release's parts are not this kernel's.
    expect(kernelPartsFromDepends(SHOW_73_CLOUD, '7.3.4+deb13-amd64')).toEqual([]);
  });

  it('prefers the signed linux-binary when the unsigned one is named too', () => {
    // The real record with linux-binary-unsigned-REL added beside linux-binary-REL.
    const both = SHOW_73_CLOUD.replace(
      'linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1),',
      'linux-binary-unsigned-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1), linux-binary-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1),',
    );
    expect(both).not.toBe(SHOW_73_CLOUD);
    expect(kernelPartsFromDepends(both, '7.3.4+deb13-cloud-amd64')).toEqual([
      'linux-base-7.3.4+deb13-cloud-amd64=7.3.4-1~bpo13+1',
      'linux-binary-7.3.4+deb13-cloud-amd64=7.3.4-1~bpo13+1',
    ]);
  });

  it('old layout (6.1, 6.12): nothing beside the image itself', () => {
    expect(kernelPartsFromDepends(DEP_61, '6.1.0-50-amd64')).toEqual([]);
    expect(kernelPartsFromDepends(DEP_6112, '6.12.117+deb13-amd64')).toEqual([]);
    expect(kernelPartsFromDepends('', '6.1.0-50-amd64')).toEqual([]);
  });

  // 6.18.15's image still holds /boot/vmlinuz-REL, and its real Depends names
  // linux-base-6.18.15+deb13-amd64, which no suite carries: without a linux-binary-REL nothing is added.
  it('old layout with a linux-base-REL dependency (6.18.15): nothing beside the image', () => {
    expect(kernelPartsFromDepends(DEP_618, '6.18.15+deb13-amd64')).toEqual([]);
  });
});

describe('which .deb members are the kernel and its config (real member names)', () => {
  // dpkg-deb -c linux-image-6.1.0-53-cloud-amd64_6.1.187-1_amd64.deb (old layout; modules elided)
  const OLD = [
    './',
    './boot/',
    './boot/System.map-6.1.0-53-cloud-amd64',
    './boot/config-6.1.0-53-cloud-amd64',
    './boot/vmlinuz-6.1.0-53-cloud-amd64',
    './lib/',
    './lib/modules/',
    './lib/modules/6.1.0-53-cloud-amd64/',
    './lib/modules/6.1.0-53-cloud-amd64/modules.builtin',
    './lib/modules/6.1.0-53-cloud-amd64/modules.order',
    './usr/share/bug/linux-image-6.1.0-53-cloud-amd64/control',
    './usr/share/doc/linux-image-6.1.0-53-cloud-amd64/changelog.gz',
  ];
  // dpkg-deb -c of linux-binary-7.3.4+deb13-cloud-amd64, linux-binary-unsigned-…, linux-base-…, and
  // the (empty) linux-image-7.3.4+deb13-cloud-amd64, all 7.3.4-1~bpo13+1.
  const BINARY = [
    './',
    './usr/',
    './usr/lib/',
    './usr/lib/modules/',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/vmlinuz',
    './usr/share/',
    './usr/share/lintian/overrides/linux-binary-7.3.4+deb13-cloud-amd64',
    './usr/share/bug/linux-binary-7.3.4+deb13-cloud-amd64',
    './usr/share/doc/linux-binary-7.3.4+deb13-cloud-amd64',
  ];
  const UNSIGNED = [
    './',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/vmlinuz.unsigned',
    './usr/share/lintian/overrides/linux-binary-unsigned-7.3.4+deb13-cloud-amd64',
    './usr/share/doc/linux-binary-unsigned-7.3.4+deb13-cloud-amd64',
  ];
  const BASE = [
    './',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/System.map',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/config',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/modules.builtin',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/modules.builtin.modinfo',
    './usr/lib/modules/7.3.4+deb13-cloud-amd64/modules.order',
    './usr/share/bug/linux-base-7.3.4+deb13-cloud-amd64/control',
    './usr/share/doc/linux-base-7.3.4+deb13-cloud-amd64/NEWS.Debian.gz',
  ];
  const META = [
    './',
    './usr/',
    './usr/share/',
    './usr/share/lintian/overrides/linux-image-7.3.4+deb13-cloud-amd64',
    './usr/share/bug/linux-image-7.3.4+deb13-cloud-amd64',
    './usr/share/doc/linux-image-7.3.4+deb13-cloud-amd64',
  ];

  it('old layout: /boot/vmlinuz-REL and /boot/config-REL (not System.map)', () => {
    expect(kernelFilesIn(OLD)).toEqual({ vmlinuz: './boot/vmlinuz-6.1.0-53-cloud-amd64', config: './boot/config-6.1.0-53-cloud-amd64', release: '6.1.0-53-cloud-amd64' });
  });

  it('split layout: the image from linux-binary[-unsigned], the config from linux-base, nothing from the image package', () => {
    expect(kernelFilesIn(BINARY)).toEqual({ vmlinuz: './usr/lib/modules/7.3.4+deb13-cloud-amd64/vmlinuz', config: null, release: '7.3.4+deb13-cloud-amd64' });
    expect(kernelFilesIn(UNSIGNED)).toEqual({ vmlinuz: './usr/lib/modules/7.3.4+deb13-cloud-amd64/vmlinuz.unsigned', config: null, release: '7.3.4+deb13-cloud-amd64' });
    expect(kernelFilesIn(BASE)).toEqual({ vmlinuz: null, config: './usr/lib/modules/7.3.4+deb13-cloud-amd64/config', release: null });
    expect(kernelFilesIn(META)).toEqual({ vmlinuz: null, config: null, release: null });
    // Both images in one listing: the signed one, whichever comes first.
    expect(kernelFilesIn([...UNSIGNED, ...BINARY]).vmlinuz).toBe('./usr/lib/modules/7.3.4+deb13-cloud-amd64/vmlinuz');
    expect(kernelFilesIn([...BINARY, ...UNSIGNED]).vmlinuz).toBe('./usr/lib/modules/7.3.4+deb13-cloud-amd64/vmlinuz');
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
