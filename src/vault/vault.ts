/**
 * The vault service: the PHI operations the CLI and HTTP layers call. Each operation is
 * authorized against the caller's role and purpose, validated, and run as one transaction (a
 * single statement where it can be) that writes its audit event with it. Problems are reported
 * by field name and rule, never by value.
 */
import { operatorContext, type RequestContext } from '../access/actions.js';
import type { FieldView, Grant, Policy } from '../access/policy.js';
import type { ExportedCheckpoint } from '../audit/checkpoint.js';
import type { AuditLog, LastFull } from '../audit/log.js';
import type { SealResult } from '../audit/seal.js';
import type { SigningKeyInfo } from '../audit/signing.js';
import type { VerifyReport } from '../audit/verify.js';
import type { AuthLimits } from '../config/load.js';
import { constantTimeEqual, isTokenShaped, newRecordId } from '../crypto/derive.js';
import type { Keyring, KeyStatus } from '../crypto/keyring.js';
import { type FieldCrypto, fieldCrypto } from '../crypto/threads.js';
import { type FieldIssue, isWardError, WardError } from '../errors.js';
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
import { type AuditFilter, type DisclosureFilter, insertAudit, knownRecords, type StoredAuditEvent, selectAudit } from '../store/audit.js';
import { Coalescer } from '../store/coalesce.js';
import type { Db } from '../store/db.js';
import { loginReport } from '../store/logins.js';
import * as records from '../store/records.js';
import { type ApiKeyInfo, ApiKeys } from './apikeys.js';
import { Auditor, auditRow, record as recordAudit } from './audit.js';
import { Callers, type CreatedApiKey, type HttpCaller } from './callers.js';
import { RecordCodec } from './codec.js';
import { LoginGuard } from './logins.js';

export const MAX_BATCH = 1000;
export const MAX_SEARCH_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

/** The local operator: the CLI and in-process library callers, who hold the master key. */
const OPERATOR = operatorContext();

/** Names of a submitted object's keys, for the policy check (validation rejects the rest). */
const isObject = (input: unknown): input is Record<string, unknown> => typeof input === 'object' && input !== null && !Array.isArray(input);
const keysOf = (input: unknown): string[] => (isObject(input) ? Object.keys(input) : []);

export interface SearchOptions extends ReadOptions {
  /** At most this many records, ordered by id; default 100, at most 1000. */
  limit?: number;
}

interface LoginEntry {
  failures: number;
  lockouts: number;
  first: string;
  last: string;
}

/** `ward audit logins`: failures and lockouts by client address and by API key (`key:<prefix>`). */
export interface LoginReport {
  since: string | null;
  clients: (LoginEntry & { client: string })[];
  keys: (LoginEntry & { key: string })[];
}

/** A token found and granted: the record that holds it, its field, and how the role sees it. */
interface TokenHit {
  c: Collection;
  field: Field;
  recordId: string;
  grant: Grant;
}

export class Vault {
  readonly codec: RecordCodec;
  /** API keys: authentication (with a cache, once a server starts it) and their management. */
  readonly apiKeys: ApiKeys;
  /** Failed authentications counted, and lockouts shared across processes (a server starts it listening). */
  readonly logins: LoginGuard;
  private readonly auditor: Auditor;
  private readonly callers: Callers;
  /** Concurrent single reads and creates share statements (see store/coalesce). */
  private readonly reads: Coalescer<records.Read, records.RecordRow | undefined>;
  private readonly writes: Coalescer<records.Write, void>;

  constructor(
    readonly db: Db,
    readonly keyring: Keyring,
    readonly collections: ReadonlyMap<string, Collection>,
    readonly policy: Policy,
    readonly auditLog: AuditLog,
    /** Log-in monitoring: failed authentications before a lockout, and its length. */
    authLimits: AuthLimits,
    /** Where field crypto runs (see crypto/threads); default this thread. Closed with the vault. */
    crypto: FieldCrypto = fieldCrypto(),
  ) {
    this.codec = new RecordCodec(keyring, crypto);
    this.auditor = new Auditor(db, policy);
    this.apiKeys = new ApiKeys(db, policy);
    this.logins = new LoginGuard(db, authLimits);
    this.callers = new Callers(db, policy, this.auditor, this.apiKeys, this.logins);
    this.reads = new Coalescer(
      (r) => records.getRecord(db, r.collection, r.id, r.audit),
      (rs) => records.getRecords(db, rs),
    );
    this.writes = new Coalescer(
      (w) => records.insertRecord(db, w.collection, w.keyVersion, w.retentionDays, w.record, w.audit),
      async (ws) => {
        await records.insertEach(db, ws);
        return ws.map(() => undefined);
      },
    );
  }

  /** Who an HTTP request is and why it asks (see vault/callers). */
  authenticate(req: HttpCaller, keys: ApiKeys = this.apiKeys): Promise<RequestContext> {
    return this.callers.authenticate(req, keys);
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
    ctx: RequestContext = OPERATOR,
  ): Promise<{ id: string; version: number; tokens: Record<string, string> }> {
    const c = this.collection(collection);
    const touched = keysOf(input);
    await this.auditor.authorize(ctx, 'create', c, touched);
    const id = newRecordId();
    const row = auditRow(
      ctx,
      'create',
      c.name,
      [id],
      touched.filter((f) => c.fields.has(f)),
    );
    return this.auditor.run(row, async (audit) => {
      const { values } = validateRecord(c, input);
      const key = await this.keyring.activeDataKey(c.name);
      const stored = await this.codec.encode(c, id, values, key);
      const record = { id, ...stored };
      await this.writes.run({ collection: c.name, keyVersion: key.version, retentionDays: c.retentionDays, record, audit });
      return { id, version: 1, tokens: stored.tokens };
    });
  }

  /** Creates all records or none; a bad record is named by its position. */
  async createMany(collection: string, inputs: unknown, ctx: RequestContext = OPERATOR): Promise<{ ids: string[] }> {
    const c = this.collection(collection);
    if (!Array.isArray(inputs) || inputs.length === 0)
      throw new WardError('invalid_request', 'records must be a non-empty array of records');
    if (inputs.length > MAX_BATCH) throw new WardError('invalid_request', `a batch holds at most ${MAX_BATCH} records`);
    // Each key once, with where it first appears: an undeclared one is located by it, never quoted.
    const first = new Map<string, string>();
    for (const [r, input] of inputs.entries())
      for (const [k, key] of keysOf(input).entries()) if (!first.has(key)) first.set(key, `records[${r}] ${keyAt(k)}`);
    const touched = [...first.keys()];
    await this.auditor.authorize(ctx, 'create', c, touched, { where: (i) => first.get(touched[i] as string) as string });
    const ids = inputs.map(() => newRecordId());
    const row = auditRow(
      ctx,
      'create',
      c.name,
      ids,
      touched.filter((f) => c.fields.has(f)),
    );
    return this.auditor.run(row, async (audit) => {
      const all = validateBatch(c, inputs);
      const key = await this.keyring.activeDataKey(c.name);
      const rows = await Promise.all(
        all.map(async (values, i) => ({ id: ids[i] as string, ...(await this.codec.encode(c, ids[i] as string, values, key)) })),
      );
      await records.insertRecords(this.db, c.name, key.version, c.retentionDays, rows, audit);
      return { ids };
    });
  }

  async get(collection: string, id: string, options: ReadOptions = {}, ctx: RequestContext = OPERATOR): Promise<RecordView> {
    const c = this.collection(collection);
    const grant = await this.auditor.authorize(ctx, 'read', c, requested(options.fields), { where: (i) => `fields[${i}]` });
    const fields = visible(c, grant, options.fields);
    const rid = checkId(id);
    const row = auditRow(
      ctx,
      'read',
      c.name,
      [rid],
      fields.map((f) => f.name),
    );
    const found = await this.auditor.run(row, (audit) => this.reads.run({ collection: c.name, id: rid, audit }));
    if (!found) throw notFound(c);
    return this.view(c, found, fields, grant, options.masked ?? false);
  }

  /** Changes the given fields (null removes one); all fields are re-sealed under the active key. */
  async update(collection: string, id: string, patch: unknown, ctx: RequestContext = OPERATOR): Promise<{ id: string; version: number }> {
    const c = this.collection(collection);
    const touched = keysOf(patch);
    // An empty patch would need no purpose, yet rewrite the record and tell whether it exists.
    if (isObject(patch) && touched.length === 0) throw new WardError('invalid_request', 'an update must name at least one field');
    await this.auditor.authorize(ctx, 'update', c, touched);
    const rid = checkId(id);
    const row = auditRow(
      ctx,
      'update',
      c.name,
      [rid],
      touched.filter((f) => c.fields.has(f)),
    );
    return this.auditor.run(row, async (audit) => {
      const key = await this.keyring.activeDataKey(c.name);
      return this.db.transaction(async (tx) => {
        const current = await records.lockRecord(tx, c.name, rid);
        // A record that is not there is not_found before the patch is judged: its id, only what
        // the caller sent, is then not kept in the audit row (see Auditor.run).
        if (!current) throw notFound(c);
        const { values: changes, removed } = validateRecord(c, patch, 'partial');
        const values = await this.codec.open(c, current, [...c.fields.values()], tx);
        for (const name of removed) values.delete(name);
        for (const [name, v] of changes) values.set(name, v);
        const missing = missingRequired(c, values);
        if (missing.length) throw validationError(missing);
        const stored = await this.codec.encode(c, current.id, values, key, current.tokens);
        const version = await records.updateRecord(tx, c.name, current.id, key.version, stored, current.tokens);
        await insertAudit(tx, audit);
        return { id: current.id, version };
      });
    });
  }

  async delete(collection: string, id: string, ctx: RequestContext = OPERATOR): Promise<void> {
    const c = this.collection(collection);
    await this.auditor.authorize(ctx, 'delete', c);
    const rid = checkId(id);
    const row = auditRow(ctx, 'delete', c.name, [rid], []);
    if (!(await this.auditor.run(row, (audit) => records.deleteRecord(this.db, c.name, rid, audit)))) throw notFound(c);
  }

  /** Equality search on searchable fields, through their blind indexes. */
  async search(collection: string, where: unknown, options: SearchOptions = {}, ctx: RequestContext = OPERATOR): Promise<RecordView[]> {
    const c = this.collection(collection);
    const whereFields = keysOf(where);
    // Without `fields` the answer carries every granted field: the purpose rule then looks at all
    // of them, as a whole-record read does, not only at the (perhaps public) search terms.
    const asked = requested(options.fields);
    const touched = asked ? [...whereFields, ...asked] : undefined;
    const named = [...whereFields, ...(asked ?? [])];
    const at = (i: number) => (i < whereFields.length ? `where ${keyAt(i)}` : `fields[${i - whereFields.length}]`);
    const grant = await this.auditor.authorize(ctx, 'search', c, touched, { plainOnly: whereFields, named, where: at });
    const fields = visible(c, grant, options.fields);
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)
      throw new WardError('invalid_request', `limit must be an integer from 1 to ${MAX_SEARCH_LIMIT}`);
    const names = [...new Set([...whereFields, ...fields.map((f) => f.name)])].filter((f) => c.fields.has(f));
    const row = auditRow(ctx, 'search', c.name, [], names);
    const rows = await this.auditor.run(row, (audit) => records.searchRecords(this.db, c.name, this.searchTerms(c, where), limit, audit));
    return Promise.all(rows.map((r) => this.view(c, r, fields, grant, options.masked ?? false)));
  }

  /** The deterministic token a value would get, for joins across systems without PHI. */
  tokenize(collection: string, field: string, value: unknown): string {
    const c = this.collection(collection);
    const f = c.fields.get(field);
    if (f?.token !== 'deterministic')
      throw new WardError(
        'invalid_request',
        `${f ? `field ${field}` : 'the field named'} of ${c.name} has no deterministic token${f ? '' : ' (it is not a field of the collection)'}`,
      );
    const parsed = f.type.parse(value);
    if (!parsed.ok) throw validationError([{ field, reason: parsed.reason }]);
    return this.codec.deterministicToken(c, f, parsed.value);
  }

  /** Current values behind tokens; an unknown, malformed or forbidden token fails the whole call. */
  async detokenize(tokens: unknown, ctx: RequestContext = OPERATOR): Promise<Record<string, FieldValue>> {
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > MAX_BATCH)
      throw new WardError('invalid_request', `tokens must be an array of 1 to ${MAX_BATCH} tokens`);
    const bad = tokens.flatMap((t, i) => (isTokenShaped(t) ? [] : [`tokens[${i}]`]));
    if (bad.length) throw new WardError('invalid_token', `not a Ward token: ${bad.join(', ')}`);
    // The role and its purpose are judged before any token is looked up: the answer must not
    // depend on whether a token (a person's, for deterministic ones) is in the vault.
    const refusal = this.policy.refusal(ctx, 'detokenize');
    if (refusal) {
      await recordAudit(this.db, auditRow(ctx, 'detokenize', null, [], [], 'denied', refusal.code));
      throw refusal;
    }
    // One index probe per token, reading nothing of any record, however many hold it.
    const holders = await records.tokenHolders(this.db, tokens as string[]);
    const hits = holders.map((h) => h && this.tokenGrant(ctx, h));
    const missing = hits.flatMap((h, i) => (h ? [] : [`tokens[${i}]`]));
    if (missing.length) {
      // A token of a field the role may not see answers as an unknown one, at the same cost: one
      // audit row either way (which records the real reason).
      const refused = holders.filter((h, i): h is records.TokenHolder => !!h && !hits[i]);
      const fields = [...new Set(refused.map((h) => h.field))];
      const row = refused.length
        ? auditRow(ctx, 'detokenize', refused[0]?.collection ?? null, [], fields, 'denied', 'forbidden')
        : auditRow(ctx, 'detokenize', null, [], [], 'not_found', 'invalid_token');
      await recordAudit(this.db, row);
      throw new WardError('invalid_token', `unknown token: ${missing.join(', ')}`);
    }
    const found = hits as TokenHit[];
    // One audit row per collection, written before any value leaves the vault.
    for (const c of new Set(found.map((h) => h.c))) {
      const mine = found.filter((h) => h.c === c);
      const row = auditRow(
        ctx,
        'detokenize',
        c.name,
        [...new Set(mine.map((h) => h.recordId))],
        [...new Set(mine.map((h) => h.field.name))],
      );
      await this.auditor.run(row, (a) => insertAudit(this.db, a));
    }
    const rows = new Map((await records.selectByIds(this.db, [...new Set(found.map((h) => h.recordId))])).map((r) => [r.id, r]));
    const out: Record<string, FieldValue> = {};
    for (const [i, h] of found.entries()) {
      const row = rows.get(h.recordId);
      // Deleted, or its value (and so its token) changed, between the lookup and the read: as
      // unknown as any other token, never the record's new value.
      const held = row?.tokens[h.field.name];
      const same = held !== undefined && constantTimeEqual(Buffer.from(held), Buffer.from(tokens[i] as string));
      const value = same && row ? (await this.codec.open(h.c, row, [h.field])).get(h.field.name) : undefined;
      if (value === undefined) throw new WardError('invalid_token', `unknown token: tokens[${i}]`);
      out[tokens[i] as string] = show(h.grant.get(h.field.name), value);
    }
    return out;
  }

  /** Audit events, oldest first; for roles with `audit: true` and the operator. Reading is audited too. */
  auditEvents(filter: AuditFilter, ctx: RequestContext = OPERATOR): Promise<StoredAuditEvent[]> {
    return this.auditRead(ctx, 'audit.read', filter.recordId ? [filter.recordId] : [], () => selectAudit(this.db, filter));
  }

  /**
   * The accounting of disclosures of one record (45 CFR 164.528): who touched its PHI, when,
   * which fields, why, and with what outcome. For audit roles and the operator.
   */
  disclosures(recordId: string, filter: DisclosureFilter, ctx: RequestContext = OPERATOR): Promise<StoredAuditEvent[]> {
    const rid = checkId(recordId);
    return this.auditRead(ctx, 'audit.disclosures', [rid], () => selectAudit(this.db, { ...filter, recordId: rid, phiOnly: true }));
  }

  /** Failed authentications and lockouts since `since`, by client address and by API key (log-in monitoring). */
  loginReport(since: Date | undefined, ctx: RequestContext = OPERATOR): Promise<LoginReport> {
    return this.auditRead(ctx, 'audit.logins', [], async () => {
      const rows = await loginReport(this.db, since ?? null);
      const entry = (r: (typeof rows)[number]) => ({
        failures: r.failures,
        lockouts: r.lockouts,
        first: r.first.toISOString(),
        last: r.last.toISOString(),
      });
      return {
        since: since?.toISOString() ?? null,
        clients: rows.filter((r) => r.by === 'client').map((r) => ({ client: r.subject, ...entry(r) })),
        keys: rows.filter((r) => r.by === 'key').map((r) => ({ key: r.subject, ...entry(r) })),
      };
    });
  }

  /** Recomputes the sealed log and checks every checkpoint (and, given one, an exported checkpoint). */
  verifyAudit(since?: ExportedCheckpoint, ctx: RequestContext = OPERATOR): Promise<VerifyReport> {
    return this.auditRead(ctx, 'audit.verify', [], () => this.auditLog.verify(since));
  }

  /**
   * An incremental verification (from where a sound one ended, a bounded stretch at a time), with
   * the newest full one: `ok` only when both are, so a failure a full verification found stands
   * until a later full verification passes.
   */
  verifyAuditIncremental(ctx: RequestContext = OPERATOR): Promise<VerifyReport & { lastFull: LastFull | null }> {
    return this.auditRead(ctx, 'audit.verify', [], async () => {
      const [report, lastFull] = await Promise.all([this.auditLog.verifyIncremental(), this.auditLog.lastFull()]);
      if (report.ok && lastFull && !lastFull.ok)
        return {
          ...report,
          ok: false,
          lastFull,
          problem: {
            kind: 'full_verification_failed' as const,
            seq: null,
            treeSize: null,
            message: `the last full verification (${lastFull.at}) found a problem; ward audit verify names it`,
          },
        };
      return { ...report, lastFull: lastFull ?? null };
    });
  }

  /** The newest signed checkpoint, for an auditor to keep. */
  auditCheckpoint(ctx: RequestContext = OPERATOR): Promise<ExportedCheckpoint | undefined> {
    return this.auditRead(ctx, 'audit.checkpoint', [], () => this.auditLog.checkpoint());
  }

  /** Runs a read of the audit trail for an audit role, auditing the read (or its denial). */
  private async auditRead<T>(ctx: RequestContext, action: string, asked: string[], read: () => Promise<T>): Promise<T> {
    // A record id goes into the row only if it names a record Ward created: else it is only what the caller sent.
    const recordIds = asked.length ? await knownRecords(this.db, asked) : [];
    if (!this.policy.canReadAudit(ctx)) {
      await recordAudit(this.db, auditRow(ctx, action, null, recordIds, [], 'denied', 'forbidden'));
      throw new WardError('forbidden', `role ${ctx.principal.role} may not read the audit trail`);
    }
    const out = await read();
    await recordAudit(this.db, auditRow(ctx, action, null, recordIds, []));
    return out;
  }

  /** Each collection's data key versions and the records each protects; the audit signing keys' public halves. */
  async keyStatus(): Promise<{ collections: KeyStatus[]; auditSigning: SigningKeyInfo[] }> {
    return { collections: await this.keyring.status(), auditSigning: this.auditLog.keys.list() };
  }

  /** Adds a data key version to a collection; new writes use it. Returns the new version. */
  rotateKey(collection: string): Promise<number> {
    return this.keyring.rotate(this.collection(collection).name);
  }

  /** Adds a version of the key that signs audit checkpoints. */
  rotateAuditSigningKey(): Promise<number> {
    return this.auditLog.keys.rotate();
  }

  /** Seals new audit events now; `waitMs` waits that long for open transactions to finish. */
  sealAudit(waitMs = 0): Promise<SealResult> {
    return this.auditLog.seal(waitMs);
  }

  /** Creates an API key for a role (operator and admin roles); the key itself is returned only here. */
  createApiKey(role: string, name: string, lifetimeMs?: number, ctx: RequestContext = OPERATOR): Promise<CreatedApiKey> {
    return this.callers.createKey(role, name, lifetimeMs, ctx);
  }

  /** Every API key (never a secret), for the operator and admin roles. */
  listApiKeys(ctx: RequestContext = OPERATOR): Promise<ApiKeyInfo[]> {
    return this.callers.listKeys(ctx);
  }

  /** Revokes an API key by id (or, for the operator, its prefix); effective on its next request. */
  revokeApiKey(idOrPrefix: string, ctx: RequestContext = OPERATOR): Promise<void> {
    return this.callers.revokeKey(idOrPrefix, ctx);
  }

  async close(): Promise<void> {
    await this.logins.close();
    await this.apiKeys.close();
    await this.codec.crypto.close();
    await this.db.close();
  }

  /** A token's field, if the caller may detokenize it for the purpose it stated. */
  private tokenGrant(ctx: RequestContext, h: records.TokenHolder): TokenHit | undefined {
    const c = this.collections.get(h.collection);
    const field = c?.fields.get(h.field);
    if (!c || !field) return undefined;
    try {
      return { c, field, recordId: h.recordId, grant: this.policy.authorize(ctx, 'detokenize', c, [field.name]) };
    } catch (e) {
      if (isWardError(e)) return undefined;
      throw e;
    }
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
function show(view: FieldView | undefined, v: FieldValue): FieldValue {
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

function checkId(id: string): string {
  if (!UUID.test(id)) throw new WardError('invalid_request', 'record id must be a UUID');
  return id.toLowerCase();
}

const notFound = (c: Collection) => new WardError('not_found', `no such record in collection ${c.name}`);
