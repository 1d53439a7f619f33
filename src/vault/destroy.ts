/**
 * The end of a space (a BAA's "return or destruction of PHI upon termination"): every data and
 * index key in the database is destroyed, so its records and archive can no longer be read; the
 * audit trail stays. Backups and replicas taken before still hold the keys wrapped by the master
 * key: destroying the master key (every copy of it) is what makes them unreadable, and the
 * certificate names that key by its check value. A certificate records what was destroyed (key
 * versions, record counts, the time, the signed audit checkpoint that covers the destruction),
 * signed with the audit signing key; `verifyCertificate` checks it against the database's signing
 * keys and sealed log.
 */

import type { RequestContext } from '../access/actions.js';
import { type ExportedCheckpoint, exportedSignatureHolds, parseExported } from '../audit/checkpoint.js';
import type { AuditLog } from '../audit/log.js';
import { verifySignature } from '../audit/signing.js';
import { WardError } from '../errors.js';
import type { Db } from '../store/db.js';
import * as store from '../store/destroy.js';
import { type AuditTrail, asOwner } from './trail.js';

export const CERTIFICATE_FORMAT = 'ward-destruction-certificate/v1';

export interface CertificateBody {
  format: typeof CERTIFICATE_FORMAT;
  space: string;
  tier: string;
  destroyedAt: string;
  keys: { collection: string; purpose: string; version: number }[];
  records: { collection: string; records: number; archived: number }[];
  /** The master key's check value (hex): the key whose every copy must be destroyed too, for backups. */
  masterKeyCheck: string;
  /** The signed audit checkpoint that covers the destruction's own audit event. */
  checkpoint: ExportedCheckpoint;
}

export interface Certificate {
  body: CertificateBody;
  keyVersion: number;
  publicKey: string;
  signature: string;
}

const message = (body: CertificateBody) => Buffer.from(`${CERTIFICATE_FORMAT}\n${JSON.stringify(body)}`);

export async function destroySpace(
  db: Db,
  trail: AuditTrail,
  log: AuditLog,
  space: { name: string; tier: string },
  ctx: RequestContext,
): Promise<Certificate> {
  if (!ctx.principal.operator)
    await trail.refuse(ctx, 'space.destroy', [], new WardError('forbidden', 'a space is destroyed by the operator (ward destroy)'));
  const records = await store.recordCounts(db);
  const masterKeyCheck = await store.masterCheck(db);
  const { keys, at } = await trail.run(trail.row(ctx, 'space.destroy', null, [], []), (row) =>
    trail.transaction(async (tx, audit) => {
      const keys = await asOwner('destroying a space', () => store.destroyKeys(tx));
      const at = await store.markDestroyed(tx);
      const total = records.reduce((n, r) => n + r.records + r.archived, 0);
      await audit({ ...row, detail: `${keys.length} key version(s) destroyed; ${total} record(s) unreadable` });
      return { keys, at };
    }),
  );
  // The destruction's own event sealed, and the checkpoint that covers it.
  await log.seal(10_000);
  const checkpoint = await log.checkpoint();
  if (!checkpoint) throw new WardError('integrity_error', 'the audit log could not be sealed after the destruction');
  const body: CertificateBody = {
    format: CERTIFICATE_FORMAT,
    space: space.name,
    tier: space.tier,
    destroyedAt: at.toISOString(),
    keys,
    records,
    masterKeyCheck,
    checkpoint,
  };
  const signed = await log.signStatement(message(body));
  return {
    body,
    keyVersion: signed.version,
    publicKey: signed.publicKey.toString('base64'),
    signature: signed.signature.toString('base64'),
  };
}

export interface CertificateReport {
  ok: boolean;
  /** What failed, when something did. */
  problem?: string;
  space?: string;
  destroyedAt?: string;
  keysDestroyed?: number;
}

/**
 * Checks a certificate: its signature, by one of this database's audit signing keys; its
 * checkpoint's signature, and that this database's sealed log still extends it; that the database
 * recorded the destruction and holds no key.
 */
export async function verifyCertificate(db: Db, log: AuditLog, text: string, source: string): Promise<CertificateReport> {
  let cert: Certificate;
  try {
    cert = JSON.parse(text) as Certificate;
  } catch {
    throw new WardError('invalid_request', `${source}: not a JSON destruction certificate`);
  }
  if (cert?.body?.format !== CERTIFICATE_FORMAT || typeof cert.signature !== 'string' || typeof cert.publicKey !== 'string')
    throw new WardError('invalid_request', `${source}: not a destruction certificate (${CERTIFICATE_FORMAT})`);
  const base = { space: cert.body.space, destroyedAt: cert.body.destroyedAt, keysDestroyed: cert.body.keys?.length ?? 0 };
  const publicKey = Buffer.from(cert.publicKey, 'base64');
  if (!(await log.publicKeys()).some((k) => k.equals(publicKey)))
    return { ok: false, problem: "the certificate is not signed by one of this database's audit signing keys", ...base };
  if (!verifySignature(publicKey, message(cert.body), Buffer.from(cert.signature, 'base64')))
    return { ok: false, problem: 'the signature does not hold: the certificate was altered', ...base };
  const checkpoint = parseExported(JSON.stringify(cert.body.checkpoint), `${source} (checkpoint)`);
  if (!exportedSignatureHolds(checkpoint)) return { ok: false, problem: "the checkpoint's signature does not hold", ...base };
  const extends_ = await log.verify(checkpoint);
  if (!extends_.ok)
    return {
      ok: false,
      problem: `the audit log does not verify against the certificate's checkpoint (${extends_.problem?.kind})`,
      ...base,
    };
  if (!(await store.destroyedAt(db))) return { ok: false, problem: 'this database records no destruction', ...base };
  const left = await store.keysLeft(db);
  if (left) return { ok: false, problem: `this database still holds ${left} key(s)`, ...base };
  return { ok: true, ...base };
}
