// Test helper: locations of the real captures (test/fixtures/logs/6.18) used by the BTF tests.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
export const FIXTURES_618 = join(REPO, 'test/fixtures/logs/6.18');
export const VMLINUX = '/sys/kernel/btf/vmlinux';

/** Names NAME of captured programs that have all four BTF forms (NAME.btf.txt/.btf.json/.btf/.bpf.o). */
export function capturedPrograms(): string[] {
  if (!existsSync(FIXTURES_618)) return [];
  return readdirSync(FIXTURES_618)
    .filter((f) => f.endsWith('.btf.txt'))
    .map((f) => f.slice(0, -'.btf.txt'.length))
    .filter((n) => ['.btf.json', '.btf', '.bpf.o'].every((ext) => existsSync(join(FIXTURES_618, n + ext))))
    .sort();
}

export function fixturePath(name: string): string {
  return join(FIXTURES_618, name);
}

export function readFixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

export function readFixtureBytes(name: string): Uint8Array {
  return readFileSync(fixturePath(name));
}
