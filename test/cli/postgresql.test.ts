// Every command on a real PostgreSQL server gives what it gives on SQLite: the same captures
// ingested (with BTF, replayed, tagged) into an SQLite file and into a PostgreSQL database, then
// runs, show, replay, compare, matrix, export, ci report and copy — the same stdout (locations
// aside), the same exit status. And `copy` moves runs SQLite → PostgreSQL → SQLite losing nothing.
import { it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureAs, FIXTURES } from '../helpers/fixtures.ts';
import { kptrscope, type CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { dumpStore } from '../helpers/store-dump.ts';
import { describePg, freshPgDatabase, type FreshPgDatabase } from '../support/pg.ts';
import { openStore } from '../../src-main/store/open-store.ts';

const dir = tempDir('kptrscope-pgcli-');

/** The logs both stores get: the ci-report pair (one object in two versions), and a 7.3 qdisc. */
function inputs(): { log: string; btf: string; kernel: string; tag: string }[] {
  const out: { log: string; btf: string; kernel: string; tag: string }[] = [];
  const as = (tag: string, series: string, prog: string, name: string) => out.push({ ...captureAs(dir, tag, series, prog, name), tag });
  for (const s of ['6.18', '7.3']) {
    as('base', s, 'leak_obj_fixed', 'leak');
    as('head', s, 'leak_obj', 'leak');
    as('base', s, 'nested_rcu', 'nested_rcu');
    as('head', s, 'nested_rcu', 'nested_rcu');
  }
  as('head', '7.3', 'qdisc_fifo', 'qdisc_fifo');
  return out;
}

describePg('every command on PostgreSQL as on SQLite', () => {
  let pgdb: FreshPgDatabase;
  let copydb: FreshPgDatabase;
  const lite = join(dir, 'lite.db');
  const runOn = (db: string, args: string[]): CliResult => {
    const r = kptrscope([...args, '--db', db]);
    const scrub = (s: string) => s.split(db).join('<db>').replace(/"(createdAt|created_at)": "[^"]+"/g, '"$1": "<t>"').replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+Z?)?/g, '<t>');
    return { status: r.status, stdout: scrub(r.stdout), stderr: scrub(r.stderr) };
  };
  const same = (args: string[], status = 0): CliResult => {
    const a = runOn(lite, args);
    const b = runOn(pgdb.url, args);
    expect(a.status, `${args.join(' ')} on SQLite: ${a.stderr}`).toBe(status);
    expect(b.status, `${args.join(' ')} on PostgreSQL: ${b.stderr}`).toBe(status);
    expect(b.stdout, args.join(' ')).toBe(a.stdout);
    return b;
  };

  beforeAll(async () => {
    pgdb = await freshPgDatabase();
    copydb = await freshPgDatabase();
    for (const i of inputs()) same(['ingest', i.log, '--btf', i.btf, '--kernel', i.kernel, '--tag', i.tag, '--replay', '--json']);
  }, 600_000);
  afterAll(async () => {
    await pgdb?.drop();
    await copydb?.drop();
  });

  it('runs, show, replay, compare, matrix and export', () => {
    const runs = (JSON.parse(same(['runs', '--json']).stdout) as { runs: { id: number; tags: string[] }[] }).runs;
    expect(runs).toHaveLength(7); // the same nested_rcu capture under both tags is one run
    expect(JSON.parse(same(['runs', '--tag', 'head', '--kernel', '7.3', '--json']).stdout).runs).toHaveLength(3);
    same(['runs', '--object', 'leak']);
    same(['show', '2', '--json']);
    same(['show', '7', '--kind', 'error,insn']);
    const replay = JSON.parse(same(['replay', '2', '--json']).stdout) as { programs: { modelVerdict: string }[] };
    expect(replay.programs[0]!.modelVerdict).toBe('rejected');
    same(['replay', '7']);
    same(['compare', '1', '2', '--json']);
    same(['matrix', '1', '2', '4', '5', '--json']);
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect(runOn(lite, ['export', '2', '--error', '--format', 'json', '-o', a]).status).toBe(0);
    expect(runOn(pgdb.url, ['export', '2', '--error', '--format', 'json', '-o', b]).status).toBe(0);
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
  });

  it('the gate: a regression is exit 1 on both, the same report', () => {
    const r = same(['ci', 'report', '--tag', 'head', '--baseline', 'base'], 1);
    expect(r.stdout).toContain('2 regressions');
    same(['ci', 'report', '--tag', 'base', '--baseline', 'base', '--format', 'json'], 0);
    same(['ci', 'report', '--tag', 'nope', '--baseline', 'base'], 2);
  });

  it('copy: SQLite → PostgreSQL → a new SQLite file, losing nothing; a tag copies only its runs; again copies nothing', async () => {
    const back = join(dir, 'back.db');
    const up = kptrscope(['copy', '--from', lite, '--to', copydb.url, '--json']);
    expect(up.status, up.stderr).toBe(0);
    const upJson = JSON.parse(up.stdout) as { copied: number; alreadyThere: number; to: string };
    expect(upJson).toMatchObject({ copied: 7, alreadyThere: 0 });
    const password = /:\/\/[^:]+:([^@]+)@/.exec(copydb.url)![1]!;
    expect(up.stdout + up.stderr).not.toContain(password);
    expect(upJson.to).toContain(':***@');
    const down = kptrscope(['copy', '--from', copydb.url, '--to', back, '--json']);
    expect(down.status, down.stderr).toBe(0);
    const stores = await Promise.all([lite, copydb.url, back].map((l) => openStore(l)));
    try {
      const [d0, d1, d2] = await Promise.all(stores.map((s) => dumpStore(s)));
      expect(Object.keys(d0!)).toHaveLength(7);
      expect(d1).toEqual(d0);
      expect(d2).toEqual(d0);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    // the copy answers as the original does
    expect(runOn(back, ['replay', '2', '--json']).stdout).toBe(runOn(lite, ['replay', '2', '--json']).stdout);
    const again = JSON.parse(kptrscope(['copy', '--from', lite, '--to', copydb.url, '--json']).stdout) as { copied: number; alreadyThere: number };
    expect(again).toMatchObject({ copied: 0, alreadyThere: 7 });
    const onlyBase = join(dir, 'base.db');
    const tagged = JSON.parse(kptrscope(['copy', '--from', copydb.url, '--to', onlyBase, '--tag', 'base', '--json']).stdout) as { copied: number };
    expect(tagged.copied).toBe(4);
    expect(JSON.parse(runOn(onlyBase, ['runs', '--json']).stdout).runs.every((r: { tags: string[] }) => r.tags.includes('base'))).toBe(true);
  }, 300_000);

  it('capture stores its run on PostgreSQL as on SQLite', () => {
    const obj = join(FIXTURES, 'logs', '6.18', 'leak_obj_fixed.bpf.o');
    const on = (db: string, out: string) => {
      const r = kptrscope(['capture', obj, '--kernel', 'host', '--tag', 'captured', '--out', join(dir, out), '--db', db, '--json']);
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(kptrscope(['runs', '--tag', 'captured', '--json', '--db', db]).stdout) as { runs: { kernel: string; programs: { name: string; verdict: string }[] }[] }).runs;
    };
    const a = on(lite, 'cap-lite');
    const b = on(pgdb.url, 'cap-pg');
    expect(b).toHaveLength(1);
    expect(b.map((r) => [r.kernel, r.programs])).toEqual(a.map((r) => [r.kernel, r.programs]));
    expect(b[0]!.programs).toEqual([expect.objectContaining({ name: 'leak_sample', verdict: 'accepted' })]);
  }, 120_000);
});
