/**
 * Compliance: gathering the facts the HIPAA checks (src/compliance) run on, attestations, and
 * signed reports. Gathering reads inventories only (keys, API keys, agreements, the audit log's
 * checkpoints and verifications, break-glass uses, attestations) straight from the database: one
 * audit row (`compliance.check`) records who asked, not one per inventory. Only `ward check` (the
 * operator) samples records of a nonproduction space through the PHI detector; each sampled read
 * is audited as the operator's.
 */
import { createHash } from 'node:crypto';
import { operatorContext, type RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { exportedSignatureHolds, parseExported } from '../audit/checkpoint.js';
import type { AuditLog } from '../audit/log.js';
import { verifySignature } from '../audit/signing.js';
import { CONTROLS } from '../compliance/citations.js';
import type { SignedReport } from '../compliance/report.js';
import type { AttestationFact, DatabaseFacts } from '../compliance/types.js';
import { retentionDays } from '../config/schema.js';
import { newRecordId } from '../crypto/derive.js';
import type { Keyring } from '../crypto/keyring.js';
import { detect } from '../detect/detect.js';
import { WardError } from '../errors.js';
import { selectApiKeys } from '../store/apikeys.js';
import { insertAttestation, lastCheckpointExport, selectAttestations } from '../store/attestations.js';
import { selectAgreements } from '../store/baa.js';
import { countUses } from '../store/break-glass.js';
import type { Db } from '../store/db.js';
import { selectEpochs } from '../store/keys.js';
import { selectNewest } from '../store/records.js';
import { describe as describeAgreement } from './baa.js';
import type { RecordView } from './records.js';
import type { AuditTrail } from './trail.js';

export interface AttestInput {
  control: string;
  by: string;
  /** The evidence file's bytes: only their SHA-256 is kept. */
  evidence: Buffer;
  /** How long it counts: `1y`, `6m`, `90d`; undefined: until superseded. */
  expires?: string | undefined;
}

export interface GatherOptions {
  /** Nonproduction spaces: read this many records per collection and run their values through the detector (0: none). */
  sample?: number | undefined;
  /** Reads one record as the operator (audited), for the sample. */
  read?: (collection: string, id: string) => Promise<RecordView>;
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

export class Compliance {
  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
    private readonly trail: AuditTrail,
    private readonly keyring: Keyring,
    private readonly log: AuditLog,
    private readonly space: { name: string; tier: string },
    private readonly collections: readonly string[],
  ) {}

  /** An auditor (a role with `audit: true`), an admin, or the operator; others are refused (audited). */
  private async require(ctx: RequestContext, action: string): Promise<void> {
    if (this.policy.canReadAudit(ctx) || this.policy.canAdmin(ctx)) return;
    await this.trail.refuse(
      ctx,
      action,
      [],
      new WardError('forbidden', `role ${ctx.principal.role} may not run compliance checks (it needs audit: true or admin: true)`),
    );
  }

  /** The database's facts for the checks; audited as one `compliance.check` read. */
  async gather(ctx: RequestContext, o: GatherOptions = {}, now = new Date()): Promise<DatabaseFacts> {
    await this.require(ctx, 'compliance.check');
    const [status, epochs, apiKeys, agreements, uses, attestations, checkpoint, lastFull, verify, lastExport] = await Promise.all([
      this.keyring.status(),
      selectEpochs(this.db),
      selectApiKeys(this.db),
      selectAgreements(this.db),
      countUses(this.db),
      this.attestations(),
      this.log.checkpoint(),
      this.log.lastFull(),
      this.log.verifyIncremental(),
      lastCheckpointExport(this.db),
    ]);
    await this.trail.write(this.trail.row(ctx, 'compliance.check', null, [], []));
    const epoch = epochs.at(-1);
    const signing = this.log.keys.list().at(-1);
    return {
      keys: status.map((k) => {
        const active = k.versions.find((v) => v.active) ?? k.versions.at(-1);
        return { collection: k.collection, version: k.activeVersion, createdAt: iso(active?.createdAt) ?? now.toISOString() };
      }),
      masterEpoch: epoch ? { epoch: epoch.epoch, createdAt: epoch.createdAt.toISOString(), completed: epoch.completedAt !== null } : null,
      signingKey: signing ? { version: signing.version, createdAt: signing.createdAt } : null,
      apiKeys: apiKeys.map((k) => ({
        id: k.id,
        name: k.name,
        role: k.role,
        createdAt: k.createdAt.toISOString(),
        expiresAt: iso(k.expiresAt),
        revokedAt: iso(k.revokedAt),
        lastUsedAt: iso(k.lastUsedAt),
      })),
      agreements: agreements.map((row) => {
        const a = describeAgreement(row, now);
        return { id: a.id, name: a.name, hosts: a.hosts, scope: a.scope, expires: a.expires, status: a.status };
      }),
      audit: {
        checkpoint: checkpoint ? { treeSize: checkpoint.treeSize, sealedAt: checkpoint.sealedAt, rootHash: checkpoint.rootHash } : null,
        unsealed: verify.unsealed,
        lastFull: lastFull ?? null,
        verify: { ok: verify.ok, treeSize: verify.treeSize, problem: verify.problem?.kind ?? null },
        lastExportAt: iso(lastExport),
      },
      breakGlass: { uses: uses.uses, unreviewed: uses.unreviewed, oldestUnreviewedAt: iso(uses.oldestUnreviewed) },
      attestations,
      // Only the operator samples (its reads are audited as its own); nothing is sampled for a role over HTTP.
      sample:
        this.space.tier === 'production' || !o.sample || !o.read || ctx.principal.operator !== true
          ? null
          : await this.sample(o.sample, o.read),
    };
  }

  /** Up to `per` records of each collection, their string values run through the detector: counts and types only. */
  private async sample(per: number, read: (collection: string, id: string) => Promise<RecordView>): Promise<DatabaseFacts['sample']> {
    let records = 0;
    let values = 0;
    let withPhi = 0;
    const types = new Set<string>();
    for (const c of this.collections) {
      // The newest records: PHI arriving in a space seeded with synthetic data arrives last.
      for (const row of await selectNewest(this.db, c, per)) {
        const view = await read(c, row.id);
        records++;
        for (const v of Object.values(view.fields)) {
          if (typeof v !== 'string' || !v) continue;
          values++;
          const found = detect(v);
          if (found.length) withPhi++;
          for (const f of found) types.add(f.type);
        }
      }
    }
    return records ? { records, values, withPhi, types: [...types].sort() } : null;
  }

  /** Every attestation, newest first. */
  async attestations(): Promise<AttestationFact[]> {
    return (await selectAttestations(this.db)).map((a) => ({
      id: a.id,
      control: a.control,
      by: a.attestedBy,
      at: a.attestedAt.toISOString(),
      expiresAt: iso(a.expiresAt),
      evidenceSha256: a.evidenceSha256,
    }));
  }

  /** Records an attestation (operator and admin roles); audited with its new id. */
  async attest(input: AttestInput, ctx: RequestContext, now = new Date()): Promise<AttestationFact> {
    if (!this.policy.canAdmin(ctx))
      await this.trail.refuse(
        ctx,
        'compliance.attest',
        [],
        new WardError('forbidden', `role ${ctx.principal.role} may not record attestations (it needs admin: true)`),
      );
    if (!Object.hasOwn(CONTROLS, input.control))
      throw new WardError('invalid_request', `control must be one of: ${Object.keys(CONTROLS).join(', ')}`);
    const by = typeof input.by === 'string' ? input.by.trim() : '';
    if (!by || by.length > 200) throw new WardError('invalid_request', '--by must be 1 to 200 characters');
    if (!input.evidence.length) throw new WardError('invalid_request', '--evidence: the file is empty');
    let expiresAt: Date | null = null;
    if (input.expires !== undefined) {
      if (!/^[1-9]\d{0,3}[dwmy]$/.test(input.expires))
        throw new WardError('invalid_request', '--expires must be a duration such as 1y, 6m, 12w or 90d');
      expiresAt = new Date(now.getTime() + retentionDays(input.expires) * 86_400_000);
    }
    const row = {
      id: newRecordId(),
      control: input.control,
      attestedBy: by,
      evidenceSha256: createHash('sha256').update(input.evidence).digest('hex'),
      attestedAt: now,
      expiresAt,
    };
    await this.trail.run(this.trail.row(ctx, 'compliance.attest', null, [row.id], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        await insertAttestation(tx, row);
        await writeAudit({ ...audit, detail: `control ${row.control}` });
      }),
    );
    return { id: row.id, control: row.control, by, at: now.toISOString(), expiresAt: iso(expiresAt), evidenceSha256: row.evidenceSha256 };
  }

  /**
   * Signs a report's bytes with the newest audit signing key, at the checkpoint sealed just
   * before (so the report names a point of the log an auditor can check it against).
   */
  async sign(bytes: Buffer, ctx: RequestContext = operatorContext()): Promise<SignedReport> {
    // Making a report is audited, and its own row is sealed into the checkpoint the report names.
    await this.trail.write(this.trail.row(ctx, 'compliance.report', null, [], []));
    await this.log.seal(10_000);
    const cp = await this.log.checkpoint();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const signed = await this.log.signStatement(reportMessage(sha256, cp ? JSON.stringify(cp) : ''));
    return {
      format: 'ward-signed-report/v1',
      sha256,
      signature: { keyVersion: signed.version, publicKey: signed.publicKey.toString('base64'), value: signed.signature.toString('base64') },
      checkpoint: cp ? { ...cp } : null,
    };
  }

  /**
   * Checks a signed report: the bytes' digest, the signature by one of this database's audit
   * signing keys, the checkpoint's own signature, and that this database's log still extends it.
   */
  async verifyReport(bytes: Buffer, sigText: string, source: string): Promise<{ ok: boolean; problem?: string; checkpoint?: number }> {
    let sig: SignedReport;
    try {
      sig = JSON.parse(sigText) as SignedReport;
    } catch {
      throw new WardError('invalid_request', `${source}: not a JSON report signature`);
    }
    if (sig?.format !== 'ward-signed-report/v1' || typeof sig.signature?.value !== 'string' || typeof sig.signature.publicKey !== 'string')
      throw new WardError('invalid_request', `${source}: not a report signature (ward-signed-report/v1)`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== sig.sha256) return { ok: false, problem: 'the report was altered: its SHA-256 differs from the signed one' };
    // Every report names the checkpoint it was made at (sign() seals first): one without is not Ward's.
    if (!sig.checkpoint) return { ok: false, problem: 'the signature names no checkpoint' };
    const publicKey = Buffer.from(sig.signature.publicKey, 'base64');
    const version = sig.signature.keyVersion;
    const known = this.log.keys.list().find((k) => k.version === version);
    await this.log.keys.refresh();
    const listed = this.log.keys.list().find((k) => k.version === version) ?? known;
    // The key must be this database's, of the version named, and genuine (made with the master key, not written in by someone).
    if (!listed || !Buffer.from(listed.publicKey, 'base64').equals(publicKey) || (await this.log.keys.forged()).includes(version))
      return { ok: false, problem: "the report is not signed by one of this database's audit signing keys" };
    const message = reportMessage(sha256, JSON.stringify(sig.checkpoint));
    if (!verifySignature(publicKey, message, Buffer.from(sig.signature.value, 'base64')))
      return { ok: false, problem: 'the signature does not hold' };
    const cp = parseExported(JSON.stringify(sig.checkpoint), `${source} (checkpoint)`);
    if (!exportedSignatureHolds(cp)) return { ok: false, problem: "the checkpoint's signature does not hold" };
    const extended = await this.log.verify(cp);
    if (!extended.ok)
      return { ok: false, problem: `the audit log does not verify against the report's checkpoint (${extended.problem?.kind})` };
    return { ok: true, checkpoint: cp.treeSize };
  }
}

/** What a report signature signs: a domain prefix, the report's SHA-256 and the checkpoint it names. */
const reportMessage = (sha256: string, checkpoint: string): Buffer => Buffer.from(`ward-report/v1\n${sha256}\n${checkpoint}\n`);
