/**
 * Stores a BTF file (bpftool text / JSON dump, raw blob, or .bpf.o ELF): its exact bytes
 * (compressed), the format found, and the summary the ownership model needs (special fields,
 * globals, maps, kfuncs). The same content is stored once (SHA-256). Errors name the file.
 *
 * Contract: `storeBtfFile(w, path)` runs inside the caller's write transaction and returns the
 * stored row (an existing one when the same bytes were stored before, with this path as its
 * `source`: the name the run links it under).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { BtfFileRow, StoreWriter } from '../store/types.ts';
import { summarizeBtf } from '../domain/btf/index.ts';
import { loadBtfFile } from './read-files.ts';

export type StoredBtf = BtfFileRow;

export class BtfFileError extends Error {}

export async function storeBtfFile(w: StoreWriter, path: string): Promise<StoredBtf> {
  const abs = resolve(path);
  let bytes: Buffer;
  try {
    if (!statSync(abs).isFile()) throw new BtfFileError(`${path}: not a regular file`);
    bytes = readFileSync(abs);
  } catch (e) {
    if (e instanceof BtfFileError) throw e;
    throw new BtfFileError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const existing = await w.findBtfBySha(sha256);
  // The same bytes stored before (perhaps under another name): this ingest's name goes with its run.
  if (existing) return { ...existing, source: abs };
  const loaded = await loadBtfFile(abs);
  const { btf, format } = loaded;
  // A .bpf.o gives exact global-variable offsets from its ELF symbols.
  const summary = summarizeBtf(btf, { dataLayout: loaded.dataLayout });
  return w.insertBtf({
    sha256,
    source: abs,
    format,
    sizeBytes: bytes.length,
    typeCount: btf.types.length - 1,
    summary,
    rawZ: deflateRawSync(bytes, { level: 6 }),
    createdAt: new Date().toISOString(),
  });
}
