/** Kernel profiles: the recorded 6.18 paths re-judged under older kernels' rules. */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { fixtureBtf, replayFile } from './helpers.ts';
import { featureMessage, profileFor, supports } from '../../src-main/domain/model/kernel-profiles.ts';

async function judge(prog: string, profile: string) {
  const runs = await replayFile(join(LOGS_618, `${prog}.bpftool.log`), fixtureBtf(prog), { kernelProfile: profile });
  return runs[0]!.result;
}

describe('kernel profiles', () => {
  test('feature table', () => {
    expect(supports(profileFor('6.6'), 'local_kptr_dest')).toBe(false);
    expect(supports(profileFor('6.12'), 'local_kptr_dest')).toBe(true);
    expect(featureMessage('local_kptr_dest')).toBe('bpf_kptr_xchg into a local kptr needs Linux ≥ 6.12');
    expect(profileFor('6.18').locksInRefs).toBe(true);
    expect(profileFor('6.12').locksInRefs).toBe(false);
  });

  test('local_kptr_stash under 6.6: rejected at the bpf_kptr_xchg into the local kptr', async () => {
    const r = await judge('local_kptr_stash', '6.6');
    expect(r.kernelProfile).toBe('6.6');
    expect(r.verdict).toBe('rejected');
    expect(r.failInsn).toBe(21);
    expect(r.finding?.kind).toBe('feature-unavailable');
    expect(r.finding?.feature).toBe('local_kptr_dest');
    expect(r.finding?.explanation).toContain('bpf_kptr_xchg into a local kptr needs Linux ≥ 6.12');
  });

  test.each(['6.12', '6.18'])('local_kptr_stash under %s: accepted', async (p) => {
    const r = await judge('local_kptr_stash', p);
    expect(r.verdict).toBe('accepted');
    expect(r.divergences).toEqual([]);
  });

  test.each([
    ['local_in_map', '6.3', 'local_kptr_in_map', 22],
    ['refcount_acquire', '6.3', 'refcount', 12],
    ['rbtree_add_remove', '6.2', 'rbtree', 23],
    ['list_push_pop', '6.1', 'obj_new', 5],
  ] as const)('%s under %s needs %s (insn %i)', async (prog, p, feature, insn) => {
    const r = await judge(prog, p);
    expect(r.verdict).toBe('rejected');
    expect(r.finding?.feature).toBe(feature);
    expect(r.failInsn).toBe(insn);
  });

  test.each([
    ['local_in_map', '6.4'],
    ['refcount_acquire', '6.4'],
    ['rbtree_add_remove', '6.3'],
    ['map_kptr_stash', '6.2'],
  ])('%s accepted under %s', async (prog, p) => {
    expect((await judge(prog, p)).verdict).toBe('accepted');
  });
});
