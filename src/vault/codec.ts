/**
 * Turns validated field values into what is stored (ciphertexts, blind indexes, tokens) and
 * back. Plaintext exists here only for the length of one call.
 */
import { integrityError, keyVersionOf, openWith, sealWith } from '../crypto/aead.js';
import { blindIndex, deterministicToken, randomToken } from '../crypto/derive.js';
import type { DataKey, Keyring } from '../crypto/keyring.js';
import type { Collection, Field, RecordValues } from '../schema/collection.js';
import type { FieldValue } from '../schema/types.js';
import type { IndexEntry, NewRecord, RecordRow, TokenEntry } from '../store/records.js';

/** Additional data binding a ciphertext to its collection, record, field and key version. */
export function fieldAad(collection: string, id: string, field: string, keyVersion: number): Buffer {
  return Buffer.from(`ward/field/v1\0${collection}\0${id}\0${field}\0${keyVersion}`);
}

export class RecordCodec {
  constructor(private readonly keyring: Keyring) {}

  seal(c: Collection, id: string, values: RecordValues, key: DataKey): NewRecord {
    const out: NewRecord = { id, public: {}, sealed: {} };
    for (const [name, value] of values) {
      const field = c.fields.get(name) as Field;
      if (!field.encrypted) {
        out.public[name] = value;
        continue;
      }
      const blob = sealWith(key.key, key.version, fieldAad(c.name, id, name, key.version), Buffer.from(JSON.stringify(value)));
      out.sealed[name] = blob.toString('base64');
    }
    return out;
  }

  /** Decrypts the requested fields of a row; any mismatch is one opaque integrity error. */
  async open(c: Collection, row: RecordRow, fields: readonly Field[]): Promise<RecordValues> {
    const values: RecordValues = new Map();
    if (fields.some((f) => f.encrypted && row.sealed[f.name] !== undefined))
      await this.keyring.dataKey(c.name, row.keyVersion);
    for (const f of fields) {
      if (!f.encrypted) {
        const v = row.public[f.name];
        if (v !== undefined) values.set(f.name, v as FieldValue);
        continue;
      }
      const b64 = row.sealed[f.name];
      if (b64 === undefined) continue;
      values.set(f.name, this.openField(c.name, row, f.name, b64));
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

  indexes(c: Collection, id: string, values: RecordValues): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const [name, value] of values) {
      const field = c.fields.get(name) as Field;
      if (field.searchable)
        out.push({ recordId: id, field: name, value: this.indexValue(c, field, value).toString('hex'), unique: field.unique });
    }
    return out;
  }

  deterministicToken(c: Collection, field: Field, value: FieldValue): string {
    return deterministicToken(this.keyring.derivedKey(c.name, 'token', field.name), field.type.normalize(value));
  }

  /** Tokens for token fields; random tokens already held by the record are kept. */
  tokens(c: Collection, id: string, values: RecordValues, existing: readonly TokenEntry[] = []): TokenEntry[] {
    const out: TokenEntry[] = [];
    for (const [name, value] of values) {
      const field = c.fields.get(name) as Field;
      if (field.token === 'deterministic')
        out.push({ token: this.deterministicToken(c, field, value), recordId: id, field: name, kind: 'deterministic' });
      else if (field.token === 'random') {
        const kept = existing.find((t) => t.field === name && t.kind === 'random');
        out.push({ token: kept?.token ?? randomToken(), recordId: id, field: name, kind: 'random' });
      }
    }
    return out;
  }
}
