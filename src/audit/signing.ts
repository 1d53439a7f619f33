/**
 * Ed25519 keys that sign audit checkpoints, managed like the data keys: random, wrapped by the
 * master key (bound to their version and public key), versioned, rotated by adding a version.
 * The table is append-only: a master rotation appends each seed wrapped under the new master key.
 * The highest version signs; every version stays to verify what it signed. A key row someone
 * forged in the database does not unwrap with the master key, and verification says so.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import type { MasterRing } from '../crypto/masters.js';
import { WardError } from '../errors.js';
import type { Db, Queryable } from '../store/db.js';
import * as store from '../store/seal.js';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

const wrapAad = (version: number, publicKey: Buffer) => `ward/audit-signing/v1/${version}/${publicKey.toString('base64')}`;

function privateFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyObject(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new WardError('invalid_request', 'an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

function rawPublic(key: KeyObject): Buffer {
  return (createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_ED25519.length);
}

export function verifySignature(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  try {
    return signature.length === 64 && verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

export interface SigningKeyInfo {
  version: number;
  publicKey: string;
  createdAt: string;
}

export class SigningKeys {
  private readonly privates = new Map<number, KeyObject>();

  private constructor(
    private readonly db: Db,
    private readonly master: MasterRing,
    private rows: store.SigningKeyRow[],
  ) {}

  /** Loads the signing keys, creating version 1 on first use. */
  static async open(db: Db, master: MasterRing): Promise<SigningKeys> {
    const keys = new SigningKeys(db, master, await store.selectSigningKeys(db));
    if (!keys.rows.length) await keys.add(1);
    return keys;
  }

  /** Adds the next version, which signs from now on; returns it. */
  async rotate(): Promise<number> {
    for (;;) {
      await this.reload();
      const next = (this.rows.at(-1)?.version ?? 0) + 1;
      if (await this.add(next)) return next; // else another process took that version: try the next
    }
  }

  /** Re-reads the key table (after a rotation elsewhere). */
  refresh(): Promise<void> {
    return this.reload();
  }

  /** Public halves, for auditors who want to pin them. */
  list(): SigningKeyInfo[] {
    return this.rows.map((r) => ({ version: r.version, publicKey: r.publicKey.toString('base64'), createdAt: r.createdAt.toISOString() }));
  }

  publicKey(version: number): Buffer | undefined {
    return this.rows.find((r) => r.version === version)?.publicKey;
  }

  /**
   * Signs with the newest version, re-reading the table through `q` (the sealer's transaction)
   * so a rotation elsewhere applies.
   */
  async sign(q: Queryable, message: Buffer): Promise<{ version: number; signature: Buffer }> {
    await this.reload(q);
    // The newest version that is genuine: a row written by someone without the master key does
    // not stop sealing (verification reports it).
    for (const row of [...this.rows].reverse()) {
      let key: KeyObject;
      try {
        key = await this.privateKey(row);
        if (!rawPublic(key).equals(row.publicKey)) continue;
      } catch {
        continue;
      }
      return { version: row.version, signature: sign(null, message, key) };
    }
    throw new WardError('integrity_error', 'no genuine audit signing key');
  }

  /**
   * Versions whose stored private half does not unwrap with the master key or does not match the
   * stored public half: keys that Ward did not create.
   */
  async forged(): Promise<number[]> {
    await this.reload();
    const bad: number[] = [];
    for (const row of this.rows) {
      try {
        if (!rawPublic(privateFromSeed(await this.seed(row))).equals(row.publicKey)) bad.push(row.version);
      } catch {
        bad.push(row.version);
      }
    }
    return bad;
  }

  private async add(version: number): Promise<boolean> {
    const seed = randomBytes(32);
    const publicKey = rawPublic(privateFromSeed(seed));
    const wrapped = await this.master.current.wrap(seed, wrapAad(version, publicKey));
    const added = await store.insertSigningKey(this.db, version, publicKey, wrapped, this.master.epoch);
    await this.reload();
    return added;
  }

  private async reload(q: Queryable = this.db): Promise<void> {
    this.rows = await store.selectSigningKeys(q);
  }

  /**
   * Appends every version's seed wrapped under the current master key where it has none (a
   * master rotation's step); returns how many it wrote.
   */
  async rewrapMaster(): Promise<number> {
    await this.reload();
    let wrote = 0;
    for (const row of this.rows) {
      if (row.masterEpoch === this.master.epoch) continue;
      const existing = row.rewrapped.get(this.master.epoch);
      if (existing) {
        // Written before (this rotation, interrupted): it must open to the version's own key.
        const seed = await this.master.current.unwrap(existing, wrapAad(row.version, row.publicKey)).catch(() => undefined);
        if (seed && rawPublic(privateFromSeed(seed)).equals(row.publicKey)) continue;
        throw new WardError(
          'integrity_error',
          `audit signing key version ${row.version} has a wrapping under the new master key that is not its own`,
        );
      }
      const wrapped = await this.master.current.wrap(await this.seed(row), wrapAad(row.version, row.publicKey));
      await store.insertSigningWrap(this.db, row.version, this.master.epoch, wrapped);
      wrote++;
    }
    await this.reload();
    return wrote;
  }

  /** Versions whose seed is not yet wrapped under the current master key. */
  async behind(q: Queryable = this.db): Promise<number> {
    await this.reload(q);
    return this.rows.filter((r) => r.masterEpoch !== this.master.epoch && !r.rewrapped.has(this.master.epoch)).length;
  }

  /** A version's seed, from its wrapping under the current master epoch, else under keys.previous's. */
  private seed(row: store.SigningKeyRow): Promise<Buffer> {
    const aad = wrapAad(row.version, row.publicKey);
    const wrappings = new Map(row.rewrapped).set(row.masterEpoch, row.wrapped);
    for (const epoch of [this.master.epoch, this.master.previousEpoch]) {
      const wrapped = epoch === undefined ? undefined : wrappings.get(epoch);
      if (epoch !== undefined && wrapped) return this.master.forEpoch(epoch).unwrap(wrapped, aad);
    }
    return this.master.forEpoch(row.masterEpoch).unwrap(row.wrapped, aad); // refuses: that master is not configured
  }

  private async privateKey(row: store.SigningKeyRow): Promise<KeyObject> {
    let key = this.privates.get(row.version);
    if (!key) {
      key = privateFromSeed(await this.seed(row));
      this.privates.set(row.version, key);
    }
    return key;
  }
}
