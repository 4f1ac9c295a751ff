// `kptrscope capture` usage and input errors, through the real command in a child process (none of
// these boots a guest or loads a program): one line on stderr naming what was wrong, status 2 for
// usage, 1 for bad input; and the non-root message for --kernel host.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const tmp = tempDir('kptrscope-capcli-');
const OBJ = join(FIXTURES, 'logs', '6.18', 'leak_obj.bpf.o');
const env = { KPTRSCOPE_CACHE_DIR: join(tmp, 'cache') };

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => !l.startsWith('capture: '));
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
}

describe('kptrscope capture: errors', () => {
  it('is listed in the help', () => {
    const r = kptrscope(['capture', '--help']);
    expect(r.status).toBe(0);
    for (const o of ['--kernel', '--level', '--db', '--json', '--out', '--raw-levels', '--accel', '--timeout']) expect(r.stdout).toContain(o);
  });

  it('no object and no --list-kernels is a usage error that points to --list-kernels', () => {
    const r = kptrscope(['capture', '--db', join(tmp, 'a.db')], env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe('kptrscope: capture: give at least one BPF object (or --list-kernels)');
    expect(kptrscope(['capture', '--help']).stdout).toContain('--list-kernels');
  });

  it('--level other than 1, 2, 7 is a usage error', () => {
    const r = kptrscope(['capture', OBJ, '--level', '3', '--db', join(tmp, 'a.db')], env);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe('kptrscope: --level must be 1, 2 or 7 (7 = bpftool -d\'s 1|2|4), got "3"');
  });

  it('a missing object, a non-ELF and a non-BPF ELF name the file', () => {
    const txt = join(tmp, 'x.bpf.o');
    writeFileSync(txt, 'not an object\n');
    let r = kptrscope(['capture', join(tmp, 'nope.bpf.o'), '--db', join(tmp, 'a.db')], env);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/nope\.bpf\.o: cannot read the object \(expected a BPF ELF object/);
    r = kptrscope(['capture', txt, '--db', join(tmp, 'a.db')], env);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/x\.bpf\.o: not an ELF file/);
    r = kptrscope(['capture', process.execPath, '--db', join(tmp, 'a.db')], env);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/not BPF \(247\)/);
  });

  it('a bad --kernel spec says what is expected', () => {
    const r = kptrscope(['capture', OBJ, '--kernel', 'latest', '--db', join(tmp, 'a.db')], env);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe('kptrscope: --kernel latest: expected host, a version (6.1, 7.3), a flavor (7.3-cloud), a release candidate (7.3-rc7), a release (6.1.0-56-amd64, 7.3.4+deb13-cloud-amd64) or a linux-image-… package');
  });

  it('two objects with the same program name are refused', () => {
    const r = kptrscope(['capture', OBJ, OBJ, '--db', join(tmp, 'a.db')], env);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/same program name "leak_obj"/);
  });

  it('--kernel host without root: a clear message', () => {
    const isRoot = process.getuid?.() === 0;
    const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
    if (isRoot && !setpriv) return;
    const cache = join(tmp, 'nobody-cache');
    let r;
    if (isRoot) {
      chmodSync(tmp, 0o777);
      const script = `cd ${ROOT} && KPTRSCOPE_CACHE_DIR=${cache} HOME=${tmp} ${process.execPath} bin/kptrscope.mjs capture ${OBJ} --kernel host --db ${join(tmp, 'nobody.db')}`;
      r = spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], { encoding: 'utf8' });
    } else {
      r = kptrscope(['capture', OBJ, '--kernel', 'host', '--db', join(tmp, 'b.db')], env);
    }
    expect(r.status, r.stderr).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      'kptrscope: --kernel host: loading BPF programs into the running kernel needs root (run it with sudo), or capture on a Debian kernel under QEMU: --kernel 6.12',
    );
  });
});
