/**
 * SQL for subjects in Ward's own database: each subject's current key id (never key material) and
 * the shred of a subject's records. No rules here: see vault/subjects.
 */
import { type AuditRow, auditInsert, auditParams } from './audit.js';
import { asBuffer, type Queryable } from './db.js';

/**
 * Records (mirrors) a subject's current key id, replacing an older one; false when that key id was
 * shredded (it is never written under again).
 */
export async function upsertSubject(q: Queryable, collection: string, subject: Buffer, keyId: Buffer): Promise<boolean> {
  const rows = await q.query(
    `WITH ok AS (SELECT NOT EXISTS (SELECT 1 FROM ward_subject_shreds x WHERE x.collection = $1 AND x.subject = $2 AND x.key_id = $3) AS ok),
     u AS (INSERT INTO ward_subjects (collection, subject, key_id) SELECT $1, $2, $3 FROM ok WHERE ok.ok
           ON CONFLICT (collection, subject) DO UPDATE SET key_id = EXCLUDED.key_id WHERE ward_subjects.key_id <> EXCLUDED.key_id)
     SELECT ok FROM ok`,
    [collection, subject, keyId],
  );
  return rows[0]?.ok === true;
}

/** The subject (MAC) and key id of a record, served or archived. */
export async function subjectOf(
  q: Queryable,
  collection: string,
  id: string,
): Promise<{ subject: Buffer | null; subjectKey: Buffer | null } | undefined> {
  const [row] = await q.query(
    `SELECT subject, subject_key FROM ward_records WHERE id = $1 AND collection = $2
     UNION ALL SELECT subject, subject_key FROM ward_records_archive WHERE id = $1 AND collection = $2`,
    [id, collection],
  );
  return row && { subject: row.subject ? asBuffer(row.subject) : null, subjectKey: row.subject_key ? asBuffer(row.subject_key) : null };
}

/**
 * Inside the shred's transaction, first: locks the subject's records (in the order an update
 * takes them: record, then subject row), then deletes the subject's key id row, which waits for
 * writes under way. Returns the key id and whether a legal hold keeps any of the subject's records.
 */
export async function lockOutSubject(
  q: Queryable,
  collection: string,
  subject: Buffer,
): Promise<{ keyId: Buffer | undefined; held: boolean }> {
  await q.query('SELECT id FROM ward_records WHERE collection = $1 AND subject = $2 ORDER BY id FOR UPDATE', [collection, subject]);
  const [held] = await q.query(
    `SELECT 1 FROM ward_holds h WHERE h.removed_at IS NULL AND h.record_id IN (
       SELECT id FROM ward_records WHERE collection = $1 AND subject = $2
       UNION ALL SELECT id FROM ward_records_archive WHERE collection = $1 AND subject = $2) LIMIT 1`,
    [collection, subject],
  );
  const [row] = await q.query('DELETE FROM ward_subjects WHERE collection = $1 AND subject = $2 RETURNING key_id', [collection, subject]);
  return { keyId: row && asBuffer(row.key_id), held: held !== undefined };
}

/**
 * Deletes every record of a subject, served or archived, with their unique entries and tokens,
 * records the shred (its key ids: never written under again), and writes the audit row naming
 * every record: one statement. Returns the ids.
 */
export async function shredRecords(
  q: Queryable,
  collection: string,
  subject: Buffer,
  keyIds: readonly Buffer[],
  audit: AuditRow,
): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `WITH r AS (DELETE FROM ward_records WHERE collection = $1 AND subject = $2 RETURNING id, tokens),
     x AS (DELETE FROM ward_records_archive WHERE collection = $1 AND subject = $2 RETURNING id),
     u AS (DELETE FROM ward_unique WHERE record_id IN (SELECT id FROM r UNION ALL SELECT id FROM x)),
     t AS (DELETE FROM ward_tokens w USING r, json_each_text(r.tokens) AS k
           WHERE w.record_id = r.id AND w.token = convert_to(k.value, 'UTF8')),
     ids AS (SELECT id FROM r UNION ALL SELECT id FROM x),
     s AS (INSERT INTO ward_subject_shreds (collection, subject, key_id, records)
           SELECT $1, $2, k, (SELECT count(*) FROM ids) FROM unnest($3::bytea[]) AS k ON CONFLICT DO NOTHING),
     a AS (${auditInsert(4, { disclosedBy: 'ids' })})
     SELECT id::text AS id FROM ids ORDER BY id`,
    [collection, subject, keyIds, ...auditParams(audit)],
  );
  return rows.map((r) => r.id);
}

/** Shreds whose key the key store may still hold (its step failed or has not run yet). */
export async function pendingShreds(q: Queryable, limit = 100): Promise<{ collection: string; subject: Buffer; keyId: Buffer }[]> {
  const rows = await q.query(
    'SELECT collection, subject, key_id FROM ward_subject_shreds WHERE key_destroyed_at IS NULL ORDER BY shredded_at LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ collection: r.collection as string, subject: asBuffer(r.subject), keyId: asBuffer(r.key_id) }));
}

export async function markKeyDestroyed(q: Queryable, collection: string, subject: Buffer, keyId: Buffer): Promise<void> {
  await q.query(
    'UPDATE ward_subject_shreds SET key_destroyed_at = now() WHERE collection = $1 AND subject = $2 AND key_id = $3 AND key_destroyed_at IS NULL',
    [collection, subject, keyId],
  );
}

/** Whether any record of a collection, served or archived, is sealed under a subject key. */
export async function subjectRecords(q: Queryable, collection: string): Promise<boolean> {
  const rows = await q.query(
    `SELECT 1 WHERE EXISTS (SELECT 1 FROM ward_records WHERE collection = $1 AND subject IS NOT NULL)
        OR EXISTS (SELECT 1 FROM ward_records_archive WHERE collection = $1 AND subject IS NOT NULL)`,
    [collection],
  );
  return rows.length > 0;
}
