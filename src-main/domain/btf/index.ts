// Contract: public API of the BTF ingestion package (model, parsers, loader, summariser).

export * from './btf-types.ts';
export { BtfParseError, type BtfParseErrorInfo } from './errors.ts';
export { BtfTextParser, parseBtfText, looksLikeBtfText, isBtfTextHeader, type BtfTextOptions } from './bpftool-text.ts';
export { BtfJsonParser, parseBtfJson, btfFromJsonValue, type BtfJsonOptions } from './bpftool-json.ts';
export { parseBtfRaw, isBtfMagic, BtfStrings, BTF_MAGIC, type RawBtf, type RawBtfOptions, type BtfHeader } from './raw-blob.ts';
export {
  parseBtfElf,
  readElf,
  readSymbols,
  findBtfSection,
  elfDataLayout,
  isElfMagic,
  type ElfBtf,
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
  type ElfDataLayout,
  type ElfSectionLayout,
} from './elf.ts';
export { parseBtfBytes, sniffBtfFormat, type BtfFileFormat, type LoadedBtf, type LoadBtfOptions } from './btf-file-core.ts';
export { BtfStreamParser } from './btf-stream.ts';
export * from './special-fields.ts';
export { summarizeBtf } from './summarize.ts';
