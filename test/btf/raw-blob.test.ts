import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import {
  BtfParseError,
  formatTypeName,
  getType,
  parseBtfRaw,
  parseBtfText,
  skipModifiers,
  summarizeBtf,
  typeAlign,
  typeSize,
} from '../../src-main/domain/btf/index.ts';
import { BtfBlobBuilder, KIND_NUM, btfText, encodeBtf } from './helpers/btf-writer.ts';
import { VMLINUX, capturedPrograms, readFixtureBytes, readFixtureText } from './fixtures.ts';

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

describe('raw BTF blob — same Btf as the text parser', () => {
  for (const name of capturedPrograms()) {
    it(`${name}.btf == ${name}.btf.txt`, () => {
      const raw = parseBtfRaw(readFixtureBytes(`${name}.btf`), { file: `${name}.btf` });
      expect(raw.btf).toEqual(parseBtfText(readFixtureText(`${name}.btf.txt`)));
      expect(raw.endianness).toBe('little');
      expect(raw.header).toMatchObject({ magic: 0xeb9f, version: 1, hdrLen: 24 });
      expect(raw.warnings).toEqual([]);
    });
  }

  it('round-trips a model through the writer, little- and big-endian, with a longer header', () => {
    for (const endianness of ['little', 'big'] as const) {
      for (const hdrLen of [24, 32]) {
        const blob = encodeBtf(stash, { endianness, hdrLen });
        const raw = parseBtfRaw(blob);
        expect(raw.endianness).toBe(endianness);
        expect(raw.header.hdrLen).toBe(hdrLen);
        expect(raw.btf).toEqual(stash);
      }
    }
  });

  it('handles every kind including signed ENUM/ENUM64 and bitfields', () => {
    const model = parseBtfText(
      btfText(
        "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
        "[2] INT '_Bool' size=1 bits_offset=0 nr_bits=8 encoding=BOOL",
        "[3] ENUM 'e' encoding=SIGNED size=4 vlen=2",
        "\t'NEG' val=-2147483648",
        "\t'POS' val=2147483647",
        "[4] ENUM 'u' encoding=UNSIGNED size=4 vlen=1",
        "\t'HI' val=4294967295",
        "[5] ENUM64 'e64' encoding=SIGNED size=8 vlen=2",
        "\t'MIN' val=-9223372036854775808LL",
        "\t'M1' val=-1LL",
        "[6] ENUM64 'u64' encoding=UNSIGNED size=8 vlen=1",
        "\t'MAX' val=18446744073709551615ULL",
        "[7] STRUCT 'bits' size=4 vlen=2",
        "\t'a' type_id=1 bits_offset=0 bitfield_size=3",
        "\t'b' type_id=1 bits_offset=3 bitfield_size=29",
        "[8] UNION 'un' size=4 vlen=1",
        "\t'x' type_id=1 bits_offset=0",
        "[9] FWD 'fu' fwd_kind=union",
        "[10] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2",
        "\t'p' type_id=1",
        "\t'(anon)' type_id=0",
        "[11] FUNC 'f' type_id=10 linkage=global",
        "[12] VAR 'v' type_id=1, linkage=extern",
        "[13] DATASEC '.bss' size=4 vlen=1",
        '\ttype_id=12 offset=0 size=4',
        "[14] FLOAT 'double' size=8",
        "[15] DECL_TAG 'tag' type_id=7 component_idx=1",
        "[16] TYPE_TAG 'user' type_id=1",
        "[17] RESTRICT '(anon)' type_id=16",
        "[18] ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=4",
      ),
    );
    for (const endianness of ['little', 'big'] as const) {
      expect(parseBtfRaw(encodeBtf(model, { endianness })).btf).toEqual(model);
    }
  });
});

describe('raw BTF blob — split BTF', () => {
  it('continues ids and string offsets after the base', () => {
    const baseModel = parseBtfText(btfText("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", "[2] STRUCT 'task_struct' size=8 vlen=1", "\t'pid' type_id=1 bits_offset=0"));
    const base = parseBtfRaw(encodeBtf(baseModel));
    const b = new BtfBlobBuilder('little', base.strings.totalLength);
    const pidOff = base.strings.bytes.indexOf(0x70); // 'p' of "pid" inside the base string table
    b.record(b.str('mod_obj'), KIND_NUM.STRUCT as number, 2, false, 16, [pidOff, 1, 0, b.str('task'), 4, 64]);
    b.record(0, KIND_NUM.PTR as number, 0, false, 2);
    const split = parseBtfRaw(b.build(), { base, file: 'mod.btf' });
    expect(split.btf.startId).toBe(3);
    expect(split.btf.types.length).toBe(5);
    expect(getType(split.btf, 3)).toEqual({
      id: 3,
      kind: 'STRUCT',
      name: 'mod_obj',
      size: 16,
      members: [
        { name: 'pid', typeId: 1, bitsOffset: 0 },
        { name: 'task', typeId: 4, bitsOffset: 64 },
      ],
    });
    expect(formatTypeName(split.btf, 4)).toBe('struct task_struct *');
    // The same text dump parsed with the base gives the same model.
    const splitText = btfText("[3] STRUCT 'mod_obj' size=16 vlen=2", "\t'pid' type_id=1 bits_offset=0", "\t'task' type_id=4 bits_offset=64", "[4] PTR '(anon)' type_id=2");
    expect(parseBtfText(splitText, { base: baseModel })).toEqual(split.btf);
    // Without its base the split blob is rejected with a hint.
    expect(errorOf(() => parseBtfRaw(b.build(), { file: 'mod.btf' })).message).toBe(
      'mod.btf: byte 0x48: expected a string section starting with a NUL byte (offset 0 = ""; split BTF needs its base), got byte 0x6d',
    );
  });
});

describe('raw BTF blob — malformed input', () => {
  it('0-byte file', () => {
    expect(errorOf(() => parseBtfRaw(new Uint8Array(0), { file: 'x.btf' })).message).toBe(
      'x.btf: byte 0x0: expected BTF data, got an empty BTF file (0 bytes)',
    );
  });

  it('random bytes and a verifier log', () => {
    let seed = 42;
    const rnd = Uint8Array.from({ length: 512 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 0xff);
    rnd[0] = 0x12;
    rnd[1] = 0x34;
    expect(errorOf(() => parseBtfRaw(rnd, { file: 'r.bin' })).message).toMatch(
      /^r\.bin: byte 0x0: expected BTF magic 0xEB9F \(bytes 9f eb or eb 9f\), got bytes 12 34 [0-9a-f]{2} [0-9a-f]{2}$/,
    );
    const log = new TextEncoder().encode(readFixtureText('leak_obj.L1.log'));
    expect(errorOf(() => parseBtfRaw(log)).message).toBe('byte 0x0: expected BTF magic 0xEB9F (bytes 9f eb or eb 9f), got bytes 30 3a 20 52');
  });

  it('short header, bad version, bad hdr_len', () => {
    const good = encodeBtf(stash);
    expect(errorOf(() => parseBtfRaw(good.slice(0, 10))).message).toBe('byte 0x0: expected a BTF header of at least 24 bytes, got 10 bytes');
    const v2 = new BtfBlobBuilder().record(0, KIND_NUM.PTR as number, 0, false, 0).build({ version: 2 });
    expect(errorOf(() => parseBtfRaw(v2)).message).toBe('byte 0x2: expected BTF version 1, got version 2');
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(4, 16, true);
    expect(errorOf(() => parseBtfRaw(bad)).message).toBe(`byte 0x4: expected hdr_len between 24 and the data size ${bad.length}, got hdr_len=16`);
  });

  it('truncated blob: sections past the end', () => {
    const good = encodeBtf(stash);
    const cut = good.slice(0, good.length - 100);
    expect(errorOf(() => parseBtfRaw(cut, { file: 'cut.btf' })).message).toMatch(
      /^cut\.btf: byte 0x10: expected a string section inside the \d+ data bytes, got str_off=\d+ str_len=\d+$/,
    );
    const cutTypes = good.slice(0, 24 + 40);
    expect(errorOf(() => parseBtfRaw(cutTypes)).message).toMatch(/^byte 0x8: expected a type section inside the 40 data bytes, got type_off=0 type_len=\d+$/);
  });

  it('a type record running past the end of the type section', () => {
    const b = new BtfBlobBuilder();
    const s = b.str('s');
    // STRUCT with vlen=3 but only one member's worth of data.
    b.record(s, KIND_NUM.STRUCT as number, 3, false, 8, [b.str('a'), 0, 0]);
    expect(errorOf(() => parseBtfRaw(b.build(), { file: 't.btf' })).message).toBe(
      't.btf: byte 0x24: expected the 3 members of type [1] (36 bytes) inside the type section (ends at byte 0x30), got only 12 bytes left',
    );
    const h = new BtfBlobBuilder().record(0, KIND_NUM.PTR as number, 0, false, 0).build({ typeLenDelta: -2 });
    expect(errorOf(() => parseBtfRaw(h)).message).toMatch(/expected a type_len that is a multiple of 4, got type_len=10$/);
  });

  it('unknown kind', () => {
    const b = new BtfBlobBuilder().record(0, KIND_NUM.PTR as number, 0, false, 0).record(0, 25, 0, false, 0);
    expect(errorOf(() => parseBtfRaw(b.build())).message).toBe('byte 0x28: expected a known BTF kind (1..19) for type [2], got kind 25 (info=0x19000000)');
  });

  it("out-of-range name offsets become '(invalid)' with a warning", () => {
    const b = new BtfBlobBuilder();
    b.record(0xfffff, KIND_NUM.STRUCT as number, 1, false, 4, [0x12345, 2, 0]);
    b.record(b.str('int'), KIND_NUM.INT as number, 0, false, 4, [(1 << 24) | 32]);
    const raw = parseBtfRaw(b.build());
    expect(getType(raw.btf, 1)).toEqual({ id: 1, kind: 'STRUCT', name: '(invalid)', size: 4, members: [{ name: '(invalid)', typeId: 2, bitsOffset: 0 }] });
    expect(raw.warnings[0]).toBe("type [1]: name offset 1048575 is outside the string section (5 bytes); named '(invalid)'");
    expect(raw.warnings).toHaveLength(2);
  });

  it('a cyclic type chain parses, and no resolver hangs on it', () => {
    const b = new BtfBlobBuilder();
    const P = KIND_NUM.PTR as number;
    b.record(0, P, 0, false, 2); // [1] PTR -> 2
    b.record(0, KIND_NUM.CONST as number, 0, false, 3); // [2] CONST -> 3
    b.record(b.str('loop_t'), KIND_NUM.TYPEDEF as number, 0, false, 2); // [3] TYPEDEF -> 2 (cycle 2<->3)
    b.record(b.str('kptr'), KIND_NUM.TYPE_TAG as number, 0, false, 5); // [4] TYPE_TAG kptr -> 5
    b.record(b.str('self_t'), KIND_NUM.TYPEDEF as number, 0, false, 5); // [5] TYPEDEF -> itself
    b.record(0, P, 0, false, 4); // [6] PTR -> kptr tag -> cycle
    b.record(b.str('holder'), KIND_NUM.STRUCT as number, 3, false, 24, [b.str('a'), 3, 0, b.str('p'), 6, 64, b.str('q'), 1, 128]); // [7]
    b.record(b.str('me'), KIND_NUM.STRUCT as number, 1, false, 8, [b.str('me'), 8, 0]); // [8] contains itself by value
    b.record(b.str('g'), KIND_NUM.VAR as number, 0, false, 7, [1]); // [9] VAR g : holder
    b.record(b.str('.data.c'), KIND_NUM.DATASEC as number, 2, false, 0, [9, 0, 24, 10, 0, 8]); // [10] DATASEC (2nd entry bogus)
    b.record(0, KIND_NUM.CONST as number, 0, false, 12); // [11] CONST -> 12
    b.record(0, KIND_NUM.VOLATILE as number, 0, false, 11); // [12] VOLATILE -> 11 (anonymous cycle)
    const { btf } = parseBtfRaw(b.build());
    expect(skipModifiers(btf, 3).cycle).toBe(true);
    expect(typeSize(btf, 3)).toBeUndefined();
    expect(typeAlign(btf, 3)).toBeUndefined();
    expect(formatTypeName(btf, 1)).toBe('const loop_t *');
    expect(formatTypeName(btf, 11)).toMatch(/^const volatile const .*<cycle>$/);
    expect(skipModifiers(btf, 11)).toEqual({ type: undefined, typeTags: [], cycle: true });
    const s = summarizeBtf(btf);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(s.warnings).toContain("struct holder member 'p': kptr points to type id 5, which is part of a cyclic chain");
    expect(s.warnings).toContain("struct holder member 'a': type chain from [3] does not terminate (cyclic BTF)");
    expect(s.warnings).toContain('struct me contains itself by value (cyclic BTF); its fields are ignored');
    expect(s.warnings).toContain("DATASEC '.data.c': entry type id 10 is not a VAR");
    expect(s.structs.find((x) => x.name === 'holder')?.fields).toEqual([
      { name: 'p', offset: 8, size: 8, kind: 'kptr', typeId: 6, tag: 'kptr', pointee: { id: 5, name: '', kind: 'missing', isForward: false } },
    ]);
  }, 5000);
});

describe.runIf(existsSync(VMLINUX))('raw BTF blob — this machine\'s vmlinux', () => {
  // Speed is the benchmarks' job (npm run bench), not a timed test's.
  it('parses /sys/kernel/btf/vmlinux and finds the tagged kfunc bpf_obj_new_impl', () => {
    const bytes = readFileSync(VMLINUX);
    const raw = parseBtfRaw(bytes, { file: VMLINUX });
    expect(raw.btf.types.length).toBeGreaterThan(10_000);
    expect(raw.warnings).toEqual([]);
    const s = summarizeBtf(raw.btf);
    expect(s.source).toBe('kernel');
    const k = s.kfuncs.find((f) => f.name === 'bpf_obj_new_impl');
    expect(k).toMatchObject({ tagged: true, linkage: 'static', returns: 'void *' });
    expect(k?.tags).toContain('bpf_kfunc');
    expect(k?.params.map((p) => p.name)).toEqual(['local_type_id__k', 'meta__ign']);
    expect(getType(raw.btf, k?.id ?? 0)).toMatchObject({ kind: 'FUNC', name: 'bpf_obj_new_impl' });
    expect(s.kfuncs.length).toBeGreaterThan(50);
    expect(s.structs).toEqual([]);
  });
});
