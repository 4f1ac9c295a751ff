/**
 * Every committed fixture log (bpftool and raw L1/L2/L4/L7) replayed with its program BTF:
 * model verdict and failing insn equal the kernel's, zero divergences, and for rejected programs the
 * expected finding (class, object, last holders, path). Plus "the model judges on its own": the
 * same with the kernel's error and stats lines removed. Truncated captures must not throw.
 */
import { describe, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS_618, expectedVerdict, programOf } from '../helpers/fixtures.ts';
import { fixtureBtf, replayFile, withoutVerdictLines } from './helpers.ts';
import type { Finding, FindingKind } from '../../src-main/domain/model/types.ts';

interface Expect {
  kind: FindingKind;
  insn: number;
  /** [type, allocInsn, refId] of the finding's objects. */
  objects: [string, number, number | undefined][];
  lastHolders?: string[];
  path?: number[];
  mentions?: string[];
}

/** From the sources' expect: lines and the README's table. */
const EXPECT: Record<string, Expect> = {
  leak_obj: { kind: 'leak', insn: 15, objects: [['pkt_sample', 5, 2]], lastHolders: ['R0'], path: [0], mentions: ['bpf_obj_drop'] },
  leak_task: { kind: 'leak', insn: 12, objects: [['task_struct', 2, 2]], lastHolders: ['R0'], path: [0, 11], mentions: ['bpf_task_release', 'path 0→11'] },
  subprog_leak: { kind: 'leak', insn: 2, objects: [['task_struct', 3, 2]], lastHolders: ['frame1.R0'], path: [0, 12] },
  double_drop: { kind: 'double-release', insn: 19, objects: [['job', 4, 2]], mentions: ['insn 15'] },
  use_after_unlock: { kind: 'use-after-invalidate', insn: 30, objects: [['timer_rec', 23, undefined]], mentions: ['bpf_spin_unlock at insn 27'] },
  push_without_lock: { kind: 'lock-not-held', insn: 14, objects: [['ev', 4, 2]], mentions: ['p_lock', '.data.p:p_head'] },
  wrong_kptr_type: { kind: 'kptr-type-mismatch', insn: 15, objects: [['task_struct', 11, 2]], mentions: ['cgroup'] },
  exit_while_locked: { kind: 'exit-while-locked', insn: 26, objects: [], mentions: ['map counters[value].lock'] },
  xchg_not_kptr: { kind: 'not-a-kptr-field', insn: 16, objects: [['task_struct', 11, 2]], mentions: ['__kptr_untrusted'] },
  release_unowned: { kind: 'release-unowned', insn: 3, objects: [], mentions: ['trusted_ptr_task_struct'] },
  drop_node_offset: { kind: 'nonzero-offset-release', insn: 30, objects: [['drain_req', 22, 4]], mentions: ['8 bytes'] },
  nested_rcu: { kind: 'context-violation', insn: 1, objects: [], mentions: ['nested rcu read lock', '6.19'] },
  leak_two: { kind: 'leak', insn: 27, objects: [['flow_key', 5, 2], ['flow_val', 11, 4]], path: [0, 17], mentions: ['flow_key', 'flow_val'] },
  // The kernel refused the object's BTF: why it then rejects is outside the ownership model.
  own_cycle: { kind: 'outside-model', insn: 4, objects: [], mentions: ['requires prog BTF'] },
  write_after_push: { kind: 'use-after-invalidate', insn: 21, objects: [['hit_node', 4, 2]], lastHolders: ['.data.samples:samples_head'], path: [0], mentions: ['R7', 'bpf_spin_unlock at insn 19'] },
};

function checkFinding(f: Finding | null, e: Expect): void {
  expect(f).not.toBeNull();
  if (!f) return;
  expect(f.kind).toBe(e.kind);
  expect(f.insn).toBe(e.insn);
  expect(f.objects.map((o) => [o.type, o.allocInsn, o.refId])).toEqual(e.objects);
  if (e.lastHolders) expect(f.objects[0]?.lastHolders).toEqual(e.lastHolders);
  if (e.path) expect(f.path).toEqual(e.path);
  for (const m of e.mentions ?? []) expect(f.explanation).toContain(m);
}

const all = readdirSync(LOGS_618).filter((f) => f.endsWith('.log'));
const complete = all.filter((f) => !/\.(rotated|fixed-trunc)\.log$/.test(f)).sort();
const truncated = all.filter((f) => /\.(rotated|fixed-trunc)\.log$/.test(f)).sort();

describe('fixtures: model vs kernel', () => {
  test.each(complete)('%s', async (file) => {
    const prog = programOf(file);
    const runs = await replayFile(join(LOGS_618, file), fixtureBtf(prog));
    expect(runs.length).toBeGreaterThan(0);
    for (const { summary, result } of runs) {
      expect(summary.verdict).toBe(expectedVerdict(prog));
      expect(result.verdict).toBe(summary.verdict);
      expect(result.divergences).toEqual([]);
      if (file.endsWith('.L4.log')) {
        // Level 4 holds no instructions: nothing to replay, so a rejection is outside the model.
        if (summary.verdict === 'rejected') {
          expect(result.finding?.kind).toBe('outside-model');
          expect(result.finding?.kernelText).toBe(summary.error);
        }
        continue;
      }
      expect(result.failInsn).toBe(summary.failInsn);
      const e = EXPECT[prog];
      if (summary.verdict === 'rejected') {
        expect(e).toBeDefined();
        if (e) checkFinding(result.finding, e);
      } else {
        expect(result.finding).toBeNull();
        expect(result.findings).toEqual([]);
      }
      if (!file.endsWith('.L1.log') || summary.verdict === 'rejected') expect(result.steps.length).toBeGreaterThan(0);
    }
  });
});

describe('the model judges on its own (error and stats lines removed)', () => {
  const rejected = complete.filter((f) => expectedVerdict(programOf(f)) === 'rejected' && !f.endsWith('.L4.log') && EXPECT[programOf(f)]?.kind !== 'outside-model');
  test.each(rejected)('%s', async (file) => {
    const prog = programOf(file);
    const runs = await replayFile(join(LOGS_618, file), fixtureBtf(prog), { filter: withoutVerdictLines });
    for (const { summary, result } of runs) {
      expect(result.kernelError).toBeNull();
      expect(result.verdict).toBe('rejected');
      expect(result.failInsn).toBe(summary.failInsn);
      expect(result.divergences).toEqual([]);
      const e = EXPECT[prog];
      if (e) checkFinding(result.finding, e);
    }
  });
});

describe('truncated captures are replayed without throwing', () => {
  test.each(truncated)('%s', async (file) => {
    const runs = await replayFile(join(LOGS_618, file), fixtureBtf(programOf(file)));
    for (const { result } of runs) {
      expect(['accepted', 'rejected']).toContain(result.verdict);
      // The model never invents an ownership error from a log whose head is missing.
      if (result.finding) expect(result.finding.kind).toBe('outside-model');
    }
  });
});
