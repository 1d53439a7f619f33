/**
 * Runs an operation under the audit trail: policy decisions and failures are recorded too.
 * The allowed-path audit row is written by the operation's own statement (see store/records);
 * here go the rows for denials and for operations that failed before committing.
 */
import type { Action, RequestContext } from '../access/actions.js';
import type { AuthorizeOptions, Grant, Policy } from '../access/policy.js';
import { isWardError, WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import { type AuditRow, insertAudit, type Outcome } from '../store/audit.js';
import type { Db } from '../store/db.js';

export function auditRow(
  ctx: RequestContext,
  action: string,
  collection: string | null,
  recordIds: readonly string[],
  fields: readonly string[],
  outcome: Outcome = 'allowed',
  reason: string | null = null,
): AuditRow {
  return {
    actor: ctx.principal.id,
    role: ctx.principal.role,
    action,
    collection,
    recordIds: [...recordIds],
    fields: [...fields],
    purpose: ctx.purpose ?? null,
    outcome,
    reason,
    requestId: ctx.requestId ?? null,
    client: ctx.client ?? null,
  };
}

/** True when a database error came from writing the audit trail itself. */
const fromAudit = (e: unknown) => isWardError(e, 'audit_failed');

/** Writes an audit row outside any operation; if that fails, nothing else may happen. */
export function record(db: Db, row: AuditRow): Promise<void> {
  return auditing(() => insertAudit(db, row));
}

/** Runs `write`, which writes audit rows; any failure of it is `audit_failed` (fail-closed). */
export async function auditing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch {
    throw new WardError('audit_failed');
  }
}

export class Auditor {
  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
  ) {}

  /** A policy decision; a denial is audited (with its reason code) before it is thrown. */
  async authorize(
    ctx: RequestContext,
    action: Action,
    c: Collection,
    touched?: readonly string[],
    o: AuthorizeOptions = {},
  ): Promise<Grant> {
    try {
      return this.policy.authorize(ctx, action, c, touched, o);
    } catch (e) {
      if (!isWardError(e)) throw e;
      const fields = [...new Set([...(touched ?? []), ...(o.named ?? [])])].filter((f) => c.fields.has(f));
      const outcome = e.code === 'unknown_field' ? 'failed' : 'denied';
      await record(this.db, auditRow(ctx, action, c.name, [], fields, outcome, e.code));
      throw e;
    }
  }

  /**
   * Runs `op`, whose statement writes the allowed-path audit row itself. When `op` fails, that
   * row was rolled back with it, so a `failed` row with the error code is written instead.
   */
  async run<T>(row: AuditRow, op: (row: AuditRow) => Promise<T>): Promise<T> {
    try {
      return await op(row);
    } catch (e) {
      if (fromAudit(e)) throw e;
      const reason = isWardError(e) ? e.code : 'internal_error';
      // A record that is not there: its id is only what the client sent, and is not kept.
      await record(this.db, { ...row, outcome: 'failed', reason, ...(reason === 'not_found' ? { recordIds: [] } : {}) });
      throw e;
    }
  }
}
