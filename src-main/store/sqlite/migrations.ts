/**
 * Schema migrations of an SQLite database: the SQLite files of the one migration list
 * (store/migration-list.ts), applied in order, one transaction each; `PRAGMA user_version` records
 * the highest applied number.
 *
 * A database whose user_version is newer than the newest migration this build knows is refused with
 * `NewerDatabaseError` (never modified).
 */
import type Database from 'better-sqlite3';
import { NewerDatabaseError } from '../types.ts';
import { latestVersion, loadMigrations as loadFor, MIGRATIONS_DIR, type Migration } from '../migration-list.ts';

export { MIGRATIONS_DIR, NewerDatabaseError, type Migration };

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return loadFor('sqlite', dir);
}

export { latestVersion };

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
