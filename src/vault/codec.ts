/**
 * Turns validated field values into what is stored (ciphertexts, blind indexes, tokens) and
 * back. Plaintext exists here only for the length of one call.
 */
import { integrityError } from '../crypto/aead.js';
import { pseudonym, randomToken } from '../crypto/derive.js';
import { type MacInput, type OpenJob, runMac, type SealJob } from '../crypto/jobs.js';
import type { DataKey, Keyring } from '../crypto/keyring.js';
import { type FieldCrypto, fieldCrypto } from '../crypto/threads.js';
import { WardError } from '../errors.js';
import type { Collection, Field, RecordValues } from '../schema/collection.js';
import type { FieldValue } from '../schema/types.js';
import type { Queryable } from '../store/db.js';
import type { RecordRow, StoredRecord } from '../store/records.js';
import { type SubjectKeys, subjectShredded } from './subjects.js';

/** Additional data binding a ciphertext to its collection, record, field and key version. */
export function fieldAad(collection: string, id: string, field: string, keyVersion: number): string {
  return `ward/field/v1\0${collection}\0${id}\0${field}\0${keyVersion}`;
}

export class RecordCodec {
  constructor(
    private readonly keyring: Keyring,
    /** Where the AES-GCM and HMAC work runs: this thread or crypto threads. */
    readonly crypto: FieldCrypto = fieldCrypto(),
    /** Per-subject keys, when a collection names a subject field (see vault/subjects). */
    readonly subjects?: SubjectKeys,
  ) {}

  /**
   * Everything stored for a record: public values, ciphertexts, tokens (random ones the
   * record already holds are kept; the store writes each to ward_tokens too), blind indexes and
   * unique entries.
   */
  async encode(
    c: Collection,
    id: string,
    values: RecordValues,
    key: DataKey,
    heldTokens: Record<string, string> = {},
    /** The caller's transaction, when it holds one (see Keyring.dataKey). */
    q?: Queryable,
  ): Promise<StoredRecord> {
    const out: StoredRecord = { public: {}, sealed: {}, tokens: {}, lookup: [], unique: [] };
    const job: SealJob = { op: 'seal', key: key.key, version: key.version, seal: [], macs: [] };
    const subjectValue = c.subject && values.get(c.subject.name);
    if (c.subject && subjectValue !== undefined && subjectValue !== '') {
      // The record is its subject's: sealed under the subject's key (wrapped by `key`), not `key` itself.
      const subjects = this.requireSubjects(c);
      out.subject = subjects.ref(c, c.subject, subjectValue);
      const sk = await subjects.forWrite(c, out.subject, key, q);
      out.subjectKey = sk.keyId;
      job.key = sk.key;
    }
    const sealed: string[] = [];
    const macFields: Field[] = [];
    const mac = (kind: MacInput['kind'], field: Field, value: FieldValue) => {
      job.macs.push(this.macInput(c, field, kind, value));
      macFields.push(field);
    };
    for (const [name, value] of values) {
      const field = c.fields.get(name) as Field;
      if (!field.encrypted) out.public[name] = value;
      else {
        sealed.push(name);
        job.seal.push([fieldAad(c.name, id, name, key.version), JSON.stringify(value)]);
      }
      if (field.searchable) mac('index', field, value);
      if (field.token === 'deterministic') {
        out.tokens[name] = ''; // its place in field order; the token comes with the job's results
        mac('token', field, value);
      } else if (field.token) out.tokens[name] = heldTokens[name] ?? randomToken();
    }
    const done = await this.crypto.run(job);
    for (const [i, name] of sealed.entries()) out.sealed[name] = done.sealed[i] as string;
    for (const [i, field] of macFields.entries()) {
      const m = done.macs[i] as Buffer | string;
      if (typeof m === 'string') out.tokens[field.name] = m;
      else {
        out.lookup.push(m);
        if (field.unique) out.unique.push({ field: field.name, value: m });
      }
    }
    return out;
  }

  /**
   * A row's ciphertexts sealed again under `key` (rewrap), every one it holds, whether or not the
   * configuration still declares its field: nothing else of the record changes.
   */
  async reseal(c: Collection, row: RecordRow, key: DataKey, q?: Queryable): Promise<Record<string, string>> {
    const names = Object.keys(row.sealed);
    if (!names.length) return {};
    // A subject's record stays under its subject's key: only the version it names moves.
    const subjectKey = await this.subjectKeyOf(c, row, q);
    const old = subjectKey ?? (await this.keyring.dataKey(c.name, row.keyVersion, q));
    if (!old) throw integrityError();
    const opened = await this.crypto.run({
      op: 'open',
      key: old,
      version: row.keyVersion,
      open: names.map((n) => [fieldAad(c.name, row.id, n, row.keyVersion), row.sealed[n] as string]),
    } satisfies OpenJob);
    if (opened.some((t) => t === null)) throw integrityError();
    const job: SealJob = {
      op: 'seal',
      key: subjectKey ?? key.key,
      version: key.version,
      seal: names.map((n, i) => [fieldAad(c.name, row.id, n, key.version), opened[i] as string]),
      macs: [],
    };
    const done = await this.crypto.run(job);
    return Object.fromEntries(names.map((n, i) => [n, done.sealed[i] as string]));
  }

  /**
   * Decrypts the requested fields of a row; any mismatch is one opaque integrity error. `q` is
   * where a key not yet in memory is read: the caller's transaction, when it holds one.
   */
  async open(c: Collection, row: RecordRow, fields: readonly Field[], q?: Queryable): Promise<RecordValues> {
    const sealed = fields.filter((f) => f.encrypted && row.sealed[f.name] !== undefined);
    const plain = new Map<string, string>();
    if (sealed.length) {
      const key = (await this.subjectKeyOf(c, row, q)) ?? (await this.keyring.dataKey(c.name, row.keyVersion, q));
      if (!key) throw integrityError();
      const job: OpenJob = {
        op: 'open',
        key,
        version: row.keyVersion,
        open: sealed.map((f) => [fieldAad(c.name, row.id, f.name, row.keyVersion), row.sealed[f.name]]),
      };
      for (const [i, text] of (await this.crypto.run(job)).entries()) {
        if (text === null) throw integrityError();
        plain.set((sealed[i] as Field).name, text);
      }
    }
    const values: RecordValues = new Map();
    for (const f of fields) {
      const text = plain.get(f.name);
      const v = f.encrypted ? (text === undefined ? undefined : (JSON.parse(text) as FieldValue)) : row.public[f.name];
      if (v !== undefined) values.set(f.name, v as FieldValue);
    }
    return values;
  }

  /** The subject key a row is sealed under; undefined for a record without a subject; refuses a shredded one. */
  private async subjectKeyOf(c: Collection, row: RecordRow, q?: Queryable): Promise<Buffer | undefined> {
    if (!row.subject) return undefined;
    const key = await this.requireSubjects(c).forRead(c, row.subject, row.subjectKey, q);
    if (!key) throw subjectShredded(c);
    return key;
  }

  private requireSubjects(c: Collection): SubjectKeys {
    if (this.subjects) return this.subjects;
    throw new WardError('config_invalid', `records of ${c.name} are sealed under subject keys: configure subjects.keystore to read them`);
  }

  /** The record's pseudonym in de-identified views (see crypto/derive). */
  pseudonym(c: Collection, id: string): string {
    return pseudonym(this.keyring.derivedKey(c.name, 'pseudonym', 'record'), id);
  }

  indexValue(c: Collection, field: Field, value: FieldValue): Buffer {
    return runMac(this.macInput(c, field, 'index', value)) as Buffer;
  }

  deterministicToken(c: Collection, field: Field, value: FieldValue): string {
    return runMac(this.macInput(c, field, 'token', value)) as string;
  }

  /** A MAC of a field's normalized value under the field's derived key. */
  private macInput(c: Collection, field: Field, kind: MacInput['kind'], value: FieldValue): MacInput {
    const key = this.keyring.derivedKey(c.name, kind === 'index' ? 'blind-index' : 'token', field.name);
    return { kind, key, value: field.type.normalize(value) };
  }
}
