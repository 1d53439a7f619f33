/**
 * Records: the PHI operations on them, each through one pipeline (see AuditTrail.operation):
 * authorize → validate → crypto → one statement (or transaction) that writes the data change,
 * its audit row and its change events together, or none of them. Problems are reported by field
 * name and rule, never by value.
 */
import type { RequestContext } from '../access/actions.js';
import { deidentified, type FieldView, type Grant } from '../access/policy.js';
import { newRecordId } from '../crypto/derive.js';
import type { Keyring } from '../crypto/keyring.js';
import { type FieldIssue, isWardError, WardError } from '../errors.js';
import type { EventWriter } from '../events/outbox.js';
import {
  type Collection,
  type Field,
  keyAt,
  missingRequired,
  type RecordValues,
  selectFields,
  validateRecord,
  validationError,
} from '../schema/collection.js';
import { applyMask } from '../schema/mask.js';
import type { FieldValue } from '../schema/types.js';
import type { Db, Queryable } from '../store/db.js';
import { insertOutbox } from '../store/events.js';
import * as records from '../store/records.js';
import { isHeld } from '../store/retention.js';
import { Coalescer } from '../util/coalesce.js';
import type { RecordCodec } from './codec.js';
import type { AuditTrail } from './trail.js';

export const MAX_BATCH = 1000;
export const MAX_SEARCH_LIMIT = 1000;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RecordView {
  id: string;
  version: number;
  fields: Record<string, FieldValue>;
  /** ISO 8601 date-times; in a de-identified view, the year alone (YYYY). */
  createdAt: string;
  updatedAt: string;
  expiresAt: string | null;
}

export interface ReadOptions {
  /** Only these fields are decrypted and returned; default all. */
  fields?: readonly string[];
  /** Show fields that declare a mask in masked form (a role's own masks always apply). Default false. */
  masked?: boolean;
}

export interface SearchOptions extends ReadOptions {
  /** At most this many records, ordered by id; default 100, at most 1000. */
  limit?: number;
}

/** Names of a submitted object's keys, for the policy check (validation rejects the rest). */
const isObject = (input: unknown): input is Record<string, unknown> => typeof input === 'object' && input !== null && !Array.isArray(input);
const keysOf = (input: unknown): string[] => (isObject(input) ? Object.keys(input) : []);

export class Records {
  /** Concurrent single reads and creates share statements (see util/coalesce). */
  private readonly reads: Coalescer<records.Read, records.RecordRow | undefined>;
  private readonly writes: Coalescer<records.Write, void>;

  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly codec: RecordCodec,
    private readonly trail: AuditTrail,
    private readonly events: EventWriter,
    private readonly collections: ReadonlyMap<string, Collection>,
  ) {
    this.reads = new Coalescer(
      (r) => records.getRecord(db, r.collection, r.id, r.audit),
      (rs) => records.getRecords(db, rs),
    );
    this.writes = new Coalescer(
      (w) => records.insertRecord(db, w.collection, w.keyVersion, w.retentionDays, w.record, w.audit, w.events),
      async (ws) => {
        await records.insertEach(db, ws);
        return ws.map(() => undefined);
      },
    );
  }

  collection(name: string): Collection {
    const c = this.collections.get(name);
    // The name a request gave is not repeated: it may be anything a client typed.
    if (!c) throw new WardError('unknown_collection', 'the request names a collection ward.yaml does not declare');
    return c;
  }

  async create(
    collection: string,
    input: unknown,
    ctx: RequestContext,
  ): Promise<{ id: string; version: number; tokens: Record<string, string> }> {
    const c = this.collection(collection);
    const touched = keysOf(input);
    const id = newRecordId();
    const op = { ctx, action: 'create' as const, collection: c, touched, row: () => ({ recordIds: [id], fields: touched }) };
    return this.trail.operation(op, (audit) =>
      this.resealing(async () => {
        const { values } = validateRecord(c, input);
        const key = await this.keyring.activeDataKey(c.name);
        const stored = await this.codec.encode(c, id, values, key);
        const events = this.events.rows({
          collection: c,
          action: 'create',
          recordId: id,
          version: 1,
          fields: [...values.keys()],
          tokens: stored.tokens,
          public: stored.public,
        });
        const record = { id, ...stored };
        await this.trail.committing(1, () =>
          this.writes.run({ collection: c.name, keyVersion: key.version, retentionDays: c.retentionDays, record, audit, events }),
        );
        this.events.committed(events);
        return { id, version: 1, tokens: stored.tokens };
      }),
    );
  }

  /**
   * Runs a write again, once, when a subject's key it sealed under was shredded meanwhile: the
   * subject then gets a new key (see vault/subjects).
   */
  private async resealing<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (!isWardError(e, 'subject_shredded') || !this.codec.subjects) throw e;
      this.codec.subjects.forgetAll();
      return work();
    }
  }

  /** Creates all records or none; a bad record is named by its position. */
  async createMany(collection: string, inputs: unknown, ctx: RequestContext): Promise<{ ids: string[] }> {
    const c = this.collection(collection);
    if (!Array.isArray(inputs) || inputs.length === 0)
      throw new WardError('invalid_request', 'records must be a non-empty array of records');
    if (inputs.length > MAX_BATCH) throw new WardError('invalid_request', `a batch holds at most ${MAX_BATCH} records`);
    // Each key once, with where it first appears: an undeclared one is located by it, never quoted.
    const first = new Map<string, string>();
    for (const [r, input] of inputs.entries())
      for (const [k, key] of keysOf(input).entries()) if (!first.has(key)) first.set(key, `records[${r}] ${keyAt(k)}`);
    const touched = [...first.keys()];
    const ids = inputs.map(() => newRecordId());
    const op = {
      ctx,
      action: 'create' as const,
      collection: c,
      touched,
      authorize: { where: (i: number) => first.get(touched[i] as string) as string },
      row: () => ({ recordIds: ids, fields: touched }),
    };
    return this.trail.operation(op, (audit) =>
      this.resealing(async () => {
        const all = validateBatch(c, inputs);
        const key = await this.keyring.activeDataKey(c.name);
        const rows = await Promise.all(
          all.map(async (values, i) => ({ id: ids[i] as string, ...(await this.codec.encode(c, ids[i] as string, values, key)) })),
        );
        const events = rows.flatMap((r, i) =>
          this.events.rows({
            collection: c,
            action: 'create',
            recordId: r.id,
            version: 1,
            fields: [...(all[i] as RecordValues).keys()],
            tokens: r.tokens,
            public: r.public,
          }),
        );
        await this.trail.committing(1, () => records.insertRecords(this.db, c.name, key.version, c.retentionDays, rows, audit, events));
        this.events.committed(events);
        return { ids };
      }),
    );
  }

  async get(collection: string, id: string, options: ReadOptions, ctx: RequestContext): Promise<RecordView> {
    const c = this.collection(collection);
    let fields: Field[] = [];
    let rid = '';
    const op = {
      ctx,
      action: 'read' as const,
      collection: c,
      touched: requested(options.fields),
      authorize: { where: (i: number) => `fields[${i}]` },
      row: (grant: Grant) => {
        fields = visible(c, grant, options.fields);
        rid = checkId(id);
        return { recordIds: [rid], fields: fields.map((f) => f.name), oneRecord: true };
      },
    };
    const { found, grant } = await this.trail.operation(op, async (audit, grant) => ({
      found: await this.trail.committing(1, () => this.reads.run({ collection: c.name, id: rid, audit })),
      grant,
    }));
    if (!found) throw await this.missing(c, rid);
    return this.view(c, found, fields, grant, options.masked ?? false);
  }

  /** Changes the given fields (null removes one); all fields are re-sealed under the active key. */
  async update(collection: string, id: string, patch: unknown, ctx: RequestContext): Promise<{ id: string; version: number }> {
    const c = this.collection(collection);
    const touched = keysOf(patch);
    // An empty patch would need no purpose, yet rewrite the record and tell whether it exists.
    if (isObject(patch) && touched.length === 0) throw new WardError('invalid_request', 'an update must name at least one field');
    let rid = '';
    const op = {
      ctx,
      action: 'update' as const,
      collection: c,
      touched,
      row: () => {
        rid = checkId(id);
        return { recordIds: [rid], fields: touched };
      },
    };
    return this.trail.operation(op, (audit) =>
      this.resealing(async () => {
        const key = await this.keyring.activeDataKey(c.name);
        let written: readonly unknown[] = [];
        const out = await this.trail.transaction(async (tx, writeAudit) => {
          const current = await records.lockRecord(tx, c.name, rid);
          // A record that is not there is not_found before the patch is judged: its id, only what
          // the caller sent, is then not kept in the audit row (see AuditTrail.run). One retention
          // took is gone (record_expired), and may not be brought back by an update.
          if (!current) throw await this.missing(c, rid, tx);
          if (current.expired) throw expired(c);
          const { values: changes, removed } = validateRecord(c, patch, 'partial');
          const values = await this.codec.open(c, current, [...c.fields.values()], tx);
          for (const name of removed) values.delete(name);
          for (const [name, v] of changes) values.set(name, v);
          const missing = missingRequired(c, values);
          if (missing.length) throw validationError(missing);
          const stored = await this.codec.encode(c, current.id, values, key, current.tokens, tx);
          const version = current.version + 1;
          const fields = [...changes.keys(), ...removed];
          const change = { collection: c, action: 'update' as const, recordId: current.id, version, fields };
          const events = this.events.rows({ ...change, tokens: stored.tokens, public: stored.public });
          await records.updateRecord(tx, c.name, current.id, key.version, stored, current.tokens);
          await writeAudit(audit);
          await insertOutbox(tx, events);
          written = events;
          return { id: current.id, version };
        });
        this.events.committed(written);
        return out;
      }),
    );
  }

  async delete(collection: string, id: string, ctx: RequestContext): Promise<void> {
    const c = this.collection(collection);
    let rid = '';
    const op = {
      ctx,
      action: 'delete' as const,
      collection: c,
      row: () => {
        rid = checkId(id);
        return { recordIds: [rid], fields: [], oneRecord: true };
      },
    };
    const found = await this.trail.operation(op, (audit) =>
      this.trail.committing(1, async () => {
        // A legal hold keeps the record from any deletion, retention's or a caller's.
        if (await isHeld(this.db, rid)) throw new WardError('record_held', `this record of ${c.name} is under a legal hold`);
        if (!this.events.carries(c.name, 'delete')) return records.deleteRecord(this.db, c.name, rid, audit);
        // Its events need what the record held (tokens of key fields, public values, its version).
        return this.db
          .transaction(async (tx) => {
            const current = await records.lockRecord(tx, c.name, rid);
            // An expired record is retention's to remove (the statement leaves it): no event for it.
            const events =
              current && !current.expired
                ? this.events.rows({
                    collection: c,
                    action: 'delete',
                    recordId: rid,
                    version: current.version + 1,
                    fields: [],
                    tokens: current.tokens,
                    public: current.public,
                  })
                : [];
            const found = await records.deleteRecord(tx, c.name, rid, audit, events);
            return { found, events };
          })
          .then(({ found, events }) => {
            this.events.committed(events);
            return found;
          });
      }),
    );
    if (!found) throw await this.missing(c, rid);
  }

  /** Why a record is not there: retention took it (record_expired, 410) or it never was (not_found). */
  private async missing(c: Collection, id: string, q: Queryable = this.db): Promise<WardError> {
    return (await records.isGone(q, c.name, id)) ? expired(c) : notFound(c);
  }

  /** Equality search on searchable fields, through their blind indexes. */
  async search(collection: string, where: unknown, options: SearchOptions, ctx: RequestContext): Promise<RecordView[]> {
    const c = this.collection(collection);
    const whereFields = keysOf(where);
    // Without `fields` the answer carries every granted field: the purpose rule then looks at all
    // of them, as a whole-record read does, not only at the (perhaps public) search terms.
    const asked = requested(options.fields);
    const named = [...whereFields, ...(asked ?? [])];
    const at = (i: number) => (i < whereFields.length ? `where ${keyAt(i)}` : `fields[${i - whereFields.length}]`);
    let fields: Field[] = [];
    const limit = options.limit ?? 100;
    const op = {
      ctx,
      action: 'search' as const,
      collection: c,
      touched: asked ? [...whereFields, ...asked] : undefined,
      authorize: { plainOnly: whereFields, named, where: at },
      row: (grant: Grant) => {
        fields = visible(c, grant, options.fields);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)
          throw new WardError('invalid_request', `limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}`);
        return { recordIds: [], fields: [...new Set([...whereFields, ...fields.map((f) => f.name)])] };
      },
    };
    const { rows, grant } = await this.trail.operation(op, async (audit, grant) => ({
      rows: await this.trail.committing(1, () => records.searchRecords(this.db, c.name, this.searchTerms(c, where), limit, audit)),
      grant,
    }));
    return Promise.all(rows.map((r) => this.view(c, r, fields, grant, options.masked ?? false)));
  }

  /** The blind index of each `where` value, after the same checks as a write. */
  private searchTerms(c: Collection, where: unknown): Buffer[] {
    if (typeof where !== 'object' || where === null || Array.isArray(where) || Object.keys(where).length === 0)
      throw new WardError('invalid_request', 'where must be an object of field: value pairs');
    const issues: FieldIssue[] = [];
    const terms: Buffer[] = [];
    for (const [name, raw] of Object.entries(where)) {
      const f = c.fields.get(name);
      if (!f) throw new WardError('unknown_field', `where: not a field of collection ${c.name}`);
      if (!f.searchable) throw new WardError('not_searchable', `field ${name} of ${c.name} is not searchable (declare search: exact)`);
      const parsed = f.type.parse(raw);
      if (parsed.ok) terms.push(this.codec.indexValue(c, f, parsed.value));
      else issues.push({ field: name, reason: parsed.reason });
    }
    if (issues.length) throw validationError(issues);
    return terms;
  }

  /**
   * A page of a collection's live records as the de-identified view shows them (Safe Harbor, as
   * for a role with view: deidentified), for `ward deid refresh`; the caller audits. Through `q`.
   */
  async deidentifiedPage(c: Collection, after: string, limit: number, q: Queryable): Promise<{ views: RecordView[]; last?: string }> {
    const grant = deidentifiedGrant(c);
    const rows = await records.selectPage(q, c.name, after, limit);
    const fields = [...c.fields.values()].filter((f) => grant.has(f.name));
    const views = await Promise.all(rows.map((r) => this.view(c, r, fields, grant, false)));
    return { views, ...(rows.length ? { last: (rows.at(-1) as records.RecordRow).id } : {}) };
  }

  /** The fields a de-identified copy of `c` holds. */
  deidentifiedColumns(c: Collection): string[] {
    return [...deidentifiedGrant(c).keys()];
  }

  private async view(c: Collection, row: records.RecordRow, fields: Field[], grant: Grant, masked: boolean): Promise<RecordView> {
    const values = await this.codec.open(c, row, fields);
    const out: Record<string, FieldValue> = {};
    for (const f of fields) {
      const v = values.get(f.name);
      if (v === undefined) continue;
      const shown = show(grant.get(f.name), v);
      out[f.name] = masked && f.mask && shown === v ? applyMask(f.mask, v) : shown;
    }
    // A de-identified view shows dates as years (Safe Harbor), the record's own dates included, and
    // a keyed pseudonym for the id (a UUIDv7 carries the record's creation time to the millisecond).
    const when = grant.deidentified ? (d: Date) => applyMask('year', d.toISOString()) : (d: Date) => d.toISOString();
    return {
      id: grant.deidentified ? this.codec.pseudonym(c, row.id) : row.id,
      version: row.version,
      fields: out,
      createdAt: when(row.createdAt),
      updatedAt: when(row.updatedAt),
      expiresAt: row.expiresAt ? when(row.expiresAt) : null,
    };
  }
}

/** The fields a read returns: the requested ones (already authorized) or everything granted. */
function visible(c: Collection, grant: Grant, requested: readonly string[] | undefined): Field[] {
  return selectFields(c, requested).filter((f) => grant.has(f.name));
}

/** A value as a grant shows it: in full or through the role's mask. */
export function show(view: FieldView | undefined, v: FieldValue): FieldValue {
  return view?.kind === 'mask' ? applyMask(view.mask, v) : v;
}

function validateBatch(c: Collection, inputs: unknown[]): RecordValues[] {
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
  return all;
}

/**
 * The fields a read asks for; undefined for all of them. An empty list is refused: it would ask
 * for nothing, so need no purpose, and still return the record's id and dates.
 */
function requested(fields: readonly string[] | undefined): readonly string[] | undefined {
  if (fields?.length === 0) throw new WardError('invalid_request', 'fields must name at least one field');
  return fields;
}

export function checkId(id: string): string {
  if (!UUID.test(id)) throw new WardError('invalid_request', 'record id must be a UUID');
  return id.toLowerCase();
}

const notFound = (c: Collection) => new WardError('not_found', `no such record in collection ${c.name}`);
const expired = (c: Collection) =>
  new WardError('record_expired', `this record of ${c.name} has passed its retention period and is no longer served`);

/** The grant of a de-identified view of every field Safe Harbor lets through (see access/policy `deidentified`). */
export function deidentifiedGrant(c: Collection): Grant {
  const fields = new Map<string, FieldView>();
  for (const f of c.fields.values()) {
    const view = deidentified(f);
    if (view) fields.set(f.name, view);
  }
  return Object.assign(fields, { deidentified: true });
}
