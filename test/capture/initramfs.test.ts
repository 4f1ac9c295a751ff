// The guest's initramfs and init script, without booting anything: the cpio writer (read back), the
// plan → /init script (also with a guest userland of its own), which kernels get that userland, what
// `bpftool version` says about the loader, the two archive parts, and the serial protocol run by a
// real shell on this machine and read back by the demultiplexer.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cpioArchive, parseCpio } from '../../src-main/capture/cpio.ts';
import { guestPlan, initScript, objectName, protocolShell, safeFileName, GUEST_BPFTOOL, GUEST_LOADER, GUEST_RAW_LOADER } from '../../src-main/capture/init-script.ts';
import { baseEntries, runEntries, treeEntries, baseDigest, type BaseTools } from '../../src-main/capture/initramfs.ts';
import { demuxTranscript } from '../../src-main/capture/serial-demux.ts';
import { qemuArgs } from '../../src-main/capture/qemu.ts';
import { GUEST_USERLAND_BPFTOOL, GUEST_USERLAND_ROOT, needsNewUserland, runner } from '../../src-main/capture/guest-userland.ts';
import { loaderInfoOf } from '../../src-main/capture/capture-objects.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('kptrscope-capture-');

describe('cpio newc writer', () => {
  it('round-trips dirs, files, symlinks and device nodes, padded to 4 bytes', () => {
    const data = Buffer.from('hello\n');
    const buf = cpioArchive([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/x', data, mode: 0o755 },
      { type: 'symlink', path: 'bin/y', target: 'x' },
      { type: 'dir', path: 'dev' },
      { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    ]);
    expect(buf.length % 4).toBe(0);
    expect(buf.subarray(0, 6).toString()).toBe('070701');
    expect(buf.toString('latin1')).toContain('TRAILER!!!');
    const recs = parseCpio(buf);
    expect(recs.map((r) => [r.path, r.type, r.mode])).toEqual([
      ['bin', 'dir', 0o755],
      ['bin/x', 'file', 0o755],
      ['bin/y', 'symlink', 0o777],
      ['dev', 'dir', 0o755],
      ['dev/console', 'chardev', 0o600],
    ]);
    expect(recs[1]!.data).toEqual(data);
    expect(recs[2]!.data.toString()).toBe('x');
    expect(recs[4]!.rdev).toEqual([5, 1]);
  });

  it('is deterministic and refuses bad paths, duplicates and orphans', () => {
    const e = [{ type: 'file' as const, path: 'a', data: Buffer.from('1') }];
    expect(cpioArchive(e)).toEqual(cpioArchive(e));
    expect(() => cpioArchive([{ type: 'dir', path: '/abs' }])).toThrow(/bad entry path/);
    expect(() => cpioArchive([{ type: 'dir', path: 'a/../b' }])).toThrow(/bad entry path/);
    expect(() => cpioArchive([...e, ...e])).toThrow(/duplicate/);
    expect(() => cpioArchive([{ type: 'file', path: 'd/f', data: Buffer.alloc(0) }])).toThrow(/before its directory/);
  });

  it('reads the same bytes back with the system cpio when it is installed', () => {
    let has = true;
    try {
      execFileSync('cpio', ['--version'], { stdio: 'ignore' });
    } catch {
      has = false;
    }
    if (!has) return;
    const buf = cpioArchive(treeEntries([{ guestPath: '/usr/bin/t', data: Buffer.from('data'), mode: 0o755 }]));
    const list = execFileSync('cpio', ['-it', '--quiet'], { input: buf }).toString().trim().split('\n');
    expect(list).toEqual(['usr', 'usr/bin', 'usr/bin/t']);
  });
});

describe('guest plan and /init', () => {
  const plan = guestPlan(['/x/leak_obj.bpf.o', '/y/odd name.o'], { level: 7, rawLevels: [1, 2], sendVmlinuxBtf: true, watchdogSec: 330 });

  it('names objects and steps', () => {
    expect(objectName('/a/b/leak_obj.bpf.o')).toBe('leak_obj');
    expect(objectName('prog.o')).toBe('prog');
    expect(safeFileName('/y/odd name.o')).toBe('odd_name.o');
    expect(plan.objects).toEqual([
      { dir: 'o0', file: 'leak_obj.bpf.o', name: 'leak_obj' },
      { dir: 'o1', file: 'odd_name.o', name: 'odd name' },
    ]);
    expect(plan.steps.map((s) => `${s.id}:${s.kind}:${s.object}:${s.level}`)).toEqual([
      's0:bpftool:0:7',
      's1:each:0:7',
      's2:raw:0:1',
      's3:raw:0:2',
      's4:bpftool:1:7',
      's5:each:1:7',
      's6:raw:1:1',
      's7:raw:1:2',
    ]);
    expect(plan.steps.filter((s) => s.kind === 'each').map((s) => s.after)).toEqual(['s0', 's4']);
    const l2 = guestPlan(['a.bpf.o'], { level: 2, sendVmlinuxBtf: false, watchdogSec: 60 });
    expect(l2.steps).toEqual([
      { id: 's0', kind: 'load', object: 0, level: 2 },
      { id: 's1', kind: 'each', object: 0, level: 2, after: 's0' },
    ]);
  });

  it('mounts, arms the watchdog, runs each step in its object dir and sends every file', () => {
    const s = initScript(plan);
    expect(s.startsWith('#!/bin/busybox sh\n')).toBe(true);
    for (const m of ['mount -t devtmpfs dev /dev', 'mount -t proc proc /proc', 'mount -t sysfs sys /sys', 'mount -t bpf bpf /sys/fs/bpf']) expect(s).toContain(m);
    expect(s).toContain('(sleep 330; ');
    expect(s).toContain('exec 3>/dev/ttyS1');
    expect(s).toContain(`(cd /objs/o0 && ${GUEST_BPFTOOL} -d prog loadall leak_obj.bpf.o /sys/fs/bpf/p0) > /tmp/s0.out 2>&1`);
    // Each program on its own only when the object failed (libbpf stops at the first rejection).
    expect(s).toContain(`: > /tmp/s1.out; if [ "$(cat /tmp/s0.rc)" != 0 ]; then (cd /objs/o0 && ${GUEST_LOADER} leak_obj.bpf.o 7 --each) > /tmp/s1.out 2>&1; fi`);
    expect(s).toContain(`(cd /objs/o0 && ${GUEST_RAW_LOADER} leak_obj.bpf.o --raw --level 1) > /tmp/s2.out 2> /tmp/s2.err`);
    expect(s).toContain('say STEP 5/8 odd name bpftool -d prog loadall');
    for (const f of ['uname', 'bpftool-version', 's0.out', 's0.rc', 's1.out', 's2.err', 's7.rc', 'vmlinux.btf.gz']) expect(s).toContain(`emit ${f} /tmp/${f}`);
    expect(s.indexOf('say DONE')).toBeLessThan(s.indexOf('poweroff -f\n'));
    expect(initScript(guestPlan(['a.bpf.o'], { level: 1, sendVmlinuxBtf: false, watchdogSec: 60 }))).toContain(`${GUEST_LOADER} a.bpf.o 1`);
    expect(initScript(guestPlan(['a.bpf.o'], { level: 1, sendVmlinuxBtf: false, watchdogSec: 60 }))).not.toContain('vmlinux');
  });

  it('is valid shell syntax', () => {
    const p = join(tmp, 'init.sh');
    writeFileSync(p, initScript(plan));
    execFileSync('sh', ['-n', p]);
  });
});

describe('guest userland (trixie-backports bpftool for kernels after 6.12)', () => {
  const userland = { runWith: runner(), bpftool: GUEST_USERLAND_BPFTOOL };
  const LD = `${GUEST_USERLAND_ROOT}/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`;

  it("the runner is the userland's own loader with its library dir", () => {
    expect(runner()).toBe(`${LD} --library-path ${GUEST_USERLAND_ROOT}/usr/lib/x86_64-linux-gnu`);
    expect(GUEST_USERLAND_BPFTOOL).toBe(`${GUEST_USERLAND_ROOT}/usr/sbin/bpftool`);
  });

  it('a plan with a userland runs bpftool, the loader and the raw loader through the runner', () => {
    const plan = guestPlan(['/x/leak_obj.bpf.o'], { level: 7, rawLevels: [2], sendVmlinuxBtf: true, watchdogSec: 330, userland });
    expect(plan.userland).toEqual(userland);
    const s = initScript(plan);
    expect(s).toContain(`${runner()} ${GUEST_USERLAND_BPFTOOL} version > /tmp/bpftool-version 2>&1`);
    expect(s).toContain(`(cd /objs/o0 && ${runner()} ${GUEST_USERLAND_BPFTOOL} -d prog loadall leak_obj.bpf.o /sys/fs/bpf/p0) > /tmp/s0.out 2>&1`);
    expect(s).toContain(`(cd /objs/o0 && ${runner()} ${GUEST_RAW_LOADER} leak_obj.bpf.o --raw --level 2) > /tmp/s2.out 2> /tmp/s2.err`);
    expect(s).toContain(`(cd /objs/o0 && ${runner()} ${GUEST_LOADER} leak_obj.bpf.o 7 --each) > /tmp/s1.out 2>&1`);
    const l1 = initScript(guestPlan(['a.bpf.o'], { level: 1, sendVmlinuxBtf: false, watchdogSec: 60, userland }));
    expect(l1).toContain(`(cd /objs/o0 && ${runner()} ${GUEST_LOADER} a.bpf.o 1) > /tmp/s0.out 2>&1`);
    // No tool runs bare (with this machine's loader), and the host bpftool is never named.
    for (const script of [s, l1]) {
      expect(script.split(GUEST_USERLAND_BPFTOOL).join('')).not.toContain(GUEST_BPFTOOL);
      let runs = 0;
      for (const tool of [GUEST_USERLAND_BPFTOOL, GUEST_LOADER, GUEST_RAW_LOADER]) {
        for (const m of script.matchAll(new RegExp(`(\\S+) ${tool.replace(/[.+]/g, '\\$&')}`, 'g'))) {
          expect(m[1]).toBe(`${GUEST_USERLAND_ROOT}/usr/lib/x86_64-linux-gnu`);
          runs++;
        }
      }
      expect(runs).toBe(script === s ? 4 : 3); // version + each step (the per-program load included)
    }
    const p = join(tmp, 'init-userland.sh');
    writeFileSync(p, s);
    execFileSync('sh', ['-n', p]);
  });

  it('a plan without one runs the tools directly', () => {
    const s = initScript(guestPlan(['a.bpf.o'], { level: 7, sendVmlinuxBtf: false, watchdogSec: 60 }));
    expect(s).toContain(`\n${GUEST_BPFTOOL} version > /tmp/bpftool-version 2>&1\n`);
    expect(s).not.toContain('--library-path');
    expect(s).not.toContain(GUEST_USERLAND_ROOT);
  });

  it('needsNewUserland: not up to 6.12, yes from 6.13 on; KPTRSCOPE_GUEST_USERLAND overrides', () => {
    for (const r of ['6.1.0-57-amd64', '6.1.0-57-cloud-amd64', '6.12.118+deb13-amd64', '6.12.117+deb12-cloud-amd64']) expect(needsNewUserland(r, {}), r).toBe(false);
    for (const r of ['6.13.7-amd64', '6.18.15+deb13-amd64', '7.2.13+deb14-amd64', '7.3.4+deb13-cloud-amd64', '7.3-cloud-amd64']) expect(needsNewUserland(r, {}), r).toBe(true);
    expect(needsNewUserland('7.3.4+deb13-cloud-amd64', { KPTRSCOPE_GUEST_USERLAND: 'host' })).toBe(false);
    expect(needsNewUserland('6.1.0-57-amd64', { KPTRSCOPE_GUEST_USERLAND: 'trixie' })).toBe(true);
    expect(needsNewUserland('6.12.118+deb13-amd64', { KPTRSCOPE_GUEST_USERLAND: 'something-else' })).toBe(false);
  });

  it("loaderInfoOf reads real `bpftool version` text (trixie-backports' and bookworm's)", () => {
    // <userland>/ld-linux-x86-64.so.2 --library-path <userland>/usr/lib/x86_64-linux-gnu <userland>/usr/sbin/bpftool version
    // (bpftool 7.8.0+7.3.4-1~bpo13+1; libbpf1 1:1.5.0-3 is what the bundled loaders get)
    expect(loaderInfoOf('bpftool v7.8.0\nusing libbpf v1.8\nfeatures: crypto\n', 'trixie-backports', '1.5.0')).toEqual({
      bpftool: 'v7.8.0',
      libbpf: 'v1.8',
      userland: 'trixie-backports',
      loaderLibbpf: '1.5.0',
    });
    // bookworm's bpftool 7.1.0+6.1.192-3
    expect(loaderInfoOf('bpftool v7.1.0\nusing libbpf v1.1\nfeatures: libbpf_strict\n', 'host')).toEqual({ bpftool: 'v7.1.0', libbpf: 'v1.1', userland: 'host' });
    // A bpftool that did not run (a loader error instead of its version) leaves both empty.
    expect(loaderInfoOf('/opt/kptrscope-userland/usr/sbin/bpftool: error while loading shared libraries: libelf.so.1: cannot open shared object file\n', 'trixie-backports')).toEqual({
      bpftool: '',
      libbpf: '',
      userland: 'trixie-backports',
    });
  });
});

describe('initramfs parts', () => {
  const tools: BaseTools = {
    busybox: { guestPath: '/bin/busybox', data: Buffer.from('BB'), mode: 0o755 },
    bpftool: { guestPath: GUEST_BPFTOOL, data: Buffer.from('BT'), mode: 0o755 },
    loaders: [{ guestPath: GUEST_LOADER, data: Buffer.from('LD'), mode: 0o755 }],
    libraries: [
      { guestPath: '/lib/x86_64-linux-gnu/libelf.so.1', data: Buffer.from('E'), mode: 0o755 },
      { guestPath: '/lib64/ld-linux-x86-64.so.2', data: Buffer.from('L'), mode: 0o755 },
    ],
  };

  it('base: tools and libraries at their paths, parents first, /dev/console', () => {
    const recs = parseCpio(cpioArchive(baseEntries(tools)));
    const paths = recs.map((r) => r.path);
    for (const p of ['bin/busybox', 'usr/sbin/bpftool', 'usr/bin/kptrscope-load', 'lib/x86_64-linux-gnu/libelf.so.1', 'lib64/ld-linux-x86-64.so.2', 'proc', 'sys', 'tmp', 'objs']) {
      expect(paths, p).toContain(p);
    }
    for (const [i, p] of paths.entries()) {
      const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : null;
      if (parent) expect(paths.indexOf(parent), p).toBeLessThan(i);
    }
    expect(recs.find((r) => r.path === 'dev/console')?.rdev).toEqual([5, 1]);
    expect(recs.find((r) => r.path === 'bin/busybox')?.mode).toBe(0o755);
  });

  it('base digest changes with any tool byte', () => {
    const other = { ...tools, bpftool: { ...tools.bpftool, data: Buffer.from('BX') } };
    expect(baseDigest(tools)).toBe(baseDigest({ ...tools }));
    expect(baseDigest(other)).not.toBe(baseDigest(tools));
  });

  it('run part: /init (executable) and the objects', () => {
    const plan = guestPlan(['/x/a.bpf.o', '/x/b.bpf.o'], { level: 7, sendVmlinuxBtf: false, watchdogSec: 60 });
    const recs = parseCpio(cpioArchive(runEntries(plan, [Buffer.from('A'), Buffer.from('B')])));
    expect(recs.map((r) => r.path)).toEqual(['init', 'objs', 'objs/o0', 'objs/o0/a.bpf.o', 'objs/o1', 'objs/o1/b.bpf.o']);
    expect(recs[0]!.mode).toBe(0o755);
    expect(recs[0]!.data.toString()).toBe(initScript(plan));
    expect(recs[5]!.data.toString()).toBe('B');
  });

  it("run part with the kernel's config: /boot/config, linked by /init where libbpf reads __kconfig values", () => {
    const plan = guestPlan(['/x/a.bpf.o'], { level: 7, sendVmlinuxBtf: false, watchdogSec: 60 });
    const recs = parseCpio(cpioArchive(runEntries(plan, [Buffer.from('A')], Buffer.from('CONFIG_HZ=250\n'))));
    expect(recs.find((r) => r.path === 'boot/config')?.data.toString()).toBe('CONFIG_HZ=250\n');
    const init = initScript(plan);
    expect(init).toContain('[ -e /boot/config ] && ln -sf config "/boot/config-$(uname -r)"');
    // …before any object is loaded
    expect(init.indexOf('/boot/config-')).toBeLessThan(init.indexOf('prog loadall'));
  });
});

describe('serial protocol, end to end through a real shell', () => {
  it('what the guest functions send is what the demultiplexer gives back', () => {
    const port = join(tmp, 'port.txt');
    const a = join(tmp, 'a.bin');
    const b = join(tmp, 'b.txt');
    const bin = Buffer.alloc(70_000);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 131 + 7) & 0xff;
    writeFileSync(a, bin);
    writeFileSync(b, 'line 1\nline 2 with \r and tab\t\n');
    const script = `${protocolShell(port)}\nsay HELLO 1\nemit a.bin ${a}\nsay STEP 1/1 x y\nemit b.txt ${b}\n: > ${join(tmp, 'empty')}\nemit empty ${join(tmp, 'empty')}\nsay DONE\n`;
    execFileSync('sh', ['-c', script]);
    // The tty of a real guest turns \n into \r\n: do the same here.
    const raw = readFileSync(port).toString('latin1').replace(/\n/g, '\r\n');
    const { files, events, done } = demuxTranscript(raw);
    expect(done).toBe(true);
    expect(files.get('a.bin')).toMatchObject({ ok: true });
    expect(files.get('a.bin')!.data).toEqual(bin);
    expect(files.get('b.txt')!.data.toString()).toBe('line 1\nline 2 with \r and tab\t\n');
    expect(files.get('empty')).toMatchObject({ ok: true, data: Buffer.alloc(0) });
    expect(events.filter((e) => e.kind === 'step')).toEqual([{ kind: 'step', text: '1/1 x y' }]);
    expect(events.some((e) => e.kind === 'noise')).toBe(false);
  });
});

describe('qemu command line', () => {
  it('console on ttyS0 to a file, data on ttyS1 to stdout, no network/display/reboot', () => {
    const a = qemuArgs({ kernel: '/k', initrd: '/i', append: 'console=ttyS0', accel: 'tcg', memoryMb: 512, consoleLog: '/c.log', pidFile: '/p' });
    const s = a.join(' ');
    expect(s).toContain('-nodefaults');
    expect(s).toContain('-no-reboot');
    expect(s).toContain('-display none');
    expect(s).toContain('-machine pc,accel=tcg -cpu max');
    expect(s).toContain('-chardev file,id=console,path=/c.log -serial chardev:console -chardev stdio,id=data,signal=off -serial chardev:data');
    expect(s).toContain('-kernel /k -initrd /i -append console=ttyS0');
    expect(s).toContain('-pidfile /p');
    expect(s).not.toContain('-net');
    expect(qemuArgs({ kernel: '/k', initrd: '/i', append: '', accel: 'kvm', memoryMb: 256, consoleLog: '/c' }).join(' ')).toContain('-machine pc,accel=kvm -cpu host');
  });
});

describe('gzip parts concatenate', () => {
  it('each part is its own gzip member', () => {
    const one = cpioArchive([{ type: 'file', path: 'a', data: Buffer.from('1') }]);
    // Node's gunzip reads concatenated members as the kernel does.
    const both = Buffer.concat([gzipSync(one), gzipSync(one)]);
    expect(gunzipSync(both)).toEqual(Buffer.concat([one, one]));
  });
});
