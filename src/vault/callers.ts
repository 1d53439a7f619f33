/**
 * Who is calling: an HTTP request's API key and stated purpose checked (failures counted towards
 * a lockout, every refusal audited, nothing a client chose written to the trail), and API keys
 * managed by the operator and admin roles, each change audited in its own transaction.
 */
import type { Principal, RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { WardError } from '../errors.js';
import { clientKey } from '../util/address.js';
import { type ApiKeyInfo, type ApiKeys, AuthFailure } from './apikeys.js';
import type { BreakGlass } from './break-glass.js';
import { type LoginGuard, lockedError } from './logins.js';
import { type AuditTrail, failClosed } from './trail.js';

/** An HTTP request as authentication sees it: nothing here is trusted yet. */
export interface HttpCaller {
  /** The bearer key, if one was sent. */
  key: string | undefined;
  /** The Ward-Purpose header, if one was sent (any text: it is checked against the declared purposes). */
  purpose: string | undefined;
  /** The client's IP address (the socket's, or a trusted proxy's X-Forwarded-For), or null when it is not one. */
  client: string | null;
  requestId: string;
  /** The Ward-Break-Glass header, if one was sent: the reason for emergency access (checked, never written to the trail). */
  breakGlass?: string | undefined;
}

export interface CreatedApiKey {
  id: string;
  /** The whole key: shown once, never stored. */
  key: string;
  prefix: string;
  role: string;
  expiresAt: string | null;
}

export class Callers {
  constructor(
    private readonly policy: Policy,
    private readonly trail: AuditTrail,
    private readonly apiKeys: ApiKeys,
    private readonly logins: LoginGuard,
    private readonly breakGlass: BreakGlass,
  ) {}

  /**
   * Who an HTTP request is and why it asks: its API key checked (a locked-out client or key is
   * refused before any work), its stated purpose one the configuration declares. Every refusal is
   * audited (a failed key counted towards a lockout, which is audited once instead of each
   * attempt); nothing a client sent is written to the audit trail unless the configuration
   * declares it (an unknown purpose is recorded as none, a key prefix only when it names a key).
   */
  async authenticate(req: HttpCaller, keys: ApiKeys): Promise<RequestContext> {
    const base = { requestId: req.requestId, client: req.client ?? undefined };
    const client = req.client === null ? null : clientKey(req.client);
    this.logins.checkClient(client);
    let principal: Principal;
    try {
      principal = await keys.authenticate(req.key);
    } catch (e) {
      if (!(e instanceof AuthFailure)) throw e;
      const prefix = e.knownPrefix;
      const actor = { id: prefix ? `key:${prefix}` : 'anonymous', role: 'none' };
      const row = this.trail.row({ principal: actor, ...base }, 'authenticate', null, [], [], 'unauthenticated', 'unauthenticated');
      // A key under lockout: the attempt is refused without an audit row, but its client still
      // counts it (so one address cannot try without end).
      const until = this.logins.keyLocked(prefix);
      const locked = await failClosed(() =>
        until === undefined ? this.logins.failure(client, prefix, row) : this.logins.failure(client, undefined, row, false),
      );
      throw locked ?? (until === undefined ? e : lockedError(until));
    }
    let ctx: RequestContext = { principal, ...base };
    if (req.purpose !== undefined) {
      if (!this.policy.purposes.has(req.purpose)) {
        await this.trail.refuse(
          ctx,
          'authenticate',
          [],
          new WardError('unknown_purpose', 'Ward-Purpose names no purpose declared in ward.yaml'),
        );
      }
      ctx = { ...ctx, purpose: req.purpose };
    }
    if (req.breakGlass === undefined) return ctx;
    return { ...ctx, breakGlass: await this.breakGlass.declare(ctx, req.breakGlass) };
  }

  /**
   * Creates an API key for a role; the key itself is returned only here. For the operator and
   * admin roles; the creation and its audit row commit together. The key's name is stored with
   * it, never in the audit trail (it is the caller's text).
   */
  async createKey(role: string, name: string, lifetimeMs: number | undefined, ctx: RequestContext): Promise<CreatedApiKey> {
    await this.requireAdmin(ctx, 'apikey.create');
    const expiresAt = lifetimeMs === undefined ? null : new Date(Date.now() + lifetimeMs);
    return this.trail.run(this.trail.row(ctx, 'apikey.create', null, [], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        const created = await this.apiKeys.create(role, name, expiresAt, tx);
        await writeAudit({ ...audit, recordIds: [created.id] });
        return { ...created, role, expiresAt: expiresAt?.toISOString() ?? null };
      }),
    );
  }

  /** Every API key (never a secret), for the operator and admin roles. */
  async listKeys(ctx: RequestContext): Promise<ApiKeyInfo[]> {
    await this.requireAdmin(ctx, 'apikey.list');
    return this.trail.run(this.trail.row(ctx, 'apikey.list', null, [], []), async (audit) => {
      const keys = await this.apiKeys.list();
      await this.trail.write(audit);
      return keys;
    });
  }

  /**
   * Rotates an API key: a successor for the same role (its key shown once, here), the old key
   * ending after the overlap. Operator and admin roles; audited with both ids.
   */
  async rotateKey(idOrPrefix: string, overlapMs: number, ctx: RequestContext): Promise<{ old: ApiKeyInfo; successor: CreatedApiKey }> {
    await this.requireAdmin(ctx, 'apikey.rotate');
    return this.trail.run(this.trail.row(ctx, 'apikey.rotate', null, [], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        const { old, successor } = await this.apiKeys.rotate(idOrPrefix, overlapMs, tx);
        await writeAudit({ ...audit, recordIds: [old.id, successor.id] });
        return { old, successor: { ...successor, role: old.role, expiresAt: successor.expiresAt?.toISOString() ?? null } };
      }),
    );
  }

  /** Revokes an API key by id (or, for the operator, its prefix); effective on its next request. */
  async revokeKey(idOrPrefix: string, ctx: RequestContext): Promise<void> {
    await this.requireAdmin(ctx, 'apikey.revoke');
    await this.trail.run(this.trail.row(ctx, 'apikey.revoke', null, [], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        const id = await this.apiKeys.revoke(idOrPrefix, tx);
        await writeAudit({ ...audit, recordIds: [id] });
      }),
    );
  }

  private async requireAdmin(ctx: RequestContext, action: string): Promise<void> {
    if (this.policy.canAdmin(ctx)) return;
    await this.trail.refuse(
      ctx,
      action,
      [],
      new WardError('forbidden', `role ${ctx.principal.role} may not manage API keys (it needs admin: true)`),
    );
  }
}
