// Tags on runs (`--tag`, e.g. a git commit) and the `runs` filters (--tag, --object, --kernel), on
// real captures: a log ingested again under another tag is the same run with both tags.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('kptrscope-tags-');
const L = (s: string, n: string) => join(FIXTURES, 'logs', s, `${n}.bpftool.log`);
const K = (s: string) => readFileSync(join(FIXTURES, 'logs', s, 'KERNEL'), 'utf8').trim();

describe('tags and run filters', () => {
  it('ingest --tag stores tags; runs --tag/--object/--kernel filter; a duplicate gains the new tag', () => {
    const db = join(dir, 't.db');
    const ingest = (s: string, n: string, tag: string) => {
      const r = kptrscope(['ingest', L(s, n), '--btf', join(FIXTURES, 'logs', s, `${n}.bpf.o`), '--kernel', K(s), '--tag', tag, '--db', db, '--json']);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout).runs[0].id as number;
    };
    const a = ingest('6.18', 'nested_rcu', 'abc123');
    const b = ingest('7.3', 'nested_rcu', 'abc123');
    const c = ingest('7.3', 'leak_obj', 'def456');
    expect(ingest('7.3', 'nested_rcu', 'def456')).toBe(b);
    const runs = (...args: string[]) => (JSON.parse(kptrscope(['runs', '--db', db, '--json', ...args]).stdout).runs as { id: number; tags: string[] }[]);
    expect(runs().map((r) => [r.id, r.tags])).toEqual([[a, ['abc123']], [b, ['abc123', 'def456']], [c, ['def456']]]);
    expect(runs('--tag', 'abc123').map((r) => r.id)).toEqual([a, b]);
    expect(runs('--tag', 'def456').map((r) => r.id)).toEqual([b, c]);
    expect(runs('--tag', 'nope')).toEqual([]);
    expect(runs('--object', 'nested_rcu.bpf.o').map((r) => r.id)).toEqual([a, b]);
    expect(runs('--object', 'leak_obj').map((r) => r.id)).toEqual([c]);
    expect(runs('--kernel', '7.3').map((r) => r.id)).toEqual([b, c]);
    expect(runs('--kernel', K('6.18')).map((r) => r.id)).toEqual([a]);
    expect(runs('--kernel', '7.3', '--tag', 'abc123', '--object', 'nested_rcu').map((r) => r.id)).toEqual([b]);
    expect(kptrscope(['runs', '--db', db, '--tag', 'def456']).stdout).toMatch(/leak_obj\.bpftool\.log .*\[def456\]/);
  });
});
