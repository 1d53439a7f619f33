/** SQL for Business Associate Agreements. No business rules here. */
import type { Queryable } from './db.js';

export interface AgreementRow {
  id: string;
  name: string;
  hosts: string[];
  /** YYYY-MM-DD */
  signed: string;
  expires: string;
  scope: 'phi' | 'no-phi';
  documentSha256: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

const COLUMNS = `id::text AS id, name, hosts, to_char(signed, 'YYYY-MM-DD') AS signed, to_char(expires, 'YYYY-MM-DD') AS expires, scope,
  encode(document_sha256, 'hex') AS document_sha256, created_at, revoked_at`;

const toRow = (r: Record<string, unknown>): AgreementRow => ({
  id: r.id as string,
  name: r.name as string,
  hosts: r.hosts as string[],
  signed: r.signed as string,
  expires: r.expires as string,
  scope: r.scope as 'phi' | 'no-phi',
  documentSha256: (r.document_sha256 as string | null) ?? null,
  createdAt: r.created_at as Date,
  revokedAt: (r.revoked_at as Date | null) ?? null,
});

export async function insertAgreement(q: Queryable, a: Omit<AgreementRow, 'createdAt' | 'revokedAt'>): Promise<void> {
  await q.query(
    `INSERT INTO ward_baa (id, name, hosts, signed, expires, scope, document_sha256)
     VALUES ($1, $2, $3::text[], $4::date, $5::date, $6, decode($7, 'hex'))`,
    [a.id, a.name, a.hosts, a.signed, a.expires, a.scope, a.documentSha256],
  );
}

export async function selectAgreements(q: Queryable): Promise<AgreementRow[]> {
  return (await q.query(`SELECT ${COLUMNS} FROM ward_baa ORDER BY expires, created_at`)).map(toRow);
}

/** Marks an agreement revoked; returns whether one was (and was not revoked already). */
export async function revokeAgreement(q: Queryable, id: string): Promise<boolean> {
  const rows = await q.query('UPDATE ward_baa SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
  return rows.length > 0;
}

/** Whether an agreement with this id exists (revoked or not). */
export async function agreementExists(q: Queryable, id: string): Promise<boolean> {
  return (await q.query('SELECT 1 FROM ward_baa WHERE id = $1', [id])).length > 0;
}
