/**
 * Business Associate Agreements (45 CFR 164.308(b)(1), 164.314(a)): the services that may receive
 * PHI, or data about it, from Ward. Added, listed and revoked by the operator and admin roles,
 * each change audited (the audit row names the agreement by its id, never by the text typed).
 * An expired or revoked agreement covers nothing; one expiring within 30 days is flagged.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { newRecordId } from '../crypto/derive.js';
import { WardError } from '../errors.js';
import { type AgreementRow, agreementExists, insertAgreement, revokeAgreement, selectAgreements } from '../store/baa.js';
import type { Db } from '../store/db.js';
import { hostMatches, normalHost } from '../util/hosts.js';
import { UUID } from './records.js';
import type { AuditTrail } from './trail.js';

export type Scope = 'phi' | 'no-phi';
export const EXPIRY_WARNING_DAYS = 30;
const DAY = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface AgreementInput {
  name: string;
  hosts: readonly string[];
  signed: string;
  expires: string;
  scope?: Scope | undefined;
  /** The signed document's SHA-256 (hex); the document itself is never stored. */
  documentSha256?: string | undefined;
}

export interface Agreement extends Omit<AgreementRow, 'createdAt' | 'revokedAt'> {
  createdAt: string;
  revokedAt: string | null;
  /** Whole days from today (UTC) to the expiry date; negative once expired. */
  daysToExpiry: number;
  status: 'active' | 'expiring' | 'expired' | 'revoked';
}

/** The SHA-256 of a document, as `ward baa add --document` records it. */
export const documentDigest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function calendarDate(text: unknown, what: string): string {
  const m = typeof text === 'string' ? DATE.exec(text) : null;
  const d = m ? new Date(`${text}T00:00:00Z`) : undefined;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text)
    throw new WardError('invalid_request', `${what} must be a calendar date as YYYY-MM-DD`);
  return text as string;
}

const today = (now: Date) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
const daysTo = (date: string, now: Date) => Math.round((Date.parse(`${date}T00:00:00Z`) - today(now)) / DAY);

export function describe(row: AgreementRow, now = new Date()): Agreement {
  const daysToExpiry = daysTo(row.expires, now);
  const status = row.revokedAt ? 'revoked' : daysToExpiry < 0 ? 'expired' : daysToExpiry <= EXPIRY_WARNING_DAYS ? 'expiring' : 'active';
  return { ...row, createdAt: row.createdAt.toISOString(), revokedAt: row.revokedAt?.toISOString() ?? null, daysToExpiry, status };
}

export class Agreements {
  private cache: { at: number; rows: AgreementRow[] } | undefined;

  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
    private readonly trail: AuditTrail,
  ) {}

  /** Records an agreement (operator and admin roles); audited with the agreement's new id. */
  async add(input: AgreementInput, ctx: RequestContext): Promise<Agreement> {
    await this.requireAdmin(ctx, 'baa.add');
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || name.length > 200) throw new WardError('invalid_request', 'name must be 1 to 200 characters');
    if (!Array.isArray(input.hosts) || input.hosts.length === 0 || input.hosts.length > 50)
      throw new WardError('invalid_request', 'hosts must list 1 to 50 host names');
    const hosts = input.hosts.map((h, i) => {
      const n = typeof h === 'string' ? normalHost(h) : undefined;
      if (!n) throw new WardError('invalid_request', `hosts[${i}] must be a host name (api.example.com, *.example.com) or an IP address`);
      return n;
    });
    const signed = calendarDate(input.signed, 'signed');
    const expires = calendarDate(input.expires, 'expires');
    if (expires <= signed) throw new WardError('invalid_request', 'expires must be after signed');
    const scope = input.scope ?? 'phi';
    if (scope !== 'phi' && scope !== 'no-phi') throw new WardError('invalid_request', 'scope must be phi or no-phi');
    const digest = input.documentSha256;
    if (digest !== undefined && !/^[0-9a-f]{64}$/i.test(digest))
      throw new WardError('invalid_request', 'documentSha256 must be 64 hexadecimal digits');
    const row = {
      id: newRecordId(),
      name,
      hosts: [...new Set(hosts)],
      signed,
      expires,
      scope,
      documentSha256: digest?.toLowerCase() ?? null,
    };
    await this.trail.run(this.trail.row(ctx, 'baa.add', null, [row.id], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        await insertAgreement(tx, row);
        await writeAudit(audit);
      }),
    );
    this.cache = undefined;
    return describe({ ...row, createdAt: new Date(), revokedAt: null });
  }

  /** Every agreement, soonest expiry first, with its status (operator and admin roles; audited). */
  async list(ctx: RequestContext): Promise<Agreement[]> {
    await this.requireAdmin(ctx, 'baa.list');
    const rows = await selectAgreements(this.db);
    await this.trail.write(this.trail.row(ctx, 'baa.list', null, [], []));
    return rows.map((r) => describe(r));
  }

  /** Revokes an agreement by id: from now on it covers nothing. Audited. */
  async revoke(id: string, ctx: RequestContext): Promise<void> {
    await this.requireAdmin(ctx, 'baa.revoke');
    if (!UUID.test(id)) throw new WardError('invalid_request', 'an agreement id is a UUID');
    const rid = id.toLowerCase();
    // An id that names no agreement is only what the caller sent: not kept in the audit row.
    const known = await agreementExists(this.db, rid);
    await this.trail.run(this.trail.row(ctx, 'baa.revoke', null, known ? [rid] : [], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        if (!(await revokeAgreement(tx, rid))) throw new WardError('not_found', 'no agreement with this id is in force');
        await writeAudit(audit);
      }),
    );
    this.cache = undefined;
  }

  /**
   * The agreement in force that covers `host` for `scope` (a `phi` agreement covers both scopes),
   * or undefined. Read through a cache of a few seconds: a revocation applies within that.
   */
  async covering(host: string, scope: Scope, now = new Date()): Promise<Agreement | undefined> {
    if (!this.cache || Date.now() - this.cache.at > 5_000) this.cache = { at: Date.now(), rows: await selectAgreements(this.db) };
    const h = normalHost(host);
    if (!h) return undefined;
    for (const row of this.cache.rows) {
      const a = describe(row, now);
      if (a.status !== 'active' && a.status !== 'expiring') continue;
      if (scope === 'phi' && a.scope !== 'phi') continue;
      if (a.hosts.some((p) => hostMatches(p, h))) return a;
    }
    return undefined;
  }

  /** Agreements in force that expire within EXPIRY_WARNING_DAYS (for a warning at start-up). */
  async expiringSoon(now = new Date()): Promise<Agreement[]> {
    return (await selectAgreements(this.db)).map((r) => describe(r, now)).filter((a) => a.status === 'expiring');
  }

  private async requireAdmin(ctx: RequestContext, action: string): Promise<void> {
    if (this.policy.canAdmin(ctx)) return;
    await this.trail.refuse(
      ctx,
      action,
      [],
      new WardError('forbidden', `role ${ctx.principal.role} may not manage agreements (it needs admin: true)`),
    );
  }
}
