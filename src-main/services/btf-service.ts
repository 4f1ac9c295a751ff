/**
 * Stores a BTF file (bpftool text / JSON dump, raw blob, or .bpf.o ELF) in the database: its exact
 * bytes (compressed), the format found, and the summary the ownership model needs (special fields,
 * globals, maps, kfuncs). The same content is stored once (SHA-256). Errors name the file.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { Db } from '../store/db.ts';
import { loadBtfFile, summarizeBtf } from '../ingest/btf/index.ts';

export interface StoredBtf {
  id: number;
  source: string;
  format: string;
  typeCount: number;
  sha256: string;
}

export class BtfFileError extends Error {}

export async function storeBtfFile(db: Db, path: string): Promise<StoredBtf> {
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
  const existing = db.prepare('SELECT id, source, format, type_count FROM btf_files WHERE sha256 = ?').get(sha256) as
    | { id: number; source: string; format: string; type_count: number }
    | undefined;
  if (existing) return { id: existing.id, source: existing.source, format: existing.format, typeCount: existing.type_count, sha256 };
  const loaded = await loadBtfFile(abs);
  const { btf, format } = loaded;
  // A .bpf.o gives exact global-variable offsets from its ELF symbols.
  const summary = summarizeBtf(btf, { dataLayout: loaded.dataLayout });
  const typeCount = btf.types.length - 1;
  const info = db
    .prepare(
      `INSERT INTO btf_files (sha256, source, format, size_bytes, type_count, summary_json, raw_z, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(sha256, abs, format, bytes.length, typeCount, JSON.stringify(summary), deflateRawSync(bytes, { level: 6 }), new Date().toISOString());
  return { id: Number(info.lastInsertRowid), source: abs, format, typeCount, sha256 };
}
