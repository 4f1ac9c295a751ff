/**
 * The replay's fast paths give the same results as the plain ones: the incremental step store
 * equals `flatten` at every step, the cached state parser equals the uncached one, branch copies
 * share values copy-on-write without seeing each other's changes, and the stored states can be
 * read at any time while recording.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';
import { replayAll } from '../../src-main/domain/model/replay.ts';
import { StepStore, rebuildFlat, replayFlat } from '../../src-main/domain/model/step-store.ts';
import { cloneState, flatten, initialState, newFrame, type PathState } from '../../src-main/domain/model/path-state.ts';
import { execSimple, nullSplit } from '../../src-main/domain/model/semantics.ts';
import { adoptPlain, fillRefs, type Checker } from '../../src-main/domain/model/crosscheck.ts';
import { constant, type MReg } from '../../src-main/domain/model/regs.ts';
import { newValueCache, parseState, VALUE_CACHE_MAX } from '../../src-main/domain/log/reg-state.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';

const LOGS = join(FIXTURES, 'logs');
/** The walks over every fixture log (tens of MB with the 7.x captures) outlast vitest's default timeout. */
const EVERY_FIXTURE_MS = 600_000;

function fixtureLogs(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(LOGS).sort()) {
    for (const f of readdirSync(join(LOGS, dir)).sort()) if (f.endsWith('.log')) out.push(join(LOGS, dir, f));
  }
  return out;
}

function stateTexts(records: LogRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.kind === 'insn') {
      if (r.suffix !== undefined) out.push(r.suffix);
      if (r.glued && !r.glued.safe) out.push(r.glued.state);
    } else if (r.kind === 'state' || r.kind === 'branch' || r.kind === 'call-state') out.push(r.state);
  }
  return out;
}

afterEach(() => {
  StepStore.selfCheck = false;
});

describe('incremental step store', () => {
  test('equals flatten at every step of every fixture (and deltas rebuild every checkpoint)', async () => {
    StepStore.selfCheck = true; // pushState throws when its tracked flat state differs from flatten
    let steps = 0;
    for (const file of fixtureLogs()) {
      const { records } = await parseFile(file);
      for (const r of replayAll(records, { checkpointInterval: 1 })) {
        const st = r.stateStore;
        expect(st.checkpoints.length).toBe(r.steps.length);
        for (let i = 0; i < r.steps.length; i++) {
          const cp = new Map(st.checkpoints[i]);
          expect(replayFlat(st, i)).toEqual(cp);
          expect(rebuildFlat(st, i)).toEqual(cp);
        }
        steps += r.steps.length;
      }
    }
    expect(steps).toBeGreaterThan(1000);
  }, EVERY_FIXTURE_MS);

  test('stored states read while recording equal the ones read at the end', () => {
    const live = new StepStore(3);
    const late = new StepStore(3);
    const s = initialState();
    const fr = s.frames[0] as ReturnType<typeof newFrame>;
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      fr.regs[i % 4] = i % 5 === 0 ? undefined : constant(String(i % 3));
      if (i % 7 === 0) fr.slots.set(-8 * (i % 2 ? 2 : 1), { bytes: 'mmmmmmmm' });
      if (i % 9 === 0) fr.slots.clear();
      if (i === 11) s.path.push(11);
      const changed = live.pushState(s);
      late.pushState(s);
      expect(typeof changed).toBe('boolean');
      seen.push(JSON.stringify(live.data.deltas[i]));
    }
    expect(JSON.stringify(late.data)).toBe(JSON.stringify(live.data));
    expect(seen).toEqual(late.data.deltas.map((d) => JSON.stringify(d)));
    for (let i = 0; i < 20; i++) expect(rebuildFlat(late.data, i)).toEqual(replayFlat(late.data, i));
    expect([...rebuildFlat(late.data, 19)].sort()).toEqual([...flatten(s)].sort());
  });
});

describe('cached state parser', () => {
  test('equals the uncached parser on every state text of every fixture', async () => {
    const cache = newValueCache();
    let n = 0;
    for (const file of fixtureLogs()) {
      const { records } = await parseFile(file);
      for (const t of stateTexts(records)) {
        expect(parseState(t, cache)).toEqual(parseState(t));
        n++;
      }
    }
    expect(n).toBeGreaterThan(1000);
  }, EVERY_FIXTURE_MS);

  test('stays equal across cache overflow, constants, scalars and odd spellings', () => {
    const cache = newValueCache();
    const texts: string[] = [];
    for (let i = 0; i < VALUE_CACHE_MAX + 50; i++) {
      texts.push(`R2=${i} R3=scalar(id=${i},smin=smin32=-${i}) R4=-${i} fp-8=${i % 2 ? '0000????' : `????scalar(id=${i})`} refs=${i % 5},,${i}`);
    }
    texts.push('R1=scalar(\r) R2=scalar(x', 'R1_w=invP0 R10=fp0 fp-16_w=00000000', 'frame1: R1=ptr_x(non_own_ref,off=24) refs= cb', 'R1=0x1f R2=P-3 R3=007');
    for (const t of [...texts, ...texts]) expect(parseState(t, cache)).toEqual(parseState(t));
  });
});

describe('copy-on-write branch states', () => {
  const ck: Checker = {
    evidence: { refObjIdSpelled: true, since71: false },
    divergence: () => undefined,
    bind: () => true,
    bindType: () => undefined,
    bindOff: () => undefined,
    objByRef: () => undefined,
    snapshotObject: () => 1,
    refOfObj: (obj) => (obj === 1 ? 7 : undefined),
  };

  function withMaybeNull(): { s: PathState; r: MReg } {
    const s = initialState();
    const r: MReg = { k: 'ptr', base: 'ptr', btf: 'node', own: 'own', obj: 1, off: 0, nul: true, ng: 1 };
    const fr = s.frames[0] as ReturnType<typeof newFrame>;
    fr.regs[1] = r;
    fr.regs[10] = { k: 'fp', v: '0', off: 0 };
    execSimple(s, { op: 'mov', dst: 2, src: 1, wide: true, sx: false }); // R2 = R1 (shared value)
    execSimple(s, { op: 'stx', dst: 10, size: 'u64', off: -8, src: 1 }); // fp-8 = R1
    s.refs.push({ id: undefined, kind: 'ptr', obj: 1 });
    return { s, r };
  }

  test('a NULL check changes each branch only', () => {
    const { s, r } = withMaybeNull();
    const before = JSON.stringify(r);
    const taken = cloneState(s);
    const ended = nullSplit(1, taken, s);
    expect(ended).toBe(1);
    const t0 = taken.frames[0] as ReturnType<typeof newFrame>;
    const f0 = s.frames[0] as ReturnType<typeof newFrame>;
    expect([t0.regs[1], t0.regs[2], t0.slots.get(-8)?.spill]).toEqual([constant('0'), constant('0'), constant('0')]);
    for (const v of [f0.regs[1], f0.regs[2], f0.slots.get(-8)?.spill]) {
      expect(v).toMatchObject({ k: 'ptr', own: 'own', obj: 1 });
      expect(v?.nul).toBeUndefined();
    }
    expect(JSON.stringify(r)).toBe(before); // the shared value itself never changes
    expect(taken.refs).toEqual([]);
    expect(s.refs).toHaveLength(1);
  });

  test('learning ref ids, pointer arithmetic and adopted values do not leak into the copy', () => {
    const { s } = withMaybeNull();
    const copy = cloneState(s);
    const flatBefore = flatten(copy);
    fillRefs(s, ck);
    execSimple(s, { op: 'alu', dst: 2, aluOp: '+', imm: '8', wide: true });
    adoptPlain(s, parseState('R3=5 fp-16=mmmmmmmm'));
    const f0 = s.frames[0] as ReturnType<typeof newFrame>;
    expect(f0.regs[1]?.ref).toBe(7);
    expect(f0.regs[2]).toMatchObject({ ref: 7, off: 8 });
    expect(f0.regs[3]).toEqual(constant('5'));
    expect(flatten(copy)).toEqual(flatBefore);
  });
});
