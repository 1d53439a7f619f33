/**
 * Turns validated field values into what is stored (ciphertexts, blind indexes, tokens) and
 * back. Plaintext exists here only for the length of one call.
 */
import { integrityError, keyVersionOf, openWith, sealWith } from '../crypto/aead.js';
import { blindIndex, deterministicToken, randomToken } from '../crypto/derive.js';
import type { DataKey, Keyring } from '../crypto/keyring.js';
import type { Collection, Field, RecordValues } from '../schema/collection.js';
import type { FieldValue } from '../schema/types.js';
import type { RecordRow, StoredRecord } from '../store/records.js';

/** Additional data binding a ciphertext to its collection, record, field and key version. */
export function fieldAad(collection: string, id: string, field: string, keyVersion: number): Buffer {
  return Buffer.from(`ward/field/v1\0${collection}\0${id}\0${field}\0${keyVersion}`);
}

export class RecordCodec {
  constructor(private readonly keyring: Keyring) {}

  /**
   * Everything stored for a record: public values, ciphertexts, tokens (random ones the
   * record already holds are kept), blind indexes and unique entries.
   */
  encode(c: Collection, id: string, values: RecordValues, key: DataKey, heldTokens: Record<string, string> = {}): StoredRecord {
    const out: StoredRecord = { public: {}, sealed: {}, tokens: {}, lookup: [], unique: [] };
    for (const [name, value] of values) {
      const field = c.fields.get(name) as Field;
      if (!field.encrypted) out.public[name] = value;
      else {
        const aad = fieldAad(c.name, id, name, key.version);
        out.sealed[name] = sealWith(key.key, key.version, aad, Buffer.from(JSON.stringify(value))).toString('base64');
      }
      if (field.searchable) {
        const index = this.indexValue(c, field, value);
        out.lookup.push(index);
        if (field.unique) out.unique.push({ field: name, value: index });
      }
      if (field.token) {
        const token = field.token === 'deterministic' ? this.deterministicToken(c, field, value) : (heldTokens[name] ?? randomToken());
        out.tokens[name] = token;
        out.lookup.push(Buffer.from(token));
      }
    }
    return out;
  }

  /** Decrypts the requested fields of a row; any mismatch is one opaque integrity error. */
  async open(c: Collection, row: RecordRow, fields: readonly Field[]): Promise<RecordValues> {
    const values: RecordValues = new Map();
    if (fields.some((f) => f.encrypted && row.sealed[f.name] !== undefined)) await this.keyring.dataKey(c.name, row.keyVersion);
    for (const f of fields) {
      if (!f.encrypted) {
        const v = row.public[f.name];
        if (v !== undefined) values.set(f.name, v as FieldValue);
        continue;
      }
      const b64 = row.sealed[f.name];
      if (b64 !== undefined) values.set(f.name, this.openField(c.name, row, f.name, b64));
    }
    return values;
  }

  private openField(collection: string, row: RecordRow, field: string, b64: string): FieldValue {
    if (typeof b64 !== 'string') throw integrityError();
    const blob = Buffer.from(b64, 'base64');
    // The row says which key sealed it; a blob claiming another version was moved or altered.
    if (keyVersionOf(blob) !== row.keyVersion) throw integrityError();
    const plain = openWith(
      (v) => this.keyring.cachedDataKey(collection, v),
      (v) => fieldAad(collection, row.id, field, v),
      blob,
    );
    return JSON.parse(plain.toString('utf8')) as FieldValue;
  }

  indexValue(c: Collection, field: Field, value: FieldValue): Buffer {
    return blindIndex(this.keyring.derivedKey(c.name, 'blind-index', field.name), field.type.normalize(value));
  }

  deterministicToken(c: Collection, field: Field, value: FieldValue): string {
    return deterministicToken(this.keyring.derivedKey(c.name, 'token', field.name), field.type.normalize(value));
  }
}
