// Where the store is: a path opens SQLite; a location this build cannot serve is one clear line and
// creates nothing (it used to create a folder named `postgresql:` with an SQLite file in it).
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, defaultStoreLocation, redactLocation } from '../../src-main/store/open-store.ts';
import { DatabaseOpenError } from '../../src-main/store/types.ts';
import { tempDir } from '../helpers/tmp.ts';
import { kptrscope } from '../helpers/cli.ts';

describe('openStore', () => {
  it('a file path (or file: URL) is an SQLite store, created and migrated', async () => {
    const dir = tempDir('kptrscope-open-');
    const s = await openStore(join(dir, 'a.db'));
    expect(s.kind).toBe('sqlite');
    expect(await s.listRuns()).toEqual([]);
    await s.close();
    const u = await openStore(`file://${join(dir, 'b.db')}`);
    expect(u.kind).toBe('sqlite');
    await u.close();
    expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(['a.db', 'b.db']));
  });

  it('an unknown scheme is one line naming it, and nothing is created', async () => {
    await expect(openStore('redis://localhost/0')).rejects.toThrow(DatabaseOpenError);
    await expect(openStore('redis://localhost/0')).rejects.toThrow(/^redis:\/\/localhost\/0: not a database location/);
  });

  it('KPTRSCOPE_DB is the default location', () => {
    expect(defaultStoreLocation({ KPTRSCOPE_DB: '/x/y.db' })).toBe('/x/y.db');
    expect(defaultStoreLocation({ XDG_DATA_HOME: '/d' })).toBe('/d/kptrscope/kptrscope.db');
  });

  it('a password never appears in a shown location', () => {
    expect(redactLocation('postgresql://kp:s3cret@db.example:5432/kp?sslmode=require')).toBe('postgresql://kp:***@db.example:5432/kp?sslmode=require');
    expect(redactLocation('postgresql://kp@db/kp')).toBe('postgresql://kp@db/kp');
  });
});

describe('the CLI with a location it cannot serve', () => {
  it('exits 1 with one line, without the password, and creates no folder', () => {
    const dir = tempDir('kptrscope-nodb-');
    const r = kptrscope(['runs', '--db', 'bogus://kp:s3cret@host/db']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('s3cret');
    expect(existsSync(join(process.cwd(), 'bogus:'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
