// `kptrscope ci report`: the gate over tagged runs, on real captures. The baseline tag has an
// object `leak.bpf.o` that loads (the captured leak_obj_fixed, on 6.18 and 7.3); the next tag has
// the same object name with the leak (the captured leak_obj): a regression on both kernels, exit 1,
// a Markdown PR comment with both verdicts, the finding and a kptrscope://run link. Unchanged runs
// (the same nested_rcu capture under both tags) pass; the reverse direction is "fixed", exit 0.
import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureAs, FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('kptrscope-ci-');
const db = join(dir, 'ci.db');

/** A capture of `prog` on `series`, as object `as` (the same object name in two versions). */
function ingestAs(tag: string, series: string, prog: string, as: string): void {
  const c = captureAs(dir, tag, series, prog, as);
  const r = kptrscope(['ingest', c.log, '--btf', c.btf, '--kernel', c.kernel, '--tag', tag, '--db', db]);
  expect(r.status, r.stderr).toBe(0);
}

describe('kptrscope ci report', () => {
  for (const s of ['6.18', '7.3']) {
    ingestAs('base', s, 'leak_obj_fixed', 'leak');
    ingestAs('head', s, 'leak_obj', 'leak');
    ingestAs('base', s, 'nested_rcu', 'nested_rcu');
    ingestAs('head', s, 'nested_rcu', 'nested_rcu');
  }
  ingestAs('head', '7.3', 'list_ops', 'list_ops');

  it('an object that loaded on the baseline and no longer loads: a regression per kernel, exit 1, a PR comment', () => {
    const r = kptrscope(['ci', 'report', '--tag', 'head', '--baseline', 'base', '--db', db]);
    expect(r.status, r.stderr).toBe(1);
    const md = r.stdout;
    expect(md.split('\n')[0]).toBe('### kptrscope: head against base — ❌ 2 regressions');
    expect(md).toContain('2 regressions, 0 changed findings, 0 fixed, 1 new, 0 missing');
    for (const s of ['6.18', '7.3']) {
      expect(md).toMatch(new RegExp(`\\| regression \\| leak\\.bpf\\.o \\| leak_sample \\| ${s.replace('.', '\\.')} \\| accepted \\(22 insns\\) \\| rejected \\(15 insns\\) \\| was accepted, now rejected: leak at insn 15 \\| \\[run \\d+\\]\\(kptrscope://run/\\d+\\) \\|`));
    }
    expect(md).toMatch(/\| new \| list_ops\.bpf\.o \|/);
    // The regression rows come first, then what is only new.
    expect(md.indexOf('| regression |')).toBeLessThan(md.indexOf('| new |'));
  });

  it('JSON, to a file; the same tag against itself passes; the reverse is fixed', () => {
    const out = join(dir, 'r.json');
    expect(kptrscope(['ci', 'report', '--tag', 'head', '--baseline', 'base', '--format', 'json', '-o', out, '--db', db]).status).toBe(1);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.summary).toEqual({ compared: 5, regressions: 2, fixed: 0, changed: 0, new: 1, missing: 0, unchanged: 2 });
    expect(j.changes[0]).toMatchObject({ kind: 'regression', object: 'leak.bpf.o', program: 'leak_sample', baseline: { verdict: 'accepted', insnsProcessed: 22 }, tag: { verdict: 'rejected', finding: { kind: 'leak', insn: 15 } } });
    const same = kptrscope(['ci', 'report', '--tag', 'base', '--baseline', 'base', '--db', db]);
    expect(same.status).toBe(0);
    expect(same.stdout).toContain('✅ no regression');
    const back = kptrscope(['ci', 'report', '--tag', 'base', '--baseline', 'head', '--format', 'json', '--db', db]);
    expect(back.status).toBe(0);
    expect(JSON.parse(back.stdout).summary).toMatchObject({ regressions: 0, fixed: 2, missing: 1 });
  });

  it('a tag without runs, or a bad format, is an error: exit 2, the tag named', () => {
    const none = kptrscope(['ci', 'report', '--tag', 'nope', '--baseline', 'base', '--db', db]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no run is tagged nope');
    expect(kptrscope(['ci', 'report', '--tag', 'head', '--baseline', 'base', '--format', 'xml', '--db', db]).status).toBe(2);
  });
});

// `ci run` captures for real on this machine's kernel (root needed, as for `capture --kernel host`).
const root = typeof process.getuid === 'function' && process.getuid() === 0;
describe.skipIf(!root)('kptrscope ci run (host captures)', () => {
  it('captures under the tag, then gates: the fixed object passes against itself, the leaking version fails', () => {
    const runDb = join(dir, 'run.db');
    const obj = (version: string, prog: string) => {
      const d = join(dir, 'objs', version);
      mkdirSync(d, { recursive: true });
      copyFileSync(join(FIXTURES, 'logs', '6.18', `${prog}.bpf.o`), join(d, 'leak.bpf.o'));
      return join(d, 'leak.bpf.o');
    };
    const base = kptrscope(['ci', 'run', obj('v1', 'leak_obj_fixed'), '--kernel', 'host', '--tag', 'v1', '--baseline', 'v1', '--db', runDb]);
    expect(base.status, base.stderr).toBe(0);
    expect(base.stdout).toContain('✅ no regression');
    const head = kptrscope(['ci', 'run', obj('v2', 'leak_obj'), '--kernel', 'host', '--tag', 'v2', '--baseline', 'v1', '--format', 'json', '--db', runDb]);
    expect(head.status, head.stderr).toBe(1);
    const j = JSON.parse(head.stdout);
    expect(j.summary).toMatchObject({ regressions: 1 });
    expect(j.changes[0]).toMatchObject({ kind: 'regression', object: 'leak.bpf.o', program: 'leak_sample', baseline: { verdict: 'accepted' }, tag: { verdict: 'rejected', finding: { kind: 'leak' } } });
  }, 120_000);
});
if (!root) console.log('kptrscope ci run (host captures): skipped, not root (loading BPF programs needs root)');
