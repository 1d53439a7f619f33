/**
 * SQL for log-in monitoring: failed-authentication counters per client address and per API key,
 * shared by every process on one database, and the report of failures and lockouts. No rules
 * here: see vault/logins.
 */
import type { Queryable } from './db.js';

export type ThrottleKind = 'client' | 'key';

export interface Throttle {
  kind: ThrottleKind;
  /** A client address (IPv6: its /64) or an API key's prefix. */
  subject: string;
  windowStart: Date;
  failures: number;
  lockedUntil: Date | null;
}

/** Lockouts are announced on this channel when they commit: `<kind> <subject> <until, ms since epoch>`. */
export const LOCKOUTS_CHANNEL = 'ward_lockouts';

/**
 * The counters of `subjects`, created when missing and locked for the caller's transaction,
 * with the database's clock (every process counts by the same one).
 */
export async function lockThrottles(
  q: Queryable,
  subjects: readonly { kind: ThrottleKind; subject: string }[],
): Promise<{ now: Date; rows: Throttle[] }> {
  const kinds = subjects.map((s) => s.kind);
  const names = subjects.map((s) => s.subject);
  await q.query(
    `INSERT INTO ward_auth_throttle (kind, subject, window_start, failures)
     SELECT k, s, now(), 0 FROM unnest($1::text[], $2::text[]) AS u(k, s) ON CONFLICT DO NOTHING`,
    [kinds, names],
  );
  const rows = await q.query(
    `SELECT kind, subject, window_start, failures, locked_until, now() AS now FROM ward_auth_throttle
     WHERE (kind, subject) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY kind, subject FOR UPDATE`,
    [kinds, names],
  );
  return {
    now: (rows[0]?.now as Date | undefined) ?? new Date(),
    rows: rows.map((r) => ({
      kind: r.kind as ThrottleKind,
      subject: r.subject as string,
      windowStart: r.window_start as Date,
      failures: r.failures as number,
      lockedUntil: (r.locked_until as Date | null) ?? null,
    })),
  };
}

/** Writes counters back; a new lockout is announced to every process when the transaction commits. */
export async function saveThrottles(q: Queryable, rows: readonly Throttle[], announce: readonly Throttle[]): Promise<void> {
  await q.query(
    `UPDATE ward_auth_throttle t SET window_start = u.w, failures = u.f, locked_until = u.l
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[], $5::timestamptz[]) AS u(k, s, w, f, l)
     WHERE t.kind = u.k AND t.subject = u.s`,
    [
      rows.map((r) => r.kind),
      rows.map((r) => r.subject),
      rows.map((r) => r.windowStart),
      rows.map((r) => r.failures),
      rows.map((r) => r.lockedUntil),
    ],
  );
  for (const r of announce)
    await q.query(`SELECT pg_notify('${LOCKOUTS_CHANNEL}', $1)`, [`${r.kind} ${r.subject} ${r.lockedUntil?.getTime() ?? 0}`]);
}

/** Lockouts still in force, for a process starting up. */
export async function activeLockouts(q: Queryable): Promise<Throttle[]> {
  const rows = await q.query(
    'SELECT kind, subject, window_start, failures, locked_until FROM ward_auth_throttle WHERE locked_until > now()',
  );
  return rows.map((r) => ({
    kind: r.kind as ThrottleKind,
    subject: r.subject as string,
    windowStart: r.window_start as Date,
    failures: r.failures as number,
    lockedUntil: r.locked_until as Date,
  }));
}

/** Forgets counters that are neither counting nor locking any more (their window and lockout are over). */
export async function pruneThrottles(q: Queryable, olderThanMs: number): Promise<void> {
  await q.query(
    `DELETE FROM ward_auth_throttle WHERE window_start < now() - make_interval(secs => $1::float8 / 1000)
       AND (locked_until IS NULL OR locked_until < now())`,
    [olderThanMs],
  );
}

export interface LoginRow {
  /** `client` rows: the address; `key` rows: the actor, `key:<prefix>`. */
  by: 'client' | 'key';
  subject: string;
  failures: number;
  lockouts: number;
  first: Date;
  last: Date;
}

/** Failed authentications and lockouts since `since`, by client address and by API key, most first. */
export async function loginReport(q: Queryable, since: Date | null): Promise<LoginRow[]> {
  const rows = await q.query(
    `WITH e AS (
       SELECT actor, client, at, reason = 'unauthenticated' AS failure,
              detail LIKE 'locked client%' AS client_lockout, detail LIKE 'locked key%' AS key_lockout
       FROM ward_audit_events
       WHERE action = 'authenticate' AND reason IN ('unauthenticated', 'too_many_failures')
         AND ($1::timestamptz IS NULL OR at >= $1)
     )
     SELECT 'client' AS by, client AS subject, count(*) FILTER (WHERE failure)::int AS failures,
            count(*) FILTER (WHERE client_lockout)::int AS lockouts, min(at) AS first, max(at) AS last
     FROM e WHERE client IS NOT NULL AND (failure OR client_lockout) GROUP BY client
     UNION ALL
     SELECT 'key', actor, count(*) FILTER (WHERE failure)::int, count(*) FILTER (WHERE key_lockout)::int, min(at), max(at)
     FROM e WHERE actor LIKE 'key:%' AND (failure OR key_lockout) GROUP BY actor
     ORDER BY 1, 3 DESC, 4 DESC, 2`,
    [since],
  );
  return rows.map((r) => ({
    by: r.by as 'client' | 'key',
    subject: r.subject as string,
    failures: r.failures as number,
    lockouts: r.lockouts as number,
    first: r.first as Date,
    last: r.last as Date,
  }));
}
