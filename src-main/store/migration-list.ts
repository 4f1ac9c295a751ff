/**
 * The one list of schema migrations, for every backend: `db/migrations/NNNN-name.sql` (SQLite)
 * and its twin `NNNN-name.pg.sql` (PostgreSQL), the same version in each dialect.
 *
 * Contract: `loadMigrations(dialect)` gives that dialect's migrations in version order;
 * `latestVersion()` is the highest version. A version present in one dialect but not the other is
 * an error at load (a build that could migrate one backend further than the other would give two
 * schemas under one version number). Never edit a shipped migration: add a new numbered pair.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url));

export type Dialect = 'sqlite' | 'postgresql';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d{4})-([\w-]+?)(\.pg)?\.sql$/;

export function loadMigrations(dialect: Dialect, dir = MIGRATIONS_DIR): Migration[] {
  const byDialect: Record<Dialect, Map<number, string>> = { sqlite: new Map(), postgresql: new Map() };
  for (const f of readdirSync(dir).sort()) {
    const m = FILE.exec(f);
    if (!m) continue;
    byDialect[m[3] ? 'postgresql' : 'sqlite'].set(Number(m[1]), f);
  }
  const versions = new Set([...byDialect.sqlite.keys(), ...byDialect.postgresql.keys()]);
  for (const v of versions) {
    for (const d of ['sqlite', 'postgresql'] as const) {
      if (!byDialect[d].has(v)) throw new Error(`${dir}: migration ${String(v).padStart(4, '0')} has no ${d} file (each version needs NNNN-name.sql and NNNN-name.pg.sql)`);
    }
  }
  return [...byDialect[dialect].entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([version, name]) => ({ version, name, sql: readFileSync(join(dir, name), 'utf8') }));
}

export function latestVersion(migrations: readonly Migration[] = loadMigrations('sqlite')): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}
