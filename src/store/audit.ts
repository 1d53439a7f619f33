/**
 * SQL for the audit trail. The insert is a fragment that record statements embed as a CTE, so
 * an operation and its audit row commit together or not at all.
 */
import type { Queryable } from './db.js';

export type Outcome = 'allowed' | 'denied' | 'not_found' | 'expired' | 'failed' | 'unauthenticated';

/** One audit event as stored: who, what, why, outcome, when. Never values. */
export interface AuditRow {
  actor: string;
  role: string | null;
  action: string;
  collection: string | null;
  recordIds: string[];
  fields: string[];
  purpose: string | null;
  outcome: Outcome;
  reason: string | null;
  requestId: string | null;
  client: string | null;
  /** Figures Ward computed (a lockout's counts); never client input. Absent on most events. */
  detail?: string | null;
  /**
   * For an operation on one record that may not exist: the outcome and record ids to write
   * instead when the statement finds no record (the caller decides them; the SQL only looks).
   */
  ifMissing?: { outcome: Outcome; recordIds: string[] };
}

export interface StoredAuditEvent extends AuditRow {
  seq: string;
  at: Date;
}

/** The columns an audit insert names, in order (the sequence number, txid and time are the table's). */
export const AUDIT_COLUMNS = 'actor, role, action, collection, record_ids, fields, purpose, outcome, reason, request_id, client';
export const AUDIT_PARAMS = 11;

/**
 * `INSERT INTO ward_audit_events ... SELECT` over 11 parameters starting at `$from`. With
 * `ifMissingOf` (the name of a CTE holding the operation's record, if it exists), two more
 * parameters follow: the outcome and record ids to write when that CTE is empty. With
 * `disclosedBy` (a CTE of the records an operation returns), their ids are the row's record ids.
 */
export function auditInsert(
  from: number,
  o: { ifMissingOf?: string; disclosedBy?: string; gone?: { test: string; id: string } } = {},
): string {
  const p = (i: number, type: string) => `$${from + i}::${type}`;
  // A record that retention took (see `goneTest`) is `expired`, naming it; else the caller's row for a missing one.
  const missing = (expired: string, other: string) => (o.gone ? `CASE WHEN ${o.gone.test} THEN ${expired} ELSE ${other} END` : other);
  const pick = (found: string, notFound: string) =>
    o.ifMissingOf ? `CASE WHEN EXISTS (SELECT 1 FROM ${o.ifMissingOf}) THEN ${found} ELSE ${notFound} END` : found;
  const ids = o.disclosedBy ? `ARRAY(SELECT id FROM ${o.disclosedBy}) || ${p(4, 'uuid[]')}` : p(4, 'uuid[]');
  return `INSERT INTO ward_audit_events (${AUDIT_COLUMNS}) SELECT ${p(0, 'text')}, ${p(1, 'text')}, ${p(2, 'text')}, ${p(3, 'text')},
    ${pick(ids, missing(`ARRAY[${o.gone?.id}]::uuid[]`, p(12, 'uuid[]')))}, ${p(5, 'text[]')}, ${p(6, 'text')},
    ${pick(p(7, 'text'), missing("'expired'", p(11, 'text')))}, ${p(8, 'text')}, ${p(9, 'text')}, ${p(10, 'text')}`;
}

/**
 * Whether the record `id` of `collection` (SQL expressions) is one retention took: past its
 * expiry and not yet purged, or purged (its id kept in ward_gone).
 */
export const goneTest = (id: string, collection: string) =>
  `(EXISTS (SELECT 1 FROM ward_records x WHERE x.id = ${id} AND x.collection = ${collection} AND x.expires_at <= now())
    OR EXISTS (SELECT 1 FROM ward_gone g WHERE g.id = ${id} AND g.collection = ${collection}))`;

/** Records served: none past its expiry (SQL condition on a ward_records alias). */
export const LIVE = (alias = 'ward_records') => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now())`;

/** The parameters of `auditInsert` (13 with `ifMissing`: an operation on a record that may not exist). */
export function auditParams(e: AuditRow, ifMissing = false): unknown[] {
  const base = [e.actor, e.role, e.action, e.collection, e.recordIds, e.fields, e.purpose, e.outcome, e.reason, e.requestId, e.client];
  return ifMissing ? [...base, e.ifMissing?.outcome ?? e.outcome, e.ifMissing?.recordIds ?? e.recordIds] : base;
}
/** Parameters `auditParams` takes with and without `ifMissing`. */
export const AUDIT_PARAMS_IF_MISSING = AUDIT_PARAMS + 2;

const INSERT_ONE = `INSERT INTO ward_audit_events (${AUDIT_COLUMNS}, detail) VALUES
  ($1, $2, $3, $4, $5::uuid[], $6::text[], $7, $8, $9, $10, $11, $12)`;

/** One audit row on its own (operations' own rows go through the statements that embed `auditInsert`). */
export async function insertAudit(q: Queryable, e: AuditRow): Promise<void> {
  await q.query(INSERT_ONE, [...auditParams(e), e.detail ?? null]);
}

/** Of `ids`, those of records Ward created (whose creation is in the trail, even if since deleted). */
export async function knownRecords(q: Queryable, ids: readonly string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `SELECT u.id::text AS id FROM unnest($1::uuid[]) AS u(id)
     WHERE EXISTS (SELECT 1 FROM ward_audit_events WHERE record_ids @> ARRAY[u.id] AND action = 'create' AND outcome = 'allowed')`,
    [ids],
  );
  return rows.map((r) => r.id);
}

export interface AuditFilter {
  recordId?: string;
  actor?: string;
  since?: Date;
  until?: Date;
  /** Events after this sequence number (paging). */
  after?: string;
  /**
   * Only touches of PHI (reads, writes, searches, detokenizations): the accounting of
   * disclosures, which leaves out reads of the audit trail, key management and log-ins.
   */
  phiOnly?: boolean;
  limit: number;
}

/** The paging and time filters, as the accounting of disclosures takes them. */
export type DisclosureFilter = Pick<AuditFilter, 'since' | 'until' | 'after' | 'limit'>;

function toEvent(r: Record<string, unknown>): StoredAuditEvent {
  return {
    seq: String(r.seq),
    at: r.at as Date,
    actor: r.actor as string,
    role: (r.role as string | null) ?? null,
    action: r.action as string,
    collection: (r.collection as string | null) ?? null,
    recordIds: r.record_ids as string[],
    fields: r.fields as string[],
    purpose: (r.purpose as string | null) ?? null,
    outcome: r.outcome as Outcome,
    reason: (r.reason as string | null) ?? null,
    requestId: (r.request_id as string | null) ?? null,
    client: (r.client as string | null) ?? null,
    detail: (r.detail as string | null) ?? null,
  };
}

/** Events in sequence order matching every given filter. */
export async function selectAudit(q: Queryable, f: AuditFilter): Promise<StoredAuditEvent[]> {
  const rows = await q.query(
    `SELECT seq, at, ${AUDIT_COLUMNS}, detail FROM ward_audit_events
     WHERE ($1::uuid IS NULL OR record_ids @> ARRAY[$1::uuid])
       AND ($2::text IS NULL OR actor = $2)
       AND ($3::timestamptz IS NULL OR at >= $3)
       AND ($4::timestamptz IS NULL OR at < $4)
       AND ($5::bigint IS NULL OR seq > $5)
       AND (NOT $7::boolean OR action IN ('create', 'read', 'update', 'delete', 'search', 'detokenize', 'shred'))
     ORDER BY seq LIMIT $6`,
    [f.recordId ?? null, f.actor ?? null, f.since ?? null, f.until ?? null, f.after ?? null, f.limit, f.phiOnly === true],
  );
  return rows.map(toEvent);
}
