/**
 * Subjects and crypto-shredding. A collection that names a subject field (e.g. `mrn`) seals each
 * record under its subject's own data key: 32 random bytes, wrapped by the collection's data key,
 * kept in the subject key store, a database other than Ward's own. A record row carries the
 * subject's MAC (keyed, never the value) and the id of the key that sealed it.
 *
 * A shred destroys the subject's key in the store: every record of the subject becomes unreadable
 * wherever a copy of it lies, backups and replicas of Ward's database included, because none of
 * them holds the key. In Ward's database the subject's records, their unique entries and tokens
 * are deleted in the same transaction, audited with every record's id. The store's own backups
 * still hold the key until they expire: keep them briefly (README, "Subjects and crypto-shredding").
 */
import { randomBytes } from 'node:crypto';
import { integrityError, keyVersionOf, openWith, sealWith } from '../crypto/aead.js';
import { blindIndex } from '../crypto/derive.js';
import type { DataKey, Keyring } from '../crypto/keyring.js';
import { WardError } from '../errors.js';
import type { Collection, Field } from '../schema/collection.js';
import type { FieldValue } from '../schema/types.js';
import type { AuditRow } from '../store/audit.js';
import type { Db, Queryable } from '../store/db.js';
import * as store from '../store/subject-keys.js';
import * as subjects from '../store/subjects.js';
import type { AuditTrail } from './trail.js';

/** A subject's data key, as records are sealed under it. */
export interface SubjectKey {
  key: Buffer;
  /** Random id of this key (a new one after a shred); records name it. */
  keyId: Buffer;
}

/** How many subjects' keys a process keeps unwrapped. */
const CACHE_MAX = 20_000;

export const subjectShredded = (c: Collection) =>
  new WardError('subject_shredded', `this record's subject was shredded: no record of that subject in ${c.name} can be read again`);

const wrapAad = (space: string, collection: string, subject: Buffer, keyId: Buffer) =>
  Buffer.from(`ward/subject-key/v1/${space}/${collection}/${subject.toString('hex')}/${keyId.toString('hex')}`);

export class SubjectKeys {
  private readonly cache = new Map<string, SubjectKey>();
  /** Subjects whose key id this process has written to ward_subjects (see ensureMirrored). */
  private readonly mirrored = new Set<string>();

  private constructor(
    /** The subject key store. */
    private readonly keystore: Db,
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly space: string,
  ) {}

  /**
   * Opens the key store, refusing Ward's own database: a backup of it would then hold the keys a
   * shred must destroy.
   */
  static async open(keystore: Db, db: Db, keyring: Keyring, space: string): Promise<SubjectKeys> {
    await store.ensureSchema(keystore);
    const [own] = await db.query<{ t: string | null }>("SELECT to_regclass('ward_subject_keys')::text AS t");
    if (own?.t)
      throw new WardError(
        'config_invalid',
        "subjects.keystore: names Ward's own database; subject keys must live in another database (a backup of Ward's must not hold them)",
      );
    const keys = new SubjectKeys(keystore, db, keyring, space);
    await keys.finishShreds(); // a shred whose key store step failed is finished here
    return keys;
  }

  /** The subject's MAC: a keyed hash of the normalized subject value (the same value, the same subject). */
  ref(c: Collection, field: Field, value: FieldValue): Buffer {
    return blindIndex(this.keyring.derivedKey(c.name, 'subject', field.name), field.type.normalize(value));
  }

  /**
   * The subject's key for a write: made (wrapped by the collection's active key) when it has none.
   * A key that was shredded is never returned: if the key store still holds one (its shred's last
   * step has not run), it is destroyed here and a new key made.
   */
  async forWrite(c: Collection, subject: Buffer, active: DataKey, q: Queryable = this.db): Promise<SubjectKey> {
    const id = `${c.name}/${subject.toString('hex')}`;
    const cached = this.cache.get(id);
    if (cached && (await this.ensureMirrored(c, subject, cached, q))) return cached;
    for (let attempt = 0; attempt < 2; attempt++) {
      const key = await this.keyFromStore(c, subject, active, q);
      if (await this.ensureMirrored(c, subject, key, q)) {
        this.remember(id, key);
        return key;
      }
      // Shredded: finish the shred's key store step, then make a new key.
      await store.deleteKey(this.keystore, this.space, c.name, subject, key.keyId);
    }
    throw new WardError('subject_shredded', `this subject of ${c.name} was shredded while a record of it was written; retry`);
  }

  /**
   * The key that sealed a record: undefined when it was destroyed (the subject was shredded). A
   * key held in memory that is not the record's is read again first (another process may have
   * given the subject a new key).
   */
  async forRead(c: Collection, subject: Buffer, keyId: Buffer | null, q?: Queryable): Promise<Buffer | undefined> {
    if (!keyId) return undefined;
    const id = `${c.name}/${subject.toString('hex')}`;
    let key = this.cache.get(id);
    if (!key?.keyId.equals(keyId)) {
      const [row] = await store.selectKeys(this.keystore, this.space, c.name, [subject]);
      if (!row) return undefined;
      key = await this.unwrap(c, row, q);
      this.remember(id, key);
    }
    return key.keyId.equals(keyId) ? key.key : undefined;
  }

  /** Forgets what this process holds of a subject. */
  forget(c: Collection, subject: Buffer): void {
    this.cache.delete(`${c.name}/${subject.toString('hex')}`);
  }

  /**
   * Shreds the subject of record `recordId`. In one transaction of Ward's database: the subject's
   * records are locked, a legal hold on any of them refuses the shred, the subject's key id row goes
   * (waiting for writes under way), then every record of the subject, audited with their ids, and
   * the shred is recorded (its key is never written under again). After the commit the key store
   * destroys the key; should that step fail, the shred is finished by the next one (or at start).
   * Returns the ids of the records shredded.
   */
  async shred(c: Collection, recordId: string, audit: AuditRow, trail: AuditTrail): Promise<string[]> {
    const found = await subjects.subjectOf(this.db, c.name, recordId);
    if (!found) throw new WardError('not_found', `no record of ${c.name} has this id`);
    const subject = found.subject;
    if (!subject)
      throw new WardError(
        'invalid_request',
        `this record of ${c.name} has no subject key (written before ${c.name} named a subject): delete it instead`,
      );
    const [stored] = await store.selectKeys(this.keystore, this.space, c.name, [subject]);
    const ids = await trail.committing(1, () =>
      this.db.transaction(async (tx) => {
        const locked = await subjects.lockOutSubject(tx, c.name, subject);
        if (locked.held)
          throw new WardError('record_held', `a record of this subject of ${c.name} is under a legal hold: the subject cannot be shredded`);
        const keyIds = [stored?.keyId, locked.keyId, found.subjectKey].filter((k): k is Buffer => !!k);
        const unique = keyIds.filter((k, i) => keyIds.findIndex((o) => o.equals(k)) === i);
        return subjects.shredRecords(tx, c.name, subject, unique, { ...audit, detail: 'subject key destroyed' });
      }),
    );
    this.forget(c, subject);
    await this.finishShreds().catch(() => {}); // its key store step; a failure is retried later
    return ids;
  }

  /** Destroys in the key store the keys of shreds recorded whose key it may still hold; returns how many. */
  async finishShreds(): Promise<number> {
    let done = 0;
    for (const p of await subjects.pendingShreds(this.db)) {
      await store.deleteKey(this.keystore, this.space, p.collection, p.subject, p.keyId);
      await subjects.markKeyDestroyed(this.db, p.collection, p.subject, p.keyId);
      done++;
    }
    return done;
  }

  /** Forgets every key this process holds (a write found one shredded under it). */
  forgetAll(): void {
    this.cache.clear();
    this.mirrored.clear();
  }

  /** Rewraps a collection's subject keys under its active data key version; returns how many. */
  async rewrap(c: Collection, active: DataKey, batch = 500): Promise<number> {
    let done = 0;
    for (;;) {
      const rows = await store.selectOlder(this.keystore, this.space, c.name, active.version, batch);
      if (!rows.length) return done;
      for (const row of rows) {
        const { key } = await this.unwrap(c, row);
        const wrapped = sealWith(active.key, active.version, wrapAad(this.space, c.name, row.subject, row.keyId), key);
        await store.rewrapKey(this.keystore, this.space, row, active.version, wrapped);
        done++;
      }
    }
  }

  /** Subject keys a data key version still wraps. */
  countOnVersion(c: Collection, version: number): Promise<number> {
    return store.countOnVersion(this.keystore, this.space, c.name, version);
  }

  /** Destroys every subject key of the space (ward destroy); returns how many. */
  destroyAll(): Promise<number> {
    this.cache.clear();
    return store.deleteSpace(this.keystore, this.space);
  }

  close(): Promise<void> {
    this.cache.clear();
    return this.keystore.close();
  }

  /** The subject's key from the store: the one it holds, or `active`'s new one offered (one round trip). */
  private async keyFromStore(c: Collection, subject: Buffer, active: DataKey, q: Queryable): Promise<SubjectKey> {
    const fresh = { key: randomBytes(32), keyId: randomBytes(16) };
    const wrapped = sealWith(active.key, active.version, wrapAad(this.space, c.name, subject, fresh.keyId), fresh.key);
    const offered = { collection: c.name, subject, keyId: fresh.keyId, keyVersion: active.version, wrapped };
    const row =
      (await store.insertOrSelectKey(this.keystore, this.space, offered)) ??
      (await store.selectKeys(this.keystore, this.space, c.name, [subject]))[0];
    if (!row) throw new WardError('database_error', 'the subject key store lost a key it just wrote');
    return row.keyId.equals(fresh.keyId) ? fresh : this.unwrap(c, row, q);
  }

  /**
   * Records the subject's key id in Ward's database (once per process and key); false when that
   * key was shredded. A write's trigger checks the same, so a write under a shredded key fails.
   */
  private async ensureMirrored(c: Collection, subject: Buffer, key: SubjectKey, q: Queryable): Promise<boolean> {
    const id = `${c.name}/${subject.toString('hex')}/${key.keyId.toString('hex')}`;
    if (this.mirrored.has(id)) return true;
    if (!(await subjects.upsertSubject(q, c.name, subject, key.keyId))) return false;
    if (this.mirrored.size >= CACHE_MAX) this.mirrored.clear();
    this.mirrored.add(id);
    return true;
  }

  private async unwrap(c: Collection, row: store.SubjectKeyRow, q?: Queryable): Promise<SubjectKey> {
    const blob = row.wrapped;
    const wrapping = await this.keyring.dataKey(c.name, keyVersionOf(blob), q);
    if (!wrapping) throw integrityError();
    const key = openWith(
      () => wrapping,
      () => wrapAad(this.space, c.name, row.subject, row.keyId),
      blob,
    );
    return { key, keyId: row.keyId };
  }

  private remember(id: string, key: SubjectKey): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, key);
  }
}
