/** SQL for the end of a space. No business rules here: see vault/destroy. */
import type { Queryable } from './db.js';

/** Records per collection, served and archived. */
export async function recordCounts(q: Queryable): Promise<{ collection: string; records: number; archived: number }[]> {
  return q.query(
    `WITH r AS (SELECT collection, count(*)::int AS n FROM ward_records GROUP BY collection),
          a AS (SELECT collection, count(*)::int AS n FROM ward_records_archive GROUP BY collection)
     SELECT coalesce(r.collection, a.collection) AS collection, coalesce(r.n, 0) AS records, coalesce(a.n, 0) AS archived
     FROM r FULL JOIN a ON a.collection = r.collection ORDER BY 1`,
  );
}

/** Deletes every data and index key; returns what was destroyed. */
export async function destroyKeys(q: Queryable): Promise<{ collection: string; purpose: string; version: number }[]> {
  return q
    .query('DELETE FROM ward_keys RETURNING collection, purpose, version')
    .then((rows) =>
      (rows as { collection: string; purpose: string; version: number }[]).sort(
        (a, b) => a.collection.localeCompare(b.collection) || a.purpose.localeCompare(b.purpose) || a.version - b.version,
      ),
    );
}

export async function markDestroyed(q: Queryable): Promise<Date> {
  const [row] = await q.query<{ destroyed_at: Date }>('UPDATE ward_space SET destroyed_at = now() RETURNING destroyed_at');
  if (!row) throw new Error('the database records no space');
  return row.destroyed_at;
}

/** When the space was destroyed, if it was. */
export async function destroyedAt(q: Queryable): Promise<Date | undefined> {
  const [row] = await q.query<{ destroyed_at: Date | null }>('SELECT destroyed_at FROM ward_space');
  return row?.destroyed_at ?? undefined;
}

export async function keysLeft(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_keys');
  return row?.n ?? 0;
}

/** The master key check value (hex) the database records. */
export async function masterCheck(q: Queryable): Promise<string> {
  const [row] = await q.query<{ hex: string }>("SELECT encode(check_value, 'hex') AS hex FROM ward_master_check");
  return row?.hex ?? '';
}
