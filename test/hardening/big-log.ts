/**
 * Large logs made of real captures (test/fixtures/logs), for the crash-safety tests and the hostile
 * input benchmark: never synthetic kernel text, only real lines repeated.
 */
import { closeSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';

/** Every raw capture of one kernel (level 1/2/4/7 logs and bpftool logs), in name order. */
export function realCaptures(kernel = '6.18'): Buffer[] {
  const dir = join(FIXTURES, 'logs', kernel);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => {
      const b = readFileSync(join(dir, f));
      return b[b.length - 1] === 0x0a ? b : Buffer.concat([b, Buffer.from('\n')]);
    });
}

/**
 * Write at least `bytes` bytes to `path` by concatenating `parts` over and over (a `salt` line
 * first makes two files of the same size differ in content). Returns the bytes and lines written.
 */
export function writeRepeated(path: string, bytes: number, parts: Buffer[] = realCaptures(), salt = ''): { bytes: number; lines: number; copies: number } {
  const one = Buffer.concat(parts);
  const linesPerCopy = one.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
  // Write in ~8 MiB slabs.
  const per = Math.max(1, Math.floor((8 << 20) / one.length));
  const slab = Buffer.concat(Array<Buffer>(per).fill(one));
  const fd = openSync(path, 'w');
  let written = 0;
  let lines = 0;
  let copies = 0;
  try {
    if (salt !== '') {
      const s = Buffer.from(`${salt}\n`);
      writeSync(fd, s);
      written += s.length;
      lines += 1;
    }
    while (written < bytes) {
      const n = Math.min(per, Math.ceil((bytes - written) / one.length));
      const buf = n === per ? slab : slab.subarray(0, n * one.length);
      writeSync(fd, buf);
      written += buf.length;
      lines += n * linesPerCopy;
      copies += n;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: written, lines, copies };
}
