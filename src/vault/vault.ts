/**
 * The vault service: the PHI operations the CLI and HTTP layers call. Each operation is one
 * transaction (a single statement where it can be), validates before it touches the database
 * and reports problems by field name and rule, never by value.
 */
import { constantTimeEqual, isTokenShaped, newRecordId } from '../crypto/derive.js';
import type { Keyring } from '../crypto/keyring.js';
import { type FieldIssue, WardError } from '../errors.js';
import {
  type Collection,
  type Field,
  missingRequired,
  type RecordValues,
  safeName,
  selectFields,
  validateRecord,
  validationError,
} from '../schema/collection.js';
import { applyMask } from '../schema/mask.js';
import type { FieldValue } from '../schema/types.js';
import type { Db } from '../store/db.js';
import * as records from '../store/records.js';
import { RecordCodec } from './codec.js';

export const MAX_BATCH = 1000;
export const MAX_SEARCH_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RecordView {
  id: string;
  version: number;
  fields: Record<string, FieldValue>;
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
}

export interface ReadOptions {
  /** Only these fields are decrypted and returned; default all. */
  fields?: readonly string[];
  /** Show fields that declare a mask in masked form. Default false. */
  masked?: boolean;
}

export interface SearchOptions extends ReadOptions {
  /** At most this many records, ordered by id; default 100, at most 1000. */
  limit?: number;
}

export class Vault {
  readonly codec: RecordCodec;

  constructor(
    readonly db: Db,
    readonly keyring: Keyring,
    readonly collections: ReadonlyMap<string, Collection>,
  ) {
    this.codec = new RecordCodec(keyring);
  }

  collection(name: string): Collection {
    const c = this.collections.get(name);
    if (!c) throw new WardError('unknown_collection', `unknown collection ${safeName(name)}`);
    return c;
  }

  async create(collection: string, input: unknown): Promise<{ id: string; version: number; tokens: Record<string, string> }> {
    const c = this.collection(collection);
    const { values } = validateRecord(c, input);
    const key = await this.keyring.activeDataKey(c.name);
    const id = newRecordId();
    const stored = this.codec.encode(c, id, values, key);
    await records.insertRecord(this.db, c.name, key.version, c.retentionDays, { id, ...stored });
    return { id, version: 1, tokens: stored.tokens };
  }

  /** Creates all records or none; a bad record is named by its position. */
  async createMany(collection: string, inputs: unknown): Promise<{ ids: string[] }> {
    const c = this.collection(collection);
    if (!Array.isArray(inputs) || inputs.length === 0)
      throw new WardError('invalid_request', 'records must be a non-empty array of records');
    if (inputs.length > MAX_BATCH) throw new WardError('invalid_request', `a batch holds at most ${MAX_BATCH} records`);
    const issues: FieldIssue[] = [];
    const all = inputs.map((input, i) => {
      try {
        return validateRecord(c, input).values;
      } catch (e) {
        if (!(e instanceof WardError)) throw e;
        const found = e.issues.length ? e.issues : [{ field: '', reason: e.message }];
        issues.push(...found.map((x) => ({ field: `records[${i}]${x.field ? `.${x.field}` : ''}`, reason: x.reason })));
        return new Map() as RecordValues;
      }
    });
    if (issues.length) throw validationError(issues);
    const key = await this.keyring.activeDataKey(c.name);
    const rows = all.map((values) => {
      const id = newRecordId();
      return { id, ...this.codec.encode(c, id, values, key) };
    });
    await records.insertRecords(this.db, c.name, key.version, c.retentionDays, rows);
    return { ids: rows.map((r) => r.id) };
  }

  async get(collection: string, id: string, options: ReadOptions = {}): Promise<RecordView> {
    const c = this.collection(collection);
    const fields = selectFields(c, options.fields);
    const row = await records.selectRecord(this.db, c.name, checkId(id));
    if (!row) throw notFound(c);
    return this.view(c, row, fields, options.masked ?? false);
  }

  /** Changes the given fields (null removes one); all fields are re-sealed under the active key. */
  async update(collection: string, id: string, patch: unknown): Promise<{ id: string; version: number }> {
    const c = this.collection(collection);
    const { values: changes, removed } = validateRecord(c, patch, 'partial');
    checkId(id);
    const key = await this.keyring.activeDataKey(c.name);
    return this.db.transaction(async (tx) => {
      const row = await records.selectRecord(tx, c.name, id, true);
      if (!row) throw notFound(c);
      const values = await this.codec.open(c, row, [...c.fields.values()]);
      for (const name of removed) values.delete(name);
      for (const [name, v] of changes) values.set(name, v);
      const missing = missingRequired(c, values);
      if (missing.length) throw validationError(missing);
      const stored = this.codec.encode(c, id, values, key, row.tokens);
      return { id, version: await records.updateRecord(tx, c.name, id, key.version, stored) };
    });
  }

  async delete(collection: string, id: string): Promise<void> {
    const c = this.collection(collection);
    if (!(await records.deleteRecord(this.db, c.name, checkId(id)))) throw notFound(c);
  }

  /** Equality search on searchable fields, through their blind indexes. */
  async search(collection: string, where: unknown, options: SearchOptions = {}): Promise<RecordView[]> {
    const c = this.collection(collection);
    const fields = selectFields(c, options.fields);
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)
      throw new WardError('invalid_request', `limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}`);
    const rows = await records.searchRecords(this.db, c.name, this.searchTerms(c, where), limit);
    return Promise.all(rows.map((row) => this.view(c, row, fields, options.masked ?? false)));
  }

  /** The deterministic token a value would get, for joins across systems without PHI. */
  tokenize(collection: string, field: string, value: unknown): string {
    const c = this.collection(collection);
    const f = c.fields.get(field);
    if (f?.token !== 'deterministic')
      throw new WardError('invalid_request', `field ${safeName(field)} of ${c.name} has no deterministic token`);
    const parsed = f.type.parse(value);
    if (!parsed.ok) throw validationError([{ field, reason: parsed.reason }]);
    return this.codec.deterministicToken(c, f, parsed.value);
  }

  /** Current values behind tokens; an unknown or malformed token fails the whole call. */
  async detokenize(tokens: unknown): Promise<Record<string, FieldValue>> {
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > MAX_BATCH)
      throw new WardError('invalid_request', `tokens must be an array of 1 to ${MAX_BATCH} tokens`);
    const bad = tokens.flatMap((t, i) => (isTokenShaped(t) ? [] : [`tokens[${i}]`]));
    if (bad.length) throw new WardError('invalid_token', `not a Ward token: ${bad.join(', ')}`);
    const rows = await records.selectByTokens(this.db, tokens as string[]);
    const out: Record<string, FieldValue> = {};
    const missing: string[] = [];
    for (const [i, token] of (tokens as string[]).entries()) {
      const hit = this.tokenHolder(rows, token);
      const value = hit && (await this.codec.open(hit.c, hit.row, [hit.field])).get(hit.field.name);
      if (value === undefined) missing.push(`tokens[${i}]`);
      else out[token] = value;
    }
    if (missing.length) throw new WardError('invalid_token', `unknown token: ${missing.join(', ')}`);
    return out;
  }

  /** The record and field that hold a token; deterministic tokens may be held by several. */
  private tokenHolder(rows: records.RecordRow[], token: string): { c: Collection; row: records.RecordRow; field: Field } | undefined {
    for (const row of rows) {
      const c = this.collections.get(row.collection);
      const name = Object.keys(row.tokens).find((f) => constantTimeEqual(Buffer.from(row.tokens[f] ?? ''), Buffer.from(token)));
      const field = name === undefined ? undefined : c?.fields.get(name);
      if (c && field) return { c, row, field };
    }
    return undefined;
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** The blind index of each `where` value, after the same checks as a write. */
  private searchTerms(c: Collection, where: unknown): Buffer[] {
    if (typeof where !== 'object' || where === null || Array.isArray(where) || Object.keys(where).length === 0)
      throw new WardError('invalid_request', 'where must be an object of field: value pairs');
    const issues: FieldIssue[] = [];
    const terms: Buffer[] = [];
    for (const [name, raw] of Object.entries(where)) {
      const f = c.fields.get(name);
      if (!f) throw new WardError('unknown_field', `unknown field for collection ${c.name}: ${safeName(name)}`);
      if (!f.searchable) throw new WardError('not_searchable', `field ${name} of ${c.name} is not searchable (declare search: exact)`);
      const parsed = f.type.parse(raw);
      if (parsed.ok) terms.push(this.codec.indexValue(c, f, parsed.value));
      else issues.push({ field: name, reason: parsed.reason });
    }
    if (issues.length) throw validationError(issues);
    return terms;
  }

  private async view(c: Collection, row: records.RecordRow, fields: Field[], masked: boolean): Promise<RecordView> {
    const values = await this.codec.open(c, row, fields);
    const out: Record<string, FieldValue> = {};
    for (const f of fields) {
      const v = values.get(f.name);
      if (v !== undefined) out[f.name] = masked && f.mask ? applyMask(f.mask, v) : v;
    }
    return {
      id: row.id,
      version: row.version,
      fields: out,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      expiresAt: row.expiresAt ? row.expiresAt.toISOString() : null,
    };
  }
}

function checkId(id: string): string {
  if (!UUID.test(id)) throw new WardError('invalid_request', 'record id must be a UUID');
  return id.toLowerCase();
}

const notFound = (c: Collection) => new WardError('not_found', `no such record in collection ${c.name}`);
