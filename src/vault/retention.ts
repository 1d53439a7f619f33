/**
 * Retention and legal hold (45 CFR 164.316(b)(2) for the audit trail; the collections' own
 * `retention` for records). A record past its expiry is no longer served: reads answer
 * `record_expired` (410) and are audited as `expired`. The purge job (one active across processes
 * and servers; also `ward retention run`) first applies a changed `retention` to the records
 * already stored, then moves expired records no hold keeps into the archive, restorable by an
 * operator for `retention.archive_grace`, then removes archived records past it for good. Each
 * batch is audited with its record ids, as `ward:retention`.
 */
import type { RequestContext } from '../access/actions.js';
import { newRecordId } from '../crypto/derive.js';
import { WardError } from '../errors.js';
import { Leader } from '../events/leader.js';
import type { Collection } from '../schema/collection.js';
import type { Db } from '../store/db.js';
import { FIRST_ID } from '../store/records.js';
import * as store from '../store/retention.js';
import { storedText } from './break-glass.js';
import { checkId } from './records.js';
import type { AuditTrail } from './trail.js';

/** Who runs the purge, as the audit trail names it. */
const RETENTION: RequestContext = { principal: { id: 'ward:retention', role: 'system' } };
/** The session advisory lock that keeps one purge job active across processes and servers. */
export const RETENTION_LOCK = 2002874992;
const REAPPLY_BATCH = 5_000;

export interface RetentionSettings {
  /** How long purged records stay restorable in the archive. */
  archiveGraceMs: number;
  /** How often `ward serve` runs the purge; null: never. */
  everyMs: number | null;
  /** Records per batch (each batch one transaction and one audit row per collection). */
  batch: number;
}

export interface PurgeReport {
  dryRun: boolean;
  /** Records whose expiry was recomputed after a collection's retention changed. */
  reapplied: { collection: string; days: number | null; records: number }[];
  collections: { collection: string; archived: number; removed: number; held: number; expired?: number; archiveDue?: number }[];
}

export interface Hold {
  id: string;
  collection: string;
  recordId: string;
  reason: string;
  createdAt: string;
  createdBy: string;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly leader: Leader;

  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
    private readonly collections: ReadonlyMap<string, Collection>,
    private readonly settings: RetentionSettings,
  ) {
    this.leader = new Leader(db, RETENTION_LOCK);
  }

  /** Runs the purge every `everyMs` while this process holds the lock. */
  start(onError: (e: unknown) => void): void {
    if (this.settings.everyMs === null || this.timer) return;
    const tick = () => {
      this.running ??= this.exclusive(() => this.purge())
        .catch(onError)
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(tick, this.settings.everyMs);
    this.timer.unref();
    this.first = setTimeout(tick, 1_000);
    this.first.unref();
  }

  private first: NodeJS.Timeout | undefined;

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    this.timer = undefined;
    await this.running;
    await this.leader.resign();
  }

  /**
   * One purge: a changed retention applied, expired records archived, archived records past their
   * grace removed, in batches. `dryRun` changes nothing and reports what would go.
   */
  async run(o: { dryRun?: boolean } = {}): Promise<PurgeReport> {
    if (o.dryRun) {
      const changed = await this.changedRetention();
      const forecast = await store.purgeForecast(this.db, changed);
      return {
        dryRun: true,
        reapplied: changed.map(([collection, days]) => ({ collection, days, records: 0 })),
        collections: forecast.map((f) => ({
          collection: f.collection,
          archived: 0,
          removed: 0,
          held: f.held,
          expired: f.expired,
          archiveDue: f.archiveDue,
        })),
      };
    }
    const report = await this.exclusive(() => this.purge());
    if (!report)
      throw new WardError(
        'invalid_request',
        'a purge is running in another process (ward serve runs one every retention.every); try again when it has finished',
      );
    return report;
  }

  /** Runs `fn` while holding the purge's lock (one purge at a time across processes and servers), or returns undefined. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (!(await this.leader.lead())) return undefined;
    try {
      return await fn();
    } finally {
      await this.leader.resign();
    }
  }

  private async purge(): Promise<PurgeReport> {
    const reapplied = [];
    for (const [collection, days] of await this.changedRetention()) reapplied.push(await this.reapply(collection, days));
    const totals = new Map<string, { collection: string; archived: number; removed: number; held: number }>();
    const total = (c: string) => {
      const t = totals.get(c) ?? { collection: c, archived: 0, removed: 0, held: 0 };
      totals.set(c, t);
      return t;
    };
    for (;;) {
      const moved = await this.batch('retention.purge', (tx) =>
        store.archiveExpired(tx, this.settings.batch, this.settings.archiveGraceMs / 1000),
      );
      for (const m of moved) total(m.collection).archived += 1;
      if (moved.length < this.settings.batch) break;
    }
    for (;;) {
      const gone = await this.batch('retention.remove', (tx) => store.removeArchived(tx, this.settings.batch));
      for (const g of gone) total(g.collection).removed += 1;
      if (gone.length < this.settings.batch) break;
    }
    for (const f of await store.purgeForecast(this.db)) if (f.held) total(f.collection).held = f.held;
    return { dryRun: false, reapplied, collections: [...totals.values()].sort((a, b) => a.collection.localeCompare(b.collection)) };
  }

  /** One batch in one transaction, with one audit row per collection naming its records. */
  private async batch(
    action: string,
    work: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<{ id: string; collection: string }[]>,
  ): Promise<{ id: string; collection: string }[]> {
    return this.trail.transaction(async (tx, audit) => {
      const rows = await work(tx);
      const by = new Map<string, string[]>();
      for (const r of rows) by.set(r.collection, [...(by.get(r.collection) ?? []), r.id]);
      for (const [collection, ids] of by) await audit(this.trail.row(RETENTION, action, collection, ids, []));
      return rows;
    });
  }

  /** Collections whose configured retention differs from the one their records' expiry was computed with. */
  private async changedRetention(): Promise<[string, number | null][]> {
    const recorded = await store.recordedRetention(this.db);
    const out: [string, number | null][] = [];
    for (const c of this.collections.values()) {
      const days = c.retentionDays ?? null;
      if (!recorded.has(c.name) || recorded.get(c.name) !== days) out.push([c.name, days]);
    }
    return out;
  }

  /** Recomputes the expiry of a collection's records for its retention now, in batches; audited with the count. */
  private async reapply(collection: string, days: number | null): Promise<{ collection: string; days: number | null; records: number }> {
    let after = FIRST_ID;
    let records = 0;
    for (;;) {
      const { last, changed } = await store.reapplyBatch(this.db, collection, days, after, REAPPLY_BATCH);
      records += changed;
      if (!last) break;
      after = last;
    }
    await this.trail.transaction(async (tx, audit) => {
      await store.recordRetention(tx, collection, days);
      await audit({
        ...this.trail.row(RETENTION, 'retention.apply', collection, [], []),
        detail: `retention ${days === null ? 'none' : `${days} days`}: expiry recomputed for ${records} record(s)`,
      });
    });
    return { collection, days, records };
  }

  /** Puts a record back from the archive, under a legal hold with `reason` (operator only). */
  async restore(collection: string, id: string, reason: string, ctx: RequestContext): Promise<Hold> {
    const c = this.collection(collection);
    const rid = checkId(id);
    const why = holdReason(reason);
    await this.requireOperator(ctx, 'retention.restore', [rid]);
    if ((await store.recordPlace(this.db, c.name, rid)) !== 'archive')
      throw new WardError('not_found', `no archived record of ${c.name} has this id (past its grace, it was removed for good)`);
    return this.trail.run(this.trail.row(ctx, 'retention.restore', c.name, [rid], []), (row) =>
      this.trail.transaction(async (tx, audit) => {
        if (!(await store.restoreArchived(tx, rid))) throw new WardError('not_found', `no archived record of ${c.name} has this id`);
        const hold = { id: newRecordId(), collection: c.name, recordId: rid, reason: why, by: ctx.principal.id };
        await store.insertHold(tx, hold);
        await audit(row);
        return describeHold({ ...hold, createdAt: new Date(), createdBy: hold.by });
      }),
    );
  }

  /** Places a legal hold: the record is never purged while it lasts (operator only; audited). */
  async addHold(collection: string, id: string, reason: string, ctx: RequestContext): Promise<Hold> {
    const c = this.collection(collection);
    const rid = checkId(id);
    const why = holdReason(reason);
    await this.requireOperator(ctx, 'hold.add', [rid]);
    if (!(await store.recordPlace(this.db, c.name, rid))) throw new WardError('not_found', `no record of ${c.name} has this id`);
    const hold = { id: newRecordId(), collection: c.name, recordId: rid, reason: why, by: ctx.principal.id };
    await this.trail.run(this.trail.row(ctx, 'hold.add', c.name, [rid], []), (row) =>
      this.trail.transaction(async (tx, audit) => {
        // Locked until the hold commits: the purge skips it meanwhile, and sees the hold after.
        if (!(await store.recordPlace(tx, c.name, rid, true))) throw new WardError('not_found', `no record of ${c.name} has this id`);
        await store.insertHold(tx, hold);
        await audit(row);
      }),
    );
    return describeHold({ ...hold, createdAt: new Date(), createdBy: hold.by });
  }

  /** Holds in force, oldest first (operator only; audited). */
  async holds(ctx: RequestContext): Promise<Hold[]> {
    await this.requireOperator(ctx, 'hold.list', []);
    const rows = await store.selectHolds(this.db);
    await this.trail.write(this.trail.row(ctx, 'hold.list', null, [], []));
    return rows.map(describeHold);
  }

  /**
   * Ends a hold (operator only; audited). A record the hold kept with no expiry (a restored one)
   * gets its collection's expiry again, and retention takes it at the next purge if that is past.
   */
  async removeHold(holdId: string, ctx: RequestContext): Promise<void> {
    const id = checkId(holdId);
    await this.requireOperator(ctx, 'hold.remove', []);
    await this.trail.run(this.trail.row(ctx, 'hold.remove', null, [], []), (row) =>
      this.trail.transaction(async (tx, audit) => {
        const held = await store.removeHold(tx, id, ctx.principal.id);
        if (!held) throw new WardError('not_found', 'no hold in force has this id');
        await store.restoreExpiry(tx, held.recordId, this.collections.get(held.collection)?.retentionDays ?? null);
        await audit({ ...row, collection: held.collection, recordIds: [held.recordId] });
      }),
    );
  }

  private collection(name: string): Collection {
    const c = this.collections.get(name);
    if (!c) throw new WardError('unknown_collection', 'the collection named is not declared in ward.yaml');
    return c;
  }

  /** Holds and restores are the operator's, at the command line. */
  private async requireOperator(ctx: RequestContext, action: string, recordIds: readonly string[]): Promise<void> {
    if (ctx.principal.operator) return;
    await this.trail.refuse(
      ctx,
      action,
      recordIds,
      new WardError('forbidden', 'legal holds and restores are managed by the operator (ward hold, ward retention)'),
    );
  }
}

/** A hold's reason as kept: trimmed, 1 to 500 characters, PHI the detector finds masked. */
function holdReason(reason: string): string {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (!r || r.length > 500) throw new WardError('invalid_request', '--reason must give the reason in 1 to 500 characters');
  return storedText(r);
}

const describeHold = (h: store.HoldRow): Hold => ({
  id: h.id,
  collection: h.collection,
  recordId: h.recordId,
  reason: h.reason,
  createdAt: h.createdAt.toISOString(),
  createdBy: h.createdBy,
});
