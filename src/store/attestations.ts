/** SQL for attestations (migration 0018). No business rules here. */
import type { Queryable } from './db.js';

export interface AttestationRow {
  id: string;
  control: string;
  attestedBy: string;
  evidenceSha256: string;
  attestedAt: Date;
  expiresAt: Date | null;
}

const toRow = (r: Record<string, unknown>): AttestationRow => ({
  id: r.id as string,
  control: r.control as string,
  attestedBy: r.attested_by as string,
  evidenceSha256: r.evidence_sha256 as string,
  attestedAt: r.attested_at as Date,
  expiresAt: (r.expires_at as Date | null) ?? null,
});

export async function insertAttestation(q: Queryable, a: Omit<AttestationRow, 'attestedAt'> & { attestedAt: Date }): Promise<void> {
  await q.query(
    `INSERT INTO ward_attestations (id, control, attested_by, evidence_sha256, attested_at, expires_at)
     VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6)`,
    [a.id, a.control, a.attestedBy, a.evidenceSha256, a.attestedAt, a.expiresAt],
  );
}

/** Every attestation, newest first. */
export async function selectAttestations(q: Queryable): Promise<AttestationRow[]> {
  const rows = await q.query(
    `SELECT id::text AS id, control, attested_by, encode(evidence_sha256, 'hex') AS evidence_sha256, attested_at, expires_at
     FROM ward_attestations ORDER BY attested_at DESC, id`,
  );
  return rows.map(toRow);
}

/** When a signed checkpoint was last handed out: the newest allowed `audit.checkpoint` read in the audit trail. */
export async function lastCheckpointExport(q: Queryable): Promise<Date | null> {
  const [r] = await q.query("SELECT max(at) AS at FROM ward_audit_events WHERE action = 'audit.checkpoint' AND outcome = 'allowed'");
  return (r?.at as Date | null) ?? null;
}
