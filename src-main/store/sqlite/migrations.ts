/**
 * Schema migrations: the numbered files in db/migrations (`NNNN-name.sql`), applied in order, one
 * transaction each; `PRAGMA user_version` records the highest applied number.
 *
 * A database whose user_version is newer than the newest migration this build knows is refused with
 * `NewerDatabaseError` (never modified). Never edit a shipped migration: add a new file.
 */
import type Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { NewerDatabaseError } from '../types.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../db/migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export { NewerDatabaseError };

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}-[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

export function latestVersion(migrations = loadMigrations()): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

/** Bring `db` up to date. Returns the versions applied. */
export function migrate(db: Database.Database, path: string, migrations = loadMigrations()): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const known = latestVersion(migrations);
  if (current > known) throw new NewerDatabaseError(path, current, known);
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
