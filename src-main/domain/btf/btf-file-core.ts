// Contract: pure (no I/O) format sniffing and one-shot parsing of BTF bytes of any supported
// format: ELF magic → .bpf.o, 0xEB9F → raw BTF, '{' → bpftool JSON, '[1] KIND' → bpftool raw
// text. Every error names the file it was given. btf-file.ts adds the file-system loader and
// btf-stream.ts a chunk-fed front end with the same results.

import type { Btf } from './btf-types.ts';
import { BtfParseError } from './errors.ts';
import { isBtfTextHeader, parseBtfText } from './bpftool-text.ts';
import { parseBtfJson } from './bpftool-json.ts';
import { isBtfMagic, parseBtfRaw, type RawBtf } from './raw-blob.ts';
import { isElfMagic, parseBtfElf, type ElfDataLayout } from './elf.ts';

export type BtfFileFormat = 'bpftool-text' | 'bpftool-json' | 'btf-raw' | 'elf';

export interface LoadedBtf {
  btf: Btf;
  format: BtfFileFormat;
  /** Name used in messages (the path given). */
  file: string;
  /** Non-fatal parse oddities (e.g. invalid name offsets). */
  warnings: string[];
  /** For ELF objects: where each global really sits in its section (from the symbol table). */
  dataLayout?: ElfDataLayout;
  /** For binary input: the decoded blob (needed as the base of a split BTF). */
  raw?: RawBtf;
}

export interface LoadBtfOptions {
  /** Base BTF for split BTF (module BTF, `bpftool -B` dumps). Raw split blobs need a raw base. */
  base?: LoadedBtf;
}

const SNIFF_BYTES = 4096;

/** Decide the format from the first bytes; undefined when it is none of the four. */
export function sniffBtfFormat(head: Uint8Array): BtfFileFormat | undefined {
  if (isElfMagic(head)) return 'elf';
  if (isBtfMagic(head)) return 'btf-raw';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, SNIFF_BYTES)).replace(/^\uFEFF/, '');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return 'bpftool-json';
  // The first line decides; the text parser then reports any bad line precisely.
  const firstLine = trimmed.split('\n', 1)[0] ?? '';
  if (isBtfTextHeader(firstLine)) return 'bpftool-text';
  return undefined;
}

function looksLikeVerifierLog(text: string): boolean {
  return /^(?:func#\d|\d+: \(|processed \d+ insns|Validating |libbpf: |R\d+ |reg type unsupported|; )/m.test(text);
}

function fail(file: string, expected: string, got: string): never {
  throw new BtfParseError({ file, expected, got });
}

/** Parse BTF bytes of any supported format. Pure (no I/O). */
export function parseBtfBytes(bytes: Uint8Array, file: string, opts: LoadBtfOptions = {}): LoadedBtf {
  if (bytes.length === 0) fail(file, 'BTF data (bpftool text/JSON, raw .BTF or an ELF .bpf.o)', 'an empty BTF file (0 bytes)');
  const format = sniffBtfFormat(bytes.subarray(0, SNIFF_BYTES));
  const base = opts.base;
  switch (format) {
    case 'elf':
    case 'btf-raw': {
      if (base !== undefined && base.raw === undefined) {
        fail(file, 'a binary base BTF for a binary split BTF (string offsets continue from the base)', `a ${base.format} base (${base.file})`);
      }
      const rawOpts = base?.raw !== undefined ? { file, base: base.raw } : { file };
      if (format === 'elf') {
        const e = parseBtfElf(bytes, rawOpts);
        return { btf: e.btf, format, file, warnings: e.warnings, dataLayout: e.dataLayout, raw: e };
      }
      const r = parseBtfRaw(bytes, rawOpts);
      return { btf: r.btf, format, file, warnings: r.warnings, raw: r };
    }
    case 'bpftool-json':
    case 'bpftool-text': {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
      const textOpts = base !== undefined ? { file, base: base.btf } : { file };
      const btf = format === 'bpftool-json' ? parseBtfJson(text, textOpts) : parseBtfText(text, textOpts);
      return { btf, format, file, warnings: [] };
    }
    case undefined: {
      const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, SNIFF_BYTES));
      const firstLine = head.split('\n').find((l) => l.trim() !== '') ?? '';
      const printable = /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(head.slice(0, 256)) && !head.includes('\uFFFD');
      const got = looksLikeVerifierLog(head)
        ? `what looks like a verifier log (${JSON.stringify(firstLine.slice(0, 60))})`
        : printable
          ? JSON.stringify(firstLine.slice(0, 60))
          : `binary data starting ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`;
      return fail(file, 'BTF: an ELF .bpf.o, a raw BTF blob (magic 0xEB9F), bpftool JSON ({"types":...}) or bpftool raw text ([1] KIND ...)', got);
    }
  }
}
