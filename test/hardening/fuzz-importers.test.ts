// CI sample of the mutation fuzzing (the long run is `npm run fuzz`): every importer over mutated
// real captures. Properties: nothing throws (BTF: only a one-line BtfParseError), each input within
// CASE_TIME_BOUND_MS, every line reported once with its exact text and the same result at any
// chunking, a stored run answers like a fresh parse and keeps the bytes. A failure prints the
// shrunk input; re-run it with KPTRSCOPE_FUZZ_SEED and the seed fast-check reports.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { FUZZ_SEED, TARGETS, loadSeeds, timedProperty } from './fuzz-lib.ts';

const runs = (n: number) => ({ seed: FUZZ_SEED, numRuns: n });

describe('fuzzing the importers (CI sample)', () => {
  loadSeeds();
  it('log parser: no line lost, same records at any chunking (1500 mutated captures)', () => {
    fc.assert(timedProperty(TARGETS.log), runs(1500));
  });
  it('state parser: every value kept, same with a value cache (600 mutated states)', () => {
    fc.assert(timedProperty(TARGETS.state), runs(600));
  });
  it('value parser: raw text kept, nested slots add up (1500 mutated values)', () => {
    fc.assert(timedProperty(TARGETS.value), runs(1500));
  });
  it('BTF parsers (text, JSON, raw blob, ELF): a Btf or a one-line BtfParseError, streamed == one-shot (1000)', () => {
    fc.assert(timedProperty(TARGETS.btf), runs(1000));
  });
  it('store: a stored run keeps the bytes and answers like a fresh parse (600)', () => {
    fc.assert(timedProperty(TARGETS.store), runs(600));
  });
});
