import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { BtfParseError, BtfStreamParser, parseBtfBytes, type LoadedBtf } from '../../src-main/domain/btf/index.ts';
import { loadBtfFile } from '../../src-main/app/read-files.ts';
import { capturedPrograms, fixturePath, readFixtureBytes } from './fixtures.ts';

/** The comparable part of a LoadedBtf (the raw string table is a Buffer in one path, a Uint8Array in the other). */
function view(l: LoadedBtf): Omit<LoadedBtf, 'raw'> {
  const { raw: _raw, ...rest } = l;
  return rest;
}

function streamed(bytes: Uint8Array, size: number, file = 'x'): Omit<LoadedBtf, 'raw'> {
  const p = new BtfStreamParser(file);
  for (let i = 0; i < bytes.length; i += size) p.push(bytes.subarray(i, i + size));
  return view(p.finish());
}

describe('BtfStreamParser — tiny chunks give the same result as one-shot parsing', () => {
  for (const name of capturedPrograms()) {
    it(`${name}: text, JSON, raw and ELF in 64-byte chunks`, () => {
      for (const ext of ['.btf.txt', '.btf.json', '.btf', '.bpf.o']) {
        const bytes = readFixtureBytes(name + ext);
        const once = view(parseBtfBytes(bytes, name + ext));
        expect(streamed(bytes, 64, name + ext)).toEqual(once);
      }
    });
  }

  it('1-byte chunks, including UTF-8 and CRLF text', () => {
    const text = readFixtureBytes('task_fifo.btf.txt');
    expect(streamed(text, 1)).toEqual(view(parseBtfBytes(text, 'x')));
    const crlf = new TextEncoder().encode(new TextDecoder().decode(text).replace(/\n/g, '\r\n'));
    expect(streamed(crlf, 3).btf).toEqual(parseBtfBytes(text, 'x').btf);
    const raw = readFixtureBytes('leak_obj.btf');
    expect(streamed(raw, 1)).toEqual(view(parseBtfBytes(raw, 'x')));
  });

  it('reports a bad line in a large text dump with its line number while streaming', async () => {
    const lines = new TextDecoder().decode(readFixtureBytes('task_fifo.btf.txt')).split('\n');
    lines[299] = 'not a btf line';
    const bytes = new TextEncoder().encode(lines.join('\n'));
    const p = new BtfStreamParser('big.btf.txt');
    let err: unknown;
    try {
      for (let i = 0; i < bytes.length; i += 64) p.push(bytes.subarray(i, i + 64));
      p.finish();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BtfParseError);
    expect((err as Error).message).toMatch(/^big\.btf\.txt:300: expected .*, got "not a btf line"$/);
  });

  it('loadBtfFile streams the file and agrees with parseBtfBytes', async () => {
    const path = fixturePath('multi_ok.btf.txt');
    expect(view(await loadBtfFile(path))).toEqual(view(parseBtfBytes(readFileSync(path), path)));
  });
});
