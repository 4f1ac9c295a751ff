// Contract: minimal ELF reader for BPF objects (.bpf.o): ELF32/ELF64, little/big endian.
// Finds the `.BTF` section and decodes it with raw-blob.ts, and reads the symbol table so
// callers can learn where each global really lives in its data section (what libbpf does
// when it fixes DATASEC offsets at load time). Every bound is checked; malformed files throw
// BtfParseError with a byte offset. Compressed sections are reported, not decompressed.

import { BtfParseError, quoteGot } from './errors.ts';
import { parseBtfRaw, type RawBtf, type RawBtfOptions } from './raw-blob.ts';

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfFile {
  bits: 32 | 64;
  endianness: 'little' | 'big';
  machine: number;
  sections: ElfSection[];
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_* (1 = OBJECT, 2 = FUNC, 3 = SECTION) */
  type: number;
  /** STB_* (0 = LOCAL, 1 = GLOBAL, 2 = WEAK) */
  bind: number;
  sectionIndex: number;
}

/** Where the compiler put each variable of a data section (symbol values = offsets in the section). */
export interface ElfSectionLayout {
  size: number;
  vars: { name: string; offset: number; size: number }[];
}
export type ElfDataLayout = Record<string, ElfSectionLayout>;

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHF_COMPRESSED = 0x800;
const STT_OBJECT = 1;
export const EM_BPF = 247;

export function isElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

class ElfReader {
  readonly dv: DataView;
  readonly le: boolean;
  readonly is64: boolean;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string | undefined,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length === 0) this.fail(0, 'an ELF object', 'an empty file (0 bytes)');
    if (!isElfMagic(bytes)) this.fail(0, 'ELF magic 7f 45 4c 46', 'other bytes');
    if (bytes.length < 52) this.fail(0, 'an ELF header (52+ bytes)', `${bytes.length} bytes`);
    const cls = bytes[4];
    const data = bytes[5];
    if (cls !== 1 && cls !== 2) this.fail(4, 'ELF class 1 (32-bit) or 2 (64-bit)', `class ${cls}`);
    if (data !== 1 && data !== 2) this.fail(5, 'ELF data encoding 1 (LE) or 2 (BE)', `encoding ${data}`);
    this.is64 = cls === 2;
    this.le = data === 1;
    if (this.is64 && bytes.length < 64) this.fail(0, 'an ELF64 header (64 bytes)', `${bytes.length} bytes`);
  }

  fail(offset: number, expected: string, got: string): never {
    const info: ConstructorParameters<typeof BtfParseError>[0] = { offset, expected, got };
    if (this.file !== undefined) info.file = this.file;
    throw new BtfParseError(info);
  }

  u8(at: number): number {
    return this.dv.getUint8(at);
  }
  u16(at: number): number {
    return this.dv.getUint16(at, this.le);
  }
  u32(at: number): number {
    return this.dv.getUint32(at, this.le);
  }
  /** Address-sized field (u32 or u64) as a safe number. */
  addr(at: number): number {
    if (!this.is64) return this.u32(at);
    const v = this.dv.getBigUint64(at, this.le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(at, 'a file offset/size below 2^53', v.toString());
    return Number(v);
  }

  checkRange(at: number, len: number, what: string): void {
    if (at < 0 || len < 0 || at + len > this.bytes.length) {
      this.fail(at, `${what} inside the file (${this.bytes.length} bytes)`, `[${at}, ${at + len})`);
    }
  }
}

function readSections(r: ElfReader): ElfFile {
  const shoff = r.addr(r.is64 ? 0x28 : 0x20);
  const shentsize = r.u16(r.is64 ? 0x3a : 0x2e);
  let shnum = r.u16(r.is64 ? 0x3c : 0x30);
  let shstrndx = r.u16(r.is64 ? 0x3e : 0x32);
  const machine = r.u16(0x12);
  const minEnt = r.is64 ? 64 : 40;
  if (shoff === 0) r.fail(r.is64 ? 0x28 : 0x20, 'a section header table (e_shoff != 0)', 'e_shoff=0');
  if (shentsize < minEnt) r.fail(r.is64 ? 0x3a : 0x2e, `e_shentsize >= ${minEnt}`, String(shentsize));
  r.checkRange(shoff, shentsize, 'the first section header');
  const raw = (i: number) => {
    const at = shoff + i * shentsize;
    r.checkRange(at, shentsize, `section header #${i}`);
    if (r.is64) {
      return {
        name: r.u32(at),
        type: r.u32(at + 4),
        flags: Number(r.dv.getBigUint64(at + 8, r.le) & 0xffffffffn),
        offset: r.addr(at + 24),
        size: r.addr(at + 32),
        link: r.u32(at + 40),
        info: r.u32(at + 44),
        entsize: r.addr(at + 56),
      };
    }
    return {
      name: r.u32(at),
      type: r.u32(at + 4),
      flags: r.u32(at + 8),
      offset: r.u32(at + 16),
      size: r.u32(at + 20),
      link: r.u32(at + 24),
      info: r.u32(at + 28),
      entsize: r.u32(at + 36),
    };
  };
  const first = raw(0);
  if (shnum === 0) shnum = first.size; // extended numbering
  if (shstrndx === 0xffff) shstrndx = first.link; // SHN_XINDEX
  if (shnum > 65536 * 16) r.fail(shoff, 'a plausible section count', String(shnum));
  r.checkRange(shoff, shnum * shentsize, `the section header table (${shnum} entries)`);
  const headers = Array.from({ length: shnum }, (_, i) => raw(i));
  const strHdr = headers[shstrndx];
  if (strHdr === undefined) return r.fail(r.is64 ? 0x3e : 0x32, `a section-name table index below ${shnum}`, String(shstrndx));
  r.checkRange(strHdr.offset, strHdr.size, 'the section-name string table');
  const decoder = new TextDecoder();
  const strAt = (tableOff: number, tableSize: number, off: number): string => {
    if (off >= tableSize) return '';
    const start = tableOff + off;
    let end = r.bytes.indexOf(0, start);
    if (end === -1 || end > tableOff + tableSize) end = tableOff + tableSize;
    return decoder.decode(r.bytes.subarray(start, end));
  };
  const sections: ElfSection[] = headers.map((h, index) => ({
    index,
    name: strAt(strHdr.offset, strHdr.size, h.name),
    type: h.type,
    flags: h.flags,
    offset: h.offset,
    size: h.size,
    link: h.link,
    info: h.info,
    entsize: h.entsize,
  }));
  return { bits: r.is64 ? 64 : 32, endianness: r.le ? 'little' : 'big', machine, sections };
}

/** Parse the ELF header and section table. */
export function readElf(bytes: Uint8Array, file?: string): ElfFile {
  return readSections(new ElfReader(bytes, file));
}

/** Contents of one section (empty for SHT_NOBITS). */
export function sectionBytes(bytes: Uint8Array, section: ElfSection, file?: string): Uint8Array {
  if (section.type === SHT_NOBITS) return new Uint8Array(0);
  const r = new ElfReader(bytes, file);
  r.checkRange(section.offset, section.size, `section ${section.name}`);
  return bytes.subarray(section.offset, section.offset + section.size);
}

/** The raw `.BTF` section of an ELF object; throws a clear error when absent or compressed. */
export function findBtfSection(bytes: Uint8Array, file?: string): Uint8Array {
  const elf = readElf(bytes, file);
  const sec = elf.sections.find((s) => s.name === '.BTF');
  if (sec === undefined) {
    const info: ConstructorParameters<typeof BtfParseError>[0] = {
      expected: 'a .BTF section in the ELF object (compile with clang -g -target bpf)',
      got: sectionList(elf.sections.map((s) => s.name).filter((n) => n !== '')),
    };
    if (file !== undefined) info.file = file;
    throw new BtfParseError(info);
  }
  if ((sec.flags & SHF_COMPRESSED) !== 0) {
    const info: ConstructorParameters<typeof BtfParseError>[0] = {
      offset: sec.offset,
      expected: 'an uncompressed .BTF section',
      got: 'SHF_COMPRESSED (decompress with objcopy --decompress-debug-sections)',
    };
    if (file !== undefined) info.file = file;
    throw new BtfParseError(info);
  }
  return sectionBytes(bytes, sec, file);
}

/** All symbols of the (first) SHT_SYMTAB. */
export function readSymbols(bytes: Uint8Array, elf: ElfFile, file?: string): ElfSymbol[] {
  const r = new ElfReader(bytes, file);
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab === undefined) return [];
  const strtab = elf.sections[symtab.link];
  if (strtab === undefined) return [];
  r.checkRange(symtab.offset, symtab.size, 'the symbol table');
  r.checkRange(strtab.offset, strtab.size, 'the symbol string table');
  const ent = symtab.entsize || (r.is64 ? 24 : 16);
  if (ent < (r.is64 ? 24 : 16)) r.fail(symtab.offset, 'a symbol entry size of 24 (ELF64) / 16 (ELF32)', String(ent));
  const count = Math.floor(symtab.size / ent);
  const decoder = new TextDecoder();
  const out: ElfSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const at = symtab.offset + i * ent;
    const nameOff = r.u32(at);
    let info: number, shndx: number, value: number, size: number;
    if (r.is64) {
      info = r.u8(at + 4);
      shndx = r.u16(at + 6);
      value = r.addr(at + 8);
      size = r.addr(at + 16);
    } else {
      value = r.u32(at + 4);
      size = r.u32(at + 8);
      info = r.u8(at + 12);
      shndx = r.u16(at + 14);
    }
    let name = '';
    if (nameOff < strtab.size) {
      const start = strtab.offset + nameOff;
      let end = bytes.indexOf(0, start);
      if (end === -1 || end > strtab.offset + strtab.size) end = strtab.offset + strtab.size;
      name = decoder.decode(bytes.subarray(start, end));
    }
    out.push({ name, value, size, type: info & 0xf, bind: info >> 4, sectionIndex: shndx });
  }
  return out;
}

/**
 * Offsets of data objects per section, from the symbol table (what libbpf uses to fill
 * DATASEC var offsets and sizes when it loads an unlinked object).
 */
export function elfDataLayout(bytes: Uint8Array, elf: ElfFile, file?: string): ElfDataLayout {
  const layout: ElfDataLayout = {};
  for (const sym of readSymbols(bytes, elf, file)) {
    if (sym.type !== STT_OBJECT || sym.name === '') continue;
    const sec = elf.sections[sym.sectionIndex];
    if (sec === undefined || sec.name === '') continue;
    let entry = layout[sec.name];
    if (entry === undefined) {
      entry = { size: sec.size, vars: [] };
      layout[sec.name] = entry;
    }
    entry.vars.push({ name: sym.name, offset: sym.value, size: sym.size });
  }
  for (const entry of Object.values(layout)) entry.vars.sort((a, b) => a.offset - b.offset);
  return layout;
}

export interface ElfBtf extends RawBtf {
  elf: ElfFile;
  dataLayout: ElfDataLayout;
}

/** Decode the BTF of an ELF object (.bpf.o) plus the real layout of its data sections. */
export function parseBtfElf(bytes: Uint8Array, opts: RawBtfOptions = {}): ElfBtf {
  const elf = readElf(bytes, opts.file);
  const btfBytes = findBtfSection(bytes, opts.file);
  let raw: RawBtf;
  try {
    raw = parseBtfRaw(btfBytes, opts);
  } catch (e) {
    if (!(e instanceof BtfParseError) || e.offset === undefined) throw e;
    // Report file offsets, not offsets inside the section.
    const info: ConstructorParameters<typeof BtfParseError>[0] = {
      offset: e.offset + (btfBytes.byteOffset - bytes.byteOffset),
      expected: `${e.expected} (in the .BTF section)`,
      got: e.got,
    };
    if (opts.file !== undefined) info.file = opts.file;
    throw new BtfParseError(info);
  }
  return { ...raw, elf, dataLayout: elfDataLayout(bytes, elf, opts.file) };
}

/** Section names for an error message: quoted (a crafted string table holds any bytes), at most 8
 * of 24 characters each, so the message stays one short line. */
function sectionList(names: string[]): string {
  if (names.length === 0) return 'sections (none)';
  const shown = names.slice(0, 8).map((n) => quoteGot(n, 24));
  return `sections ${shown.join(', ')}${names.length > 8 ? `, … (${names.length} in all)` : ''}`;
}
