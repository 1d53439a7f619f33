/**
 * Reading the audit trail (events, the accounting of disclosures, log-in failures, verification,
 * checkpoints) for audit roles and the operator, each read audited too; and the sealed log's
 * upkeep (sealing, signing keys, background sealing and verification).
 */
import type { RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import type { ExportedCheckpoint } from '../audit/checkpoint.js';
import type { AuditLog, LastFull } from '../audit/log.js';
import type { SealResult } from '../audit/seal.js';
import type { SigningKeyInfo } from '../audit/signing.js';
import type { VerifyReport } from '../audit/verify.js';
import { WardError } from '../errors.js';
import { type AuditFilter, type DisclosureFilter, knownRecords, type StoredAuditEvent, selectAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { loginReport } from '../store/logins.js';
import { checkId } from './records.js';
import type { AuditTrail } from './trail.js';

interface LoginEntry {
  failures: number;
  lockouts: number;
  first: string;
  last: string;
}

/** `ward audit logins`: failures and lockouts by client address and by API key (`key:<prefix>`). */
export interface LoginReport {
  since: string | null;
  clients: (LoginEntry & { client: string })[];
  keys: (LoginEntry & { key: string })[];
}

/** What background upkeep reports: a seal round that failed, a verification done or failed to run. */
export interface UpkeepHandlers {
  sealFailed(e: unknown): void;
  verified(r: VerifyReport): void;
  verifyFailed(e: unknown): void;
}

export class AuditReads {
  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
    private readonly trail: AuditTrail,
    private readonly log: AuditLog,
  ) {}

  /** Audit events, oldest first; for roles with `audit: true` and the operator. Reading is audited too. */
  events(filter: AuditFilter, ctx: RequestContext): Promise<StoredAuditEvent[]> {
    return this.read(ctx, 'audit.read', filter.recordId ? [filter.recordId] : [], () => selectAudit(this.db, filter));
  }

  /** The accounting of disclosures of one record (45 CFR 164.528). */
  disclosures(recordId: string, filter: DisclosureFilter, ctx: RequestContext): Promise<StoredAuditEvent[]> {
    const rid = checkId(recordId);
    return this.read(ctx, 'audit.disclosures', [rid], () => selectAudit(this.db, { ...filter, recordId: rid, phiOnly: true }));
  }

  /** Failed authentications and lockouts since `since`, by client address and by API key. */
  logins(since: Date | undefined, ctx: RequestContext): Promise<LoginReport> {
    return this.read(ctx, 'audit.logins', [], async () => {
      const rows = await loginReport(this.db, since ?? null);
      const entry = (r: (typeof rows)[number]) => ({
        failures: r.failures,
        lockouts: r.lockouts,
        first: r.first.toISOString(),
        last: r.last.toISOString(),
      });
      return {
        since: since?.toISOString() ?? null,
        clients: rows.filter((r) => r.by === 'client').map((r) => ({ client: r.subject, ...entry(r) })),
        keys: rows.filter((r) => r.by === 'key').map((r) => ({ key: r.subject, ...entry(r) })),
      };
    });
  }

  verify(since: ExportedCheckpoint | undefined, ctx: RequestContext): Promise<VerifyReport> {
    return this.read(ctx, 'audit.verify', [], () => this.log.verify(since));
  }

  /** An incremental verification with the newest full one: `ok` only when both are. */
  verifyIncremental(ctx: RequestContext): Promise<VerifyReport & { lastFull: LastFull | null }> {
    return this.read(ctx, 'audit.verify', [], async () => {
      const [report, lastFull] = await Promise.all([this.log.verifyIncremental(), this.log.lastFull()]);
      if (report.ok && lastFull && !lastFull.ok)
        return {
          ...report,
          ok: false,
          lastFull,
          problem: {
            kind: 'full_verification_failed' as const,
            seq: null,
            treeSize: null,
            message: `the last full verification (${lastFull.at}) found a problem; ward audit verify names it`,
          },
        };
      return { ...report, lastFull: lastFull ?? null };
    });
  }

  checkpoint(ctx: RequestContext): Promise<ExportedCheckpoint | undefined> {
    return this.read(ctx, 'audit.checkpoint', [], () => this.log.checkpoint());
  }

  signingKeys(): SigningKeyInfo[] {
    return this.log.keys.list();
  }

  rotateSigningKey(): Promise<number> {
    return this.log.keys.rotate();
  }

  seal(waitMs: number): Promise<SealResult> {
    return this.log.seal(waitMs);
  }

  /** Seals in the background every `sealEveryMs` and verifies in full every `verifyEveryMs` (null: never). */
  startUpkeep(sealEveryMs: number | null, verifyEveryMs: number | null, on: UpkeepHandlers): void {
    if (sealEveryMs !== null) this.log.sealer.start(sealEveryMs, on.sealFailed);
    if (verifyEveryMs !== null) this.log.startVerifying(verifyEveryMs, on.verified, on.verifyFailed);
  }

  /** Stops background verification, then seals what is left (a clean shutdown leaves nothing unsealed). */
  async stopUpkeep(): Promise<void> {
    await this.log.stopVerifying();
    await this.log.sealer.stop();
  }

  /** Runs a read of the audit trail for an audit role, auditing the read (or its denial). */
  private async read<T>(ctx: RequestContext, action: string, asked: string[], read: () => Promise<T>): Promise<T> {
    // A record id goes into the row only if it names a record Ward created: else it is only what the caller sent.
    const recordIds = asked.length ? await knownRecords(this.db, asked) : [];
    if (!this.policy.canReadAudit(ctx))
      await this.trail.refuse(
        ctx,
        action,
        recordIds,
        new WardError('forbidden', `role ${ctx.principal.role} may not read the audit trail`),
      );
    const out = await read();
    await this.trail.write(this.trail.row(ctx, action, null, recordIds, []));
    return out;
  }
}
