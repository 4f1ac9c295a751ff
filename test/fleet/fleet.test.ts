// The CI fleet on a real PostgreSQL server with real captures: two workers on this machine share
// the queue and finish 4 objects × 2 kernels (the host and Debian's 7.3 cloud kernel under QEMU);
// submitting again queues nothing; and `ci run` on PostgreSQL (submit + work + wait + report) fails
// the gate on a real regression — an object that loads under one tag and not under the next — and
// passes when nothing changed.
import { it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope, startKptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { describePg, freshPgDatabase, type FreshPgDatabase } from '../support/pg.ts';

const dir = tempDir('kptrscope-fleet-');
const OBJ = (name: string) => join(FIXTURES, 'logs', '7.3', `${name}.bpf.o`);
const OBJECTS = ['leak_obj', 'leak_obj_fixed', 'double_drop', 'nested_rcu'].map(OBJ);
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status === 0;
const KERNELS = hasQemu ? ['host', '7.3-cloud'] : ['host'];
if (!hasQemu) console.warn('test/fleet/fleet.test.ts: no qemu-system-x86_64: the 4 × 2 job set runs on the host kernel only (apt-get install qemu-system-x86)');

/** `name.bpf.o` in its own directory: the same object name in two versions. */
function as(name: string, from: string, sub: string): string {
  const d = join(dir, sub);
  mkdirSync(d, { recursive: true });
  copyFileSync(OBJ(from), join(d, `${name}.bpf.o`));
  return join(d, `${name}.bpf.o`);
}

describePg('the CI fleet: a queue on PostgreSQL, workers, the gate', () => {
  let db: FreshPgDatabase;
  beforeAll(async () => {
    db = await freshPgDatabase();
  });
  afterAll(() => db?.drop());

  it(`two workers share the queue and finish 4 objects × ${KERNELS.length} kernels`, async () => {
    const submit = kptrscope(['ci', 'submit', ...OBJECTS, ...KERNELS.flatMap((k) => ['--kernel', k]), '--tag', 'head', '--db', db.url, '--json']);
    expect(submit.status, submit.stderr).toBe(0);
    expect(JSON.parse(submit.stdout)).toMatchObject({ tag: 'head', queued: 4 * KERNELS.length, alreadyQueued: 0 });
    const again = JSON.parse(kptrscope(['ci', 'submit', ...OBJECTS, ...KERNELS.flatMap((k) => ['--kernel', k]), '--tag', 'head', '--db', db.url, '--json']).stdout);
    expect(again).toMatchObject({ queued: 0, alreadyQueued: 4 * KERNELS.length });

    const workers = [0, 1].map(() => startKptrscope(['worker', '--db', db.url, '-j', '1', '--idle-exit', '4']));
    const wait = kptrscope(['ci', 'wait', '--tag', 'head', '--timeout', '1200', '--db', db.url, '--json']);
    expect(wait.status, wait.stderr).toBe(0);
    expect(JSON.parse(wait.stdout)).toMatchObject({ total: 4 * KERNELS.length, completed: 4 * KERNELS.length, failed: 0 });
    expect(wait.stderr).toMatch(/ci wait: head: \d+\/8 completed/);
    const ended = await Promise.all(workers.map((w) => w.done));
    const stored = ended.map((r) => (r.stderr.match(/^worker: stored run \d+/gm) ?? []).length);
    for (const [i, r] of ended.entries()) {
      expect(r.status, r.stderr).toBe(0);
      // both took jobs
      expect(stored[i], r.stderr).toBeGreaterThan(0);
    }
    expect(stored[0]! + stored[1]!).toBe(4 * KERNELS.length);

    const runs = JSON.parse(kptrscope(['runs', '--tag', 'head', '--db', db.url, '--json']).stdout).runs as { kernel: string; source: string; programs: { verdict: string }[] }[];
    expect(runs).toHaveLength(4 * KERNELS.length);
    if (hasQemu) expect(runs.filter((r) => /^7\.3\.\d+\+deb\d+-cloud-amd64$/.test(r.kernel))).toHaveLength(4);
    const verdicts = new Map(runs.map((r) => [`${r.source.replace(/^.*\//, '')}@${r.kernel}`, r.programs.map((p) => p.verdict).join(',')]));
    // nested_rcu is rejected before 6.19 (the rcuNesting rule), accepted on 7.3
    for (const [k, v] of verdicts) expect(v, k).toBe(/leak_obj\.|double_drop|nested_rcu.*@6\./.test(k) ? 'rejected' : 'accepted');
  }, 1_500_000);

  it('ci run on PostgreSQL: a real regression fails the gate (exit 1), the same objects again pass (exit 0)', () => {
    const base = [as('leak', 'leak_obj_fixed', 'base'), as('nested_rcu', 'nested_rcu', 'base')];
    const head = [as('leak', 'leak_obj', 'head2'), as('nested_rcu', 'nested_rcu', 'head2')];
    const b = kptrscope(['ci', 'run', ...base, '--kernel', 'host', '--tag', 'base', '--baseline', 'base', '-j', '2', '--db', db.url]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/ci run: 2 job\(s\) queued under base/);
    const h = kptrscope(['ci', 'run', ...head, '--kernel', 'host', '--tag', 'pr-1', '--baseline', 'base', '--db', db.url]);
    expect(h.status, h.stderr).toBe(1);
    expect(h.stdout.split('\n')[0]).toMatch(/^### kptrscope: pr-1 against base — ❌ 1 regression/);
    expect(h.stdout).toMatch(/\| regression \| leak\.bpf\.o \| leak_sample \| 6\.18 \| accepted \(\d+ insns\) \| rejected \(\d+ insns\) \| was accepted, now rejected: leak at insn \d+ \|/);
    const same = kptrscope(['ci', 'run', ...base, '--kernel', 'host', '--tag', 'pr-2', '--baseline', 'base', '--format', 'json', '--db', db.url]);
    expect(same.status, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout).summary.regressions).toBe(0);
  }, 600_000);

  it('the queue commands refuse an SQLite store with a clear error', () => {
    const r = kptrscope(['ci', 'submit', OBJECTS[0]!, '--kernel', 'host', '--tag', 'x', '--db', join(dir, 'lite.db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ci submit needs a PostgreSQL store/);
  });
});
