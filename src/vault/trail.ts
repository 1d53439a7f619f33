/**
 * The audit trail: the one module that writes audit rows. Each PHI operation runs through
 * `operation`: authorize (a denial is audited before it is thrown) → its audit row → the work,
 * whose statement or transaction writes that row with the data change and its events, or, when
 * the work fails before committing, a `failed` row with the error code instead. Rows written
 * outside an operation (log-ins, key management, reads of the trail) go through `write` or
 * `insert`. Observers (the metrics) hear of rows once they have committed, through `onCommitted`.
 */
import type { Action, RequestContext } from '../access/actions.js';
import type { AuthorizeOptions, Grant, Policy } from '../access/policy.js';
import type { EgressRecord } from '../egress/client.js';
import { isWardError, WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import { type AuditRow, insertAudit, type Outcome } from '../store/audit.js';
import type { Db, Queryable } from '../store/db.js';

export type { AuditRow };

/** Hears how many audit rows just committed. */
export type AuditObserver = (rows: number) => void;

/** What an operation's audit row says, decided once the caller is authorized. */
export interface OperationRow {
  recordIds: readonly string[];
  fields: readonly string[];
  /** The operation names one record that may not exist: then `not_found`, and no record id (only what a client sent). */
  oneRecord?: boolean;
}

export interface Operation {
  ctx: RequestContext;
  action: Action;
  collection: Collection;
  /** Fields the request names (the policy check); undefined for all of the collection's. */
  touched?: readonly string[] | undefined;
  authorize?: AuthorizeOptions;
  /** The audit row's record ids and fields, given the grant; may throw to refuse the request unaudited. */
  row(grant: Grant): OperationRow;
}

export class AuditTrail {
  private readonly observers = new Set<AuditObserver>();

  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
  ) {}

  /** Calls `observer` with the number of audit rows each time some commit; returns how to stop. */
  onCommitted(observer: AuditObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  row(
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
      // A row under a break-glass use names it, unless it names a refusal's code.
      reason: reason ?? (ctx.breakGlass ? `break_glass:${ctx.breakGlass.use}` : null),
      requestId: ctx.requestId ?? null,
      client: ctx.client ?? null,
    };
  }

  /** Writes one row in its own statement; if that fails, nothing else may happen (`audit_failed`). */
  async write(row: AuditRow): Promise<void> {
    await failClosed(() => insertAudit(this.db, row));
    this.committed(1);
  }

  /** Writes a row inside the caller's transaction, which `committing` counts. */
  insert(tx: Queryable, row: AuditRow): Promise<void> {
    return insertAudit(tx, row);
  }

  /**
   * Runs `work`, a statement or transaction that writes `rows` audit rows (embedded in its
   * statement, or through `insert`), and tells the observers once it has committed.
   */
  async committing<T>(rows: number, work: () => Promise<T>): Promise<T> {
    const out = await work();
    this.committed(rows);
    return out;
  }

  /** Runs `work` in one transaction whose audit rows, written with the `audit` callback, commit with it. */
  async transaction<T>(work: (tx: Queryable, audit: (row: AuditRow) => Promise<void>) => Promise<T>): Promise<T> {
    let rows = 0;
    const out = await this.db.transaction((tx) =>
      work(tx, async (row) => {
        await insertAudit(tx, row);
        rows += 1;
      }),
    );
    this.committed(rows);
    return out;
  }

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
      await this.write(this.row(ctx, action, c.name, [], fields, outcome, e.code));
      throw e;
    }
  }

  /**
   * The pipeline's opening, the same for every PHI operation: authorize, then the audit row,
   * then `work` with that row (which its statement writes) and the grant.
   */
  async operation<T>(op: Operation, work: (row: AuditRow, grant: Grant) => Promise<T>): Promise<T> {
    const c = op.collection;
    const grant = await this.authorize(op.ctx, op.action, c, op.touched, op.authorize);
    const r = op.row(grant);
    const row = this.row(
      op.ctx,
      op.action,
      c.name,
      r.recordIds,
      r.fields.filter((f) => c.fields.has(f)),
    );
    if (r.oneRecord) row.ifMissing = { outcome: 'not_found', recordIds: [] };
    return this.run(row, (audit) => work(audit, grant));
  }

  /**
   * Runs `op`, whose statement writes the allowed-path audit row itself. When `op` fails, that
   * row was rolled back with it, so a `failed` row with the error code is written instead.
   */
  async run<T>(row: AuditRow, op: (row: AuditRow) => Promise<T>): Promise<T> {
    try {
      return await op(row);
    } catch (e) {
      if (isWardError(e, 'audit_failed')) throw e;
      const reason = isWardError(e) ? e.code : 'internal_error';
      const { ifMissing: _, ...failed } = row;
      // A record that is not there: its id is only what the client sent, and is not kept. One
      // retention took existed: its row says so (outcome expired), naming it.
      const outcome = reason === 'record_expired' ? 'expired' : 'failed';
      await this.write({ ...failed, outcome, reason, ...(reason === 'not_found' ? { recordIds: [] } : {}) });
      throw e;
    }
  }

  private committed(rows: number): void {
    if (rows > 0) for (const o of this.observers) o(rows);
  }

  /** Refuses an action outside any collection (audit reads, key management): audited, then thrown. */
  async refuse(ctx: RequestContext, action: string, recordIds: readonly string[], error: WardError): Promise<never> {
    await this.write(this.row(ctx, action, null, recordIds, [], 'denied', error.code));
    throw error;
  }
}

/** Runs `write`, which writes audit rows; any failure of it is `audit_failed` (fail-closed). */
export async function failClosed<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch {
    throw new WardError('audit_failed');
  }
}

/**
 * Runs `destroy`, which only the database's owner may do (destroying keys): the application
 * role's refusal (SQLSTATE 42501) becomes `forbidden`, saying that `what` needs the owner's login.
 */
export async function asOwner<T>(what: string, destroy: () => Promise<T>): Promise<T> {
  try {
    return await destroy();
  } catch (e) {
    if (String((e as Error).message).includes('42501'))
      throw new WardError('forbidden', `${what} needs the database owner's login: the application role may not destroy keys`);
    throw e;
  }
}

const EGRESS_CONTEXT: RequestContext = { principal: { id: 'ward:egress', role: 'system' } };

/** Egress's audit: each outbound request, sent or refused, as an `egress` row (never a body). */
export function egressAudit(trail: AuditTrail): (r: EgressRecord) => Promise<void> {
  return (r) => {
    const outcome = r.outcome === 'sent' ? 'allowed' : r.outcome;
    const detail = `${r.purpose} to ${r.host ?? '(no host)'}: ${r.bytes} bytes${r.status === null ? '' : `, status ${r.status}`}${
      r.agreement ? `, agreement ${r.agreement}` : ''
    }`;
    return trail.write({ ...trail.row(EGRESS_CONTEXT, 'egress', null, [], [], outcome, r.reason), detail });
  };
}
