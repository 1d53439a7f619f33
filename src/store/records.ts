/**
 * SQL for records, blind indexes and tokens. Each write is one statement (data-modifying CTEs
 * over a JSON recordset), so it is atomic and costs one round trip. No business rules here.
 */
import type { Queryable } from './db.js';

export interface RecordRow {
  id: string;
  version: number;
  keyVersion: number;
  public: Record<string, unknown>;
  /** field → base64 AES-GCM envelope */
  sealed: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
}

export interface NewRecord {
  id: string;
  public: Record<string, unknown>;
  sealed: Record<string, string>;
}

export interface IndexEntry {
  recordId: string;
  field: string;
  /** hex of the blind index */
  value: string;
  unique: boolean;
}

export interface TokenEntry {
  token: string;
  recordId: string;
  field: string;
  kind: 'random' | 'deterministic';
}

const COLUMNS = 'id, version, key_version, public, sealed, created_at, updated_at, expires_at';

export function toRecordRow(r: Record<string, unknown>): RecordRow {
  return {
    id: r.id as string,
    version: r.version as number,
    keyVersion: r.key_version as number,
    public: r.public as Record<string, unknown>,
    sealed: r.sealed as Record<string, string>,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    expiresAt: (r.expires_at as Date | null) ?? null,
  };
}

const INSERT_INDEXES = `INSERT INTO ward_blind_index (collection, field, value, record_id, is_unique)
  SELECT $1, e.field, decode(e.value, 'hex'), e.record_id, e.is_unique
  FROM jsonb_to_recordset($IDX::jsonb) AS e(record_id uuid, field text, value text, is_unique boolean)`;

const INSERT_TOKENS = `INSERT INTO ward_tokens (token, record_id, collection, field, kind)
  SELECT t.token, t.record_id, $1, t.field, t.kind
  FROM jsonb_to_recordset($TOK::jsonb) AS t(token text, record_id uuid, field text, kind text)
  ON CONFLICT DO NOTHING`;

const indexJson = (e: IndexEntry[]) =>
  JSON.stringify(e.map((x) => ({ record_id: x.recordId, field: x.field, value: x.value, is_unique: x.unique })));
const tokenJson = (t: TokenEntry[]) =>
  JSON.stringify(t.map((x) => ({ token: x.token, record_id: x.recordId, field: x.field, kind: x.kind })));

/** Inserts records with their indexes and tokens in one statement; returns how many. */
export async function insertRecords(
  q: Queryable,
  collection: string,
  keyVersion: number,
  retentionDays: number | undefined,
  records: NewRecord[],
  indexes: IndexEntry[],
  tokens: TokenEntry[],
): Promise<number> {
  const sql = `WITH r AS (
      INSERT INTO ward_records (id, collection, key_version, public, sealed, expires_at)
      SELECT n.id, $1, $2, n.public, n.sealed, now() + make_interval(days => $4::int)
      FROM jsonb_to_recordset($3::jsonb) AS n(id uuid, public jsonb, sealed jsonb)
      RETURNING id
    ), b AS (${INSERT_INDEXES.replace('$IDX', '$5')}
    ), k AS (${INSERT_TOKENS.replace('$TOK', '$6')}
    )
    SELECT count(*)::int AS n FROM r`;
  const [row] = await q.query<{ n: number }>(sql, [
    collection,
    keyVersion,
    JSON.stringify(records),
    retentionDays ?? null,
    indexJson(indexes),
    tokenJson(tokens),
  ]);
  return row?.n ?? 0;
}

export async function selectRecord(q: Queryable, collection: string, id: string, lock = false): Promise<RecordRow | undefined> {
  const [row] = await q.query(
    `SELECT ${COLUMNS} FROM ward_records WHERE id = $1 AND collection = $2${lock ? ' FOR UPDATE' : ''}`,
    [id, collection],
  );
  return row && toRecordRow(row);
}

/** Rewrites a record (inside a transaction that locked it) and replaces its indexes and tokens. */
export async function updateRecord(
  q: Queryable,
  collection: string,
  id: string,
  keyVersion: number,
  record: Omit<NewRecord, 'id'>,
  indexes: IndexEntry[],
  tokens: TokenEntry[],
): Promise<number> {
  const sql = `WITH r AS (
      UPDATE ward_records SET version = version + 1, key_version = $2, public = $4::jsonb, sealed = $5::jsonb,
        updated_at = now()
      WHERE id = $3 AND collection = $1 RETURNING version
    ), d AS (
      DELETE FROM ward_blind_index WHERE record_id = $3
    ), dt AS (
      DELETE FROM ward_tokens WHERE record_id = $3 AND NOT (kind = 'random' AND field = ANY($6::text[]))
    )
    SELECT version FROM r`;
  const [row] = await q.query<{ version: number }>(sql, [
    collection,
    keyVersion,
    id,
    JSON.stringify(record.public),
    JSON.stringify(record.sealed),
    tokens.filter((t) => t.kind === 'random').map((t) => t.field),
  ]);
  // New index rows and tokens go in a second statement: within one, the DELETEs above would
  // not yet be visible to their unique checks.
  await q.query(`WITH b AS (${INSERT_INDEXES.replace('$IDX', '$2')}), k AS (${INSERT_TOKENS.replace('$TOK', '$3')}) SELECT 1`, [
    collection,
    indexJson(indexes),
    tokenJson(tokens),
  ]);
  return row?.version ?? 0;
}

export async function selectTokensOf(q: Queryable, id: string): Promise<TokenEntry[]> {
  const rows = await q.query<{ token: string; field: string; kind: TokenEntry['kind'] }>(
    'SELECT token, field, kind FROM ward_tokens WHERE record_id = $1',
    [id],
  );
  return rows.map((r) => ({ token: r.token, recordId: id, field: r.field, kind: r.kind }));
}

export async function deleteRecord(q: Queryable, collection: string, id: string): Promise<boolean> {
  const rows = await q.query('DELETE FROM ward_records WHERE id = $1 AND collection = $2 RETURNING id', [id, collection]);
  return rows.length > 0;
}

/** Records whose blind indexes match every (field, value) term. */
export async function searchRecords(
  q: Queryable,
  collection: string,
  terms: { field: string; value: Buffer }[],
  limit: number,
): Promise<RecordRow[]> {
  const params: unknown[] = [collection, limit];
  const subqueries = terms.map((t) => {
    params.push(t.field, t.value);
    const n = params.length;
    return `SELECT record_id FROM ward_blind_index WHERE collection = $1 AND field = $${n - 1} AND value = $${n}`;
  });
  const rows = await q.query(
    `SELECT ${COLUMNS} FROM ward_records WHERE collection = $1 AND id IN (${subqueries.join(' INTERSECT ')})
     ORDER BY id LIMIT $2`,
    params,
  );
  return rows.map(toRecordRow);
}

export async function selectTokens(
  q: Queryable,
  tokens: readonly string[],
): Promise<{ token: string; recordId: string; collection: string; field: string }[]> {
  const rows = await q.query<{ token: string; record_id: string; collection: string; field: string }>(
    'SELECT DISTINCT ON (token) token, record_id, collection, field FROM ward_tokens WHERE token = ANY($1::text[]) ORDER BY token, record_id',
    [tokens],
  );
  return rows.map((r) => ({ token: r.token, recordId: r.record_id, collection: r.collection, field: r.field }));
}
