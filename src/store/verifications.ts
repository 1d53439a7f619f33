/** SQL for the record of verifications of the sealed log. No rules here: see audit/log. */
import { asBuffer, type Queryable } from './db.js';

export interface VerificationRow {
  /** When it finished, ISO 8601 (signed as written). */
  at: string;
  kind: 'full' | 'incremental';
  fromSize: number;
  treeSize: number;
  ok: boolean;
  /** The problem's kind and where, when it failed. */
  problem: string | null;
  keyVersion: number;
  signature: Buffer;
}

export async function insertVerification(q: Queryable, v: VerificationRow): Promise<void> {
  await q.query(
    `INSERT INTO ward_audit_verifications (at, kind, from_size, tree_size, ok, problem, key_version, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [v.at, v.kind, v.fromSize, v.treeSize, v.ok, v.problem, v.keyVersion, v.signature],
  );
}

/** The newest verifications, newest first by their signed time (an old row copied anew stays old); `kind` narrows them. */
export async function recentVerifications(q: Queryable, limit: number, kind?: VerificationRow['kind']): Promise<VerificationRow[]> {
  const rows = await q.query(
    `SELECT at, kind, from_size::text AS from_size, tree_size::text AS tree_size, ok, problem, key_version, signature
     FROM ward_audit_verifications WHERE ($2::text IS NULL OR kind = $2) ORDER BY at DESC, id DESC LIMIT $1`,
    [limit, kind ?? null],
  );
  return rows.map((r) => ({
    at: r.at as string,
    kind: r.kind as VerificationRow['kind'],
    fromSize: Number(r.from_size),
    treeSize: Number(r.tree_size),
    ok: r.ok as boolean,
    problem: (r.problem as string | null) ?? null,
    keyVersion: r.key_version as number,
    signature: asBuffer(r.signature),
  }));
}

const VERIFY_LOCK = 0x77617276; // "warv"

/** Takes the lock of full verifications for the current transaction, or reports that another process holds it. */
export async function tryVerifyLock(q: Queryable): Promise<boolean> {
  const [row] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [VERIFY_LOCK]);
  return row?.ok === true;
}
