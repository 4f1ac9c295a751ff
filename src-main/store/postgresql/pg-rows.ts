/**
 * Small helpers for the PostgreSQL store's SQL: numbered placeholders, multi-row INSERTs cut to
 * the protocol's parameter limit.
 *
 * Contract: `insertRows(q, table, columns, rows)` inserts every row (each in `columns` order) in as
 * few statements as the 65535-parameter limit allows, nothing when `rows` is empty;
 * `onConflict` is appended verbatim (e.g. `ON CONFLICT DO NOTHING`).
 */
import type pg from 'pg';

export type Queryable = Pick<pg.PoolClient, 'query'>;
export type Value = string | number | boolean | Buffer | null | readonly string[];

const MAX_PARAMS = 60000;

export async function insertRows(q: Queryable, table: string, columns: readonly string[], rows: readonly Value[][], onConflict = ''): Promise<void> {
  const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  for (let i = 0; i < rows.length; i += per) {
    const slice = rows.slice(i, i + per);
    const params: Value[] = [];
    const tuples = slice.map((r) => {
      const marks = r.map((v) => {
        params.push(v);
        return `$${params.length}`;
      });
      return `(${marks.join(', ')})`;
    });
    await q.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ${onConflict}`, params);
  }
}
