/**
 * Test helpers: where the committed real captures live and what each program is expected to do
 * (read from the program sources' `/* expect: ... *\/` lines and the `.verdict` files).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const LOGS_618 = join(FIXTURES, 'logs', '6.18');
export const PROGS = join(FIXTURES, 'progs');

export function fixtureLogs(dir = LOGS_618): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
}

/** `use_after_unlock.L2.log` → `use_after_unlock` */
export function programOf(file: string): string {
  return file.replace(/\..*$/, '');
}

export function expectedVerdict(prog: string, dir = LOGS_618): 'accepted' | 'rejected' {
  return readFileSync(join(dir, `${prog}.verdict`), 'utf8').trim() as 'accepted' | 'rejected';
}

export function expectedErrorLine(prog: string): string | null {
  const src = join(PROGS, `${prog}.bpf.c`);
  if (!existsSync(src)) return null;
  const m = /\/\* expect: (.*?) \*\//.exec(readFileSync(src, 'utf8'));
  return m ? (m[1] as string) : null;
}

/**
 * A committed capture (`<series>/<prog>.bpftool.log` and its `.bpf.o`) copied into `dir/<tag>/<series>/`
 * under another object name: the same object name in two versions, as a CI gate sees them.
 */
export function captureAs(dir: string, tag: string, series: string, prog: string, name: string): { log: string; btf: string; kernel: string } {
  const d = join(dir, tag, series);
  mkdirSync(d, { recursive: true });
  const log = join(d, `${name}.bpftool.log`);
  const btf = join(d, `${name}.bpf.o`);
  copyFileSync(join(FIXTURES, 'logs', series, `${prog}.bpftool.log`), log);
  copyFileSync(join(FIXTURES, 'logs', series, `${prog}.bpf.o`), btf);
  return { log, btf, kernel: readFileSync(join(FIXTURES, 'logs', series, 'KERNEL'), 'utf8').trim() };
}
