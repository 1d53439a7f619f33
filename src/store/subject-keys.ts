/**
 * SQL for the subject key store: a database other than Ward's own (see vault/subjects), holding
 * each subject's data key wrapped by its collection's data key. No rules here.
 */
import { asBuffer, type Queryable } from './db.js';

export interface SubjectKeyRow {
  collection: string;
  subject: Buffer;
  keyId: Buffer;
  /** The collection data key version that wraps it. */
  keyVersion: number;
  wrapped: Buffer;
}

const toRow = (r: Record<string, unknown>): SubjectKeyRow => ({
  collection: r.collection as string,
  subject: asBuffer(r.subject),
  keyId: asBuffer(r.key_id),
  keyVersion: r.key_version as number,
  wrapped: asBuffer(r.wrapped),
});

/** Creates the key store's table (idempotent). Keys of several spaces may share one store. */
export async function ensureSchema(q: Queryable): Promise<void> {
  await q.exec(`CREATE TABLE IF NOT EXISTS ward_subject_keys (
    space text NOT NULL,
    collection text NOT NULL,
    subject bytea NOT NULL,
    key_id bytea NOT NULL,
    key_version integer NOT NULL,
    wrapped bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space, collection, subject)
  )`);
}

export async function selectKeys(q: Queryable, space: string, collection: string, subjects: readonly Buffer[]): Promise<SubjectKeyRow[]> {
  const rows = await q.query('SELECT * FROM ward_subject_keys WHERE space = $1 AND collection = $2 AND subject = ANY($3::bytea[])', [
    space,
    collection,
    subjects,
  ]);
  return rows.map(toRow);
}

/**
 * A subject's key: `row` inserted when the subject has none, else the one it has, in one round
 * trip; undefined only when a key committed by another writer during this statement is not yet
 * visible to it (read it again).
 */
export async function insertOrSelectKey(q: Queryable, space: string, row: SubjectKeyRow): Promise<SubjectKeyRow | undefined> {
  const [got] = await q.query(
    `WITH i AS (INSERT INTO ward_subject_keys (space, collection, subject, key_id, key_version, wrapped)
                VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *)
     SELECT * FROM i
     UNION ALL SELECT * FROM ward_subject_keys WHERE space = $1 AND collection = $2 AND subject = $3 AND NOT EXISTS (SELECT FROM i)`,
    [space, row.collection, row.subject, row.keyId, row.keyVersion, row.wrapped],
  );
  return got && toRow(got);
}

/** Destroys a subject's key, the one with id `keyId` (a newer key of the subject is not touched). */
export async function deleteKey(q: Queryable, space: string, collection: string, subject: Buffer, keyId: Buffer): Promise<void> {
  await q.query('DELETE FROM ward_subject_keys WHERE space = $1 AND collection = $2 AND subject = $3 AND key_id = $4', [
    space,
    collection,
    subject,
    keyId,
  ]);
}

/** Destroys every subject key of a space (ward destroy); returns how many. */
export async function deleteSpace(q: Queryable, space: string): Promise<number> {
  return (await q.query('DELETE FROM ward_subject_keys WHERE space = $1 RETURNING 1', [space])).length;
}

/** Keys of a collection wrapped by a data key version older than `version`, a batch at a time. */
export async function selectOlder(
  q: Queryable,
  space: string,
  collection: string,
  version: number,
  limit: number,
): Promise<SubjectKeyRow[]> {
  const rows = await q.query(
    'SELECT * FROM ward_subject_keys WHERE space = $1 AND collection = $2 AND key_version < $3 ORDER BY subject LIMIT $4',
    [space, collection, version, limit],
  );
  return rows.map(toRow);
}

export async function rewrapKey(q: Queryable, space: string, row: SubjectKeyRow, version: number, wrapped: Buffer): Promise<void> {
  await q.query(
    `UPDATE ward_subject_keys SET key_version = $5, wrapped = $6
     WHERE space = $1 AND collection = $2 AND subject = $3 AND key_id = $4`,
    [space, row.collection, row.subject, row.keyId, version, wrapped],
  );
}

export async function countOnVersion(q: Queryable, space: string, collection: string, version: number): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM ward_subject_keys WHERE space = $1 AND collection = $2 AND key_version = $3',
    [space, collection, version],
  );
  return row?.n ?? 0;
}
