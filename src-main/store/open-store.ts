/**
 * Where the database is and which backend serves it: the one entry point every host opens its
 * store through.
 *
 * Contract: `openStore(location)` opens a `Store`: an SQLite file path or `file:` URL (created and
 * migrated when missing; the default is `defaultStoreLocation()`, `$KPTRSCOPE_DB` when set, else
 * `$XDG_DATA_HOME/kptrscope/kptrscope.db`), or a PostgreSQL server (`postgresql://…` or
 * `postgres://…`, libpq's URL form: credentials from the URL, `PGPASSWORD` or `~/.pgpass`,
 * `sslmode`), migrated on open. A location of a scheme it does not know is a one-line
 * `DatabaseOpenError`, never a file or folder created under that name.
 */
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { DatabaseOpenError, type Store } from './types.ts';
import type { OpenOptions } from './sqlite/connection.ts';
import { defaultStoreLocation, redactLocation } from './location.ts';

export { defaultStoreLocation, redactLocation };

/** `scheme:` of a URL-looking location (`postgresql://…`, `file:…`), else null (a path). */
function schemeOf(location: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(location);
  // A Windows drive letter (C:\…) is a path, not a scheme.
  return m && (m[1] as string).length > 1 ? (m[1] as string).toLowerCase() : null;
}

export async function openStore(location: string = defaultStoreLocation(), opts: OpenOptions = {}): Promise<Store> {
  const scheme = schemeOf(location);
  if (scheme === null) return SqliteStore.open(location, opts);
  if (scheme === 'file') return SqliteStore.open(new URL(location).pathname, opts);
  if (scheme === 'postgres' || scheme === 'postgresql') {
    // Loaded only when asked for: a desktop user's SQLite store never loads the pg driver.
    const { PgStore } = await import('./postgresql/pg-store.ts');
    return PgStore.open(location);
  }
  throw new DatabaseOpenError(`${redactLocation(location)}: not a database location kptrscope knows (a file path, or postgresql://…)`);
}
