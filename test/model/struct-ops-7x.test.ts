/**
 * The struct_ops fixtures of test/fixtures/progs/7x captured on 7.3 (and 7.2): the fair-queue bpf
 * qdisc (refcounted nodes in an rbtree and a list at once, an skb kptr in each) with its broken
 * siblings, and the earliest-deadline sched_ext scheduler (task kptrs taken with bpf_task_acquire)
 * with its sibling that stashes the callback's borrowed task. Every log form is replayed: bpftool's
 * (the loader names the callback) and the raw logs (the kernel's `func 'MEMBER' argN` line and the
 * object's BTF tell it), with the .bpf.o's BTF as `replay --btf` reads it, and the raw logs also
 * without any BTF.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { borrowedArgs, borrowedHint, returnsReference, structOpsArgs, structOpsFromArgLine } from '../../src-main/domain/model/rules/struct-ops.ts';
import { FIXTURES } from '../helpers/fixtures.ts';
import { replayFile, type ProgramRun } from './helpers.ts';

const KERNELS = ['7.3', '7.2'] as const;
const FORMS: readonly string[] = ['bpftool', 'L1', 'L2', 'L7'];

const log = (k: string, name: string, form: string) => join(FIXTURES, 'logs', k, `${name}.${form}.log`);
const obj = (k: string, name: string) => join(FIXTURES, 'logs', k, `${name}.bpf.o`);

/** The broken siblings: the program the kernel rejects (by its name in bpftool logs), and the finding the model must make at the kernel's instruction. */
const BROKEN: Record<string, { prog: string; kind: string; text: RegExp }> = {
  qdisc_fq_double_stash: { prog: 'fq_dequeue', kind: 'leak', text: /sk_buff acquired by bpf_kptr_xchg at insn 65/ },
  qdisc_fq_no_lock: { prog: 'fq_enqueue', kind: 'lock-not-held', text: /bpf_rbtree_add on .*fq_by_finish needs fq_lock held/ },
  qdisc_fq_no_twin: { prog: 'fq_enqueue', kind: 'release-unowned', text: /bpf_list_push_back is a non-owning reference/ },
  qdisc_fq_drop_full: { prog: 'fq_dequeue', kind: 'special-field-access', text: /kptr field of a local object.*direct access to kptr is disallowed/ },
  scx_deadline_noacquire: { prog: 'dl_enqueue', kind: 'release-unowned', text: /sched_ext_ops\.enqueue passes its struct task_struct argument without a reference.*bpf_task_acquire/ },
};
const ACCEPTED = ['qdisc_fq', 'scx_deadline', 'qdisc_fifo'];

function verified(runs: ProgramRun[]): ProgramRun[] {
  return runs.filter((r) => r.summary.verdict === 'accepted' || r.summary.verdict === 'rejected');
}

describe.each(KERNELS)('struct_ops fixtures captured on %s', (k) => {
  describe.each(FORMS)('%s log', (form) => {
    test.each(ACCEPTED)('%s: every program accepted, as by the kernel, with no divergence', async (name) => {
      const runs = verified(await replayFile(log(k, name, form), obj(k, name)));
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) {
        expect(r.summary.verdict, r.summary.name).toBe('accepted');
        expect(r.result.verdict, `${r.summary.name}: ${r.result.finding?.explanation}`).toBe('accepted');
        expect(r.result.divergences, r.summary.name).toEqual([]);
      }
    });
  });

  // a rejected object is also loaded program by program (`.each.log`): the others' verdicts too
  describe.each([...FORMS, 'each'])('%s log', (form) => {
    test.each(Object.keys(BROKEN))('%s: the model rejects the kernel\'s program at its instruction, for its own reason', async (name) => {
      const want = BROKEN[name] as (typeof BROKEN)[string];
      const runs = verified(await replayFile(log(k, name, form), obj(k, name)));
      const bad = runs.filter((r) => r.summary.verdict === 'rejected');
      expect(bad).toHaveLength(1);
      const r = bad[0] as ProgramRun;
      if (form === 'bpftool' || form === 'each') expect(r.summary.name).toBe(want.prog);
      expect(r.result.verdict).toBe('rejected');
      expect(r.result.failInsn).toBe(r.summary.failInsn);
      expect(r.result.finding?.kind).toBe(want.kind);
      expect(r.result.finding?.explanation).toMatch(want.text);
      expect(r.result.divergences).toEqual([]);
      // the siblings' other programs are the correct ones
      for (const o of runs) if (o !== r) expect(o.result.verdict, o.summary.name).toBe('accepted');
    });
  });
});

describe('a raw log tells the callback', () => {
  test('the qdisc dequeue of a raw log hands its skb back to the kernel (no false leak), with or without BTF', async () => {
    for (const name of ['qdisc_fq', 'qdisc_fifo']) {
      for (const btf of [obj('7.3', name), undefined]) {
        const runs = verified(await replayFile(log('7.3', name, 'L2'), btf));
        const returned = runs.filter((r) => r.result.events.some((e) => e.kind === 'release' && e.to === 'the kernel (returned)'));
        expect(returned, `${name} ${btf ?? 'no BTF'}`).toHaveLength(1);
        for (const r of runs) expect(r.result.verdict, `${name} ${r.summary.name} ${btf ?? 'no BTF'}`).toBe('accepted');
      }
    }
  });

  test('the raw log of the sched_ext sibling names the borrowed task in its finding', async () => {
    const [r] = verified(await replayFile(log('7.3', 'scx_deadline_noacquire', 'L2'), obj('7.3', 'scx_deadline_noacquire')));
    expect(r?.summary.structOps).toBeNull();
    expect(r?.result.finding?.explanation).toMatch(/sched_ext_ops\.enqueue passes its struct task_struct argument without a reference/);
  });

  test('the fixtures exist on both kernels', () => {
    for (const k of KERNELS) for (const n of [...ACCEPTED, ...Object.keys(BROKEN)]) expect(existsSync(obj(k, n)), `${k}/${n}`).toBe(true);
  });
});

describe('struct-ops table', () => {
  test('Qdisc_ops: enqueue owns its skb, dequeue returns one', () => {
    expect(structOpsArgs({ type: 'Qdisc_ops', member: 'enqueue' })).toEqual([{ off: 0, type: 'sk_buff', since: '6.16' }]);
    expect(returnsReference({ type: 'Qdisc_ops', member: 'dequeue' })).toBe('sk_buff');
    expect(returnsReference({ type: 'Qdisc_ops', member: 'reset' })).toBeNull();
  });

  test('sched_ext_ops: tasks are borrowed, never referenced', () => {
    const enq = { type: 'sched_ext_ops', member: 'enqueue' };
    expect(structOpsArgs(enq)).toEqual([]);
    expect(borrowedArgs(enq)).toEqual([{ off: 0, type: 'task_struct', since: '6.12' }]);
    expect(borrowedArgs({ type: 'sched_ext_ops', member: 'dispatch' })).toEqual([{ off: 8, type: 'task_struct', since: '6.12' }]);
    expect(borrowedArgs({ type: 'sched_ext_ops', member: 'yield' }).map((a) => a.off)).toEqual([0, 8]);
    expect(returnsReference(enq)).toBeNull();
    expect(borrowedHint(enq, 'task_struct')).toMatch(/bpf_task_acquire/);
    expect(borrowedHint(enq, 'cgroup')).toBe('');
    expect(borrowedHint({ type: 'Qdisc_ops', member: 'enqueue' }, 'sk_buff')).toBe('');
  });

  test('the kernel\'s argument line picks the callback by member and argument struct', () => {
    const line = (m: string, i: number, t: string) => `func '${m}' arg${i} has btf_id 53693 type STRUCT '${t}'`;
    expect(structOpsFromArgLine(line('dequeue', 0, 'Qdisc'), [])).toEqual({ type: 'Qdisc_ops', member: 'dequeue' });
    expect(structOpsFromArgLine(line('dequeue', 0, 'task_struct'), [])).toEqual({ type: 'sched_ext_ops', member: 'dequeue' });
    expect(structOpsFromArgLine(line('enqueue', 1, 'Qdisc'), ['Qdisc_ops'])).toEqual({ type: 'Qdisc_ops', member: 'enqueue' });
    // the object declares no such struct_ops type: not that callback
    expect(structOpsFromArgLine(line('dequeue', 0, 'Qdisc'), ['sched_ext_ops'])).toBeNull();
    // a traced kernel function of that name takes other arguments
    expect(structOpsFromArgLine(line('enqueue', 0, 'rq'), [])).toBeNull();
    expect(structOpsFromArgLine('func#0 @0', [])).toBeNull();
  });
});
