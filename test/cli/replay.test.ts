// `kptrscope replay` as a real process: the issue-3 JSON shape, replay of a stored run id, kernel
// profiles, and the stored per-step states (checkpoint + deltas) reloading to the same states.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { replayRun } from '../../src-main/app/replay.ts';
import { storedState } from '../../src-main/app/export.ts';
import { ingestLog } from '../../src-main/app/ingest.ts';
import { Replayer } from '../../src-main/domain/model/index.ts';
import { recordsOf, testStore } from '../helpers/store.ts';
import { summarizeBtf } from '../../src-main/domain/btf/index.ts';
import { loadBtfFile } from '../../src-main/app/read-files.ts';

const dir = tempDir();
const F = (n: string) => join(LOGS_618, n);

describe('kptrscope replay', () => {
  const db = join(dir, 'replay.db');

  it('replays a rejected log: --json has the issue-3 shape and names the leaked object', () => {
    const r = kptrscope(['replay', F('leak_obj.bpftool.log'), '--btf', F('leak_obj.btf.txt'), '--db', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.programs).toHaveLength(1);
    const p = doc.programs[0];
    for (const k of ['name', 'kernelVerdict', 'modelVerdict', 'agree', 'failInsn', 'finding', 'divergences', 'events']) expect(p).toHaveProperty(k);
    expect(p).toMatchObject({ kernelVerdict: 'rejected', modelVerdict: 'rejected', agree: true, failInsn: 15, divergences: 0 });
    expect(p.finding).toMatchObject({ kind: 'leak', insn: 15 });
    expect(p.finding.objects[0]).toMatchObject({ type: 'pkt_sample', allocInsn: 5, refId: 2 });
    expect(p.finding.explanation).toMatch(/pkt_sample/);
    for (const e of p.events) for (const k of ['insn', 'kind', 'object', 'from', 'to']) expect(e).toHaveProperty(k);
    expect(p.events.map((e: { kind: string }) => e.kind)).toContain('acquire');
  });

  it('replays a stored run by id, and re-judges under an older kernel profile', () => {
    const ing = JSON.parse(kptrscope(['ingest', F('local_kptr_stash.bpftool.log'), '--btf', F('local_kptr_stash.btf.txt'), '--db', db, '--json']).stdout);
    const id = String(ing.runs[0].id);
    const now = JSON.parse(kptrscope(['replay', id, '--db', db, '--json']).stdout).programs[0];
    expect(now).toMatchObject({ kernelVerdict: 'accepted', modelVerdict: 'accepted', agree: true, finding: null, divergences: 0 });
    expect(now.events.some((e: { kind: string; to: string }) => e.kind === 'stash' && /^[a-z_]+#\d+\.[a-z_]+$/.test(e.to))).toBe(true);
    const old = kptrscope(['replay', id, '--kernel-profile', '6.6', '--db', db, '--json']);
    const p = JSON.parse(old.stdout).programs[0];
    expect(p).toMatchObject({ kernelVerdict: 'accepted', modelVerdict: 'rejected', agree: false });
    expect(p.finding.explanation).toMatch(/bpf_kptr_xchg into a local kptr needs Linux ≥ 6\.12/);
    const text = kptrscope(['replay', id, '--kernel-profile', '6.6', '--db', db]).stdout;
    expect(text).toMatch(/model rejected at insn \d+ \(DISAGREE\)/);
  });

  it('the local-kptr stash walkthrough: task #4 stashed into spawn_rec#2.task, the object pushed into spawn_list', () => {
    const r = JSON.parse(kptrscope(['replay', F('local_kptr_stash.L2.log'), '--btf', F('local_kptr_stash.btf.txt'), '--db', db, '--json']).stdout);
    const ev = r.programs[0].events.map((e: { insn: number; kind: string; to: string }) => `${e.insn} ${e.kind} ${e.to}`);
    expect(ev).toContain('21 stash spawn_rec#2.task');
    expect(ev).toContain('52 push .data.spawn:spawn_list');
  });

  it('bad arguments are clear one-line errors', () => {
    const a = kptrscope(['replay', '999', '--db', db]);
    expect(a.status).toBe(1);
    expect(a.stderr.trim()).toBe('kptrscope: no run 999 in this database (see: kptrscope runs)');
    const b = kptrscope(['replay', '1', '--kernel-profile', 'old', '--db', db]);
    expect(b.stderr).toMatch(/--kernel-profile expects <major\.minor>/);
  });
});

describe('stored per-step states', () => {
  it('every stored step reloads to the state the model computed', async () => {
    const path = join(dir, 'states.db');
    const db = testStore(path);
    const ing = await ingestLog(db, F('rbtree_add_remove.L2.log'), { btf: [F('rbtree_add_remove.btf.txt')] });
    const res = await replayRun(db, ing.runId);
    const pr = res.programs[0]!;
    const loaded = await loadBtfFile(F('rbtree_add_remove.btf.txt'));
    const p = (await db.getPrograms(ing.runId))[0]!;
    const rp = new Replayer({ name: p.name, btf: summarizeBtf(loaded.btf) });
    for (const r of await recordsOf(db, ing.runId, p)) rp.push(r);
    const fresh = rp.finish();
    expect(pr.replay.stepCount).toBe(fresh.steps.length);
    expect(await db.loadSteps(pr.replay.id)).toEqual(fresh.steps);
    for (let i = 0; i < fresh.steps.length; i++) expect(await storedState(db, pr.replay.id, i)).toEqual(fresh.stateAt(i));
    await db.close();
  });
});

describe('replay while ingesting (one pass) equals replay from the store', () => {
  it('same verdicts, findings, events, objects, divergences and steps on every bpftool capture', async () => {
    const { readdirSync } = await import('node:fs');
    const db = testStore(join(dir, 'stream.db'));
    for (const f of readdirSync(LOGS_618).filter((x) => x.endsWith('.bpftool.log'))) {
      const prog = f.replace(/\..*$/, '');
      const ing = await ingestLog(db, F(f), { btf: [F(`${prog}.btf.txt`)], replay: {} });
      const streamed = await replayRun(db, ing.runId);
      const stored = await replayRun(db, ing.runId, { force: true });
      expect(stored.programs.length, f).toBe(streamed.programs.length);
      streamed.programs.forEach((a, i) => {
        const b = stored.programs[i]!;
        expect({ ...b.replay, id: 0, createdAt: '' }, f).toEqual({ ...a.replay, id: 0, createdAt: '' });
        expect(b.events, f).toEqual(a.events);
        expect(b.objects, f).toEqual(a.objects);
        expect(b.divergences, f).toEqual(a.divergences);
        expect(a.divergences, f).toEqual([]);
        expect(a.agree, f).toBe(true);
      });
    }
    await db.close();
  });
});

