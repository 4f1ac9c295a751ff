/**
 * The app's store-side contract handlers on real 6.18 captures (no browser): first screen, log
 * windows and folded views, search (text/regex, forward/backward, wrap-around, budgeted resume),
 * instruction jumps, stepping by event/error, the ownership model's graph and state across
 * bpf_kptr_xchg and bpf_rbtree_add, the finding's links, timeline and lifetime; and the dispatcher's validation.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src-main/store/types.ts';
import { testStore } from '../helpers/store.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { createStoreService } from '../../src-main/app/handlers.ts';
import { dispatch } from '../../src-main/contract/dispatch.ts';
import { AppError } from '../../src-main/contract/errors.ts';
import type { Handlers, StoreMethod } from '../../src-main/contract/contract.ts';

const FIX = join(__dirname, '..', 'fixtures', 'logs', '6.18');
let db: Store;
let h: Handlers<StoreMethod>;
let stash: number;
let uau: number;

beforeAll(async () => {
  db = testStore(join(mkdtempSync(join(tmpdir(), 'kptrscope-app-')), 'a.db'));
  stash = (await ingestLog(db, join(FIX, 'local_kptr_stash.bpftool.log'), { btf: [join(FIX, 'local_kptr_stash.btf.txt')] })).runId;
  uau = (await ingestLog(db, join(FIX, 'use_after_unlock.bpftool.log'), { btf: [join(FIX, 'use_after_unlock.btf.txt')] })).runId;
  h = createStoreService(db).handlers;
});

const P = 0;

describe('first screen and windows', () => {
  it('opens on the first instruction of an accepted program, with windows, state and graph', async () => {
    const fs = await h.firstScreen({ runId: stash, program: null, line: null, fold: false, windowRows: 64, visibleRows: 40 });
    expect(fs.program).toBe(0);
    expect(fs.finding.severity).toBe('ok');
    const row = fs.windows.flat().find((l) => l.line === fs.line);
    expect(row?.kind).toBe('insn');
    expect(row?.text).toMatch(/^0: \(79\)/);
    expect(fs.state.insn).toBe(0);
    expect(fs.graph.line).toBe(fs.line);
    expect(fs.windowStarts.every((s) => s % 64 === 0)).toBe(true);
  });

  it('opens a rejected program on its failing instruction', async () => {
    const fs = await h.firstScreen({ runId: uau, program: null, line: null, fold: false, windowRows: 64, visibleRows: 40 });
    expect(fs.finding.severity).toBe('error');
    expect(fs.line).toBe(fs.finding.line);
    expect(fs.state.insn).toBe(fs.finding.insn);
  });

  it('folded views hide source annotations and keep line ↔ row consistent', async () => {
    const open = await h.logWindow({ runId: stash, program: P, start: 0, count: 2000, fold: false });
    const folded = await h.logWindow({ runId: stash, program: P, start: 0, count: 2000, fold: true });
    expect(folded.total).toBe(open.lines.filter((l) => l.kind !== 'source').length);
    expect(folded.lines.some((l) => l.kind === 'source')).toBe(false);
    const some = folded.lines[50];
    if (!some) throw new Error('short log');
    expect((await h.rowOfLine({ runId: stash, program: P, line: some.line, fold: true })).row).toBe(50);
  });
});

describe('search and jumps', () => {
  it('finds text forward and backward, wraps around, and reports no match', async () => {
    const a = await h.search({ runId: stash, program: P, query: 'bpf_spin_lock', regex: false, caseSensitive: false, fromLine: 61, direction: 'next' });
    expect(a.match).not.toBeNull();
    const first = a.match?.line ?? 0;
    const b = await h.search({ runId: stash, program: P, query: 'bpf_spin_lock', regex: false, caseSensitive: false, fromLine: first, direction: 'next' });
    expect(b.match?.line).toBeGreaterThan(first);
    const back = await h.search({ runId: stash, program: P, query: 'bpf_spin_lock', regex: false, caseSensitive: false, fromLine: b.match?.line ?? 0, direction: 'prev' });
    expect(back.match?.line).toBe(first);
    // From the last line, `next` wraps to the top.
    const run = await h.getRun({ runId: stash });
    const last = run?.programs[0]?.lastLine ?? 0;
    const w = await h.search({ runId: stash, program: P, query: 'BEGIN PROG LOAD LOG', regex: false, caseSensitive: true, fromLine: last, direction: 'next' });
    expect(w.wrapped).toBe(true);
    const none = await h.search({ runId: stash, program: P, query: 'no such text', regex: false, caseSensitive: false, fromLine: 100, direction: 'next' });
    expect(none).toMatchObject({ match: null, done: true });
  });

  it('regex search matches inside lines, case rules apply, bad regexes are refused', async () => {
    const r = await h.search({ runId: stash, program: P, query: 'call bpf_(task|cgroup)_release#\\d+', regex: true, caseSensitive: true, fromLine: 61, direction: 'next' });
    const win = await h.logWindow({ runId: stash, program: -1, start: (r.match?.line ?? 1) - 1, count: 1, fold: false });
    expect(win.lines[0]?.text.slice(r.match?.start, r.match?.end)).toMatch(/^call bpf_(task|cgroup)_release#\d+$/);
    const cs = await h.search({ runId: stash, program: P, query: 'CALL BPF_KPTR_XCHG', regex: false, caseSensitive: true, fromLine: 61, direction: 'next' });
    expect(cs.match).toBeNull();
    await expect(Promise.resolve().then(() => h.search({ runId: stash, program: P, query: '(', regex: true, caseSensitive: false, fromLine: 61, direction: 'next' }))).rejects.toBeInstanceOf(AppError);
  });

  it('a budgeted scan resumes where it stopped and still finds the match', async () => {
    let r = await h.search({ runId: stash, program: P, query: 'processed 93 insns', regex: false, caseSensitive: false, fromLine: 61, direction: 'next', budgetMs: 10 });
    let calls = 1;
    while (!r.match && !r.done && calls < 100) {
      r = await h.search({ runId: stash, program: P, query: 'processed 93 insns', regex: false, caseSensitive: false, fromLine: r.resumeLine, originLine: 61, direction: 'next', budgetMs: 10 });
      calls++;
    }
    expect(r.match).not.toBeNull();
  });

  it('jumps to an instruction and steps by instruction, event and error', async () => {
    const x = await h.findInsn({ runId: stash, program: P, insn: 21, fromLine: 61, direction: 'next' });
    expect(x?.insn).toBe(21);
    const next = await h.stepFrom({ runId: stash, program: P, line: x?.line ?? 0, unit: 'insn', direction: 'next' });
    expect(next?.insn).toBe(22);
    const ev = await h.stepFrom({ runId: stash, program: P, line: 61, unit: 'event', direction: 'next' });
    expect(ev?.insn).toBe(5); // bpf_obj_new_impl
    const err = await h.stepFrom({ runId: uau, program: P, line: 1, unit: 'error', direction: 'next' });
    const win = await h.logWindow({ runId: uau, program: -1, start: (err?.line ?? 1) - 1, count: 1, fold: false });
    expect(win.lines[0]?.kind).toBe('error');
  });
});

describe("state and graph from the ownership model (the kernel's printed state beside it)", () => {
  type G = Awaited<ReturnType<typeof h.graphAt>>;
  const idOf = (g: G, label: string) => g.nodes.find((n) => n.label === label)?.id ?? `missing ${label}`;
  const edge = (g: G, from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);

  it('bpf_kptr_xchg: the task leaves R0/R2 and sits in spawn_rec#2.task', async () => {
    const x = await h.findInsn({ runId: stash, program: P, insn: 20, fromLine: 61, direction: 'next' });
    const before = await h.graphAt({ runId: stash, program: P, line: x?.line ?? 0 });
    expect(before.source).toBe('model');
    const task4 = idOf(before, 'task_struct #4');
    const rec2 = idOf(before, 'spawn_rec #2');
    expect(edge(before, 'reg:0:R2', task4)?.kind).toBe('owns');
    expect(edge(before, rec2, task4)).toBeUndefined();
    const after = await h.graphAt({ runId: stash, program: P, line: (x?.line ?? 0) + 1 });
    expect(after.insn).toBe(21);
    expect(edge(after, 'reg:0:R2', task4)).toBeUndefined();
    expect(edge(after, rec2, task4)).toMatchObject({ kind: 'stashed', fromField: 'task' });
    expect(after.nodes.find((n) => n.id === rec2)).toMatchObject({ kind: 'local-object', label: 'spawn_rec #2' });
    expect(after.nodes.find((n) => n.label === 'task_struct #6')?.status).toBe('maybe-null');
    expect(after.notes.join(' ')).toContain('stash: task_struct #4 from R0,R2 to spawn_rec#2.task');
    const state = await h.stateAt({ runId: stash, program: P, line: (x?.line ?? 0) + 1 });
    expect(state.model?.refs).toEqual([2, 6]);
    expect(state.model?.registers.find((r) => r.name === 'R0')).toMatchObject({ refObjId: 6, maybeNull: true });
    expect(state.divergences).toEqual([]);
    expect(state.kernel.refs?.ids).toEqual([2, 6]);
    expect(state.kernel.registers.find((r) => r.name === 'R0')).toMatchObject({ refObjId: 6, maybeNull: true, changed: true });
    const life = await h.lifetime({ runId: stash, program: P, line: (x?.line ?? 0) + 1, objectId: task4 });
    expect(life.events.map((e) => e.text)).toContain('stashed into spawn_rec#2.task (from R0,R2)');
    expect(life.label).toMatch(/^task_struct #4 — kernel object from bpf_task_acquire at insn \d+$/);
  });

  it('bpf_rbtree_add: the node goes into the root, R6 is non-owning, the unlock drops it', async () => {
    const add = await h.findInsn({ runId: uau, program: P, insn: 20, fromLine: 1, direction: 'next' });
    const g = await h.graphAt({ runId: uau, program: P, line: add?.line ?? 0 });
    const rec = idOf(g, 'timer_rec #2');
    expect(g.edges.find((e) => e.kind === 'in-collection' && e.to === rec)?.from).toMatch(/^root:.*w_root$/);
    expect(g.edges.find((e) => e.from === 'reg:0:R6')?.kind).toBe('non-owning');
    const unlock = await h.findInsn({ runId: uau, program: P, insn: 27, fromLine: 1, direction: 'next' });
    const u = await h.graphAt({ runId: uau, program: P, line: unlock?.line ?? 0 });
    expect(u.edges.some((e) => e.from === 'reg:0:R6')).toBe(false);
    const s = await h.stateAt({ runId: uau, program: P, line: add?.line ?? 0 });
    // The kernel does not print the held lock (no guessing from calls): the model names it.
    expect(s.kernel.lock).toBeNull();
    expect(s.model?.lock).toMatch(/w_lock|\.data\.w/);
  });

  it("the model's finding names the object and links its instructions; the kernel's error line follows", async () => {
    const f = await h.finding({ runId: uau, program: P });
    expect(f.source).toBe('model');
    const text = f.sentence.map((x) => x.text).join('');
    expect(text).toMatch(/R6 is a non-owning reference to timer_rec/);
    expect(text).toContain("R6 invalid mem access 'scalar'");
    const links = f.sentence.filter((x): x is { text: string; insn: number; line: number | null } => 'insn' in x);
    expect(links.map((l) => l.insn)).toEqual(expect.arrayContaining([27, f.insn]));
    expect(links.every((l) => l.line !== null)).toBe(true);
    // The timeline's ownership events are the model's: the object allocated, added to the tree,
    // and its non-owning references invalidated by the unlock.
    const t = await h.timeline({ runId: uau, program: P, bins: 50 });
    expect(t.bins.reduce((a, b) => a + b.errors, 0)).toBe(1);
    expect(t.events.map((e) => e.label)).toEqual(expect.arrayContaining(['acquire timer_rec', 'add timer_rec', 'invalidate timer_rec']));
    expect(t.eventInsns).toEqual(expect.arrayContaining([20, 27]));
  });
});

describe('dispatch validates every payload', () => {
  it('refuses unknown methods, wrong types and extra keys before any handler runs', async () => {
    let called = false;
    const spy = { getRun: () => ((called = true), null) } as Partial<Handlers>;
    await expect(dispatch(spy, 'nope', {})).rejects.toMatchObject({ code: 'not-found' });
    await expect(dispatch(spy, 'getRun', { runId: '1' })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(dispatch(spy, 'getRun', { runId: 1, extra: true })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(dispatch(spy, 'getRun', { runId: -3 })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(dispatch(spy, 'startIngest', { log: { kind: 'upload', id: '../../etc/passwd' }, btf: [] })).rejects.toMatchObject({ code: 'bad-request' });
    await expect(dispatch(spy, '__proto__', {})).rejects.toMatchObject({ code: 'not-found' });
    expect(called).toBe(false);
    await expect(dispatch(spy, 'listRuns', {})).rejects.toMatchObject({ code: 'unsupported' });
    expect(await dispatch(spy, 'getRun', { runId: 1 })).toBeNull();
    expect(called).toBe(true);
  });
});
