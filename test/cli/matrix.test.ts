// `kptrscope matrix` on real captures of the same objects on Debian's 6.1, 6.12 and 7.3 kernels and on
// this machine's 6.18: one row per program, one column per series, and every verdict that changes
// from one kernel to the next explained by the profile rule that introduced it.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { PROFILE_RULES } from '../../src-main/domain/model/kernel-profiles.ts';

const dir = tempDir('kptrscope-matrix-');
const log = (series: string, name: string) => join(FIXTURES, 'logs', series, `${name}.bpftool.log`);
let dbs = 0;
const db = () => join(dir, `m${++dbs}.db`);

interface Doc {
  kernels: string[];
  programs: {
    object: string;
    sha256: string | null;
    name: string;
    cells: Record<string, { release: string | null; verdict: string; insnsProcessed: number | null; finding: { kind: string; insn: number; explanation: string } | null; runId: number }>;
    differences: { from: string; to: string; insn: number | null; rule: string | null; since: string | null }[];
  }[];
}

function matrix(args: string[]): Doc {
  const r = kptrscope(['matrix', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Doc;
}

describe('kptrscope matrix', () => {
  it('nested RCU sections: rejected up to 6.18, accepted on 7.3 — rcuNesting, since 6.19, at the nested lock', () => {
    const m = matrix(['6.12', '6.18', '7.3'].map((s) => log(s, 'nested_rcu')).concat(['--db', db()]));
    expect(m.kernels).toEqual(['6.12', '6.18', '7.3']);
    expect(m.programs).toHaveLength(1);
    const p = m.programs[0]!;
    expect(p.object).toBe('nested_rcu.bpf.o');
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.fromEntries(Object.entries(p.cells).map(([k, c]) => [k, c.verdict]))).toEqual({ '6.12': 'rejected', '6.18': 'rejected', '7.3': 'accepted' });
    for (const [k, c] of Object.entries(p.cells)) expect(c.release, k).toBe(readFileSync(join(FIXTURES, 'logs', k, 'KERNEL'), 'utf8').trim());
    const kernelFail = p.cells['6.18']!.finding!.insn;
    expect(p.differences).toEqual([{ from: '6.18', to: '7.3', insn: kernelFail, rule: 'rcuNesting', since: '6.19', explanation: expect.any(String) }]);
    expect(PROFILE_RULES.find((r) => r.id === 'rcuNesting')?.since).toBe('6.19');
  });

  it('an object the 6.1 kernel cannot load is unsupported there; the change to 6.12 names the feature', () => {
    const m = matrix(['6.1', '6.12', '6.18', '7.3'].map((s) => log(s, 'leak_obj')).concat(['--db', db()]));
    const p = m.programs[0]!;
    expect(p.cells['6.1']).toMatchObject({ verdict: 'unsupported', finding: null, insnsProcessed: null });
    for (const k of ['6.12', '6.18', '7.3']) expect(p.cells[k]).toMatchObject({ verdict: 'rejected', finding: { kind: 'leak' } });
    // Only 6.1 → 6.12 changes; the kernel could not attempt it, so no walk to part: insn null.
    expect(p.differences).toEqual([{ from: '6.1', to: '6.12', insn: null, rule: 'obj_new', since: '6.2', explanation: expect.stringContaining('bpf_obj_new_impl') }]);
  });

  it('takes stored runs by id, and writes Markdown and CSV', () => {
    const d = db();
    const ids = ['6.18', '7.3'].map((s) => {
      const r = kptrscope(['ingest', log(s, 'nested_rcu'), '--btf', join(FIXTURES, 'logs', s, 'nested_rcu.bpf.o'), '--kernel', readFileSync(join(FIXTURES, 'logs', s, 'KERNEL'), 'utf8').trim(), '--db', d, '--json']);
      return String(JSON.parse(r.stdout).runs[0].id);
    });
    const byId = matrix([...ids, '--db', d]);
    expect(byId.programs[0]!.differences.map((x) => x.rule)).toEqual(['rcuNesting']);
    expect(Object.values(byId.programs[0]!.cells).map((c) => String(c.runId))).toEqual(ids);
    const md = join(dir, 'm.md');
    const csv = join(dir, 'm.csv');
    expect(kptrscope(['matrix', ...ids, '--db', d, '--format', 'md', '-o', md]).status).toBe(0);
    expect(kptrscope(['matrix', ...ids, '--db', d, '--format', 'csv', '-o', csv]).status).toBe(0);
    const mdText = readFileSync(md, 'utf8');
    expect(mdText).toContain('| object | program | 6.18 | 7.3 |');
    expect(mdText).toMatch(/nested_rcu.*6\.18 → 7\.3 at insn \d+: rcuNesting \(since 6\.19\)/);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('object,sha256,program,series,release,verdict,insnsProcessed,findingKind,findingInsn,runId,changeFromPrevious,rule,since');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/,7\.3,7\.3\.4[^,]*,accepted,6,,,\d+,6\.18→7\.3,rcuNesting,6\.19$/);
  });

  it('bad input: a missing file or run is named, exit 1/2; --format without -o is a usage error', () => {
    const r = kptrscope(['matrix', '/nonexistent/x.log', '--db', db()]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('/nonexistent/x.log: no such file');
    const n = kptrscope(['matrix', '999', '--db', db()]);
    expect(n.status).toBe(1);
    expect(n.stderr).toContain('no run 999');
    expect(kptrscope(['matrix', log('7.3', 'nested_rcu'), '--format', 'md', '--db', db()]).status).toBe(2);
  });
});
