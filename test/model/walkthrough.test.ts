/**
 * The stash walkthrough on our own program task_fifo (test/fixtures/progs/task_fifo.bpf.c, its real
 * 6.18 bpftool capture): a waiter from bpf_obj_new gets an acquired task stashed into its `who`
 * kptr with bpf_kptr_xchg, then is pushed on .data.fifo:fifo_head under fifo_guard. Its companion
 * write_after_push (test/fixtures/progs/write_after_push.bpf.c) writes through the pushed node
 * after the unlock.
 */
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { replayFile } from './helpers.ts';
import type { ReplayResult } from '../../src-main/domain/model/types.ts';

function stepAfter(r: ReplayResult, insn: number, pathIndex?: number): number {
  const i = r.steps.findIndex((s) => s.insn === insn && (pathIndex === undefined || s.pathIndex === pathIndex));
  expect(i).toBeGreaterThanOrEqual(0);
  return i;
}

describe('walkthrough: task_fifo', async () => {
  const [run] = await replayFile(join(LOGS_618, 'task_fifo.bpftool.log'), join(LOGS_618, 'task_fifo.btf.txt'));
  const r = run!.result;
  const byRef = (ref: number) => r.objects.find((o) => o.refId === ref);

  test('accepted, zero divergences', () => {
    expect(run!.summary.verdict).toBe('accepted');
    expect(r.verdict).toBe('accepted');
    expect(r.divergences).toEqual([]);
  });

  test('objects: waiter #2 (bpf_obj_new at 4), task_struct #4 (acquired at 8), #6 (old field content at 16)', () => {
    expect(byRef(2)).toMatchObject({ type: 'waiter', origin: 'bpf_obj_new', allocInsn: 4, local: true });
    expect(byRef(4)).toMatchObject({ type: 'task_struct', origin: 'bpf_task_acquire', allocInsn: 8 });
    expect(byRef(6)).toMatchObject({ type: 'task_struct', origin: 'bpf_kptr_xchg', allocInsn: 16, endKind: 'release', endInsn: 19 });
  });

  test('#4 is stashed into waiter#2.who at 16; #2 goes into .data.fifo:fifo_head at 29; R6 is invalidated at 32', () => {
    const ev = (kind: string, insn: number) => r.events.filter((e) => e.kind === kind && e.insn === insn);
    const stash = ev('stash', 16);
    expect(stash).toHaveLength(1);
    expect(stash[0]).toMatchObject({ object: byRef(4)?.id, to: 'waiter#2.who' });
    expect(stash[0]?.from).toContain('R2');
    expect(ev('unstash', 16)[0]).toMatchObject({ object: byRef(6)?.id, from: 'waiter#2.who', to: 'R0' });
    const push = ev('push', 29)[0];
    expect(push).toMatchObject({ object: byRef(2)?.id, to: '.data.fifo:fifo_head' });
    expect(ev('invalidate', 32)[0]).toMatchObject({ object: byRef(2)?.id, from: 'R6' });
  });

  test('state after 29: R6 non-owning, #2 in fifo_head with #4 stashed inside, no reference entry left but the lock', () => {
    const path = r.steps[stepAfter(r, 16)]!.pathIndex;
    const st = r.stateAt(stepAfter(r, 29, path));
    expect(st.frames[0]?.regs.R6).toMatchObject({ own: 'nonown', object: byRef(2)?.id });
    expect(st.placed[String(byRef(2)?.id)]).toBe('.data.fifo:fifo_head');
    expect(st.placed[String(byRef(4)?.id)]).toBe('waiter#2.who');
    expect(st.refs.map((e) => e.kind)).toEqual(['lock']);
    expect(st.lock).toBe('.data.fifo:fifo_guard');
    const after = r.stateAt(stepAfter(r, 32, path));
    expect(after.frames[0]?.regs.R6).toMatchObject({ dead: 'invalidated' });
    expect(after.lock).toBeNull();
  });

  test('the NULL branch of 6 ends #2 without a release', () => {
    const nullEnd = r.events.find((e) => e.kind === 'release' && e.to === 'NULL' && e.object === byRef(2)?.id);
    expect(nullEnd?.insn).toBe(6);
    expect(r.findings).toEqual([]);
  });
});

describe('walkthrough: write_after_push', async () => {
  const [run] = await replayFile(join(LOGS_618, 'write_after_push.bpftool.log'), join(LOGS_618, 'write_after_push.btf.txt'));
  const r = run!.result;
  test('R7 was a non-owning reference invalidated by the unlock at 19', () => {
    expect(r.verdict).toBe('rejected');
    expect(r.failInsn).toBe(run!.summary.failInsn);
    expect(r.finding?.kind).toBe('use-after-invalidate');
    expect(r.finding?.insn).toBe(21);
    expect(r.finding?.explanation).toContain('bpf_spin_unlock at insn 19');
    expect(r.finding?.explanation).toContain('R7 is a non-owning reference to hit_node#2');
    expect(r.divergences).toEqual([]);
  });
});
