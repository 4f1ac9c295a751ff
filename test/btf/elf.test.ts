import { describe, it, expect } from 'vitest';
import {
  BtfParseError,
  findBtfSection,
  parseBtfElf,
  parseBtfText,
  readElf,
  summarizeBtf,
} from '../../src-main/domain/btf/index.ts';
import { buildElf, encodeBtf } from './helpers/btf-writer.ts';
import { capturedPrograms, readFixtureBytes, readFixtureText } from './fixtures.ts';

function errorOf(fn: () => unknown): BtfParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BtfParseError);
    return e as BtfParseError;
  }
  throw new Error('expected a BtfParseError');
}

const stash = parseBtfText(readFixtureText('task_fifo.btf.txt'));

describe('ELF .BTF — captured objects', () => {
  for (const name of capturedPrograms()) {
    it(`${name}.bpf.o: .BTF == ${name}.btf.txt and == the dumped .btf section`, () => {
      const bytes = readFixtureBytes(`${name}.bpf.o`);
      const e = parseBtfElf(bytes, { file: `${name}.bpf.o` });
      expect(e.elf).toMatchObject({ bits: 64, endianness: 'little', machine: 247 });
      expect(e.btf).toEqual(parseBtfText(readFixtureText(`${name}.btf.txt`)));
      expect(Array.from(findBtfSection(bytes))).toEqual(Array.from(readFixtureBytes(`${name}.btf`)));
    });
  }

  it('reads the real layout of data sections from the symbol table', () => {
    const e = parseBtfElf(readFixtureBytes('push_without_lock.bpf.o'));
    // The verifier log says "bpf_spin_lock at off=16 must be held for bpf_list_head" and vs=20.
    expect(e.dataLayout['.data.p']).toEqual({
      size: 20,
      vars: [
        { name: 'p_head', offset: 0, size: 16 },
        { name: 'p_lock', offset: 16, size: 4 },
      ],
    });
    expect(e.dataLayout.license).toEqual({ size: 4, vars: [{ name: 'LICENSE', offset: 0, size: 4 }] });
  });
});

describe('ELF .BTF — synthetic objects', () => {
  for (const bits of [32, 64] as const) {
    for (const endianness of ['little', 'big'] as const) {
      it(`ELF${bits} ${endianness}-endian with a ${endianness}-endian .BTF and symbols`, () => {
        const elf = buildElf({
          bits,
          endianness,
          sections: [
            { name: '.text', data: new Uint8Array(8) },
            { name: '.data.fifo', data: new Uint8Array(24) },
            { name: '.BTF', data: encodeBtf(stash, { endianness }) },
          ],
          // The symbols of task_fifo.bpf.o (readelf -s): fifo_head at 8 (16 bytes), fifo_guard at 0 (4 bytes).
          symbols: [
            { name: 'fifo_head', section: '.data.fifo', value: 8, size: 16 },
            { name: 'fifo_guard', section: '.data.fifo', value: 0, size: 4 },
            { name: 'queue_new_task', section: '.text', value: 0, size: 8, type: 2 },
          ],
        });
        const e = parseBtfElf(elf, { file: 'syn.o' });
        expect(e.elf.bits).toBe(bits);
        expect(e.elf.endianness).toBe(endianness);
        expect(e.endianness).toBe(endianness);
        expect(e.btf).toEqual(stash);
        expect(e.dataLayout).toEqual({
          '.data.fifo': {
            size: 24,
            vars: [
              { name: 'fifo_guard', offset: 0, size: 4 },
              { name: 'fifo_head', offset: 8, size: 16 },
            ],
          },
        });
        const s = summarizeBtf(e.btf, { dataLayout: e.dataLayout });
        const data = s.globals.find((g) => g.name === '.data.fifo');
        expect(data?.layoutSource).toBe('elf');
        expect(data?.vars.map((v) => [v.name, v.layoutOffset])).toEqual([
          ['fifo_guard', 0],
          ['fifo_head', 8],
        ]);
      });
    }
  }
});

describe('ELF .BTF — malformed objects', () => {
  it('no .BTF section, crafted section names (control bytes, 24k characters, many): still one short line', () => {
    // Found by `npm run fuzz` (seed 20261125, case 96325): the names were copied into the message raw.
    const names = ['\u0002\u00ff', 'ELF\u0002\u0001\u0001', '('.repeat(24_000), ...Array.from({ length: 20 }, (_, i) => `.s${i}\n`)];
    const elf = buildElf({ bits: 64, endianness: 'little', sections: names.map((name) => ({ name, data: new Uint8Array(4) })) });
    const msg = errorOf(() => parseBtfElf(elf, { file: 'crafted.o' })).message;
    expect([...msg].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(msg.length).toBeLessThan(400);
    expect(msg).toMatch(/^crafted\.o: expected a \.BTF section in the ELF object \(compile with clang -g -target bpf\), got sections "\\u0002ÿ", "ELF\\u0002\\u0001\\u0001", "\({24}…", /);
    expect(msg).toMatch(/, … \(24 in all\)$/);
  });

  it('no .BTF section', () => {
    const elf = buildElf({ bits: 64, endianness: 'little', sections: [{ name: '.text', data: new Uint8Array(8) }] });
    expect(errorOf(() => parseBtfElf(elf, { file: 'nobtf.o' })).message).toBe(
      'nobtf.o: expected a .BTF section in the ELF object (compile with clang -g -target bpf), got sections ".text", ".shstrtab"',
    );
  });

  it('a compressed .BTF section', () => {
    const elf = buildElf({ bits: 64, endianness: 'little', sections: [{ name: '.BTF', flags: 0x800, data: encodeBtf(stash) }] });
    expect(errorOf(() => parseBtfElf(elf, { file: 'z.o' })).message).toMatch(
      /^z\.o: byte 0x[0-9a-f]+: expected an uncompressed \.BTF section, got SHF_COMPRESSED/,
    );
  });

  it('a truncated object and section data past the end of the file', () => {
    const real = readFixtureBytes('leak_obj.bpf.o');
    expect(errorOf(() => readElf(real.slice(0, 40), 'cut.o')).message).toBe('cut.o: byte 0x0: expected an ELF header (52+ bytes), got 40 bytes');
    expect(errorOf(() => readElf(real.slice(0, real.length - 100), 'cut.o')).message).toMatch(
      /^cut\.o: byte 0x[0-9a-f]+: expected (section header #\d+|the section header table \(\d+ entries\)) inside the file \(\d+ bytes\), got \[\d+, \d+\)$/,
    );
    const elf = buildElf({ bits: 64, endianness: 'little', sections: [{ name: '.BTF', data: encodeBtf(stash) }] });
    // Point .BTF's sh_size far beyond the file.
    const dv = new DataView(elf.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setBigUint64(shoff + 64 + 32, 1n << 40n, true);
    expect(errorOf(() => parseBtfElf(elf, { file: 'big.o' })).message).toMatch(
      /^big\.o: byte 0x[0-9a-f]+: expected section \.BTF inside the file \(\d+ bytes\), got \[\d+, \d+\)$/,
    );
  });

  it('a corrupt .BTF inside an ELF reports the file offset', () => {
    const btf = encodeBtf(stash);
    btf[0] = 0;
    const elf = buildElf({ bits: 64, endianness: 'little', sections: [{ name: '.BTF', data: btf }] });
    expect(errorOf(() => parseBtfElf(elf, { file: 'bad.o' })).message).toBe(
      'bad.o: byte 0x40: expected BTF magic 0xEB9F (bytes 9f eb or eb 9f) (in the .BTF section), got bytes 00 eb 01 00',
    );
  });

  it('not an ELF at all', () => {
    expect(errorOf(() => readElf(new TextEncoder().encode('hello world, this is not an ELF file at all....'), 'h.o')).message).toBe(
      'h.o: byte 0x0: expected ELF magic 7f 45 4c 46, got other bytes',
    );
    expect(errorOf(() => readElf(new Uint8Array(0), 'e.o')).message).toBe('e.o: byte 0x0: expected an ELF object, got an empty file (0 bytes)');
  });
});
