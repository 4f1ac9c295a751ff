// Contract: the only BTF module that touches the file system. `loadBtfFile(path)` streams a file
// through BtfStreamParser (format sniffed from content: ELF, raw BTF, bpftool JSON or raw text)
// and returns the parsed Btf with its format. All errors name the file.

import { createReadStream } from 'node:fs';
import { BtfStreamParser } from './btf-stream.ts';
import { BtfParseError } from './errors.ts';
import type { LoadBtfOptions, LoadedBtf } from './btf-file-core.ts';

export { parseBtfBytes, sniffBtfFormat, type BtfFileFormat, type LoadBtfOptions, type LoadedBtf } from './btf-file-core.ts';

/** Read and parse a BTF file of any supported format. */
export async function loadBtfFile(path: string, opts: LoadBtfOptions = {}): Promise<LoadedBtf> {
  const parser = new BtfStreamParser(path, opts);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      parser.push(chunk as Uint8Array);
    }
  } catch (e) {
    if (e instanceof BtfParseError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${path}: cannot read BTF file: ${msg}`, { cause: e });
  }
  return parser.finish();
}
