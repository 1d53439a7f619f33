/**
 * SQL for subjects in Ward's own database: each subject's current key id (never key material) and
 * the shred of a subject's records. No rules here: see vault/subjects.
 */
import { type AuditRow, auditInsert, auditParams } from './audit.js';
import { asBuffer, type Queryable } from './db.js';

/** Records (mirrors) a subject's current key id, replacing one the key store no longer holds. */
export async function upsertSubject(q: Queryable, collection: string, subject: Buffer, keyId: Buffer): Promise<void> {
  await q.query(
    `INSERT INTO ward_subjects (collection, subject, key_id) VALUES ($1, $2, $3)
     ON CONFLICT (collection, subject) DO UPDATE SET key_id = EXCLUDED.key_id WHERE ward_subjects.key_id <> EXCLUDED.key_id`,
    [collection, subject, keyId],
  );
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
 * Inside the shred's transaction, first: deletes the subject's key id row, waiting for writes that
 * hold it (see migration 0016), so no record is written under the key after this. Returns the id.
 */
export async function lockOutSubject(q: Queryable, collection: string, subject: Buffer): Promise<Buffer | undefined> {
  const [row] = await q.query('DELETE FROM ward_subjects WHERE collection = $1 AND subject = $2 RETURNING key_id', [collection, subject]);
  return row && asBuffer(row.key_id);
}

/**
 * Deletes every record of a subject, served or archived, with their unique entries and tokens,
 * records the shred, and writes the audit row naming every record: one statement. Returns the ids.
 */
export async function shredRecords(q: Queryable, collection: string, subject: Buffer, keyId: Buffer, audit: AuditRow): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `WITH r AS (DELETE FROM ward_records WHERE collection = $1 AND subject = $2 RETURNING id, tokens),
     x AS (DELETE FROM ward_records_archive WHERE collection = $1 AND subject = $2 RETURNING id),
     u AS (DELETE FROM ward_unique WHERE record_id IN (SELECT id FROM r UNION ALL SELECT id FROM x)),
     t AS (DELETE FROM ward_tokens w USING r, json_each_text(r.tokens) AS k
           WHERE w.record_id = r.id AND w.token = convert_to(k.value, 'UTF8')),
     ids AS (SELECT id FROM r UNION ALL SELECT id FROM x),
     s AS (INSERT INTO ward_subject_shreds (collection, subject, key_id, records)
           SELECT $1, $2, $3, count(*) FROM ids ON CONFLICT DO NOTHING),
     a AS (${auditInsert(4, { disclosedBy: 'ids' })})
     SELECT id::text AS id FROM ids ORDER BY id`,
    [collection, subject, keyId, ...auditParams(audit)],
  );
  return rows.map((r) => r.id);
}
