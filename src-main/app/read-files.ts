/**
 * The app's file readers: the only place that streams a log or a BTF file from disk into the
 * pure domain parsers (the domain itself does no I/O).
 *
 * Contract: `readHead(path)` returns the first SNIFF_BYTES of a file (for `sniffLogHead`);
 * `readFileLines(path, onLine, opts)` streams a file through a LineSplitter in chunks of
 * `chunkSize` bytes (default 1 MiB), awaiting `onChunk` (backpressure) before each chunk is split
 * and calling `onProgress` after it; `loadBtfFile(path)` streams a BTF file of any supported format
 * through BtfStreamParser and names the file in every error.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LineSplitter, type LineSink } from '../domain/log/line-reader.ts';
import { SNIFF_BYTES } from '../domain/log/sniff.ts';
import { BtfParseError, BtfStreamParser, type LoadBtfOptions, type LoadedBtf } from '../domain/btf/index.ts';

export function readHead(path: string, bytes = SNIFF_BYTES): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
}

export async function readFileLines(
  path: string,
  onLine: LineSink,
  opts: { chunkSize?: number; onProgress?: (p: ReadProgress) => void; onChunk?: (chunk: Buffer) => void | Promise<void> } = {},
): Promise<{ lines: number; bytes: number }> {
  const totalBytes = (await stat(path)).size;
  const splitter = new LineSplitter(onLine);
  const stream = createReadStream(path, { highWaterMark: opts.chunkSize ?? 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const pending = opts.onChunk?.(chunk);
    if (pending) await pending; // a consumer may apply backpressure
    splitter.push(chunk);
    opts.onProgress?.({ bytesRead: splitter.bytesSeen, totalBytes });
  }
  splitter.end();
  return { lines: splitter.linesSeen, bytes: splitter.bytesSeen };
}

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
