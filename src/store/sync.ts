/** SQL for sync (Connect): mapping state, the rows a mapping has written, per-record failures. No rules here. */
import { asBuffer, type Queryable } from './db.js';

export type SyncState = 'IDLE' | 'POLLING' | 'PAUSED' | 'SCHEMA_CHANGED' | 'NEED_AUTHENTICATION';

export interface StateRow {
  mapping: string;
  collection: string;
  state: SyncState;
  watermark: unknown;
  schema: { name: string; type: string }[] | null;
  pausedReason: string | null;
  lastPass: unknown;
  apiCallsDay: string | null;
  apiCalls: number;
  updatedAt: Date;
}

const toState = (r: Record<string, unknown>): StateRow => ({
  mapping: r.mapping as string,
  collection: r.collection as string,
  state: r.state as SyncState,
  watermark: r.watermark ?? null,
  schema: (r.schema as StateRow['schema']) ?? null,
  pausedReason: (r.paused_reason as string | null) ?? null,
  lastPass: r.last_pass ?? null,
  apiCallsDay: (r.api_calls_day as string | null) ?? null,
  apiCalls: r.api_calls as number,
  updatedAt: r.updated_at as Date,
});

/** A mapping's state, made IDLE on first use. */
export async function ensureState(q: Queryable, mapping: string, collection: string): Promise<StateRow> {
  await q.query('INSERT INTO ward_sync_state (mapping, collection) VALUES ($1, $2) ON CONFLICT DO NOTHING', [mapping, collection]);
  const [row] = await q.query('SELECT *, api_calls_day::text AS api_calls_day FROM ward_sync_state WHERE mapping = $1', [mapping]);
  return toState(row as Record<string, unknown>);
}

export async function selectStates(q: Queryable): Promise<StateRow[]> {
  return (await q.query('SELECT *, api_calls_day::text AS api_calls_day FROM ward_sync_state ORDER BY mapping')).map(toState);
}

export async function setState(
  q: Queryable,
  mapping: string,
  change: { state?: SyncState; watermark?: unknown; schema?: unknown; pausedReason?: string | null; lastPass?: unknown },
): Promise<void> {
  await q.query(
    `UPDATE ward_sync_state SET
       state = COALESCE($2, state),
       watermark = CASE WHEN $3::boolean THEN $4::jsonb ELSE watermark END,
       schema = CASE WHEN $5::boolean THEN $6::jsonb ELSE schema END,
       paused_reason = CASE WHEN $7::boolean THEN $8 ELSE paused_reason END,
       last_pass = CASE WHEN $9::boolean THEN $10::jsonb ELSE last_pass END,
       updated_at = now()
     WHERE mapping = $1`,
    [
      mapping,
      change.state ?? null,
      'watermark' in change,
      JSON.stringify(change.watermark ?? null),
      'schema' in change,
      JSON.stringify(change.schema ?? null),
      'pausedReason' in change,
      change.pausedReason ?? null,
      'lastPass' in change,
      JSON.stringify(change.lastPass ?? null),
    ],
  );
}

/** Ends a pass: its state (unless an operator paused the mapping meanwhile) and report; returns the state. */
export async function finishPass(q: Queryable, mapping: string, state: SyncState, lastPass: unknown): Promise<SyncState> {
  const [row] = await q.query<{ state: SyncState }>(
    `UPDATE ward_sync_state SET state = CASE WHEN state = 'PAUSED' THEN state ELSE $2 END, last_pass = $3::jsonb, updated_at = now()
     WHERE mapping = $1 RETURNING state`,
    [mapping, state, JSON.stringify(lastPass)],
  );
  return row?.state ?? state;
}

/** Counts one API call of today (UTC) for a mapping; returns today's count. */
export async function countApiCall(q: Queryable, mapping: string, n = 1): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `UPDATE ward_sync_state SET
       api_calls = CASE WHEN api_calls_day = (now() AT TIME ZONE 'UTC')::date THEN api_calls + $2 ELSE $2 END,
       api_calls_day = (now() AT TIME ZONE 'UTC')::date
     WHERE mapping = $1 RETURNING api_calls AS n`,
    [mapping, n],
  );
  return row?.n ?? 0;
}

export interface SyncedRow {
  external: Buffer;
  recordId: string;
  digest: Buffer;
  sourceRef: string;
  deleted: boolean;
  seenAt: Date;
}

export async function selectSynced(q: Queryable, mapping: string, externals: readonly Buffer[]): Promise<SyncedRow[]> {
  const rows = await q.query(
    'SELECT external, record_id, digest, source_ref, deleted, seen_at FROM ward_sync_rows WHERE mapping = $1 AND external = ANY($2::bytea[])',
    [mapping, externals],
  );
  return rows.map((r) => ({
    external: asBuffer(r.external),
    recordId: r.record_id as string,
    digest: asBuffer(r.digest),
    sourceRef: r.source_ref as string,
    deleted: r.deleted as boolean,
    seenAt: r.seen_at as Date,
  }));
}

/** Records what a mapping wrote for source rows (one statement for a batch). */
export async function upsertSynced(
  q: Queryable,
  mapping: string,
  rows: readonly { external: Buffer; recordId: string; digest: Buffer; sourceRef: string; deleted: boolean }[],
): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `INSERT INTO ward_sync_rows (mapping, external, record_id, digest, source_ref, deleted)
     SELECT $1, decode(r.external, 'hex'), r.record_id, decode(r.digest, 'hex'), r.source_ref, r.deleted
     FROM jsonb_to_recordset($2::jsonb) AS r(external text, record_id uuid, digest text, source_ref text, deleted boolean)
     ON CONFLICT (mapping, external) DO UPDATE SET record_id = EXCLUDED.record_id, digest = EXCLUDED.digest,
       source_ref = EXCLUDED.source_ref, deleted = EXCLUDED.deleted, seen_at = now()`,
    [
      mapping,
      JSON.stringify(
        rows.map((r) => ({
          external: r.external.toString('hex'),
          record_id: r.recordId,
          digest: r.digest.toString('hex'),
          source_ref: r.sourceRef,
          deleted: r.deleted,
        })),
      ),
    ],
  );
}

export interface SyncError {
  id: number;
  mapping: string;
  sourceRef: string;
  fields: string[];
  rule: string;
  at: Date;
}

export async function insertErrors(
  q: Queryable,
  mapping: string,
  errors: readonly { sourceRef: string; fields: string[]; rule: string }[],
): Promise<void> {
  if (!errors.length) return;
  await q.query(
    `INSERT INTO ward_sync_errors (mapping, source_ref, fields, rule)
     SELECT $1, e.source_ref, ARRAY(SELECT jsonb_array_elements_text(e.fields)), e.rule
     FROM jsonb_to_recordset($2::jsonb) AS e(source_ref text, fields jsonb, rule text)`,
    [mapping, JSON.stringify(errors.map((e) => ({ source_ref: e.sourceRef, fields: e.fields, rule: e.rule })))],
  );
}

export async function selectErrors(q: Queryable, since: Date, mapping?: string): Promise<SyncError[]> {
  const rows = await q.query(
    `SELECT id, mapping, source_ref, fields, rule, at FROM ward_sync_errors
     WHERE retried_at IS NULL AND at >= $1 AND ($2::text IS NULL OR mapping = $2) ORDER BY id`,
    [since, mapping ?? null],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    mapping: r.mapping as string,
    sourceRef: r.source_ref as string,
    fields: r.fields as string[],
    rule: r.rule as string,
    at: r.at as Date,
  }));
}

/** Marks open errors as retried (all of a mapping's, or the given ids); returns the source refs to read again, by mapping. */
export async function takeErrors(
  q: Queryable,
  ids: readonly number[] | 'all',
  mappings: readonly string[],
): Promise<{ mapping: string; sourceRef: string }[]> {
  const rows = await q.query(
    `UPDATE ward_sync_errors SET retried_at = now()
     WHERE retried_at IS NULL AND ($1::boolean OR id = ANY($2::bigint[])) AND mapping = ANY($3::text[])
     RETURNING mapping, source_ref`,
    [ids === 'all', ids === 'all' ? [] : ids, mappings],
  );
  return rows.map((r) => ({ mapping: r.mapping as string, sourceRef: r.source_ref as string }));
}

/** The rows a mapping wrote (not deleted): their record and source reference, and when last seen. */
export async function selectWritten(q: Queryable, mapping: string): Promise<{ recordId: string; sourceRef: string; seenAt: Date }[]> {
  const rows = await q.query(
    'SELECT record_id, source_ref, seen_at FROM ward_sync_rows WHERE mapping = $1 AND NOT deleted ORDER BY source_ref',
    [mapping],
  );
  return rows.map((r) => ({ recordId: r.record_id as string, sourceRef: r.source_ref as string, seenAt: r.seen_at as Date }));
}

/** Marks source rows seen in a pass that found them unchanged (a full pass's orphans are those it did not see). */
export async function touchSynced(q: Queryable, mapping: string, rows: readonly { external: Buffer; sourceRef: string }[]): Promise<void> {
  if (rows.length)
    await q.query(
      `UPDATE ward_sync_rows w SET seen_at = now(), source_ref = u.ref
       FROM unnest($2::bytea[], $3::text[]) AS u(external, ref) WHERE w.mapping = $1 AND w.external = u.external`,
      [mapping, rows.map((r) => r.external), rows.map((r) => r.sourceRef)],
    );
}

/** Whether a mapping has written anything yet (its first pass finds nothing to look up). */
export async function hasWritten(q: Queryable, mapping: string): Promise<boolean> {
  return (await q.query('SELECT 1 FROM ward_sync_rows WHERE mapping = $1 LIMIT 1', [mapping])).length > 0;
}
