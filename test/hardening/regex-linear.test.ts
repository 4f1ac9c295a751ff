// Regexes that read whole lines must not backtrack quadratically: a crafted 1 MB line used to take
// minutes (cilium `program X: ` repeated; a veristat log followed by a long line of dashes). The
// rewritten matchers must give exactly the results of the original one-regex forms (kept here as
// the reference) and stay fast on long lines.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { matchCiliumHeader, matchCiliumSummary, matchVeristatTable } from '../../src-main/domain/log/wrappers.ts';
import { FUZZ_SEED } from './fuzz-lib.ts';

// The original forms (quadratic on hostile input, fine on short strings).
const REF_HEADER = /^(?:.*?program (\S+): )?(?:.*?)load program: ([^:]+):$/;
const REF_SUMMARY =
  /^(?:.*?program (\S+): )?(?:.*?)load program: ([a-z][a-z ]*[a-z]): (.+?)(?: \(((?:truncated)?(?:, )?(?:(\d+) line\(s\) omitted)?)\))?$/;
const REF_DASHES = /^-{4,}[\s-]*$/;

function refTable(text: string): boolean {
  return (
    /^File\s+Program\s+Verdict\b/.test(text) ||
    REF_DASHES.test(text) ||
    /^Done\. Processed \d+ files?, \d+ programs?\./.test(text) ||
    /^\S+\.o\s+\S+\s+(?:success|failure)\s+\d+/.test(text)
  );
}

function refHeader(text: string) {
  const m = REF_HEADER.exec(text);
  if (!m) return null;
  return { errnoText: m[2], ...(m[1] !== undefined ? { prog: m[1] } : {}) };
}
function refSummary(text: string) {
  const m = REF_SUMMARY.exec(text);
  if (!m) return null;
  return {
    errnoText: m[2],
    message: m[3],
    truncated: (m[4] ?? '').includes('truncated'),
    ...(m[1] !== undefined ? { prog: m[1] } : {}),
    ...(m[5] !== undefined ? { omitted: Number(m[5]) } : {}),
  };
}

/** Lines built from the pieces these grammars care about, in any order. */
const TOKENS = [
  'program ',
  'prog_a',
  'x',
  ': ',
  ':',
  ' ',
  'load program: ',
  'permission denied',
  'invalid argument',
  ' (truncated)',
  ' (truncated, 3 line(s) omitted)',
  ' (12 line(s) omitted)',
  '(',
  ')',
  '\r',
  '\u2028',
  'field Foo: ',
  'R1 invalid mem access',
  '-',
  '----',
  '\t',
  '  ',
  'File  Program  Verdict',
  'a.o prog success 12',
];
const line = fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((a) => a.join(''));
const realLines = [
  'field LeakObj: program leak_obj: load program: permission denied:',
  'field LeakObj: program leak_obj: load program: permission denied: Unreleased reference id=2 alloc_insn=5: BPF_EXIT instruction in main prog would lead to reference leak (truncated, 14 line(s) omitted)',
  'load program: invalid argument: R1 invalid mem access (5 line(s) omitted)',
  '-------------------------------------------',
];

describe('linear-time wrapper matchers', () => {
  it('give exactly the results of the original regexes', () => {
    for (const t of realLines) {
      expect(matchCiliumHeader(t), t).toEqual(refHeader(t));
      expect(matchCiliumSummary(t), t).toEqual(refSummary(t));
    }
    fc.assert(
      fc.property(line, (t) => {
        expect(matchCiliumHeader(t)).toEqual(refHeader(t));
        expect(matchCiliumSummary(t)).toEqual(refSummary(t));
        expect(matchVeristatTable(t)).toBe(refTable(t));
      }),
      { seed: FUZZ_SEED, numRuns: 3000 },
    );
  });

  it('stay fast on 4 MB hostile lines', () => {
    const M = 4 << 20;
    const hostile = [
      'program a: '.repeat(M / 11),
      'program a: '.repeat(M / 11) + 'load program: x',
      'load program: '.repeat(M / 14),
      'load program: ab: '.repeat(M / 18) + ' (',
      '-'.repeat(M) + 'x',
      'a.o '.repeat(M / 4),
    ];
    for (const t of hostile) {
      const start = performance.now();
      matchCiliumHeader(t);
      matchCiliumSummary(t);
      matchVeristatTable(t);
      expect(performance.now() - start, t.slice(0, 30)).toBeLessThan(1000);
    }
  });
});
