import { describe, it, expect } from 'vitest';
import {
  BtfParseError,
  BtfTextParser,
  getType,
  looksLikeBtfText,
  parseBtfText,
  type Btf,
} from '../../src-main/domain/btf/index.ts';
import { btfText } from './helpers/btf-writer.ts';
import { capturedPrograms, readFixtureText } from './fixtures.ts';

// Our two walkthrough programs (test/fixtures/progs): a task stashed in a listed local object, and a
// write through a list node after the unlock.
const stashText = readFixtureText('task_fifo.btf.txt');
const uapText = readFixtureText('write_after_push.btf.txt');

function parseInChunks(text: string, size: number): Btf {
  const p = new BtfTextParser();
  for (let i = 0; i < text.length; i += size) p.pushChunk(text.slice(i, i + size));
  return p.finish();
}

function errorOf(fn: () => unknown): BtfParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BtfParseError);
    return e as BtfParseError;
  }
  throw new Error('expected a BtfParseError');
}

describe('bpftool raw text parser — task_fifo and write_after_push', () => {
  it('parses task_fifo: counts and specific types', () => {
    const btf = parseBtfText(stashText);
    expect(btf.startId).toBe(1);
    expect(btf.types.length).toBe(428); // void + [1]..[427]
    expect(getType(btf, 0)).toEqual({ id: 0, kind: 'VOID', name: 'void' });
    expect(getType(btf, 1)).toEqual({ id: 1, kind: 'PTR', name: '', typeId: 2 });
    expect(getType(btf, 6)).toEqual({
      id: 6,
      kind: 'STRUCT',
      name: 'waiter',
      size: 32,
      members: [
        { name: 'who', typeId: 7, bitsOffset: 0 },
        { name: 'q', typeId: 8, bitsOffset: 64 },
      ],
    });
    expect(getType(btf, 7)).toEqual({ id: 7, kind: 'PTR', name: '', typeId: 359 });
    expect(getType(btf, 14)).toEqual({ id: 14, kind: 'FUNC', name: 'bpf_obj_new_impl', typeId: 12, linkage: 'extern' });
    expect(getType(btf, 350)).toEqual({ id: 350, kind: 'VAR', name: 'fifo_head', typeId: 342, linkage: 'global' });
    expect(getType(btf, 351)).toEqual({ id: 351, kind: 'DECL_TAG', name: 'contains:waiter:q', typeId: 350, componentIdx: -1 });
    expect(getType(btf, 352)).toEqual({
      id: 352,
      kind: 'DATASEC',
      name: '.data.fifo',
      size: 0,
      vars: [
        { typeId: 349, offset: 0, size: 4 },
        { typeId: 350, offset: 0, size: 16 },
      ],
    });
    expect(getType(btf, 359)).toEqual({ id: 359, kind: 'TYPE_TAG', name: 'kptr', typeId: 17 });
    expect(getType(btf, 356)).toEqual({ id: 356, kind: 'FWD', name: 'rq', fwdKind: 'struct' });
    expect(getType(btf, 4)).toEqual({ id: 4, kind: 'INT', name: 'int', size: 4, bitsOffset: 0, nrBits: 32, encoding: 'SIGNED' });
    const task = getType(btf, 17);
    expect(task?.kind === 'STRUCT' && task.members.length).toBe(248);
    // bitfield members keep their size
    expect(task?.kind === 'STRUCT' && task.members.find((m) => m.name === 'sched_reset_on_fork')).toEqual({
      name: 'sched_reset_on_fork',
      typeId: 22,
      bitsOffset: 9504,
      bitfieldSize: 1,
    });
    expect(getType(btf, 3)).toEqual({ id: 3, kind: 'FUNC_PROTO', name: '', retTypeId: 4, params: [{ name: 'ctx', typeId: 1 }] });
  });

  it('parses write_after_push', () => {
    const btf = parseBtfText(uapText);
    expect(btf.types.length).toBe(44); // void + [1]..[43]
    const kinds = btf.types.map((t) => t.kind);
    // .data.samples, .ksyms, license
    expect(btf.types.filter((t) => t.kind === 'DATASEC').map((t) => t.name)).toEqual(['.data.samples', '.ksyms', 'license']);
    expect(kinds.filter((k) => k === 'DATASEC').length).toBe(3);
    expect(getType(btf, 38)).toMatchObject({ kind: 'DECL_TAG', name: 'contains:hit_node:entry', typeId: 37, componentIdx: -1 });
  });

  it('tolerates CRLF line endings and a missing final newline', () => {
    const crlf = stashText.replace(/\n/g, '\r\n');
    expect(parseBtfText(crlf)).toEqual(parseBtfText(stashText));
    expect(parseBtfText(stashText.trimEnd())).toEqual(parseBtfText(stashText));
  });

  it('gives the same result when fed in 64-byte, 7-byte and 1-byte chunks', () => {
    const whole = parseBtfText(stashText);
    expect(parseInChunks(stashText, 64)).toEqual(whole);
    expect(parseInChunks(stashText, 7)).toEqual(whole);
    expect(parseInChunks(uapText, 1)).toEqual(parseBtfText(uapText));
  });

  it('accepts lines pushed one by one with explicit line numbers', () => {
    const p = new BtfTextParser({ file: 'x.btf.txt' });
    uapText.split('\n').forEach((l, i) => p.pushLine(l, i + 1));
    expect(p.finish()).toEqual(parseBtfText(uapText));
  });
});

describe('bpftool raw text parser — captured fixtures', () => {
  const progs = capturedPrograms();
  it('has captured fixtures to read', () => {
    expect(progs.length).toBeGreaterThan(10);
  });
  for (const name of progs) {
    it(`${name}: parses, ids are dense, 64-byte chunks agree`, () => {
      const text = readFixtureText(`${name}.btf.txt`);
      const btf = parseBtfText(text, { file: `${name}.btf.txt` });
      const headerLines = text.split('\n').filter((l) => l.startsWith('[')).length;
      expect(btf.types.length).toBe(headerLines + 1);
      btf.types.forEach((t, i) => expect(t.id).toBe(i));
      expect(parseInChunks(text, 64)).toEqual(btf);
    });
  }
});

describe('bpftool raw text parser — errors', () => {
  it('names file, line, expectation and the offending text for a bad header', () => {
    const e = errorOf(() => parseBtfText(btfText("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", 'xyz'), { file: 'a.btf.txt' }));
    expect(e.message).toBe(`a.btf.txt:2: expected a BTF type header "[N] KIND 'name' ...", got "xyz"`);
    expect(e.file).toBe('a.btf.txt');
    expect(e.line).toBe(2);
  });

  it('rejects a malformed kind suffix', () => {
    const e = errorOf(() => parseBtfText(btfText("[1] PTR '(anon)' type=2")));
    expect(e.message).toBe(`line 1: expected "[N] PTR 'name' type_id=N", got "[1] PTR '(anon)' type=2"`);
  });

  it('rejects an unknown kind', () => {
    const e = errorOf(() => parseBtfText(btfText("[1] BOGUS 'x' size=4")));
    expect(e.message).toBe(`line 1: expected a known BTF kind (INT, PTR, STRUCT, ...), got "[1] BOGUS 'x' size=4"`);
  });

  it('rejects missing member lines (next header too early, or end of input)', () => {
    const two = btfText("[1] STRUCT 's' size=8 vlen=2", "\t'a' type_id=2 bits_offset=0", "[2] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED");
    expect(errorOf(() => parseBtfText(two)).message).toBe(
      `line 3: expected 1 more member line "\\t'name' type_id=N bits_offset=N" for [1] (declared on line 1), got "[2] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED"`,
    );
    const eof = btfText("[1] ENUM 'e' encoding=UNSIGNED size=4 vlen=1");
    expect(errorOf(() => parseBtfText(eof)).message).toBe(
      `line 1: expected 1 more enum value line "\\t'name' val=N" for [1] (declared on line 1), got <end of input>`,
    );
  });

  it('rejects a continuation line with no owner and a malformed member line', () => {
    expect(errorOf(() => parseBtfText(btfText("\t'a' type_id=2 bits_offset=0"))).message).toBe(
      `line 1: expected a BTF type header "[N] KIND 'name' ..." (a tab-indented line before any type has no owner), got "\\t'a' type_id=2 bits_offset=0"`,
    );
    expect(errorOf(() => parseBtfText(btfText("[1] STRUCT 's' size=8 vlen=1", "\t'a' type_id=x"))).message).toBe(
      `line 2: expected a member line "\\t'name' type_id=N bits_offset=N" for [1], got "\\t'a' type_id=x"`,
    );
  });

  it('requires dense ids starting at 1 (hinting at split BTF)', () => {
    expect(errorOf(() => parseBtfText(btfText("[5] PTR '(anon)' type_id=0"))).message).toBe(
      `line 1: expected type id [1] (a split BTF dump needs its base BTF), got "[5] PTR '(anon)' type_id=0"`,
    );
    expect(errorOf(() => parseBtfText(btfText("[1] PTR '(anon)' type_id=0", "[3] PTR '(anon)' type_id=0"))).message).toBe(
      `line 2: expected type id [2], got "[3] PTR '(anon)' type_id=0"`,
    );
  });

  it('rejects empty input and a verifier log', () => {
    expect(errorOf(() => parseBtfText('', { file: 'e.txt' })).message).toBe(
      `e.txt:1: expected a BTF type header "[N] KIND 'name' ...", got <empty input>`,
    );
    const log = readFixtureText('list_push_pop.L2.log');
    expect(errorOf(() => parseBtfText(log, { file: 'list_push_pop.L2.log' })).message).toBe(
      `list_push_pop.L2.log:1: expected a BTF type header "[N] KIND 'name' ...", got "func#0 @0"`,
    );
  });

  it('parses a split dump given its base', () => {
    const base = parseBtfText(btfText("[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED", "[2] PTR '(anon)' type_id=1"));
    const split = parseBtfText(btfText("[3] STRUCT 'm' size=8 vlen=1", "\t'p' type_id=2 bits_offset=0"), { base });
    expect(split.startId).toBe(3);
    expect(split.types.length).toBe(4);
    expect(getType(split, 1)?.name).toBe('int');
    expect(getType(split, 3)).toMatchObject({ kind: 'STRUCT', name: 'm' });
  });

  it('parses every kind, including ENUM64 beyond 2^53 and signed values', () => {
    const btf = parseBtfText(
      btfText(
        "[1] ENUM64 'big' encoding=UNSIGNED size=8 vlen=2",
        "\t'MAX' val=18446744073709551615ULL",
        "\t'ONE' val=1ULL",
        "[2] ENUM64 '(anon)' encoding=SIGNED size=8 vlen=1",
        "\t'MIN' val=-9223372036854775808LL",
        "[3] ENUM 'e' encoding=SIGNED size=4 vlen=1",
        "\t'NEG' val=-5",
        "[4] FLOAT 'double' size=8",
        "[5] UNION 'u' size=4 vlen=0",
        "[6] RESTRICT '(anon)' type_id=4",
        "[7] VOLATILE '(anon)' type_id=4",
        "[8] CONST '(anon)' type_id=4",
        "[9] TYPEDEF 't' type_id=4",
        "[10] ARRAY '(anon)' type_id=4 index_type_id=4 nr_elems=3",
        "[11] FWD 'f' fwd_kind=union",
        "[12] UNKNOWN '(anon)'",
        "[13] FUNC 'old' type_id=0",
        "[14] VAR 'v' type_id=4, linkage=static",
      ),
    );
    expect(getType(btf, 1)).toEqual({
      id: 1,
      kind: 'ENUM64',
      name: 'big',
      size: 8,
      signed: false,
      values: [
        { name: 'MAX', value: '18446744073709551615' },
        { name: 'ONE', value: '1' },
      ],
    });
    expect(getType(btf, 2)).toMatchObject({ signed: true, values: [{ name: 'MIN', value: '-9223372036854775808' }] });
    expect(getType(btf, 3)).toMatchObject({ kind: 'ENUM', signed: true, values: [{ name: 'NEG', value: -5 }] });
    expect(getType(btf, 11)).toEqual({ id: 11, kind: 'FWD', name: 'f', fwdKind: 'union' });
    expect(getType(btf, 12)).toEqual({ id: 12, kind: 'UNKNOWN', name: '' });
    expect(getType(btf, 13)).toMatchObject({ kind: 'FUNC', linkage: 'static' });
  });
});

describe('looksLikeBtfText', () => {
  it('accepts bpftool dumps, even with a truncated last sample line', () => {
    expect(looksLikeBtfText(stashText.split('\n').slice(0, 30))).toBe(true);
    const sample = stashText.slice(0, 700).split('\n');
    expect(looksLikeBtfText(sample)).toBe(true);
    expect(looksLikeBtfText(stashText.replace(/\n/g, '\r\n').split('\n').slice(0, 10))).toBe(true);
  });

  it('rejects verifier logs, JSON dumps, C dumps and empty samples', () => {
    for (const log of ['list_push_pop.L2.log', 'leak_obj.L1.log', 'use_after_unlock.L7.log']) {
      expect(looksLikeBtfText(readFixtureText(log).split('\n').slice(0, 40))).toBe(false);
    }
    expect(looksLikeBtfText(readFixtureText('leak_obj.btf.json').split('\n').slice(0, 20))).toBe(false);
    expect(looksLikeBtfText(['#ifndef __VMLINUX_H__', '#define __VMLINUX_H__'])).toBe(false);
    expect(looksLikeBtfText([])).toBe(false);
    expect(looksLikeBtfText(['', '  '])).toBe(false);
  });
});
