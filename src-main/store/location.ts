/**
 * Where the store is by default, and how a location is shown: without loading any database driver
 * (Electron's main process imports this and must never load SQLite, built for another ABI).
 *
 * Contract: `defaultStoreLocation()` is `$KPTRSCOPE_DB` when set, else
 * `$XDG_DATA_HOME/kptrscope/kptrscope.db` (`~/.local/share/…`); `redactLocation(url)` replaces a
 * URL's password with `***` (for messages, logs and JSON).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultStoreLocation(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KPTRSCOPE_DB && env.KPTRSCOPE_DB !== '') return env.KPTRSCOPE_DB;
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'kptrscope', 'kptrscope.db');
}

/** The location with any password replaced by `***` (for messages, logs and JSON). */
export function redactLocation(location: string): string {
  return location.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/, '$1:***@');
}
