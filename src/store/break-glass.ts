/** SQL for break-glass uses. No business rules here: see vault/break-glass. */
import type { Queryable } from './db.js';

export interface BreakGlassRow {
  id: string;
  actor: string;
  role: string;
  reason: string;
  startedAt: Date;
  endsAt: Date;
  reviewedAt: Date | null;
  reviewedBy: string | null;
  reviewNote: string | null;
  /** Audit events written under the use (allowed accesses; a refusal's row carries its code instead). */
  accesses: number;
}

const toRow = (r: Record<string, unknown>): BreakGlassRow => ({
  id: r.id as string,
  actor: r.actor as string,
  role: r.role as string,
  reason: r.reason as string,
  startedAt: r.started_at as Date,
  endsAt: r.ends_at as Date,
  reviewedAt: (r.reviewed_at as Date | null) ?? null,
  reviewedBy: (r.reviewed_by as string | null) ?? null,
  reviewNote: (r.review_note as string | null) ?? null,
  accesses: Number(r.accesses ?? 0),
});

/** Serializes the opening of uses by one actor (inside a transaction). */
export async function lockActor(q: Queryable, actor: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(hashtextextended('ward_break_glass:' || $1, 0))", [actor]);
}

/** The actor's use whose window is still open, if any. */
export async function selectOpenUse(q: Queryable, actor: string): Promise<{ id: string; endsAt: Date } | undefined> {
  const [row] = await q.query<{ id: string; ends_at: Date }>(
    'SELECT id::text AS id, ends_at FROM ward_break_glass WHERE actor = $1 AND ends_at > now() ORDER BY ends_at DESC LIMIT 1',
    [actor],
  );
  return row && { id: row.id, endsAt: row.ends_at };
}

export async function countUnreviewed(q: Queryable, actor: string): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_break_glass WHERE actor = $1 AND reviewed_at IS NULL', [
    actor,
  ]);
  return row?.n ?? 0;
}

export async function insertUse(
  q: Queryable,
  u: { id: string; actor: string; role: string; reason: string; windowMs: number },
): Promise<Date> {
  const [row] = await q.query<{ ends_at: Date }>(
    `INSERT INTO ward_break_glass (id, actor, role, reason, ends_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::double precision / 1000)) RETURNING ends_at`,
    [u.id, u.actor, u.role, u.reason, u.windowMs],
  );
  if (!row) throw new Error('break-glass insert returned no row');
  return row.ends_at;
}

/**
 * Uses, newest first, each with its number of audit events (looked up by time, through the
 * audit trail's index on it: a request under a use is answered well within an hour of its end).
 */
export async function selectUses(q: Queryable, o: { unreviewed?: boolean; id?: string; limit: number }): Promise<BreakGlassRow[]> {
  const where = [o.unreviewed ? 'b.reviewed_at IS NULL' : '', o.id ? 'b.id = $2' : ''].filter(Boolean);
  const rows = await q.query(
    `SELECT b.id::text AS id, b.actor, b.role, b.reason, b.started_at, b.ends_at, b.reviewed_at, b.reviewed_by, b.review_note,
       (SELECT count(*) FROM ward_audit_events e
         WHERE e.reason LIKE 'break_glass:%' AND e.reason = 'break_glass:' || b.id::text
           AND e.at >= b.started_at AND e.at <= b.ends_at + interval '1 hour') AS accesses
     FROM ward_break_glass b ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY b.started_at DESC LIMIT $1`,
    o.id ? [o.limit, o.id] : [o.limit],
  );
  return rows.map(toRow);
}

/** Marks a use reviewed; false when it was reviewed already (or does not exist). */
export async function markReviewed(q: Queryable, id: string, by: string, note: string | null): Promise<boolean> {
  const rows = await q.query(
    `UPDATE ward_break_glass SET reviewed_at = now(), reviewed_by = $2, review_note = $3, ends_at = LEAST(ends_at, GREATEST(now(), started_at + interval '1 microsecond'))
     WHERE id = $1 AND reviewed_at IS NULL RETURNING id`,
    [id, by, note],
  );
  return rows.length > 0;
}

/** All uses, the unreviewed ones, and when the oldest unreviewed one started. */
export async function countUses(q: Queryable): Promise<{ uses: number; unreviewed: number; oldestUnreviewed: Date | null }> {
  const [r] = await q.query(
    `SELECT count(*)::int AS uses, count(*) FILTER (WHERE reviewed_at IS NULL)::int AS unreviewed,
       min(started_at) FILTER (WHERE reviewed_at IS NULL) AS oldest FROM ward_break_glass`,
  );
  return {
    uses: (r?.uses as number) ?? 0,
    unreviewed: (r?.unreviewed as number) ?? 0,
    oldestUnreviewed: (r?.oldest as Date | null) ?? null,
  };
}
