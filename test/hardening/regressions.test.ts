// What the fuzzer and the hostile inputs found, one test each, on the smallest input that showed it:
// a crafted value that overflowed the stack, values parsed in quadratic time, records emitted out of
// input order (stored logs reordered), stored runs that rebuilt different records, a 300-byte BTF
// describing 16 million special fields, free-text lines held without a byte bound.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MAX_SLOT_NESTING, parseState, parseValue, type RegValue } from '../../src-main/domain/log/reg-state.ts';
import { parseBtfText, summarizeBtf, MAX_FIELDS_PER_OBJECT } from '../../src-main/domain/btf/index.ts';
import { LogParser, MAX_HELD_BYTES } from '../../src-main/domain/log/log-parser.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';
import type { ProgramSummary } from '../../src-main/domain/log/program-state.ts';
import { programOfLine } from '../../src-main/domain/log/program-ranges.ts';
import { FUZZ_SEED, checkStore, expectedLines, parseChunked, type Seeds } from './fuzz-lib.ts';

// ------------------------------------------------------------------------------------ values

/** The recursive reading of values this build replaced (reference for short inputs). */
function referenceValue(raw: string): RegValue {
  const NUM = /^-?(?:\d+|0x[0-9a-fA-F]+)$/;
  if (NUM.test(raw) || (raw.startsWith('P') && NUM.test(raw.slice(1)))) return parseValue(raw);
  if (/^[0-9mrd?ifx]{8}/.test(raw) && !/^[a-z_]+\(/.test(raw)) {
    const v: RegValue = { kind: 'slot', bytes: raw.slice(0, 8), raw };
    if (raw.length > 8) v.spilled = referenceValue(raw.slice(8));
    return v;
  }
  if (!raw.startsWith('inv') && !raw.startsWith('fp')) {
    const partial = /^([0-9mrd?ifx]{1,7})([a-zP].*)$/.exec(raw);
    if (partial && /[?0]/.test(partial[1] as string)) return { kind: 'slot', bytes: partial[1] as string, spilled: referenceValue(partial[2] as string), raw };
  }
  return parseValue(raw); // leaves: unchanged code
}

function depthOf(v: RegValue): number {
  let d = 0;
  for (let c: RegValue | undefined = v; c?.kind === 'slot'; c = c.spilled) d++;
  return d;
}

describe('value parser', () => {
  it('reads values exactly as the recursive version did', () => {
    const piece = fc.constantFrom('0', '?', 'm', 'r', 'd', 'i', 'f', 'x', 'P', 'p', 'a', '_', '(', ')', '-', '0x', 'inv', 'fp', 'scalar', 'ptr_', '=', ',', '1', '\n', '\r');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const raw = parts.join('');
        if (raw.length > 8 * MAX_SLOT_NESTING) return;
        expect(parseValue(raw)).toEqual(referenceValue(raw));
      }),
      { seed: FUZZ_SEED, numRuns: 5000 },
    );
    for (const raw of ['mmmmmmmm', '????????scalar(id=1)', '0000????ptr_foo(ref_obj_id=3)', '??ptr_x()', 'P0', 'P-1', '0xffffffffffffffff', 'invP-1', 'fp[1]-8']) {
      expect(parseValue(raw), raw).toEqual(referenceValue(raw));
    }
  });

  it('a 1 MB stack-slot value neither overflows the stack nor takes quadratic time', () => {
    for (const unit of ['????????', 'mmmmmmmm', '0000000?', '?m', 'x(', 'mmmmmmmm(']) {
      const raw = unit.repeat((1 << 20) / unit.length);
      const start = performance.now();
      const v = parseValue(raw);
      expect(performance.now() - start, unit).toBeLessThan(1000);
      expect(v.raw).toBe(raw);
      expect(depthOf(v)).toBeLessThanOrEqual(MAX_SLOT_NESTING);
      // Nothing lost: the nested texts still spell the value.
      let text = '';
      let c: RegValue | undefined = v;
      while (c?.kind === 'slot') {
        text += c.bytes;
        c = c.spilled;
      }
      expect(text + (c?.raw ?? '')).toBe(raw);
      // A state holding it: JSON (the store) works.
      expect(() => JSON.stringify(parseState(`R1=ctx() fp-8=${raw}`))).not.toThrow();
    }
  });

  it('a 1 MB hex constant is kept as text, not converted for seconds', () => {
    const raw = `0x${'f'.repeat(1 << 20)}`;
    const start = performance.now();
    const v = parseValue(raw);
    expect(performance.now() - start).toBeLessThan(200);
    expect(v).toEqual({ kind: 'unparsed', raw });
    // 64-bit values still become exact decimals.
    expect(parseValue('0xffffffffffffffff')).toMatchObject({ kind: 'const', value: '18446744073709551615' });
    expect(parseValue('scalar(smax=0xffffffffffffffff)')).toMatchObject({ kind: 'typed' });
  });

  it('deeply nested parentheses in a state (1M levels) parse without recursion', () => {
    const deep = `R1=ptr_x(${'('.repeat(1_000_000)}id=1${')'.repeat(1_000_000)}) R10=fp0`;
    const start = performance.now();
    const s = parseState(deep);
    expect(performance.now() - start).toBeLessThan(2000);
    expect(s.regs.map((r) => r.reg)).toEqual([1, 10]);
  });
});

// ------------------------------------------------------------------------------- log parser

function parseLines(lines: string[]): { records: LogRecord[]; programs: ProgramSummary[] } {
  const text = lines.join('\n') + '\n';
  return parseChunked(Buffer.from(text), [text.length]);
}

describe('log parser', () => {
  it('keeps records in input order when a loader line follows held free text', () => {
    // Found by fuzzing: a stray END marker opened a program whose free line was held, then libbpf
    // lines were emitted first — the store wrote the log's bytes in the wrong order.
    const lines = [
      '0: R1=ctx() R10=fp0',
      '0: (b7) r0 = 0                       ; R0_w=0',
      '1: (95) exit',
      'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
      '-- END PROG LOAD LOG --',
      'libbpf: loading leak.bpf.o',
      "libbpf: failed to load object 'leak.bpf.o'",
    ];
    const { records, programs } = parseLines(lines);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(records.map((r) => r.text)).toEqual(lines);
    // Each program is one contiguous range of lines.
    for (const p of programs) {
      const mine = records.filter((r) => r.program === p.index).map((r) => r.line);
      if (mine.length > 0) expect(mine).toEqual(Array.from({ length: p.lastLine - p.firstLine + 1 }, (_, i) => p.firstLine + i));
    }
  });

  it('a stored run answers like a fresh parse: cilium TAB-led lines, glued END markers, bpftool lines in other shapes', () => {
    const cases: string[][] = [
      ['field Fuzz: program fuzz: load program: permission denied:', '\t0: R1=ctx() R10=fp0', '\t      0: .1........ (79) r1 = *(u64 *)(r1 +0)', '\tUnreleased reference id=2 alloc_insn=5'],
      ["libbpf: prog 'fuzz': -- BEGIN PROG LOAD LOG --", '0: R1=ctx() R10=fp0', '     24: .1....678. (85) call bpf_task_release#65899-- END PROG LOAD LOG --'],
      ["libbpf: prog 'fuzz': -- BEGIN PROG LOAD LOG --", '0: R1=ctx() R10=fp0', 'Unreleased reference id=2 alloc_insn=5-- END LOG ---- END PROG LOAD LOG --'],
      ['0: R1=ctx() R10=fp0', '\tR1 must be referenced or trusted', 'processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0'],
      // Found by the long run: bpftool lines glued to an END marker, or shaped like cilium's header.
      ["libbpf: prog 'fuzz': -- BEGIN PROG LOAD LOG --", '0: R1=ctx() R10=fp0', '-- END PROG LOAD LOG --', 'Error: failed to-- END PROG LOAD LOG --', 'Error: load program: permission denied:', 'Error: x: load program: invalid argument: R1 !read_ok'],
    ];
    for (const lines of cases) {
      // checkStore throws a FuzzFailure naming the first line that differs.
      const bytes = Buffer.from(lines.join('\n') + '\n');
      expect(() => checkStore({ seed: 0, mutations: [], chunks: [7] }, { logs: [{ name: 'case', bytes }] } as unknown as Seeds), lines.join(' | ')).not.toThrow();
    }
  });

  it('releases held free text by bytes as well as by count', () => {
    // 64 free lines of 1 MB inside a program: without the byte bound all would wait in memory.
    const records: LogRecord[] = [];
    const parser = new LogParser({ record: (r) => records.push(r), program: () => {} });
    const big = 'x'.repeat(1 << 20);
    parser.push({ no: 1, text: '0: R1=ctx() R10=fp0', raw: Buffer.from('0: R1=ctx() R10=fp0\n'), crlf: false, unterminated: false });
    let maxPending = 0;
    for (let i = 0; i < 64; i++) {
      parser.push({ no: i + 2, text: big, raw: Buffer.from(`${big}\n`), crlf: false, unterminated: false });
      maxPending = Math.max(maxPending, i + 2 - records.length);
    }
    parser.finish();
    expect(records).toHaveLength(65);
    expect(maxPending * (1 << 20)).toBeLessThanOrEqual(MAX_HELD_BYTES + (2 << 20));
  });

  it('counts every line of a log with NUL bytes, invalid UTF-8 and CR in the middle of lines', () => {
    const bytes = Buffer.concat([
      Buffer.from('0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\0\0\0\n'),
      Buffer.from([0xff, 0xfe, 0x80, 0x0a, 0xc0, 0xaf, 0x0d, 0x41, 0x0d, 0x0a, 0xe2, 0x80]),
    ]);
    const got = parseChunked(bytes, [1, 3]);
    expect(got.records.map((r) => r.text)).toEqual(expectedLines(bytes));
    expect(got.records).toHaveLength(5);
  });
});

// -------------------------------------------------------------------------------------- store

describe('program of a line', () => {
  it('binary search gives the linear answer, and 10k programs × 200k lines take milliseconds', () => {
    const progs: ProgramSummary[] = [];
    let line = 1;
    for (let i = 0; i < 10_000; i++) {
      const gap = i % 3;
      const n = 1 + (i % 19);
      progs.push({ index: i, firstLine: line + gap, lastLine: line + gap + n - 1, lines: n } as ProgramSummary);
      line += gap + n;
    }
    const linear = (l: number) => progs.find((p) => p.lines > 0 && l >= p.firstLine && l <= p.lastLine)?.index ?? -1;
    for (let l = 0; l < line + 2; l += 7) expect(programOfLine(progs, l)).toBe(linear(l));
    const start = performance.now();
    for (let l = 0; l < 200_000; l++) programOfLine(progs, l);
    expect(performance.now() - start).toBeLessThan(500);
  });
});

// ---------------------------------------------------------------------------------------- BTF

describe('BTF summary', () => {
  it('a 300-byte BTF nesting arrays of locks 8 levels deep is summarised with a warning, not 256^8 fields', () => {
    let t = "[1] STRUCT 'bpf_spin_lock' size=4 vlen=1\n\t'val' type_id=2 bits_offset=0\n[2] INT 'unsigned int' size=4 bits_offset=0 nr_bits=32 encoding=(none)\n";
    let prev = 1;
    for (let l = 0, id = 3; l < 8; l++, id += 2) {
      t += `[${id}] ARRAY '(anon)' type_id=${prev} index_type_id=2 nr_elems=256\n[${id + 1}] STRUCT 's${l}' size=1024 vlen=1\n\t'a' type_id=${id} bits_offset=0\n`;
      prev = id + 1;
    }
    const start = performance.now();
    const summary = summarizeBtf(parseBtfText(t, { file: 'bomb.btf.txt' }));
    expect(performance.now() - start).toBeLessThan(2000);
    for (const s of summary.structs) expect(s.fields.length).toBeLessThanOrEqual(MAX_FIELDS_PER_OBJECT);
    expect(summary.warnings.some((w) => /only the first \d+ are listed/.test(w))).toBe(true);
    expect(JSON.stringify(summary).length).toBeLessThan(50 << 20);
  });
});
