// `kptrscope compare` on real captures that differ: a broken program and its fix, the same program
// at log levels 1 and 2, and the --json shape of issue 5.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir();
const F = (n: string) => join(LOGS_618, n);

describe('kptrscope compare', () => {
  const db = join(dir, 'compare.db');

  it('broken vs fixed: verdict and figures with deltas, the divergence where the fix starts, both findings', () => {
    const r = kptrscope(['compare', F('leak_obj.bpftool.log'), F('leak_obj_fixed.bpftool.log'), '--btf', F('leak_obj.btf.txt'), '--btf', F('leak_obj_fixed.btf.txt'), '--db', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.programs).toHaveLength(1);
    const p = doc.programs[0];
    for (const k of ['name', 'a', 'b', 'delta', 'firstDivergence']) expect(p).toHaveProperty(k);
    expect(p.name).toBe('leak_sample');
    expect(p.a).toMatchObject({ verdict: 'rejected', insnsProcessed: 15 });
    expect(p.b).toMatchObject({ verdict: 'accepted', insnsProcessed: 22 });
    expect(p.delta.insnsProcessed).toEqual({ abs: 7, pct: 46.67 });
    expect(p.delta.verdict).toBe('rejected → accepted');
    // Both versions run the same code up to the line the fix added (shifted jump offsets are aligned
    // by source line); then A returns while B calls bpf_obj_drop.
    expect(p.firstDivergence.a).toMatchObject({ insn: 12, source: expect.stringContaining('return s->len > 64') });
    expect(p.firstDivergence.b).toMatchObject({ insn: 11, source: expect.stringContaining('ks_drop(s)') });
    expect(p.a.finding).toMatchObject({ kind: 'leak', insn: 15 });
    expect(p.b.finding).toBeNull();
  });

  it('level 1 against level 2 of an accepted program: the level-1 log has no trace', () => {
    const doc = JSON.parse(kptrscope(['compare', F('rbtree_add_remove.L1.log'), F('rbtree_add_remove.L2.log'), '--btf', F('rbtree_add_remove.btf.txt'), '--btf', F('rbtree_add_remove.btf.txt'), '--db', db, '--json']).stdout);
    const p = doc.programs[0];
    expect(p.a.verdict).toBe('accepted');
    expect(p.b.verdict).toBe('accepted');
    expect(p.delta.insnsProcessed).toEqual({ abs: 0, pct: 0 });
    expect(p.firstDivergence.reason).toMatch(/log of a shows no instructions/);
    expect(p.firstDivergence.a.insn).toBeNull();
    expect(p.firstDivergence.b).toMatchObject({ step: 0, insn: 0 });
  });

  it('level 1 against level 2 of a rejected program walk the same failing path', () => {
    const doc = JSON.parse(kptrscope(['compare', F('use_after_unlock.L1.log'), F('use_after_unlock.L2.log'), '--db', db, '--json']).stdout);
    const p = doc.programs[0];
    expect(p.firstDivergence).toBeNull();
    expect(p.a.finding.kind).toBe(p.b.finding.kind);
    expect(p.a.failInsn).toBe(30);
  });

  it('stored runs by id, and programs matched by position when names differ (raw vs bpftool)', () => {
    const doc = JSON.parse(kptrscope(['compare', '1', '2', '--db', db, '--json']).stdout);
    expect(doc.a.run).toBe(1);
    const pos = JSON.parse(kptrscope(['compare', F('use_after_unlock.L2.log'), F('use_after_unlock.bpftool.log'), '--db', db, '--json']).stdout);
    expect(pos.programs[0]).toMatchObject({ matchedBy: 'position', name: 'prog0 ↔ fire_first' });
    const text = kptrscope(['compare', '1', '2', '--db', db]).stdout;
    expect(text).toMatch(/Verdict\s+rejected\s+accepted\s+rejected → accepted/);
    expect(text).toMatch(/Insns\s+15\s+22\s+\+7\s+\+46\.67%/);
  });
});
