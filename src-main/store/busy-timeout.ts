/**
 * How long a writer waits for another writer's lock before giving up, for every backend: 15 s, or
 * `$KPTRSCOPE_BUSY_TIMEOUT_MS` (a non-negative integer). SQLite uses it as its busy timeout,
 * PostgreSQL as the lock timeout of the store's write lock.
 */
export function defaultBusyTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.KPTRSCOPE_BUSY_TIMEOUT_MS;
  return v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : 15000;
}
