/**
 * SQL for the sealed audit log: events in sealed order, leaves, checkpoints and signing keys.
 * No rules here: see audit/seal and audit/verify.
 */
import { WardError } from '../errors.js';
import { asBuffer, type Queryable, statement } from './db.js';

/** Where the sealed log ends: the (txid, seq) of its last event. */
export interface Position {
  txid: string;
  seq: string;
}

export const START: Position = { txid: '0', seq: '0' };

/**
 * The leaf hash of event `e`, computed by the database where the rows are (migration 0007,
 * `ward_audit_leaf`): SHA-256(0x00 || leaf data), the data being the origin of the event's leaf
 * format, seq and txid, then every other column's text form through quote_nullable, joined by
 * commas. `audit/checkpoint.leafData` is the same rendering in TypeScript, for anyone checking an export.
 */
export const LEAF_HASH = 'ward_audit_leaf(e)';

/** An event in sealed order with its recomputed leaf hash. */
export interface LeafEvent {
  seq: string;
  txid: string;
  leaf: Buffer;
}

const LEAF_COLUMNS = `e.seq::text AS seq, e.txid::text AS txid, ${LEAF_HASH} AS leaf`;

const toLeafEvent = (r: Record<string, unknown>): LeafEvent => ({ seq: r.seq as string, txid: r.txid as string, leaf: asBuffer(r.leaf) });

/**
 * The CTE body shared by sealing and checking: the `$4` events after ($1 txid, $2 seq) in
 * sealed order, each with its leaf hash and position `n` (from 1); `horizon` narrows them.
 */
const eventsAfter = (
  horizon = '',
  limit = '$4',
) => `SELECT e.seq, e.txid, ${LEAF_HASH} AS leaf, row_number() OVER (ORDER BY e.txid, e.seq) AS n
     FROM ward_audit_events e
     WHERE (e.txid, e.seq) > ($1::xid8, $2::bigint)${horizon}
     ORDER BY e.txid, e.seq LIMIT ${limit}`;

/** Output columns last_txid and last_seq: where the events of CTE `ev` end (null when none). */
const LAST_OF_EV = `(SELECT txid::text FROM ev ORDER BY n DESC LIMIT 1) AS last_txid,
          (SELECT seq::text FROM ev ORDER BY n DESC LIMIT 1) AS last_seq`;

const lastPosition = (r: Record<string, unknown> | undefined): Position | null =>
  r?.last_seq ? { txid: r.last_txid as string, seq: r.last_seq as string } : null;

/** What one sealing statement did: the leaves it wrote, concatenated, and where they end. */
export interface SealedSlice {
  /** The leaf hashes written, concatenated, in sealed order (32 bytes each). */
  leaves: Buffer;
  count: number;
  /** The (txid, seq) of the last event sealed; null when none was sealable. */
  last: Position | null;
}

// The leaves are hashed where the events are: only their hashes come back, as one value, for the
// tree. (Returning every event as a row cost the server's event loop about 10 µs per event.)
const READ_SLICE = statement(
  'ward_seal_read_slice',
  `WITH ev AS (${eventsAfter(' AND e.txid < pg_snapshot_xmin(pg_current_snapshot())', '$3')})
   SELECT string_agg(leaf, ''::bytea ORDER BY n) AS leaves, count(*)::int AS count,
          ${LAST_OF_EV}
   FROM ev`,
);

/**
 * The leaf hashes of up to `limit` events after `after` whose transactions have all finished
 * (below the oldest running transaction), in sealed order. A later call never finds an event that
 * sorts before these. Nothing is written: `commitSeal` writes the leaves with their checkpoint.
 */
export async function readSlice(q: Queryable, after: Position, limit: number): Promise<SealedSlice> {
  const [r] = await q.query(READ_SLICE, [after.txid, after.seq, limit]);
  const count = Number(r?.count ?? 0);
  const leaves = count ? asBuffer(r?.leaves) : Buffer.alloc(0);
  if (leaves.length !== count * 32) throw new WardError('integrity_error', 'the sealing statement returned malformed leaf hashes');
  return { leaves, count, last: lastPosition(r) };
}

/**
 * Writes a round: the leaves of the `count` events after the newest checkpoint up to `upTo`, and
 * its checkpoint, through the schema owner's `ward_seal_commit` (the application's role may not
 * write either table). The function derives the leaves, frontier and root itself and refuses a
 * root that differs from the one signed. Returns the new tree size.
 */
export async function commitSeal(
  q: Queryable,
  r: { count: number; upTo: Position; root: Buffer; sealedAt: string; keyVersion: number; signature: Buffer },
): Promise<number> {
  const [row] = await q.query<{ size: string }>('SELECT ward_seal_commit($1, $2::xid8, $3, $4, $5, $6, $7)::text AS size', [
    r.count,
    r.upTo.txid,
    r.upTo.seq,
    r.root,
    r.sealedAt,
    r.keyVersion,
    r.signature,
  ]);
  return Number(row?.size);
}

const SEALED_RANGE = statement(
  'ward_sealed_events',
  `SELECT ${LEAF_COLUMNS} FROM ward_audit_events e
   WHERE (e.txid, e.seq) > ($1::xid8, $2::bigint) AND (e.txid, e.seq) <= ($3::xid8, $4::bigint)
   ORDER BY e.txid, e.seq LIMIT $5`,
);

/** Events after `after` up to and including `upTo`, in sealed order. */
export async function selectEventRange(q: Queryable, after: Position, upTo: Position, limit: number): Promise<LeafEvent[]> {
  return (await q.query(SEALED_RANGE, [after.txid, after.seq, upTo.txid, upTo.seq, limit])).map(toLeafEvent);
}

export interface CheckedBatch {
  /** The recomputed leaf hashes, concatenated, in sealed order. */
  leaves: Buffer;
  /** Positions where the event is not the sealed one or does not hash to its leaf (or either is missing). */
  bad: number;
  /** Where the batch's events end. */
  last: Position | null;
}

// One-sided keyset bound: the planner then walks the (txid, seq) index and stops at the limit.
// Events past the sealed range can only enter a batch when sealed ones are missing, which fails it.
const CHECK_BATCH = statement(
  'ward_check_batch',
  `WITH ev AS (${eventsAfter()}),
   lv AS (SELECT idx, seq, hash FROM ward_audit_leaves WHERE idx >= $3::bigint AND idx < $3::bigint + $4),
   j AS (SELECT ev.n, ev.leaf, ev.seq IS DISTINCT FROM lv.seq OR ev.leaf IS DISTINCT FROM lv.hash AS bad
         FROM ev FULL JOIN lv ON lv.idx = $3::bigint + ev.n - 1)
   SELECT (SELECT string_agg(leaf, ''::bytea ORDER BY n) FROM j WHERE n IS NOT NULL) AS leaves,
          (SELECT count(*) FROM j WHERE bad)::int AS bad,
          ${LAST_OF_EV}`,
);

/**
 * Recomputes the leaf hashes of the `limit` events after `after` and compares them, position by
 * position from leaf `from`, with the stored leaves, in the database: one row per batch.
 */
export async function checkBatch(q: Queryable, after: Position, from: number, limit: number): Promise<CheckedBatch> {
  const [r] = await q.query(CHECK_BATCH, [after.txid, after.seq, from, limit]);
  return {
    leaves: r?.leaves ? asBuffer(r.leaves) : Buffer.alloc(0),
    bad: Number(r?.bad ?? 0),
    last: lastPosition(r),
  };
}

/** Where the event sealed at leaf `idx` sits in the sealed order (if both are still there). */
export async function leafPosition(q: Queryable, idx: number): Promise<Position | undefined> {
  const [r] = await q.query<{ txid: string; seq: string }>(
    'SELECT e.txid::text AS txid, e.seq::text AS seq FROM ward_audit_leaves l JOIN ward_audit_events e ON e.seq = l.seq WHERE l.idx = $1',
    [idx],
  );
  return r;
}

export async function countAfter(q: Queryable, after: Position): Promise<number> {
  const [row] = await q.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM ward_audit_events WHERE (txid, seq) > ($1::xid8, $2::bigint)',
    [after.txid, after.seq],
  );
  return Number(row?.n ?? 0);
}

export async function eventExists(q: Queryable, seq: string): Promise<boolean> {
  return (await q.query('SELECT 1 FROM ward_audit_events WHERE seq = $1::bigint', [seq])).length > 0;
}

export async function leafExists(q: Queryable, seq: string): Promise<boolean> {
  return (await q.query('SELECT 1 FROM ward_audit_leaves WHERE seq = $1::bigint', [seq])).length > 0;
}

export interface Leaf {
  idx: number;
  seq: string;
  hash: Buffer;
}

const LEAVES = statement(
  'ward_leaves',
  'SELECT idx::text AS idx, seq::text AS seq, hash FROM ward_audit_leaves l WHERE l.idx >= $1 ORDER BY l.idx LIMIT $2',
);

/** Leaves from index `from` on, in order. */
export async function selectLeaves(q: Queryable, from: number, limit: number): Promise<Leaf[]> {
  const rows = await q.query(LEAVES, [from, limit]);
  return rows.map((r) => ({ idx: Number(r.idx), seq: r.seq as string, hash: asBuffer(r.hash) }));
}

export interface CheckpointRow {
  treeSize: number;
  previousSize: number;
  root: Buffer;
  sealedAt: string;
  keyVersion: number;
  signature: Buffer;
  last: Position;
  frontier: Buffer[];
}

const toCheckpoint = (r: Record<string, unknown>): CheckpointRow => ({
  treeSize: Number(r.tree_size),
  previousSize: Number(r.previous_size),
  root: asBuffer(r.root),
  sealedAt: r.sealed_at as string,
  keyVersion: r.key_version as number,
  signature: asBuffer(r.signature),
  last: { txid: r.last_txid as string, seq: r.last_seq as string },
  frontier: (r.frontier as unknown[]).map(asBuffer),
});

const CHECKPOINT_COLUMNS =
  'tree_size::text AS tree_size, previous_size::text AS previous_size, root, sealed_at, key_version, signature, last_txid::text AS last_txid, last_seq::text AS last_seq, frontier';

export async function latestCheckpoint(q: Queryable): Promise<CheckpointRow | undefined> {
  const [row] = await q.query(`SELECT ${CHECKPOINT_COLUMNS} FROM ward_audit_checkpoints c ORDER BY c.tree_size DESC LIMIT 1`);
  return row && toCheckpoint(row);
}

/** Checkpoints from tree size `from` up to `upTo` (default all), oldest first. */
export async function selectCheckpoints(q: Queryable, from = 0, upTo?: number): Promise<CheckpointRow[]> {
  const rows = await q.query(
    `SELECT ${CHECKPOINT_COLUMNS} FROM ward_audit_checkpoints c WHERE c.tree_size >= $1 AND ($2::bigint IS NULL OR c.tree_size <= $2)
     ORDER BY c.tree_size`,
    [from, upTo ?? null],
  );
  return rows.map(toCheckpoint);
}

export async function checkpointAt(q: Queryable, treeSize: number): Promise<CheckpointRow | undefined> {
  const [row] = await q.query(`SELECT ${CHECKPOINT_COLUMNS} FROM ward_audit_checkpoints c WHERE c.tree_size = $1`, [treeSize]);
  return row && toCheckpoint(row);
}

/** The first checkpoint after tree size `treeSize`. */
export async function checkpointAfter(q: Queryable, treeSize: number): Promise<CheckpointRow | undefined> {
  const [row] = await q.query(
    `SELECT ${CHECKPOINT_COLUMNS} FROM ward_audit_checkpoints c WHERE c.tree_size > $1 ORDER BY c.tree_size LIMIT 1`,
    [treeSize],
  );
  return row && toCheckpoint(row);
}

/**
 * Leaves from index `from` on that are not the leaf of the event at their position (the events
 * after `after`, in sealed order), first `limit` of them: leaves the sealer never wrote.
 */
export async function strayLeaves(q: Queryable, from: number, after: Position, limit: number): Promise<{ idx: number; seq: string }[]> {
  const rows = await q.query(
    `WITH ev AS (SELECT e.seq, ${LEAF_HASH} AS leaf, row_number() OVER (ORDER BY e.txid, e.seq) AS n FROM ward_audit_events e
                 WHERE (e.txid, e.seq) > ($2::xid8, $3::bigint) ORDER BY e.txid, e.seq LIMIT 20000),
     lv AS (SELECT idx, seq, hash FROM ward_audit_leaves WHERE idx >= $1 ORDER BY idx LIMIT 20000)
     SELECT lv.idx::text AS idx, lv.seq::text AS seq FROM lv LEFT JOIN ev ON ev.n = lv.idx - $1 + 1
     WHERE ev.seq IS DISTINCT FROM lv.seq OR ev.leaf IS DISTINCT FROM lv.hash ORDER BY lv.idx LIMIT $4`,
    [from, after.txid, after.seq, limit],
  );
  return rows.map((r) => ({ idx: Number(r.idx), seq: r.seq as string }));
}

/** How many leaves there are (the highest index + 1). */
export async function leafCount(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: string | null }>('SELECT (max(idx) + 1)::text AS n FROM ward_audit_leaves');
  return Number(row?.n ?? 0);
}

export async function leafSeq(q: Queryable, idx: number): Promise<string | null> {
  const [row] = await q.query<{ seq: string }>('SELECT seq::text AS seq FROM ward_audit_leaves WHERE idx = $1', [idx]);
  return row?.seq ?? null;
}

/** Takes the sealer's lock for the current transaction, or reports that another sealer holds it. */
export async function trySealLock(q: Queryable): Promise<boolean> {
  const [row] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [SEAL_LOCK]);
  return row?.ok === true;
}

/** The sealer's advisory lock; ward_seal_commit (migration 0006) takes the same one. */
export const SEAL_LOCK = 0x7761726c; // "warl"

export interface SigningKeyRow {
  version: number;
  publicKey: Buffer;
  /** The private half's seed as first wrapped, under master epoch `masterEpoch`. */
  wrapped: Buffer;
  masterEpoch: number;
  /** The same seed wrapped under later master epochs (master rotations), by epoch. */
  rewrapped: Map<number, Buffer>;
  createdAt: Date;
}

export async function selectSigningKeys(q: Queryable): Promise<SigningKeyRow[]> {
  const rows = await q.query('SELECT version, public_key, wrapped, master_epoch, created_at FROM ward_audit_signing_keys ORDER BY version');
  const wraps = await q.query('SELECT version, epoch, wrapped FROM ward_audit_signing_wraps');
  return rows.map((r) => ({
    version: r.version as number,
    publicKey: asBuffer(r.public_key),
    wrapped: asBuffer(r.wrapped),
    masterEpoch: r.master_epoch as number,
    rewrapped: new Map(wraps.filter((w) => w.version === r.version).map((w) => [w.epoch as number, asBuffer(w.wrapped)])),
    createdAt: r.created_at as Date,
  }));
}

/** Appends a signing key's seed wrapped under a later master epoch (a master rotation). */
export async function insertSigningWrap(q: Queryable, version: number, epoch: number, wrapped: Buffer): Promise<void> {
  await q.query('INSERT INTO ward_audit_signing_wraps (version, epoch, wrapped) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
    version,
    epoch,
    wrapped,
  ]);
}

/** Adds a signing key version; false when that version exists already (another process won). */
export async function insertSigningKey(
  q: Queryable,
  version: number,
  publicKey: Buffer,
  wrapped: Buffer,
  masterEpoch: number,
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO ward_audit_signing_keys (version, public_key, wrapped, master_epoch) VALUES ($1, $2, $3, $4)
     ON CONFLICT (version) DO NOTHING RETURNING version`,
    [version, publicKey, wrapped, masterEpoch],
  );
  return rows.length > 0;
}
