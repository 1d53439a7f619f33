/** SQL for retention, the archive and legal holds. No business rules here: see vault/retention. */
import type { Queryable } from './db.js';
import { TOKENS_OF } from './records.js';

const HELD = (id: string) => `EXISTS (SELECT 1 FROM ward_holds h WHERE h.record_id = ${id} AND h.removed_at IS NULL)`;

export async function recordedRetention(q: Queryable): Promise<Map<string, number | null>> {
  const rows = await q.query<{ collection: string; days: number | null }>('SELECT collection, days FROM ward_retention');
  return new Map(rows.map((r) => [r.collection, r.days]));
}

export async function recordRetention(q: Queryable, collection: string, days: number | null): Promise<void> {
  await q.query(
    'INSERT INTO ward_retention (collection, days) VALUES ($1, $2) ON CONFLICT (collection) DO UPDATE SET days = EXCLUDED.days',
    [collection, days],
  );
}

/**
 * Recomputes expires_at (created_at + `days`, or none) for up to `limit` records of a collection
 * after `after` (in id order); returns the last id seen, or undefined when none were left.
 */
export async function reapplyBatch(
  q: Queryable,
  collection: string,
  days: number | null,
  after: string,
  limit: number,
): Promise<{ last: string | undefined; changed: number }> {
  const [row] = await q.query<{ last: string | null; changed: number }>(
    `WITH b AS (SELECT id FROM ward_records WHERE collection = $1 AND id > $2::uuid ORDER BY id LIMIT $4),
     u AS (UPDATE ward_records w SET expires_at = CASE WHEN $3::int IS NULL THEN NULL ELSE w.created_at + make_interval(days => $3::int) END
           FROM b WHERE w.id = b.id
             AND NOT (w.expires_at IS NULL AND ${HELD('w.id')})
             AND w.expires_at IS DISTINCT FROM (CASE WHEN $3::int IS NULL THEN NULL ELSE w.created_at + make_interval(days => $3::int) END)
           RETURNING w.id)
     SELECT (SELECT id::text FROM b ORDER BY id DESC LIMIT 1) AS last, (SELECT count(*)::int FROM u) AS changed`,
    [collection, after, days, limit],
  );
  return { last: row?.last ?? undefined, changed: row?.changed ?? 0 };
}

/**
 * What a purge would do now: expired records (held or not) and archived records past their grace.
 * `changed` (collection, days) are retentions about to be applied: their records' expiry is
 * forecast from their creation time instead of what is stored.
 */
export async function purgeForecast(
  q: Queryable,
  changed: readonly [string, number | null][] = [],
): Promise<{ collection: string; expired: number; held: number; archiveDue: number; archived: number }[]> {
  const expiry = `CASE WHEN c.collection IS NULL THEN r.expires_at
                       WHEN c.days IS NULL THEN NULL ELSE r.created_at + make_interval(days => c.days) END`;
  return q.query(
    `WITH c AS (SELECT * FROM unnest($1::text[], $2::int[]) AS c(collection, days)),
          e AS (SELECT r.collection, count(*) FILTER (WHERE NOT ${HELD('r.id')})::int AS expired,
                       count(*) FILTER (WHERE ${HELD('r.id')})::int AS held
                FROM ward_records r LEFT JOIN c ON c.collection = r.collection
                WHERE ${expiry} <= now() AND NOT (r.expires_at IS NULL AND ${HELD('r.id')}) GROUP BY r.collection),
          a AS (SELECT collection, count(*) FILTER (WHERE purge_after <= now() AND NOT ${HELD('a.id')})::int AS due, count(*)::int AS archived
                FROM ward_records_archive a GROUP BY collection)
     SELECT coalesce(e.collection, a.collection) AS collection, coalesce(e.expired, 0) AS expired, coalesce(e.held, 0) AS held,
            coalesce(a.due, 0) AS "archiveDue", coalesce(a.archived, 0) AS archived
     FROM e FULL JOIN a ON a.collection = e.collection ORDER BY 1`,
    [changed.map(([c]) => c), changed.map(([, d]) => d)],
  );
}

/**
 * Moves up to `limit` expired records no hold keeps into the archive (with their unique entries,
 * restorable until now + `graceSeconds`), removes their lookups, tokens and unique entries, and
 * remembers their ids as gone. Returns what it moved.
 */
export async function archiveExpired(q: Queryable, limit: number, graceSeconds: number): Promise<{ id: string; collection: string }[]> {
  return q.query(
    `WITH v AS (SELECT id FROM ward_records r WHERE expires_at <= now() AND NOT ${HELD('r.id')}
                ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),
     d AS (DELETE FROM ward_records r USING v WHERE r.id = v.id
           RETURNING r.id, r.collection, r.version, r.key_version, r.public, r.sealed, r.tokens, r.lookup, r.created_at, r.updated_at, r.expires_at,
                     r.subject, r.subject_key),
     t AS (DELETE FROM ward_tokens k USING d, json_each_text(d.tokens) AS j WHERE k.record_id = d.id AND k.token = convert_to(j.value, 'UTF8')),
     x AS (INSERT INTO ward_records_archive (id, collection, version, key_version, public, sealed, tokens, lookup, created_at, updated_at,
                                            expires_at, unique_entries, purge_after, subject, subject_key)
           SELECT d.id, d.collection, d.version, d.key_version, d.public, d.sealed, d.tokens, d.lookup, d.created_at, d.updated_at, d.expires_at,
                  '[]', now() + make_interval(secs => $2::double precision), d.subject, d.subject_key
           FROM d),
     g AS (INSERT INTO ward_gone (id, collection) SELECT id, collection FROM d ON CONFLICT (id) DO NOTHING)
     SELECT id::text AS id, collection FROM d ORDER BY collection, id`,
    [limit, graceSeconds],
  );
}

/** Removes for good up to `limit` archived records past their grace that no hold keeps, and the unique values they kept. */
export async function removeArchived(q: Queryable, limit: number): Promise<{ id: string; collection: string }[]> {
  return q.query(
    `WITH d AS (DELETE FROM ward_records_archive WHERE id IN (
       SELECT id FROM ward_records_archive a WHERE purge_after <= now() AND NOT ${HELD('a.id')}
       ORDER BY purge_after LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING id, collection),
     u AS (DELETE FROM ward_unique WHERE record_id IN (SELECT id FROM d))
     SELECT id::text AS id, collection FROM d`,
    [limit],
  );
}

/** Puts an archived record back (within its grace), its expiry cleared (a hold keeps it), with its tokens; its collection, or undefined. */
export async function restoreArchived(q: Queryable, id: string): Promise<string | undefined> {
  const [row] = await q.query<{ collection: string }>(
    `WITH a AS (DELETE FROM ward_records_archive WHERE id = $1 AND purge_after > now() RETURNING *),
     r AS (INSERT INTO ward_records (id, collection, version, key_version, public, sealed, tokens, lookup, created_at, updated_at, expires_at,
                                    subject, subject_key)
           SELECT id, collection, version, key_version, public, sealed, tokens, lookup, created_at, now(), NULL, subject, subject_key FROM a
           RETURNING id, collection, tokens),
     t AS (${TOKENS_OF('r')}),
     g AS (DELETE FROM ward_gone WHERE id = $1)
     SELECT collection FROM a`,
    [id],
  );
  return row?.collection;
}

/**
 * Where a record is: served (live or expired), archived (within its grace), or nowhere. Inside a
 * transaction, `lock` keeps the purge (which skips locked rows) from moving it until commit.
 */
export async function recordPlace(q: Queryable, collection: string, id: string, lock = false): Promise<'records' | 'archive' | undefined> {
  const how = lock ? ' FOR KEY SHARE' : '';
  if ((await q.query(`SELECT 1 FROM ward_records WHERE id = $1 AND collection = $2${how}`, [id, collection])).length) return 'records';
  const archived = await q.query(`SELECT 1 FROM ward_records_archive WHERE id = $1 AND collection = $2 AND purge_after > now()${how}`, [
    id,
    collection,
  ]);
  return archived.length ? 'archive' : undefined;
}

/** Whether a hold keeps the record. */
export async function isHeld(q: Queryable, id: string): Promise<boolean> {
  return (await q.query(`SELECT 1 WHERE ${HELD('$1::uuid')}`, [id])).length > 0;
}

export interface HoldRow {
  id: string;
  collection: string;
  recordId: string;
  reason: string;
  createdAt: Date;
  createdBy: string;
}

export async function insertHold(
  q: Queryable,
  h: { id: string; collection: string; recordId: string; reason: string; by: string },
): Promise<void> {
  await q.query('INSERT INTO ward_holds (id, collection, record_id, reason, created_by) VALUES ($1, $2, $3, $4, $5)', [
    h.id,
    h.collection,
    h.recordId,
    h.reason,
    h.by,
  ]);
}

export async function selectHolds(q: Queryable): Promise<HoldRow[]> {
  const rows = await q.query(
    `SELECT id::text AS id, collection, record_id::text AS record_id, reason, created_at, created_by
     FROM ward_holds WHERE removed_at IS NULL ORDER BY created_at`,
  );
  return rows.map((r) => ({
    id: r.id as string,
    collection: r.collection as string,
    recordId: r.record_id as string,
    reason: r.reason as string,
    createdAt: r.created_at as Date,
    createdBy: r.created_by as string,
  }));
}

/** Ends a hold; the held record's collection and id, or undefined when no such hold is in force. */
export async function removeHold(q: Queryable, id: string, by: string): Promise<{ collection: string; recordId: string } | undefined> {
  const [row] = await q.query<{ collection: string; record_id: string }>(
    `UPDATE ward_holds SET removed_at = now(), removed_by = $2 WHERE id = $1 AND removed_at IS NULL
     RETURNING collection, record_id::text AS record_id`,
    [id, by],
  );
  return row && { collection: row.collection, recordId: row.record_id };
}

/** A record no hold keeps any more gets its collection's expiry again (`days` null: none). */
export async function restoreExpiry(q: Queryable, id: string, days: number | null): Promise<void> {
  await q.query(
    `UPDATE ward_records SET expires_at = CASE WHEN $2::int IS NULL THEN NULL ELSE created_at + make_interval(days => $2::int) END
     WHERE id = $1 AND expires_at IS NULL AND NOT ${HELD('$1::uuid')}`,
    [id, days],
  );
}
