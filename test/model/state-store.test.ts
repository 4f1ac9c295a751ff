/** Property: the state rebuilt from any checkpoint equals the state replayed from the start. */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';
import { fixtureBtf, layoutFor } from './helpers.ts';
import { replayProgram } from '../../src-main/domain/model/replay.ts';
import { decodeState, rebuildFlat, replayFlat } from '../../src-main/domain/model/step-store.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';

const PROGS = ['local_kptr_stash', 'rbtree_add_remove', 'subprog_ok', 'list_push_pop', 'use_after_unlock', 'refcount_acquire'];

describe('step store', async () => {
  const inputs = new Map<string, LogRecord[]>();
  for (const p of PROGS) {
    const file = join(LOGS_618, `${p}.bpftool.log`);
    const { records, programs } = await parseFile(file);
    inputs.set(p, records.filter((r) => r.program === programs[0]?.index));
  }

  test('rebuild from the nearest checkpoint == replay of every delta == every-step checkpoints', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROGS), fc.integer({ min: 2, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (p, interval, where) => {
        const recs = inputs.get(p) as LogRecord[];
        const btf = layoutFor(fixtureBtf(p));
        const ctx = btf ? { btf } : {};
        const sparse = replayProgram(recs, { ...ctx, checkpointInterval: interval });
        const dense = replayProgram(recs, { ...ctx, checkpointInterval: 1 });
        const n = sparse.steps.length;
        expect(n).toBe(dense.steps.length);
        const i = Math.min(n - 1, Math.floor(where * n));
        const a = rebuildFlat(sparse.stateStore, i);
        expect([...a].sort()).toEqual([...replayFlat(sparse.stateStore, i)].sort());
        expect([...a].sort()).toEqual([...rebuildFlat(dense.stateStore, i)].sort());
        expect(sparse.stateAt(i)).toEqual(decodeState(a));
      }),
      { numRuns: 60 },
    );
  });

  test('memory: one checkpoint per interval', () => {
    const r = replayProgram(inputs.get('local_kptr_stash') as LogRecord[], { checkpointInterval: 16 });
    expect(r.stateStore.checkpoints.length).toBe(Math.ceil(r.steps.length / 16));
    expect(r.stateStore.deltas.length).toBe(r.steps.length);
  });
});
