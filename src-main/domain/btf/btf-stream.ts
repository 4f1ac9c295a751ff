// Contract: a pure, chunk-fed front end for every BTF format. Push byte chunks of any size
// (from a file stream, a pipe, a test), then finish(): the format is sniffed from the first
// bytes exactly like parseBtfBytes, bpftool raw text is parsed line by line as it arrives
// (no full copy of large dumps), JSON and binary input are buffered and parsed at the end.
// The result and the errors are identical to parseBtfBytes for the same bytes.

import { BtfTextParser } from './bpftool-text.ts';
import { parseBtfBytes, sniffBtfFormat, type BtfFileFormat, type LoadBtfOptions, type LoadedBtf } from './btf-file-core.ts';

const SNIFF_BYTES = 4096;

export class BtfStreamParser {
  private head: Uint8Array[] = [];
  private headLen = 0;
  private format: BtfFileFormat | undefined | null = null; // null = not decided yet
  private text: BtfTextParser | undefined;
  private decoder: TextDecoder | undefined;
  private finished = false;

  constructor(
    private readonly file: string,
    private readonly opts: LoadBtfOptions = {},
  ) {}

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('BtfStreamParser: push after finish');
    if (chunk.length === 0) return;
    if (this.text !== undefined && this.decoder !== undefined) {
      this.text.pushChunk(this.decoder.decode(chunk, { stream: true }));
      return;
    }
    this.head.push(chunk);
    this.headLen += chunk.length;
    if (this.format === null && this.headLen >= SNIFF_BYTES) this.decide();
  }

  finish(): LoadedBtf {
    this.finished = true;
    if (this.text !== undefined && this.decoder !== undefined) {
      this.text.pushChunk(this.decoder.decode());
      return { btf: this.text.finish(), format: 'bpftool-text', file: this.file, warnings: [] };
    }
    // Small or non-text input: identical to the one-shot path.
    return parseBtfBytes(concat(this.head, this.headLen), this.file, this.opts);
  }

  private decide(): void {
    const all = concat(this.head, this.headLen);
    this.head = [all];
    this.format = sniffBtfFormat(all.subarray(0, SNIFF_BYTES));
    if (this.format !== 'bpftool-text') return; // buffer the rest; parse at finish()
    const textOpts = this.opts.base !== undefined ? { file: this.file, base: this.opts.base.btf } : { file: this.file };
    this.text = new BtfTextParser(textOpts);
    this.decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
    this.text.pushChunk(this.decoder.decode(all, { stream: true }));
    this.head = [];
    this.headLen = 0;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
