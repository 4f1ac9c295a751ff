import { describe, it, expect } from 'vitest';
import { BtfJsonParser, BtfParseError, getType, parseBtfJson, parseBtfText } from '../../src-main/domain/btf/index.ts';
import { btfText } from './helpers/btf-writer.ts';
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

describe('bpftool JSON parser — same Btf as the text parser', () => {
  const progs = capturedPrograms();
  it('has captured fixtures to compare', () => {
    expect(progs.length).toBeGreaterThan(10);
  });
  for (const name of progs) {
    it(`${name}: JSON == text, also when fed as bytes in 64-byte and 5-byte chunks`, () => {
      const fromText = parseBtfText(readFixtureText(`${name}.btf.txt`));
      const json = readFixtureText(`${name}.btf.json`);
      expect(parseBtfJson(json)).toEqual(fromText);
      const bytes = readFixtureBytes(`${name}.btf.json`);
      for (const size of [64, 5]) {
        const p = new BtfJsonParser();
        for (let i = 0; i < bytes.length; i += size) p.pushChunk(bytes.subarray(i, i + size));
        expect(p.finish()).toEqual(fromText);
      }
    });
  }

  it('accepts pretty-printed (-p) JSON', () => {
    const compact = readFixtureText('leak_obj.btf.json');
    const pretty = JSON.stringify(JSON.parse(compact), null, 4);
    expect(parseBtfJson(pretty)).toEqual(parseBtfJson(compact));
  });
});

describe('bpftool JSON parser — numbers', () => {
  it('keeps ENUM64 values above 2^53 exact and matches the text form', () => {
    const json = `{"types":[
      {"id":1,"kind":"ENUM64","name":"(anon)","encoding":"UNSIGNED","size":8,"vlen":3,"values":[
        {"name":"MAX","val":18446744073709551615},
        {"name":"ODD","val":9007199254740993},
        {"name":"SMALL","val":7}]},
      {"id":2,"kind":"ENUM64","name":"s","encoding":"SIGNED","size":8,"vlen":1,"values":[
        {"name":"MIN","val":-9223372036854775808}]}
    ]}`;
    const btf = parseBtfJson(json);
    expect(getType(btf, 1)).toMatchObject({
      values: [
        { name: 'MAX', value: '18446744073709551615' },
        { name: 'ODD', value: '9007199254740993' },
        { name: 'SMALL', value: '7' },
      ],
    });
    const text = btfText(
      "[1] ENUM64 '(anon)' encoding=UNSIGNED size=8 vlen=3",
      "\t'MAX' val=18446744073709551615ULL",
      "\t'ODD' val=9007199254740993ULL",
      "\t'SMALL' val=7ULL",
      "[2] ENUM64 's' encoding=SIGNED size=8 vlen=1",
      "\t'MIN' val=-9223372036854775808LL",
    );
    expect(btf).toEqual(parseBtfText(text));
  });

  it("normalises bpftool's sign-extended 32-bit ENUM values", () => {
    // bpftool 7.1 prints an unsigned enum value 0xefffffff as 2^64 - 0x10000001 in JSON.
    const btf = parseBtfJson(
      '{"types":[{"id":1,"kind":"ENUM","name":"e","encoding":"UNSIGNED","size":4,"vlen":2,"values":[{"name":"A","val":18446744073441116159},{"name":"B","val":4026531839}]}]}',
    );
    expect(getType(btf, 1)).toMatchObject({ values: [{ name: 'A', value: 4026531839 }, { name: 'B', value: 4026531839 }] });
  });

  it('decodes escapes and multi-byte characters split across byte chunks', () => {
    const json = '{"types":[{"id":1,"kind":"DECL_TAG","name":"caf\\u00e9:\\"q\\" é","type_id":0,"component_idx":-1}]}';
    const bytes = new TextEncoder().encode(json);
    const p = new BtfJsonParser();
    for (let i = 0; i < bytes.length; i++) p.pushChunk(bytes.subarray(i, i + 1));
    expect(getType(p.finish(), 1)?.name).toBe('café:"q" é');
  });
});

describe('bpftool JSON parser — errors', () => {
  it('reports invalid JSON with file and line', () => {
    const bad = '{"types":[\n{"id":1,"kind":"PTR","name":"(anon)","type_id":0},\n]}';
    expect(errorOf(() => parseBtfJson(bad, { file: 'x.btf.json' })).message).toBe(
      `x.btf.json:3: expected a JSON value, got "]}"`,
    );
    expect(errorOf(() => parseBtfJson('{"types":[', { file: 'x.btf.json' })).message).toBe(
      'x.btf.json:1: expected a JSON value, got <end of input>',
    );
    expect(errorOf(() => parseBtfJson('{"types":[]} trailing')).message).toBe('line 1: expected end of JSON input, got "trailing"');
  });

  it('reports a wrong top-level shape', () => {
    expect(errorOf(() => parseBtfJson('[1,2]', { file: 'x.json' })).message).toBe(
      'x.json: expected a JSON object {"types":[...]} (bpftool -j btf dump), got an array',
    );
    expect(errorOf(() => parseBtfJson('{"maps":[]}', { file: 'x.json' })).message).toBe(
      'x.json:1: expected a "types" array at the top level (bpftool -j btf dump), got nothing (field missing)',
    );
    expect(errorOf(() => parseBtfJson('{"types":[]}')).message).toBe('line 1: expected at least one type in "types", got an empty array');
    expect(errorOf(() => parseBtfJson('  \n', { file: 'e.json' })).message).toBe('e.json:1: expected a JSON BTF dump, got <empty input>');
  });

  it('names the type and field for a bad field', () => {
    const json = '{"types":[\n{"id":1,"kind":"PTR","name":"(anon)","type_id":0},\n{"id":2,"kind":"STRUCT","name":"s","size":"8","vlen":0,"members":[]}\n]}';
    expect(errorOf(() => parseBtfJson(json, { file: 'x.json' })).message).toBe(
      'x.json:3: expected types[1] (id 2): an unsigned integer field "size", got "8"',
    );
    const vlen = '{"types":[{"id":1,"kind":"FUNC_PROTO","name":"(anon)","ret_type_id":0,"vlen":2,"params":[]}]}';
    expect(errorOf(() => parseBtfJson(vlen)).message).toBe('line 1: expected types[0] (id 1): 2 entries in "params" (vlen), got 0');
    const kind = '{"types":[{"id":1,"kind":"WHAT","name":"x"}]}';
    expect(errorOf(() => parseBtfJson(kind)).message).toBe('line 1: expected types[0] (id 1): a known BTF kind in "kind", got "WHAT"');
    const id = '{"types":[{"id":7,"kind":"PTR","name":"(anon)","type_id":0}]}';
    expect(errorOf(() => parseBtfJson(id)).message).toBe(
      'line 1: expected types[0]: id 1 (a split BTF dump needs its base BTF), got 7',
    );
  });

  it('rejects a verifier log given as JSON', () => {
    const log = readFixtureText('leak_obj.L1.log');
    expect(errorOf(() => parseBtfJson(log, { file: 'leak_obj.L1.log' })).message).toBe(
      'leak_obj.L1.log:1: expected end of JSON input, got ": R1=ctx() R10=fp0\\n; int leak_sample(str"',
    );
    expect(errorOf(() => parseBtfJson('func#0 @0\n', { file: 'v.log' })).message).toBe('v.log:1: expected a JSON value, got "func#0 @0\\n"');
  });
});
