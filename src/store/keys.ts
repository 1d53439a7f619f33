/** SQL for wrapped keys and the master key check value. No rules here: see crypto/keyring. */
import { asBuffer, type Queryable } from './db.js';

export type KeyPurpose = 'data' | 'index';

export interface KeyRow {
  collection: string;
  purpose: KeyPurpose;
  version: number;
  wrapped: Buffer;
  active: boolean;
  createdAt: Date;
  /** 1: wrapped without the space; 2: the space name takes part in the wrapping. */
  wrapFormat: number;
  /** The master key (see ward_master_epochs) that wrapped it. */
  masterEpoch: number;
}

const toKeyRow = (r: Record<string, unknown>): KeyRow => ({
  collection: r.collection as string,
  purpose: r.purpose as KeyPurpose,
  version: r.version as number,
  wrapped: asBuffer(r.wrapped),
  active: r.active as boolean,
  createdAt: r.created_at as Date,
  wrapFormat: r.wrap_format as number,
  masterEpoch: (r.master_epoch as number | undefined) ?? 1,
});

export async function readMasterCheck(q: Queryable): Promise<{ checkValue: Buffer; dev: boolean } | undefined> {
  const [row] = await q.query('SELECT check_value, dev FROM ward_master_check');
  return row && { checkValue: asBuffer(row.check_value), dev: row.dev as boolean };
}

export async function insertMasterCheck(q: Queryable, checkValue: Buffer, dev: boolean): Promise<void> {
  await q.query('INSERT INTO ward_master_check (check_value, dev) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [checkValue, dev]);
}

/** Inserts a first (version 1, active) key unless the collection already has one. */
export async function insertFirstKey(q: Queryable, collection: string, purpose: KeyPurpose, wrapped: Buffer, epoch: number): Promise<void> {
  await q.query(
    `INSERT INTO ward_keys (collection, purpose, version, wrapped, active, wrap_format, master_epoch)
     SELECT $1, $2, 1, $3, true, 2, $4 WHERE NOT EXISTS (SELECT FROM ward_keys WHERE collection = $1 AND purpose = $2)
     ON CONFLICT DO NOTHING`,
    [collection, purpose, wrapped, epoch],
  );
}

export async function selectKeys(q: Queryable, collection?: string): Promise<KeyRow[]> {
  const rows = collection
    ? await q.query('SELECT * FROM ward_keys WHERE collection = $1 ORDER BY purpose, version', [collection])
    : await q.query('SELECT * FROM ward_keys ORDER BY collection, purpose, version');
  return rows.map(toKeyRow);
}

export async function selectKey(q: Queryable, collection: string, purpose: KeyPurpose, version: number): Promise<KeyRow | undefined> {
  const [row] = await q.query('SELECT * FROM ward_keys WHERE collection = $1 AND purpose = $2 AND version = $3', [
    collection,
    purpose,
    version,
  ]);
  return row && toKeyRow(row);
}

export async function selectActiveKey(q: Queryable, collection: string, purpose: KeyPurpose): Promise<KeyRow | undefined> {
  const [row] = await q.query('SELECT * FROM ward_keys WHERE collection = $1 AND purpose = $2 AND active', [collection, purpose]);
  return row && toKeyRow(row);
}

/** Keys still wrapped in format 1 (before keys were bound to their space). */
export async function selectUnboundKeys(q: Queryable): Promise<KeyRow[]> {
  return (await q.query('SELECT * FROM ward_keys WHERE wrap_format = 1 ORDER BY collection, purpose, version')).map(toKeyRow);
}

/** Replaces a format-1 wrapping with a format-2 one; false when another process did it first. */
export async function rewrapKey(q: Queryable, row: KeyRow, wrapped: Buffer): Promise<boolean> {
  const done = await q.query(
    'UPDATE ward_keys SET wrapped = $4, wrap_format = 2 WHERE collection = $1 AND purpose = $2 AND version = $3 AND wrap_format = 1 RETURNING version',
    [row.collection, row.purpose, row.version, wrapped],
  );
  return done.length === 1;
}

/** Records of a collection on a key version older than `version`. */
export async function countNotOn(q: Queryable, collection: string, version: number): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records WHERE collection = $1 AND key_version < $2', [
    collection,
    version,
  ]);
  return row?.n ?? 0;
}

/** Records, served or archived, that a data key version protects. */
export async function countOnVersion(q: Queryable, collection: string, version: number): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM ward_records WHERE collection = $1 AND key_version = $2)
          + (SELECT count(*) FROM ward_records_archive WHERE collection = $1 AND key_version = $2) AS n`,
    [collection, version],
  );
  return Number(row?.n ?? 0);
}

/** When a collection's active data key version was made active (its creation). */
export async function activeSince(q: Queryable, collection: string): Promise<Date | undefined> {
  const [row] = await q.query<{ created_at: Date }>(
    "SELECT created_at FROM ward_keys WHERE collection = $1 AND purpose = 'data' AND active",
    [collection],
  );
  return row?.created_at;
}

/** Destroys a data key version (its wrapped key): true when there was one. */
export async function deleteDataKey(q: Queryable, collection: string, version: number): Promise<boolean> {
  const rows = await q.query(
    "DELETE FROM ward_keys WHERE collection = $1 AND purpose = 'data' AND version = $2 AND NOT active RETURNING version",
    [collection, version],
  );
  return rows.length > 0;
}

/** Locks a collection's data keys and returns the highest version (inside a transaction). */
export async function lockDataKeys(q: Queryable, collection: string): Promise<number> {
  const rows = await q.query<{ version: number }>(
    "SELECT version FROM ward_keys WHERE collection = $1 AND purpose = 'data' ORDER BY version FOR UPDATE",
    [collection],
  );
  return rows.reduce((max, r) => Math.max(max, r.version), 0);
}

export async function insertActiveDataKey(
  q: Queryable,
  collection: string,
  version: number,
  wrapped: Buffer,
  epoch: number,
): Promise<void> {
  await q.query("UPDATE ward_keys SET active = false WHERE collection = $1 AND purpose = 'data' AND active", [collection]);
  await q.query(
    "INSERT INTO ward_keys (collection, purpose, version, wrapped, active, wrap_format, master_epoch) VALUES ($1, 'data', $2, $3, true, 2, $4)",
    [collection, version, wrapped, epoch],
  );
}

export async function countRecordsByKeyVersion(q: Queryable): Promise<{ collection: string; keyVersion: number; count: number }[]> {
  const rows = await q.query<{ collection: string; key_version: number; n: number }>(
    'SELECT collection, key_version, count(*)::int AS n FROM ward_records GROUP BY collection, key_version ORDER BY 1, 2',
  );
  return rows.map((r) => ({ collection: r.collection, keyVersion: r.key_version, count: r.n }));
}

/** A master key the database's keys have been wrapped under, in order of rotation. */
export interface EpochRow {
  epoch: number;
  checkValue: Buffer;
  dev: boolean;
  provider: string;
  createdAt: Date;
  completedAt: Date | null;
}

export async function selectEpochs(q: Queryable): Promise<EpochRow[]> {
  const rows = await q.query('SELECT * FROM ward_master_epochs ORDER BY epoch');
  return rows.map((r) => ({
    epoch: r.epoch as number,
    checkValue: asBuffer(r.check_value),
    dev: r.dev as boolean,
    provider: r.provider as string,
    createdAt: r.created_at as Date,
    completedAt: (r.completed_at as Date | null) ?? null,
  }));
}

/** Records the first master key of a new database (nothing when it has one). */
export async function insertFirstEpoch(q: Queryable, checkValue: Buffer, dev: boolean, provider: string): Promise<void> {
  await q.query(
    `INSERT INTO ward_master_epochs (epoch, check_value, dev, provider, completed_at)
     SELECT 1, $1, $2, $3, now() WHERE NOT EXISTS (SELECT FROM ward_master_epochs) ON CONFLICT DO NOTHING`,
    [checkValue, dev, provider],
  );
}

/** Adds epoch `after + 1` for a new master key unless another process added it first. */
export async function insertNextEpoch(q: Queryable, after: number, checkValue: Buffer, dev: boolean, provider: string): Promise<void> {
  await q.query(`INSERT INTO ward_master_epochs (epoch, check_value, dev, provider) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
    after + 1,
    checkValue,
    dev,
    provider,
  ]);
}

export async function completeEpoch(q: Queryable, epoch: number): Promise<void> {
  await q.query('UPDATE ward_master_epochs SET completed_at = now() WHERE epoch = $1 AND completed_at IS NULL', [epoch]);
}

/** Keys still wrapped under an earlier master epoch than `epoch`, a batch at a time. */
export async function selectKeysBefore(q: Queryable, epoch: number, limit: number): Promise<KeyRow[]> {
  const rows = await q.query('SELECT * FROM ward_keys WHERE master_epoch < $1 ORDER BY collection, purpose, version LIMIT $2', [
    epoch,
    limit,
  ]);
  return rows.map(toKeyRow);
}

/** Moves one key to a later master epoch; false when another run moved it first. */
export async function rewrapToEpoch(q: Queryable, row: KeyRow, wrapped: Buffer, epoch: number): Promise<boolean> {
  const done = await q.query(
    `UPDATE ward_keys SET wrapped = $4, master_epoch = $5
     WHERE collection = $1 AND purpose = $2 AND version = $3 AND master_epoch = $6 RETURNING version`,
    [row.collection, row.purpose, row.version, wrapped, epoch, row.masterEpoch],
  );
  return done.length === 1;
}

/** Keys still wrapped under a master epoch before `epoch`. */
export async function countBefore(q: Queryable, epoch: number): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_keys WHERE master_epoch < $1', [epoch]);
  return row?.n ?? 0;
}

/** Inside a transaction: stops new data, index and audit signing keys until it ends (a rotation's completion). */
export async function lockForCompletion(q: Queryable): Promise<void> {
  await q.query('LOCK TABLE ward_keys, ward_audit_signing_keys IN SHARE MODE');
}
