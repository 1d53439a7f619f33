/**
 * Break-glass: the emergency access procedure (45 CFR 164.312(a)(2)(ii)). A role's
 * `break_glass` section grants rules beyond its own to a request that states its reason in
 * `Ward-Break-Glass`. The first such request of an API key opens a use for the role's window;
 * requests in the window that state a reason are granted under the use, and every audit row they
 * write names it (`reason: break_glass:<use id>`). Opening a use is audited and raises an alert.
 * Uses wait for an auditor's review; a key with `max_unreviewed` uses not yet reviewed cannot open
 * another. The reason is kept with the PHI the detector finds in it masked: a clinician may well
 * write a patient's name into it.
 */
import type { RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { newRecordId } from '../crypto/derive.js';
import { scrub } from '../detect/index.js';
import { WardError } from '../errors.js';
import * as store from '../store/break-glass.js';
import type { Db } from '../store/db.js';
import type { Alert } from './alerts.js';
import { NOT_TEXT } from './apikeys.js';
import { UUID } from './records.js';
import type { AuditTrail } from './trail.js';

export const REASON_MIN = 20;
export const REASON_MAX = 500;

/** A use as an auditor sees it. */
export interface BreakGlassUse {
  id: string;
  actor: string;
  role: string;
  /** The stated reason, PHI the detector finds masked. */
  reason: string;
  startedAt: string;
  endsAt: string;
  /** Audit events written under the use. */
  accesses: number;
  reviewed: { at: string; by: string; note: string | null } | null;
}

const describe = (r: store.BreakGlassRow): BreakGlassUse => ({
  id: r.id,
  actor: r.actor,
  role: r.role,
  reason: r.reason,
  startedAt: r.startedAt.toISOString(),
  endsAt: r.endsAt.toISOString(),
  accesses: r.accesses,
  reviewed: r.reviewedAt ? { at: r.reviewedAt.toISOString(), by: r.reviewedBy ?? '', note: r.reviewNote } : null,
});

/** Stored text at most (the detector's masks can make a reason longer than it was). */
const STORED_MAX = 1000;
/** How long this process trusts its copy of an open use before asking the database again. */
const CACHE_MS = 30_000;

/** Text an operator or caller wrote, as kept (reasons, notes): PHI the detector finds masked, cut to what the column holds. */
export const storedText = (text: string) => scrub(text).slice(0, STORED_MAX);

/** A stated reason: printable, trimmed, 20 to 500 characters; else `break_glass_reason_invalid` (never echoing it). */
export function checkedReason(raw: string): string {
  const reason = raw.trim();
  if (reason.length < REASON_MIN || reason.length > REASON_MAX || NOT_TEXT.test(reason))
    throw new WardError(
      'break_glass_reason_invalid',
      `Ward-Break-Glass must state the reason for emergency access in ${REASON_MIN} to ${REASON_MAX} printable characters`,
    );
  return reason;
}

export class BreakGlass {
  /** Each actor's open use, as this process last saw it. */
  private readonly open = new Map<string, { id: string; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
    private readonly trail: AuditTrail,
    private readonly alert: (a: Alert) => void,
  ) {}

  /**
   * The use a request that states `rawReason` runs under: the key's open one, or a new one
   * (audited, alerted). Refused, and audited, when the role may not break glass or the key has
   * too many uses waiting for review; a malformed reason is refused before anything is written.
   */
  async declare(ctx: RequestContext, rawReason: string): Promise<{ use: string }> {
    const actor = ctx.principal.id;
    const spec = ctx.principal.operator ? undefined : this.policy.breakGlass(ctx.principal.role);
    if (!spec)
      return this.trail.refuse(
        ctx,
        'break_glass.open',
        [],
        new WardError('break_glass_not_allowed', `role ${ctx.principal.role} has no break_glass section in ward.yaml`),
      );
    let reason: string;
    try {
      reason = checkedReason(rawReason);
    } catch (e) {
      return this.trail.refuse(ctx, 'break_glass.open', [], e as WardError);
    }
    // A copy is trusted for a short while only, and never past its end: the window is the database's.
    const seen = this.open.get(actor);
    if (seen && seen.until > Date.now()) return { use: seen.id };
    const opened = await this.trail.transaction(async (tx, writeAudit) => {
      await store.lockActor(tx, actor);
      const current = await store.selectOpenUse(tx, actor);
      if (current) return { id: current.id, endsAt: current.endsAt, isNew: false };
      if ((await store.countUnreviewed(tx, actor)) >= spec.maxUnreviewed) return undefined;
      const id = newRecordId();
      const endsAt = await store.insertUse(tx, {
        id,
        actor,
        role: ctx.principal.role,
        reason: storedText(reason),
        windowMs: spec.windowMs,
      });
      await writeAudit({
        ...this.trail.row(ctx, 'break_glass.open', null, [id], []),
        detail: `window ends ${endsAt.toISOString()}`,
      });
      return { id, endsAt, isNew: true };
    });
    if (!opened)
      return this.trail.refuse(
        ctx,
        'break_glass.open',
        [],
        new WardError(
          'break_glass_review_pending',
          `this API key has ${spec.maxUnreviewed} break-glass use(s) not yet reviewed; an auditor reviews them with ward audit break-glass review`,
        ),
      );
    if (opened.isNew)
      this.alert({
        type: 'break_glass',
        detail: { use: opened.id, actor, role: ctx.principal.role, until: opened.endsAt.toISOString() },
      });
    this.open.set(actor, { id: opened.id, until: Math.min(opened.endsAt.getTime(), Date.now() + CACHE_MS) });
    return { use: opened.id };
  }

  /** Uses, newest first (`unreviewed`: only those waiting for review); for the operator and audit roles. */
  async list(ctx: RequestContext, o: { unreviewed?: boolean; limit?: number } = {}): Promise<BreakGlassUse[]> {
    await this.requireAuditor(ctx, 'break_glass.list');
    const limit = o.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new WardError('invalid_request', 'limit must be from 1 to 10000');
    const rows = await store.selectUses(this.db, { unreviewed: o.unreviewed === true, limit });
    await this.trail.write(this.trail.row(ctx, 'break_glass.list', null, [], []));
    return rows.map(describe);
  }

  /**
   * Marks a use reviewed (by someone other than who declared it); audited with the use's id. A use
   * still open ends with its review: what comes after was not reviewed.
   */
  async review(ctx: RequestContext, id: string, note?: string): Promise<BreakGlassUse> {
    await this.requireAuditor(ctx, 'break_glass.review');
    if (!UUID.test(id)) throw new WardError('invalid_request', 'a break-glass use id is a UUID');
    if (note !== undefined && (typeof note !== 'string' || note.length > REASON_MAX || NOT_TEXT.test(note)))
      throw new WardError('invalid_request', `note must be at most ${REASON_MAX} printable characters`);
    const rid = id.toLowerCase();
    const [use] = await store.selectUses(this.db, { id: rid, limit: 1 });
    if (!use) throw new WardError('not_found', 'no break-glass use has this id');
    if (use.actor === ctx.principal.id)
      return this.trail.refuse(
        ctx,
        'break_glass.review',
        [rid],
        new WardError('forbidden', 'a break-glass use is reviewed by someone else than who declared it'),
      );
    await this.trail.run(this.trail.row(ctx, 'break_glass.review', null, [rid], []), (audit) =>
      this.trail.transaction(async (tx, writeAudit) => {
        if (!(await store.markReviewed(tx, rid, ctx.principal.id, note?.trim() ? storedText(note.trim()) : null)))
          throw new WardError('invalid_request', 'this break-glass use was reviewed already');
        await writeAudit(audit);
      }),
    );
    // Ended by its review: this process stops using it at once (others within CACHE_MS).
    for (const [actor, seen] of this.open) if (seen.id === rid) this.open.delete(actor);
    const [after] = await store.selectUses(this.db, { id: rid, limit: 1 });
    return describe(after ?? use);
  }

  private async requireAuditor(ctx: RequestContext, action: string): Promise<void> {
    if (this.policy.canReadAudit(ctx)) return;
    await this.trail.refuse(
      ctx,
      action,
      [],
      new WardError('forbidden', `role ${ctx.principal.role} may not review break-glass uses (it needs audit: true)`),
    );
  }
}
