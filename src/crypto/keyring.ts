/**
 * The keyring: per-collection data keys (versioned, rotatable) and index root keys, stored
 * wrapped by the master key and cached unwrapped in memory. A wrong master key is refused at
 * open, before any data is read.
 */
import { randomBytes } from 'node:crypto';
import { isWardError, WardError } from '../errors.js';
import type { Db, Queryable } from '../store/db.js';
import * as keys from '../store/keys.js';
import { SharedReads } from '../util/coalesce.js';
import { type DerivedPurpose, fieldKey } from './derive.js';
import type { MasterRing } from './masters.js';

export interface DataKey {
  version: number;
  key: Buffer;
}

export interface KeyStatus {
  collection: string;
  activeVersion: number;
  versions: { version: number; active: boolean; createdAt: Date; records: number }[];
}

/** How long a process trusts its cached idea of the active version after another rotates. */
const ACTIVE_TTL_MS = 5_000;
/**
 * From this age on, the active key is re-read in the background while writes go on using it:
 * under steady writes the key is renewed before it runs out and no write waits for a read.
 */
const REFRESH_AFTER_MS = 4_000;

/**
 * What a key's wrapping is bound to. Format 2 binds the space too: a copy of a database restored
 * under another space does not unwrap there, whatever its `ward_space` row says. Format 1 (keys
 * wrapped before) is read only to rewrap it as format 2, once, in the space the database recorded.
 */
const wrapAad = (space: string, collection: string, purpose: keys.KeyPurpose, version: number, format = 2) =>
  format === 1 ? `ward/key/v1/${collection}/${purpose}/${version}` : `ward/key/v2/${space}/${collection}/${purpose}/${version}`;

/** What keys are bound to: the space's name and its tier. */
export const spaceBinding = (name: string, tier: string) => `${name}/${tier}`;

export class Keyring {
  private readonly unwrapped = new Map<string, Buffer>();
  private readonly active = new Map<string, { key: DataKey; at: number }>();
  private readonly derived = new Map<string, Buffer>();
  private readonly reading = new SharedReads<string, DataKey>();
  /** Bumped by each rotation here, so an active-key read from before it is not cached. */
  private generation = 0;

  private constructor(
    private readonly db: Db,
    private readonly masters: MasterRing,
    /** The space the keys are bound to. */
    private readonly space: string,
  ) {}

  /** The master epoch new keys are wrapped under. */
  get masterEpoch(): number {
    return this.masters.epoch;
  }

  /** True when the database's keys were first wrapped by a development master key. */
  get createdWithDevKey(): boolean {
    return this.masters.createdWithDevKey;
  }

  /**
   * Binds keys from before spaces were bound to `space` (see spaceBinding), unwraps every stored
   * key, then makes sure each collection has keys. The caller has checked the master key(s)
   * (MasterRing.open) and that the database belongs to the space (vault/open assertSameSpace).
   */
  static async open(db: Db, masters: MasterRing, collections: readonly string[], space: string): Promise<Keyring> {
    const ring = new Keyring(db, masters, space);
    await ring.bindToSpace();
    // Every stored key must unwrap here, not only those of the configured collections: a copy
    // opened in another space with other collections declared is refused all the same.
    for (const row of await keys.selectKeys(db)) await ring.unwrap(row);
    for (const c of collections) {
      for (const purpose of ['data', 'index'] as const)
        await keys.insertFirstKey(db, c, purpose, await ring.wrap(randomBytes(32), c, purpose, 1), masters.epoch);
      await ring.loadIndexRoot(c);
    }
    return ring;
  }

  /**
   * Moves up to `limit` keys still wrapped under an earlier master key to the current one (a
   * master rotation's step; each key row is rewrapped on its own, so an interrupted run resumes).
   * Returns how many it found (another run may have moved some first); 0 when none is left.
   */
  async rewrapMaster(limit: number): Promise<number> {
    const rows = await keys.selectKeysBefore(this.db, this.masters.epoch, limit);
    for (const row of rows) {
      const key = await this.unwrap(row);
      const aad = wrapAad(this.space, row.collection, row.purpose, row.version, row.wrapFormat);
      await keys.rewrapToEpoch(this.db, row, await this.masters.current.wrap(key, aad), this.masters.epoch);
    }
    return rows.length;
  }

  /**
   * The key new writes use; re-read every few seconds so rotations elsewhere apply within
   * ACTIVE_TTL_MS. A key close to that age is re-read in the background (writes go on with it);
   * past it, writes wait for the read.
   */
  async activeDataKey(collection: string): Promise<DataKey> {
    const hit = this.active.get(collection);
    const age = hit ? Date.now() - hit.at : Number.POSITIVE_INFINITY;
    if (hit && age < ACTIVE_TTL_MS) {
      // A failed background read changes nothing: the key runs out and the next write reads it.
      if (age >= REFRESH_AFTER_MS) this.reread(collection).catch(() => {});
      return hit.key;
    }
    return this.reread(collection);
  }

  /** One read at a time per collection, shared by every write that arrives while it runs. */
  private reread(collection: string): Promise<DataKey> {
    return this.reading.run(collection, () => this.readActive(collection));
  }

  private async readActive(collection: string): Promise<DataKey> {
    const generation = this.generation;
    const row = await keys.selectActiveKey(this.db, collection, 'data');
    if (!row) throw new WardError('unknown_collection', `collection ${collection} has no data key`);
    const key = { version: row.version, key: await this.unwrap(row) };
    // A read that started before this process rotated may have seen the old key: not cached.
    if (generation === this.generation) this.active.set(collection, { key, at: Date.now() });
    return key;
  }

  /**
   * The data key of one version, for reading; undefined when no such version exists. Inside a
   * transaction, pass it as `q`: a read through the pool would wait for a connection the
   * transaction may itself be holding (PGlite has one; a busy pool has none free).
   */
  async dataKey(collection: string, version: number, q: Queryable = this.db): Promise<Buffer | undefined> {
    const cached = this.unwrapped.get(`${collection}/data/${version}`);
    if (cached) return cached;
    const row = await keys.selectKey(q, collection, 'data', version);
    return row && (await this.unwrap(row));
  }

  /** The per-field key for blind indexes or deterministic tokens. */
  derivedKey(collection: string, purpose: DerivedPurpose, field: string): Buffer {
    const id = `${collection}/${purpose}/${field}`;
    let key = this.derived.get(id);
    if (!key) {
      const root = this.unwrapped.get(`${collection}/index/1`);
      if (!root) throw new WardError('unknown_collection', `collection ${collection} has no index key`);
      key = fieldKey(root, purpose, field);
      this.derived.set(id, key);
    }
    return key;
  }

  /** Adds a new data key version and makes it active; old versions stay for reading. */
  async rotate(collection: string): Promise<number> {
    const version = await this.db.transaction(async (tx) => {
      const max = await keys.lockDataKeys(tx, collection);
      if (max === 0) throw new WardError('unknown_collection', `collection ${collection} has no data key to rotate`);
      await keys.insertActiveDataKey(
        tx,
        collection,
        max + 1,
        await this.wrap(randomBytes(32), collection, 'data', max + 1),
        this.masters.epoch,
      );
      return max + 1;
    });
    this.generation++;
    this.active.delete(collection);
    this.reading.drop(collection);
    return version;
  }

  async status(): Promise<KeyStatus[]> {
    const rows = (await keys.selectKeys(this.db)).filter((r) => r.purpose === 'data');
    const counts = await keys.countRecordsByKeyVersion(this.db);
    const out = new Map<string, KeyStatus>();
    for (const r of rows) {
      const s = out.get(r.collection) ?? { collection: r.collection, activeVersion: 0, versions: [] };
      if (r.active) s.activeVersion = r.version;
      const records = counts.find((c) => c.collection === r.collection && c.keyVersion === r.version)?.count ?? 0;
      s.versions.push({ version: r.version, active: r.active, createdAt: r.createdAt, records });
      out.set(r.collection, s);
    }
    return [...out.values()];
  }

  /** Rewraps format-1 keys as format 2 (bound to this space); idempotent across processes. */
  private async bindToSpace(): Promise<void> {
    const unbound = await keys.selectUnboundKeys(this.db);
    if (!unbound.length) return;
    await this.db.transaction(async (tx) => {
      for (const row of unbound) {
        const key = await this.unwrap(row);
        const master = this.masters.forEpoch(row.masterEpoch);
        await keys.rewrapKey(tx, row, await master.wrap(key, wrapAad(this.space, row.collection, row.purpose, row.version)));
      }
    });
  }

  private async loadIndexRoot(collection: string): Promise<void> {
    const row = await keys.selectKey(this.db, collection, 'index', 1);
    if (row) await this.unwrap(row);
  }

  /** A new key wrapped under the current master key, bound to its place. */
  private wrap(key: Buffer, collection: string, purpose: keys.KeyPurpose, version: number): Promise<Buffer> {
    return this.masters.current.wrap(key, wrapAad(this.space, collection, purpose, version));
  }

  private async unwrap(row: keys.KeyRow): Promise<Buffer> {
    const id = `${row.collection}/${row.purpose}/${row.version}`;
    let key = this.unwrapped.get(id);
    if (!key) {
      const master = this.masters.forEpoch(row.masterEpoch);
      try {
        key = await master.unwrap(row.wrapped, wrapAad(this.space, row.collection, row.purpose, row.version, row.wrapFormat));
      } catch (e) {
        // A provider that could not be asked (a token gone, KMS refused or unreachable) says so itself.
        if (isWardError(e) && e.code !== 'integrity_error') throw e;
        // The master key passed its check at open: what differs is the space (or the row was altered).
        throw new WardError(
          'space_mismatch',
          `key ${id} does not unwrap in space ${this.space}: a database's keys are bound to the space that created them ` +
            '(a copy restored under another space cannot be decrypted there), or the key row was altered',
        );
      }
      this.unwrapped.set(id, key);
    }
    return key;
  }
}
