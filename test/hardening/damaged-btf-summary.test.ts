// A run whose stored BTF summary is damaged (not JSON, or JSON of the wrong shape), through the real
// command (`node bin/kptrscope.mjs`): `replay` and `export` of that run exit 1 with one line naming
// the run and the damaged summary — no SyntaxError, no stack trace — and leave the file untouched.
import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { STACK_TRACE } from './proc.ts';

const dir = tempDir('kptrscope-btf-damage-');
const good = join(dir, 'good.db');
let runId = 0;

/** Every byte of the database and its WAL (a read must leave both as they were). */
function bytesOf(db: string): Buffer {
  return Buffer.concat([readFileSync(db), existsSync(`${db}-wal`) ? readFileSync(`${db}-wal`) : Buffer.alloc(0)]);
}

beforeAll(() => {
  const r = kptrscope(['ingest', join(LOGS_618, 'local_kptr_stash.bpftool.log'), '--btf', join(LOGS_618, 'local_kptr_stash.btf.txt'), '--db', good, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  runId = (JSON.parse(r.stdout) as { runs: { id: number }[] }).runs[0]!.id;
  // The undamaged run replays and exports (the control for the cases below).
  expect(kptrscope(['replay', String(runId), '--db', good]).status).toBe(0);
  expect(kptrscope(['export', String(runId), '--format', 'dot', '-o', join(dir, 'good.dot'), '--db', good]).status).toBe(0);
});

/** A copy of the good database whose run's BTF summary text is `json`. */
function damaged(name: string, json: string): string {
  const path = join(dir, `${name}.db`);
  copyFileSync(good, path);
  const h = new Database(path);
  const n = h.prepare('UPDATE btf_files SET summary_json = ? WHERE id IN (SELECT btf_id FROM run_btf WHERE run_id = ?)').run(json, runId).changes;
  h.pragma('wal_checkpoint(TRUNCATE)');
  h.close();
  expect(n).toBe(1);
  return path;
}

const summary = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;
const stored = (): string => {
  const h = new Database(good, { readonly: true });
  try {
    return (h.prepare('SELECT summary_json FROM btf_files').get() as { summary_json: string }).summary_json;
  } finally {
    h.close();
  }
};

const CASES: [string, () => string][] = [
  ['truncated JSON', () => stored().slice(0, 40)],
  ['not JSON at all', () => 'not json {'],
  ['JSON null', () => 'null'],
  ['a JSON array', () => '[1,2,3]'],
  ['structs not an array', () => JSON.stringify({ ...summary(stored()), structs: 'oops' })],
  ['a special field of an unknown kind', () => stored().replace(/"kind":"kptr"/, '"kind":"kptr_from_the_future"')],
  ['no source', () => JSON.stringify({ ...summary(stored()), source: undefined })],
  ['a global section with an unknown layout', () => stored().replace(/"layoutSource":"btf"/, '"layoutSource":"guessed"')],
  ['a number', () => '42'],
];

describe('a damaged stored BTF summary', () => {
  for (const [name, make] of CASES) {
    it(`${name}: replay and export say so in one line, exit 1, and do not modify the database`, () => {
      const text = make();
      // The edit really changed the stored text (what it replaces is in this fixture's summary).
      expect(text).not.toBe(stored());
      const db = damaged(name.replace(/\W+/g, '-'), text);
      const before = bytesOf(db);
      const out = join(dir, `${name.replace(/\W+/g, '-')}.svg`);
      for (const args of [
        ['replay', String(runId), '--db', db],
        ['replay', String(runId), '--db', db, '--json'],
        ['replay', String(runId), '--force', '--db', db],
        ['export', String(runId), '--format', 'svg', '-o', out, '--db', db],
      ]) {
        const r = kptrscope(args);
        const what = `${args.join(' ')}: ${r.stderr}`;
        expect(r.status, what).toBe(1);
        expect(r.stdout, what).toBe('');
        expect(r.stderr, what).toMatch(new RegExp(`^kptrscope: .*database is corrupt \\(the stored BTF summary of run ${runId} is damaged: .*\\); it was not modified\\n$`));
        expect(r.stderr.split('\n'), what).toHaveLength(2); // one line and its newline
        expect(r.stderr, what).not.toMatch(/SyntaxError|ZodError|TypeError/);
        expect(r.stderr, what).not.toMatch(STACK_TRACE);
        expect(existsSync(out), what).toBe(false);
        expect(bytesOf(db).equals(before), `${what}: the database was modified`).toBe(true);
      }
    });
  }
});
