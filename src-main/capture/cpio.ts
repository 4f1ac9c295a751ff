/**
 * A writer for the Linux initramfs archive format: cpio "newc" (SVR4, no CRC; magic 070701), the
 * format `usr/gen_init_cpio` writes and the kernel's `init/initramfs.c` unpacks.
 *
 * Contract: `cpioArchive(entries)` is pure: it returns the whole archive as one Buffer, entries in the
 * given order (parents must come before children: the kernel creates them in order), ending with the
 * `TRAILER!!!` record. Each header and each body is padded to 4 bytes. Paths are relative to the root
 * (no leading `/`). Inode numbers are assigned sequentially, all entries are owned by root with mtime 0,
 * so the same entries always give the same bytes. Several such archives may be concatenated (each
 * compressed separately): the kernel unpacks them in order, later files replacing earlier ones.
 * `parseCpio` reads such an archive back (used by the tests and to check what was built).
 */

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function checkPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`cpio: bad entry path "${path}" (expected a relative path without empty, . or .. parts)`);
  }
}

function header(ino: number, mode: number, nlink: number, size: number, nameSize: number, rdev: [number, number]): string {
  return (
    '070701' +
    hex8(ino) +
    hex8(mode) +
    hex8(0) + // uid
    hex8(0) + // gid
    hex8(nlink) +
    hex8(0) + // mtime
    hex8(size) +
    hex8(0) + // devmajor
    hex8(0) + // devminor
    hex8(rdev[0]) + // rdevmajor
    hex8(rdev[1]) + // rdevminor
    hex8(nameSize) +
    hex8(0) // check
  );
}

function record(parts: Buffer[], ino: number, mode: number, nlink: number, name: string, body: Uint8Array, rdev: [number, number] = [0, 0]): void {
  const nameBytes = Buffer.from(name + '\0', 'utf8');
  const head = Buffer.from(header(ino, mode, nlink, body.length, nameBytes.length, rdev), 'ascii');
  parts.push(head, nameBytes, Buffer.alloc(pad4(head.length + nameBytes.length)));
  if (body.length > 0) parts.push(Buffer.from(body.buffer, body.byteOffset, body.length), Buffer.alloc(pad4(body.length)));
}

export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  let ino = 1;
  for (const e of entries) {
    checkPath(e.path);
    if (seen.has(e.path)) throw new Error(`cpio: duplicate entry "${e.path}"`);
    seen.add(e.path);
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : null;
    if (parent !== null && !seen.has(parent)) throw new Error(`cpio: entry "${e.path}" comes before its directory "${parent}"`);
    switch (e.type) {
      case 'dir':
        record(parts, ino++, S_IFDIR | (e.mode ?? 0o755), 2, e.path, new Uint8Array(0));
        break;
      case 'file':
        record(parts, ino++, S_IFREG | (e.mode ?? 0o644), 1, e.path, e.data);
        break;
      case 'symlink':
        record(parts, ino++, S_IFLNK | 0o777, 1, e.path, Buffer.from(e.target, 'utf8'));
        break;
      case 'chardev':
        record(parts, ino++, S_IFCHR | (e.mode ?? 0o600), 1, e.path, new Uint8Array(0), [e.major, e.minor]);
        break;
    }
  }
  record(parts, 0, 0, 1, 'TRAILER!!!', new Uint8Array(0));
  return Buffer.concat(parts);
}

export interface CpioRecord {
  path: string;
  mode: number;
  type: 'dir' | 'file' | 'symlink' | 'chardev' | 'other';
  data: Buffer;
  rdev: [number, number];
}

/** Reads one uncompressed newc archive (up to its trailer). Throws on a malformed header. */
export function parseCpio(buf: Buffer): CpioRecord[] {
  const out: CpioRecord[] = [];
  let off = 0;
  for (;;) {
    if (off + 110 > buf.length) throw new Error(`cpio: truncated header at byte ${off}`);
    const head = buf.toString('ascii', off, off + 110);
    if (!head.startsWith('070701')) throw new Error(`cpio: bad magic at byte ${off}`);
    const field = (i: number) => parseInt(head.slice(6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', off + 110, off + 110 + nameSize - 1);
    off += 110 + nameSize;
    off += pad4(off);
    const data = buf.subarray(off, off + size);
    off += size + pad4(size);
    if (name === 'TRAILER!!!') return out;
    const fmt = mode & 0o170000;
    const type = fmt === S_IFDIR ? 'dir' : fmt === S_IFREG ? 'file' : fmt === S_IFLNK ? 'symlink' : fmt === S_IFCHR ? 'chardev' : 'other';
    out.push({ path: name, mode: mode & 0o7777, type, data: Buffer.from(data), rdev: [field(9), field(10)] });
  }
}
