/**
 * Re-encryption to the active key version (`ward keys rewrap`) and retirement of a version no
 * record uses (`ward keys retire`). A rewrap runs online, in batches: each batch locks its records
 * (skipping any another transaction holds), seals their fields again under the active key, and
 * commits them with one audit row naming them. It resumes by itself: killed mid-batch, the batch
 * rolls back with its audit row, and the next run picks up every record not yet on the active
 * version, so none is lost, skipped or re-encrypted twice.
 */
import type { RequestContext } from '../access/actions.js';
import type { SigningKeys } from '../audit/signing.js';
import type { Keyring } from '../crypto/keyring.js';
import { WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import type { Db } from '../store/db.js';
import * as keys from '../store/keys.js';
import * as records from '../store/records.js';
import { FIRST_ID } from '../store/records.js';
import { subjectRecords } from '../store/subjects.js';
import type { RecordCodec } from './codec.js';
import { type AuditTrail, asOwner } from './trail.js';

/** How long a version must have been active before an older one may be destroyed. */
const RETIRE_AFTER_MS = 60_000;

export interface RewrapProgress {
  collection: string;
  version: number;
  /** Records rewrapped so far in this run. */
  done: number;
  /** Records not on the active version when the run started. */
  total: number;
}

export interface RewrapOptions {
  /** Records per batch (one transaction each); default 200. */
  batch?: number;
  /** At most this many records a second; default unlimited. */
  rate?: number;
  onProgress?: (p: RewrapProgress) => void;
}

export class Rewrap {
  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly codec: RecordCodec,
    private readonly trail: AuditTrail,
  ) {}

  /** Re-encrypts a collection's records to its active key version (operator only). */
  async run(c: Collection, ctx: RequestContext, o: RewrapOptions = {}): Promise<RewrapProgress> {
    await this.requireOperator(ctx, 'keys.rewrap', c);
    const batch = o.batch ?? 200;
    if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new WardError('invalid_request', '--batch must be from 1 to 10000');
    if (o.rate !== undefined && !(o.rate > 0))
      throw new WardError('invalid_request', '--rate must be a number of records a second above 0');
    const key = await this.keyring.activeDataKey(c.name);
    const progress: RewrapProgress = {
      collection: c.name,
      version: key.version,
      done: 0,
      total: await keys.countNotOn(this.db, c.name, key.version),
    };
    o.onProgress?.({ ...progress });
    const started = Date.now();
    let after = FIRST_ID;
    let movedThisPass = 0;
    for (;;) {
      const moved = await this.trail.transaction(async (tx, audit) => {
        const rows = await records.selectForRewrap(tx, c.name, key.version, after, batch);
        if (!rows.length) return rows;
        const resealed = [];
        for (const row of rows) resealed.push({ id: row.id, sealed: await this.codec.reseal(c, row, key, tx) });
        await records.rewrapRecords(tx, key.version, resealed);
        await audit({
          ...this.trail.row(
            ctx,
            'keys.rewrap',
            c.name,
            rows.map((r) => r.id),
            [],
          ),
          detail: `${rows.length} record(s) re-encrypted to data key version ${key.version}`,
        });
        return rows;
      });
      if (!moved.length) {
        // Rows another transaction held were skipped: while a pass moves any, look again from the start.
        if (!movedThisPass || !(await keys.countNotOn(this.db, c.name, key.version))) break;
        after = FIRST_ID;
        movedThisPass = 0;
        continue;
      }
      movedThisPass += moved.length;
      after = (moved.at(-1) as { id: string }).id;
      progress.done += moved.length;
      o.onProgress?.({ ...progress });
      if (o.rate) {
        const due = started + (progress.done / o.rate) * 1000;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
    }
    // Subject keys (vault/subjects) are wrapped by the collection's data key: rewrapped too.
    await this.codec.subjects?.rewrap(c, key);
    return progress;
  }

  /**
   * Destroys a data key version no record uses, served or archived (operator only): ciphertexts in
   * backups under it can no longer be read. The active version cannot be retired.
   */
  async retire(c: Collection, version: number, ctx: RequestContext, settleMs = RETIRE_AFTER_MS): Promise<void> {
    await this.requireOperator(ctx, 'keys.retire', c);
    if (!Number.isInteger(version) || version < 1) throw new WardError('invalid_request', 'a key version is a whole number from 1');
    const active = await this.keyring.activeDataKey(c.name);
    if (version === active.version)
      throw new WardError('invalid_request', `version ${version} is ${c.name}'s active data key: rotate, rewrap, then retire it`);
    // Every server re-reads the active version within seconds of a rotation; until all surely
    // have, one may still write under an older version.
    const since = await keys.activeSince(this.db, c.name);
    if (since && Date.now() - since.getTime() < settleMs)
      throw new WardError(
        'invalid_request',
        `${c.name}'s active data key is less than a minute old: retire older versions a minute after rotating`,
      );
    await this.trail.run(this.trail.row(ctx, 'keys.retire', c.name, [], []), (row) =>
      this.trail.transaction(async (tx, audit) => {
        // Counted and destroyed under the collection's key lock (as a rotation takes it).
        await keys.lockDataKeys(tx, c.name);
        const using = await keys.countOnVersion(tx, c.name, version);
        if (using > 0)
          throw new WardError(
            'key_in_use',
            `${using} record(s) of ${c.name} still use data key version ${version}: run ward keys rewrap ${c.name} first`,
          );
        // Subject keys are wrapped by the collection's data keys too (vault/subjects).
        if (!this.codec.subjects && (await subjectRecords(tx, c.name)))
          throw new WardError(
            'key_in_use',
            `records of ${c.name} are sealed under subject keys, which data key versions wrap: configure subjects.keystore to retire one`,
          );
        const wrapping = (await this.codec.subjects?.countOnVersion(c, version)) ?? 0;
        if (wrapping > 0)
          throw new WardError(
            'key_in_use',
            `${wrapping} subject key(s) of ${c.name} are still wrapped by data key version ${version}: run ward keys rewrap ${c.name} first`,
          );
        const deleted = await asOwner('retiring a data key', () => keys.deleteDataKey(tx, c.name, version));
        if (!deleted) throw new WardError('not_found', `${c.name} has no data key version ${version} to retire`);
        await audit({ ...row, detail: `data key version ${version} destroyed` });
      }),
    );
  }

  private async requireOperator(ctx: RequestContext, action: string, c: Collection): Promise<void> {
    if (ctx.principal.operator) return;
    await this.trail.refuse(ctx, action, [], new WardError('forbidden', `keys of ${c.name} are managed by the operator (ward keys)`));
  }
}

export interface MasterRotation {
  /** The master epoch every key is now wrapped under. */
  epoch: number;
  /** Data and index keys rewrapped in this run. */
  keys: number;
  /** Audit signing keys wrapped under the new master key in this run. */
  signingKeys: number;
  /** True when nothing is left under an earlier master key: keys.previous can go. */
  complete: boolean;
}

/**
 * The rewrapping step of a master rotation (`ward keys rotate --master`): every data and index key
 * still wrapped under an earlier master key is wrapped under the current one, a batch at a time,
 * each key row on its own (an interrupted run resumes; none is rewrapped twice), then every audit
 * signing key's seed is appended under it. Owner only: the application role may not move a key to
 * another master epoch. Audited with the counts, never a key.
 */
export async function rotateMaster(
  db: Db,
  keyring: Keyring,
  signing: SigningKeys,
  trail: AuditTrail,
  ctx: RequestContext,
  o: { batch?: number; onProgress?: (p: { done: number; total: number }) => void } = {},
): Promise<MasterRotation> {
  if (!ctx.principal.operator)
    await trail.refuse(ctx, 'keys.rotate_master', [], new WardError('forbidden', 'the master key is managed by the operator (ward keys)'));
  const epoch = keyring.masterEpoch;
  const total = await keys.countBefore(db, epoch);
  return trail.run(trail.row(ctx, 'keys.rotate_master', null, [], []), async (row) => {
    let moved = 0;
    for (;;) {
      const n = await asOwner('rotating the master key', () => keyring.rewrapMaster(o.batch ?? 100));
      if (n === 0) break;
      moved += n;
      o.onProgress?.({ done: Math.min(moved, total), total });
    }
    const signingKeys = await asOwner('rotating the master key', () => signing.rewrapMaster());
    // Counted again under a lock that stops key and signing key inserts: one that a Ward still
    // running on the old master key began cannot commit after the rotation is declared complete.
    const complete = await asOwner('rotating the master key', () =>
      db.transaction(async (tx) => {
        await keys.lockForCompletion(tx);
        const done = (await keys.countBefore(tx, epoch)) === 0 && (await signing.behind(tx)) === 0;
        if (done) await keys.completeEpoch(tx, epoch);
        return done;
      }),
    );
    await trail.write({ ...row, detail: `master epoch ${epoch}: ${moved} key(s), ${signingKeys} signing key(s) rewrapped` });
    return { epoch, keys: moved, signingKeys, complete };
  });
}
