import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfParseError, parseBtfBytes, parseBtfText, sniffBtfFormat } from '../../src-main/domain/btf/index.ts';
import { loadBtfFile } from '../../src-main/app/read-files.ts';
import { BtfBlobBuilder, KIND_NUM, btfText, encodeBtf } from './helpers/btf-writer.ts';
import { fixturePath, readFixtureBytes, readFixtureText } from './fixtures.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kptrscope-btf-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function loadError(path: string): Promise<Error> {
  try {
    await loadBtfFile(path);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadBtfFile to fail');
}

describe('loadBtfFile — format sniffing', () => {
  it('loads all four forms of a capture to the same Btf', async () => {
    const text = await loadBtfFile(fixturePath('local_kptr_stash.btf.txt'));
    const json = await loadBtfFile(fixturePath('local_kptr_stash.btf.json'));
    const raw = await loadBtfFile(fixturePath('local_kptr_stash.btf'));
    const elf = await loadBtfFile(fixturePath('local_kptr_stash.bpf.o'));
    expect([text.format, json.format, raw.format, elf.format]).toEqual(['bpftool-text', 'bpftool-json', 'btf-raw', 'elf']);
    expect(json.btf).toEqual(text.btf);
    expect(raw.btf).toEqual(text.btf);
    expect(elf.btf).toEqual(text.btf);
    expect(elf.dataLayout?.['.data.spawn']?.vars.map((v) => v.name)).toEqual(['spawn_lock', 'spawn_list']);
    expect(text.dataLayout).toBeUndefined();
    expect(raw.raw?.btf).toBe(raw.btf);
  });

  it('loads a text dump given alone (task_fifo.btf.txt)', async () => {
    const l = await loadBtfFile(fixturePath('task_fifo.btf.txt'));
    expect(l.format).toBe('bpftool-text');
    expect(l.btf.types.length).toBe(428); // void + [1]..[427]
  });

  it('sniffs CRLF text, BOM JSON and leading whitespace', () => {
    const enc = new TextEncoder();
    expect(sniffBtfFormat(enc.encode("[1] PTR '(anon)' type_id=0\r\n"))).toBe('bpftool-text');
    expect(sniffBtfFormat(enc.encode('\uFEFF  {"types":[]}'))).toBe('bpftool-json');
    expect(sniffBtfFormat(enc.encode('func#0 @0\n0: R1=ctx() R10=fp0\n'))).toBeUndefined();
  });

  it('split BTF: a raw module blob over a raw base, and a text dump over a text base', async () => {
    const baseModel = parseBtfText(btfText("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"));
    const basePath = join(dir, 'base.btf');
    writeFileSync(basePath, encodeBtf(baseModel));
    const base = await loadBtfFile(basePath);
    const b = new BtfBlobBuilder('little', base.raw?.strings.totalLength ?? 0);
    b.record(b.str('modvar'), KIND_NUM.VAR as number, 0, false, 1, [1]);
    const modPath = join(dir, 'mod.btf');
    writeFileSync(modPath, b.build());
    const mod = await loadBtfFile(modPath, { base });
    expect(mod.btf.startId).toBe(2);
    expect(mod.btf.types[2]).toEqual({ id: 2, kind: 'VAR', name: 'modvar', typeId: 1, linkage: 'global' });

    const textBase = parseBtfBytes(new TextEncoder().encode(btfText("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED")), 'base.txt');
    const modText = parseBtfBytes(new TextEncoder().encode(btfText("[2] VAR 'modvar' type_id=1, linkage=global")), 'mod.txt', { base: textBase });
    expect(modText.btf).toEqual(mod.btf);
    expect(() => parseBtfBytes(b.build(), 'mod.btf', { base: textBase })).toThrow(
      'mod.btf: expected a binary base BTF for a binary split BTF (string offsets continue from the base), got a bpftool-text base (base.txt)',
    );
  });
});

describe('loadBtfFile — errors name the file', () => {
  it('0-byte file', async () => {
    const p = join(dir, 'empty.btf');
    writeFileSync(p, new Uint8Array(0));
    const e = await loadError(p);
    expect(e).toBeInstanceOf(BtfParseError);
    expect(e.message).toBe(`${p}: expected BTF data (bpftool text/JSON, raw .BTF or an ELF .bpf.o), got an empty BTF file (0 bytes)`);
  });

  it('a verifier log given as BTF', async () => {
    const e = await loadError(fixturePath('list_push_pop.L2.log'));
    expect(e.message).toBe(
      `${fixturePath('list_push_pop.L2.log')}: expected BTF: an ELF .bpf.o, a raw BTF blob (magic 0xEB9F), bpftool JSON ({"types":...}) or bpftool raw text ([1] KIND ...), got what looks like a verifier log ("func#0 @0")`,
    );
    const bpftoolLog = await loadError(fixturePath('leak_obj.bpftool.log'));
    expect(bpftoolLog.message).toContain('got what looks like a verifier log');
  });

  it('random bytes', async () => {
    const p = join(dir, 'random.bin');
    let seed = 7;
    writeFileSync(p, Uint8Array.from({ length: 300 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff));
    const e = await loadError(p);
    expect(e.message).toMatch(/^.*random\.bin: expected BTF: .*, got binary data starting [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}$/);
  });

  it('a BTF text dump with a broken line names file and line', async () => {
    const p = join(dir, 'broken.btf.txt');
    const lines = readFixtureText('leak_obj.btf.txt').split('\n');
    lines[4] = 'garbage here';
    writeFileSync(p, lines.join('\n'));
    const e = await loadError(p);
    expect(e.message).toBe(`${p}:5: expected 32 more member lines "\\t'name' type_id=N bits_offset=N" for [2] (declared on line 2), got "garbage here"`);
  });

  it('a truncated raw blob names the file', async () => {
    const p = join(dir, 'trunc.btf');
    const full = readFixtureBytes('leak_obj.btf');
    writeFileSync(p, full.subarray(0, full.length - 50));
    const e = await loadError(p);
    expect(e.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte 0x10: expected a string section inside the \\d+ data bytes, got str_off=\\d+ str_len=\\d+$`));
  });

  it('a missing file', async () => {
    const p = join(dir, 'nope.btf');
    const e = await loadError(p);
    expect(e.message).toMatch(/nope\.btf: cannot read BTF file: ENOENT/);
  });
});
