/**
 * SQL for change events: the outbox insert that record statements embed (so an event commits
 * with its change or not at all), the move of committed rows into the event log with their
 * positions, reads by topic, the relay's progress, consumers' cursors and retention. No
 * business rules here.
 */
import { type Queryable, statement } from './db.js';

/** One outbox row as written: the event's id, topic, record and body (the event itself, PHI-free JSON). */
export interface OutboxRow {
  id: string;
  topic: string;
  recordId: string;
  body: Record<string, unknown>;
}

/** An event as read back, with its position in the log. */
export interface StoredEvent {
  pos: number;
  id: string;
  topic: string;
  recordId: string;
  body: Record<string, unknown>;
}

/** `INSERT INTO ward_outbox` of the JSON recordset parameter `$p` (see outboxParam). */
export const outboxInsert = (p: number) => `INSERT INTO ward_outbox (id, topic, record_id, body)
    SELECT e.id, e.topic, e.record_id, e.body FROM json_to_recordset($${p}::json) AS e(id uuid, topic text, record_id uuid, body json)`;

/** The parameter of `outboxInsert`. */
export const outboxParam = (rows: readonly OutboxRow[]) =>
  JSON.stringify(rows.map((r) => ({ id: r.id, topic: r.topic, record_id: r.recordId, body: r.body })));

const INSERT = statement('ward_outbox_insert', outboxInsert(1));

/** Writes outbox rows on their own (inside the caller's transaction). */
export async function insertOutbox(q: Queryable, rows: readonly OutboxRow[]): Promise<void> {
  if (rows.length) await q.query(INSERT, [outboxParam(rows)]);
}

/** Gives positions to committed rows without one; returns the newest position. */
export async function sequence(q: Queryable): Promise<number> {
  const [row] = await q.query<{ head: string }>('SELECT ward_sequence_events()::text AS head');
  return Number(row?.head ?? 0);
}

const toEvent = (r: Record<string, unknown>): StoredEvent => ({
  pos: Number(r.pos),
  id: r.id as string,
  topic: r.topic as string,
  recordId: r.record_id as string,
  body: r.body as Record<string, unknown>,
});

const READ = statement(
  'ward_events_read',
  `SELECT o.pos::text AS pos, o.id::text AS id, o.topic, o.record_id::text AS record_id, o.body FROM ward_events o
   WHERE o.topic = ANY($1::text[]) AND o.pos > $2 AND o.pos <= $3 ORDER BY o.pos LIMIT $4`,
);

/** Events of the given topics after position `after` up to `upto`, oldest first. */
export async function readEvents(
  q: Queryable,
  topics: readonly string[],
  after: number,
  upto: number,
  limit: number,
): Promise<StoredEvent[]> {
  return (await q.query(READ, [topics, after, upto, limit])).map(toEvent);
}

/** A named position (`head`, `relay`, `floor:<topic>`); 0 when never set. */
export async function position(q: Queryable, name: string): Promise<number> {
  const [row] = await q.query<{ pos: string }>('SELECT pos::text AS pos FROM ward_event_state WHERE name = $1', [name]);
  return Number(row?.pos ?? 0);
}

export async function setPosition(q: Queryable, name: string, pos: number): Promise<void> {
  await q.query(
    `INSERT INTO ward_event_state (name, pos, at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET pos = greatest(ward_event_state.pos, excluded.pos), at = now()`,
    [name, pos],
  );
}

/**
 * Takes an advisory lock for the session `q` (a connection of its own: the lock ends with it, so
 * with the process); false when another session holds it.
 */
export async function trySessionLock(q: Queryable, lock: number): Promise<boolean> {
  const [row] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [lock]);
  return row?.ok === true;
}

export async function releaseSessionLock(q: Queryable, lock: number): Promise<void> {
  await q.query('SELECT pg_advisory_unlock($1)', [lock]);
}
/** The relay's advisory lock (the sequencer's is 2002874989, in ward_sequence_events). */
export const RELAY_LOCK = 2002874990;
/** The webhook sender's. */
export const WEBHOOK_LOCK = 2002874991;

/** An event as the relay sends it: its body as the JSON text stored. */
export interface PendingEvent {
  pos: number;
  id: string;
  topic: string;
  recordId: string;
  json: string;
}

/** Events in position order after `after`, any topic, up to `limit` (the relay's batch). */
export async function pendingEvents(q: Queryable, after: number, limit: number): Promise<PendingEvent[]> {
  const rows = await q.query<{ pos: string; id: string; topic: string; record_id: string; json: string }>(
    `SELECT o.pos::text AS pos, o.id::text AS id, o.topic, o.record_id::text AS record_id, o.body::text AS json FROM ward_events o
     WHERE o.pos > $1 ORDER BY o.pos LIMIT $2`,
    [after, limit],
  );
  return rows.map((r) => ({ pos: Number(r.pos), id: r.id, topic: r.topic, recordId: r.record_id, json: r.json }));
}

/** Per topic: events written but not yet delivered (still in the outbox, or in the log after `delivered`), and the age in seconds of the oldest. */
export async function backlog(q: Queryable, delivered: number): Promise<{ topic: string; depth: number; oldestSeconds: number }[]> {
  const rows = await q.query<{ topic: string; depth: string; oldest: number | null }>(
    `SELECT topic, sum(n)::text AS depth, extract(epoch FROM now() - min(oldest))::float8 AS oldest FROM (
       SELECT topic, count(*) AS n, min(created_at) AS oldest FROM ward_outbox GROUP BY topic
       UNION ALL SELECT topic, count(*), min(created_at) FROM ward_events WHERE pos > $1 GROUP BY topic) AS b
     GROUP BY topic`,
    [delivered],
  );
  return rows.map((r) => ({ topic: r.topic, depth: Number(r.depth), oldestSeconds: r.oldest ?? 0 }));
}

/**
 * Removes a topic's events at or below `upto` older than `olderThanSeconds`, and records the
 * newest removed position as the topic's floor. Returns how many went.
 */
export async function removeEvents(q: Queryable, topic: string, upto: number, olderThanSeconds: number): Promise<number> {
  const [row] = await q.query<{ n: string; top: string | null }>(
    `WITH d AS (DELETE FROM ward_events WHERE topic = $1 AND pos <= $2 AND created_at < now() - make_interval(secs => $3) RETURNING pos),
     f AS (INSERT INTO ward_event_state (name, pos) SELECT 'floor:' || $1, max(pos) FROM d HAVING count(*) > 0
           ON CONFLICT (name) DO UPDATE SET pos = greatest(ward_event_state.pos, excluded.pos), at = now())
     SELECT count(*)::text AS n, max(pos)::text AS top FROM d`,
    [topic, upto, olderThanSeconds],
  );
  return Number(row?.n ?? 0);
}

/** Records where a consumer has read a topic to. */
export async function saveCursor(q: Queryable, consumer: string, topic: string, pos: number): Promise<void> {
  await q.query(
    `INSERT INTO ward_event_cursors (consumer, topic, pos, read_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (consumer, topic) DO UPDATE SET pos = excluded.pos, read_at = now()`,
    [consumer, topic, pos],
  );
}

export interface Cursor {
  consumer: string;
  topic: string;
  pos: number;
  readAt: Date;
}

export async function cursors(q: Queryable): Promise<Cursor[]> {
  const rows = await q.query<{ consumer: string; topic: string; pos: string; read_at: Date }>(
    'SELECT consumer, topic, pos::text AS pos, read_at FROM ward_event_cursors ORDER BY consumer, topic',
  );
  return rows.map((r) => ({ consumer: r.consumer, topic: r.topic, pos: Number(r.pos), readAt: r.read_at }));
}

/** Forgets a consumer's HTTP positions and marks it pruned (a broker consumer made for it again starts at new events). */
export async function pruneConsumer(q: Queryable, consumer: string): Promise<void> {
  await q.query('DELETE FROM ward_event_cursors WHERE consumer = $1', [consumer]);
  await setPosition(q, `pruned:${consumer}`, 0);
}

/** Consumers pruned at some time. */
export async function prunedConsumers(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ name: string }>("SELECT substr(name, 8) AS name FROM ward_event_state WHERE name LIKE 'pruned:%'");
  return rows.map((r) => r.name);
}

/** When each consumer was first seen declared (recorded now for those never seen). */
export async function declaredAt(q: Queryable, consumers: readonly string[]): Promise<Map<string, Date>> {
  const rows = await q.query<{ name: string; at: Date }>(
    `WITH n AS (INSERT INTO ward_event_state (name, pos) SELECT 'declared:' || c, 0 FROM unnest($1::text[]) AS c
                ON CONFLICT (name) DO NOTHING)
     SELECT substr(name, 10) AS name, at FROM ward_event_state WHERE name = ANY(ARRAY(SELECT 'declared:' || c FROM unnest($1::text[]) AS c))`,
    [consumers],
  );
  return new Map(rows.map((r) => [r.name, r.at]));
}

/** How many events of a topic the log holds after position `after`. */
export async function countEvents(q: Queryable, topic: string, after: number): Promise<number> {
  const [row] = await q.query<{ n: string }>('SELECT count(*)::text AS n FROM ward_events WHERE topic = $1 AND pos > $2', [topic, after]);
  return Number(row?.n ?? 0);
}

export interface DeadLetter {
  webhook: string;
  topic: string;
  /** Null for a stretch of events retention removed before the webhook got them. */
  eventId: string | null;
  pos: number;
  attempts: number;
  lastStatus: number | null;
  lastReason: string | null;
  at: Date;
}

export async function insertDeadLetter(q: Queryable, d: Omit<DeadLetter, 'at'>): Promise<void> {
  await q.query(
    `INSERT INTO ward_webhook_dead_letters (webhook, topic, event_id, pos, attempts, last_status, last_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [d.webhook, d.topic, d.eventId, d.pos, d.attempts, d.lastStatus, d.lastReason],
  );
}

export async function deadLetters(q: Queryable): Promise<DeadLetter[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT webhook, topic, event_id::text AS event_id, pos::text AS pos, attempts, last_status, last_reason, at
     FROM ward_webhook_dead_letters ORDER BY id`,
  );
  return rows.map((r) => ({
    webhook: r.webhook as string,
    topic: r.topic as string,
    eventId: (r.event_id as string | null) ?? null,
    pos: Number(r.pos),
    attempts: r.attempts as number,
    lastStatus: (r.last_status as number | null) ?? null,
    lastReason: (r.last_reason as string | null) ?? null,
    at: r.at as Date,
  }));
}
