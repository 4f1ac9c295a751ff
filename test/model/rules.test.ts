/**
 * One test group per rule family, on real record sequences (slices of the 6.18 fixtures; the
 * obj-drop cascade uses a real log with real instruction lines spliced after the stash).
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { parseFile, parseText } from '../helpers/parse.ts';
import { fixtureBtf, layoutFor } from './helpers.ts';
import { replayProgram } from '../../src-main/domain/model/replay.ts';
import { emptyLayout } from '../../src-main/domain/model/btf-layout.ts';
import { decodeInsn } from '../../src-main/domain/model/insn.ts';
import { heuristicRule } from '../../src-main/domain/model/rules/kernel-objects.ts';
import { RuleRegistry } from '../../src-main/domain/model/rules/index.ts';
import type { LogRecord } from '../../src-main/domain/log/records.ts';
import type { ReplayResult } from '../../src-main/domain/model/types.ts';

async function records(prog: string, variant = 'bpftool', program = 0): Promise<LogRecord[]> {
  const { records: all, programs } = await parseFile(join(LOGS_618, `${prog}.${variant}.log`));
  return all.filter((r) => r.program === programs[program]?.index);
}

/** Records up to and including the first instruction line for `insn` (and its state lines). */
function until(recs: LogRecord[], insn: number): LogRecord[] {
  const i = recs.findIndex((r) => r.kind === 'insn' && r.insn === insn);
  return recs.slice(0, i + 1);
}

function replaySlice(prog: string, recs: LogRecord[]): ReplayResult {
  const btf = layoutFor(fixtureBtf(prog));
  return replayProgram(recs, btf ? { btf } : {});
}

const last = (r: ReplayResult) => r.stateAt(r.steps.length - 1);

describe('insn decoder', () => {
  test('shapes', () => {
    expect(decodeInsn(4, '85', 'call bpf_obj_new_impl#65205')).toEqual({ op: 'call', name: 'bpf_obj_new_impl', num: 65205 });
    expect(decodeInsn(7, '85', 'call pc+5')).toEqual({ op: 'subcall', target: 13 });
    expect(decodeInsn(6, '15', 'if r6 == 0x0 goto pc+26')).toMatchObject({ op: 'cond', reg: 6, cmp: '==', imm: '0', target: 33 });
    expect(decodeInsn(30, '7b', '*(u64 *)(r6 -8) = r1')).toEqual({ op: 'stx', size: 'u64', dst: 6, off: -8, src: 1 });
    expect(decodeInsn(41, '79', 'r6 = *(u64 *)(r7 -16)')).toEqual({ op: 'ldx', dst: 6, size: 'u64', src: 7, off: -16 });
    expect(decodeInsn(23, '07', 'r6 += 8')).toMatchObject({ op: 'alu', dst: 6, aluOp: '+', imm: '8' });
    expect(decodeInsn(1, '18', 'r1 = 0xffffc9000244e000')).toMatchObject({ op: 'movimm', ld64: true });
  });
});

describe('obj-new / obj-drop', () => {
  test('scratch_obj: new at 4, NULL branch at 5 ends it, drop at 10', async () => {
    const r = replaySlice('multi_ok', await records('multi_ok', 'L2', 1));
    expect(r.events.map((e) => [e.insn, e.kind, e.to])).toEqual([
      [4, 'acquire', 'R0'],
      [10, 'drop', 'freed'],
      [5, 'release', 'NULL'],
    ]);
    expect(r.objects[0]).toMatchObject({ type: 'note', refId: 2, origin: 'bpf_obj_new', allocInsn: 4 });
  });

  test('dropping a local object frees what is stashed in its kptr fields', () => {
    // task_fifo up to its first spin_lock (the task is stashed in waiter#2.who by then), then a drop of the waiter.
    const text = readFileSync(join(LOGS_618, 'task_fifo.bpftool.log'), 'utf8');
    const cut = text.indexOf('20: (18) r1 = 0xffffc9000256e000');
    expect(cut).toBeGreaterThan(0);
    const head = text.slice(0, cut);
    const spliced =
      head +
      '20: (bf) r1 = r6                      ; R1=ptr_waiter(ref_obj_id=2) R6=ptr_waiter(ref_obj_id=2) refs=2\n' +
      '21: (b7) r2 = 0                       ; R2=0 refs=2\n' +
      '22: (85) call bpf_obj_drop_impl#65043         ;\n' +
      '23: (b7) r0 = 0                       ; R0=0\n' +
      '24: (95) exit\n';
    const { records: recs } = parseText(spliced);
    const r = replayProgram(recs.filter((x) => x.program === 0), { btf: layoutFor(fixtureBtf('task_fifo')) ?? emptyLayout() });
    const task = r.objects.find((o) => o.refId === 4);
    const drop = r.events.filter((e) => e.insn === 22);
    expect(drop.map((e) => [e.kind, e.from, e.to])).toEqual([
      ['drop', 'R1,R6', 'freed'],
      ['drop', 'waiter#2.who', 'freed'],
    ]);
    expect(task?.ends).toContainEqual({ insn: 22, kind: 'freed-with-parent' });
    expect(r.divergences).toEqual([]);
  });
});

describe('kptr-xchg', () => {
  test('local kptr destination (6.12): task stashed into spawn_rec#2.task, old content back in R0', async () => {
    const r = replaySlice('local_kptr_stash', until(await records('local_kptr_stash'), 21));
    const ev = r.events.filter((e) => e.insn === 21);
    expect(ev.map((e) => [e.kind, e.to])).toEqual([
      ['stash', 'spawn_rec#2.task'],
      ['unstash', 'R0'],
    ]);
    const st = last(r);
    expect(Object.values(st.placed)).toEqual(['spawn_rec#2.task']);
    expect(st.frames[0]?.regs.R0).toMatchObject({ own: 'own' });
  });

  test('map value destination: map last_task[value].task', async () => {
    const r = replaySlice('map_kptr_stash', until(await records('map_kptr_stash'), 37));
    expect(r.events.find((e) => e.kind === 'stash')?.to).toBe('map last_task[value].task');
  });

  test('local object into a map value (6.4)', async () => {
    const r = replaySlice('local_in_map', until(await records('local_in_map'), 22));
    expect(r.events.find((e) => e.kind === 'stash')).toMatchObject({ to: 'map conn_map[value].stats' });
  });
});

describe('list', () => {
  test('push converts to non-owning, pop returns an owning ref at the node offset', async () => {
    const r = replaySlice('list_push_pop', until(await records('list_push_pop'), 24));
    expect(r.events.map((e) => [e.insn, e.kind, e.to])).toEqual([
      [5, 'acquire', 'R0'],
      [21, 'push', '.data.q:q_head'],
      [24, 'pop', 'R0'],
    ]);
    const st = last(r);
    expect(st.frames[0]?.regs.R0?.text).toMatch(/^ptr_or_null_pkt_rec\(.*ref_obj_id=4,off=8\)$/);
    expect(r.divergences).toEqual([]);
  });
});

describe('rbtree', () => {
  test('add with its less() callback frame, first (non-owning), remove (owning)', async () => {
    const recs = await records('rbtree_add_remove', 'L2');
    const r = replaySlice('rbtree_add_remove', recs);
    expect(r.events.filter((e) => ['add', 'remove'].includes(e.kind)).map((e) => [e.insn, e.kind])).toEqual([
      [23, 'add'],
      [35, 'remove'],
    ]);
    const cb = r.steps.findIndex((s) => s.insn === 49);
    const st = r.stateAt(cb);
    expect(st.frame).toBe(1);
    expect(st.frames[1]?.cb).toBe(true);
    // the step after 49 (`r1 = *(u64 *)(r1 -16)`): R1 is now a scalar, R2 still the non-owning node
    expect(st.frames[1]?.regs.R2).toMatchObject({ own: 'nonown' });
    expect(st.frames[1]?.regs.R1?.own).toBeUndefined();
    const first = r.stateAt(r.steps.findIndex((s) => s.insn === 26));
    expect(first.frames[0]?.regs.R0?.text).toBe('ptr_or_null_flow_rec(id=3,non_own_ref,off=16)');
    const removed = r.objects.find((o) => o.origin === 'bpf_rbtree_remove');
    expect(removed).toMatchObject({ refId: 5, type: 'flow_rec' });
    expect(r.objects.find((o) => o.id === removed?.sameAs)?.origin).toBe('bpf_rbtree_first');
    expect(r.divergences).toEqual([]);
  });
});

describe('refcount', () => {
  test('refcount_acquire: a second owning reference to the same object', async () => {
    const r = replaySlice('refcount_acquire', until(await records('refcount_acquire'), 12));
    const acq = r.objects.find((o) => o.origin === 'bpf_refcount_acquire');
    expect(acq).toMatchObject({ allocInsn: 12, sameAs: 1, type: 'shared_rec' });
  });
});

describe('locks', () => {
  test('a held global lock is an id-0 entry: refs= is suppressed and no divergence is read from it', async () => {
    const r = replaySlice('rbtree_add_remove', until(await records('rbtree_add_remove'), 23));
    const st = last(r);
    expect(st.refs).toEqual([{ id: 0, kind: 'lock' }]);
    expect(st.lock).toBe('.data.t:t_lock');
    expect(r.divergences).toEqual([]);
  });

  test('unlock invalidates every non-owning reference', async () => {
    const r = replaySlice('use_after_unlock', until(await records('use_after_unlock'), 27));
    // R0 (result of bpf_rbtree_first) and its copy R6
    expect(r.events.filter((e) => e.kind === 'invalidate').map((e) => e.from)).toEqual(['R0,R6']);
    expect(last(r).frames[0]?.regs.R6).toMatchObject({ dead: 'invalidated' });
  });

  test('graph kfunc without the lock: lock-not-held', async () => {
    const r = replaySlice('push_without_lock', await records('push_without_lock'));
    expect(r.finding).toMatchObject({ kind: 'lock-not-held', insn: 14 });
  });
});

describe('kernel-object acquire/release', () => {
  test('explicit table, the release\'s kfunc flag table, and heuristics', () => {
    const reg = new RuleRegistry({ logLocksInRefs: true, release: '6.18' });
    // No family covers these: the 6.18 flag table does (KF_ACQUIRE | KF_RET_NULL, KF_RELEASE, iterators).
    expect(reg.find('bpf_crypto_ctx_acquire', 1, false)?.name).toBe('bpf_crypto_ctx_acquire');
    expect(reg.find('bpf_crypto_ctx_release', 1, false)?.name).toBe('bpf_crypto_ctx_release');
    expect(reg.find('bpf_iter_task_vma_new', 1, false)?.since).toBe('6.12');
    expect(reg.find('bpf_iter_task_vma_destroy', 1, false)?.name).toBe('bpf_iter_task_vma_destroy');
    // A kfunc without an ownership effect has no rule; nor does one the release lacks.
    expect(reg.find('bpf_cpumask_first', 1, false)).toBeUndefined();
    expect(new RuleRegistry({ logLocksInRefs: false, release: '6.1' }).find('bpf_iter_task_vma_new', 1, false)).toBeUndefined();
    expect(reg.find('bpf_task_acquire', 65886, false)?.since).toBe('6.2');
    expect(reg.find('bpf_qdisc_skb_drop', 1, false)?.since).toBe('6.16');
    expect(reg.find('anything', 194, true)?.name).toBe('bpf_kptr_xchg');
    expect(reg.find('bpf_spin_lock', 93, true)?.since).toBe('5.1');
    expect(heuristicRule('bpf_foo_acquire')?.name).toBe('bpf_foo_acquire');
    expect(heuristicRule('bpf_foo_release')?.name).toBe('bpf_foo_release');
    expect(heuristicRule('bpf_foo')).toBeUndefined();
  });

  test('peek_task: acquire at 1, release at 6', async () => {
    const r = replaySlice('multi_ok', await records('multi_ok', 'L2', 0));
    expect(r.objects[0]).toMatchObject({ type: 'task_struct', origin: 'bpf_task_acquire', refId: 2, endKind: 'release', endInsn: 6 });
  });

  test('releasing the tracepoint argument: release-unowned', async () => {
    const r = replaySlice('release_unowned', await records('release_unowned'));
    expect(r.finding).toMatchObject({ kind: 'release-unowned', insn: 3 });
  });
});

describe('map lookups and NULL checks', () => {
  test('lookup gives a plain map value (no reference)', async () => {
    const r = replaySlice('wrong_kptr_type', until(await records('wrong_kptr_type'), 7));
    const st = last(r);
    expect(st.frames[0]?.regs.R0?.text).toBe('map_value(map=owner,ks=4,vs=8)');
    expect(st.frames[0]?.regs.R0?.own).toBeUndefined();
    expect(st.refs).toEqual([]);
  });

  test('NULL branch of a maybe-NULL reference ends it without a leak', async () => {
    const r = replaySlice('list_push_pop', await records('list_push_pop', 'L2'));
    const nullEnds = r.events.filter((e) => e.kind === 'release' && e.to === 'NULL').map((e) => [e.insn, e.from]);
    expect(nullEnds).toEqual([
      [29, 'R7'],
      [6, 'R0'],
    ]);
    expect(r.findings).toEqual([]);
  });
});
