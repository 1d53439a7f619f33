/**
 * SQL for records. Each operation is one statement whose data-modifying CTEs also write the
 * rows of unique fields, the audit event and the change events (outbox rows): atomic,
 * fail-closed on the audit write, and one round trip. No business rules here: the caller
 * decides every row written, including the audit row for a record that turns out missing.
 */
import { AUDIT_COLUMNS, AUDIT_PARAMS, AUDIT_PARAMS_IF_MISSING, type AuditRow, auditInsert, auditParams, goneTest, LIVE } from './audit.js';
import { asBuffer, type Queryable, type Statement, statement } from './db.js';
import { type OutboxRow, outboxInsert, outboxParam } from './events.js';

/** A blind index of a `unique` field, enforced by ward_unique's primary key. */
export interface UniqueEntry {
  field: string;
  value: Buffer;
}

export interface StoredRecord {
  public: Record<string, unknown>;
  /** field → base64 AES-GCM envelope */
  sealed: Record<string, string>;
  /** field → token */
  tokens: Record<string, string>;
  /** blind indexes of searchable fields (tokens are kept in ward_tokens) */
  lookup: Buffer[];
  unique: UniqueEntry[];
  /** The subject's MAC and the id of the subject key that sealed it (see vault/subjects). */
  subject?: Buffer;
  subjectKey?: Buffer;
}

export interface NewRecord extends StoredRecord {
  id: string;
}

export interface RecordRow {
  id: string;
  collection: string;
  version: number;
  keyVersion: number;
  public: Record<string, unknown>;
  sealed: Record<string, string>;
  tokens: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date | null;
  subject: Buffer | null;
  subjectKey: Buffer | null;
}

const COLUMNS = 'id, collection, version, key_version, public, sealed, tokens, created_at, updated_at, expires_at, subject, subject_key';

function toRecordRow(r: Record<string, unknown>): RecordRow {
  return {
    id: r.id as string,
    collection: r.collection as string,
    version: r.version as number,
    keyVersion: r.key_version as number,
    public: r.public as Record<string, unknown>,
    sealed: r.sealed as Record<string, string>,
    tokens: r.tokens as Record<string, string>,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    expiresAt: (r.expires_at as Date | null) ?? null,
    subject: r.subject ? asBuffer(r.subject) : null,
    subjectKey: r.subject_key ? asBuffer(r.subject_key) : null,
  };
}

const hex = (b: Buffer) => b.toString('hex');

/** Below every record id: where a pass over records in id order starts. */
export const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/**
 * A statement deleting the ward_tokens rows of the record(s) `r` (id, tokens): found through the
 * primary key (token, record id), from the tokens the record holds; no other index is kept.
 */
const TOKENS_GONE = `DELETE FROM ward_tokens w USING r, json_each_text(r.tokens) AS k
    WHERE w.record_id = r.id AND w.token = convert_to(k.value, 'UTF8')`;
/** A CTE body writing the tokens of the records CTE `r` (id, collection, tokens) to ward_tokens. */
export const TOKENS_OF = (r: string) => `INSERT INTO ward_tokens (token, record_id, collection, field)
    SELECT convert_to(k.value, 'UTF8'), ${r}.id, ${r}.collection, k.key FROM ${r}, json_each_text(${r}.tokens) AS k`;
const INSERT_SQL = `INSERT INTO ward_records (id, collection, key_version, public, sealed, tokens, lookup, expires_at, subject, subject_key)
  VALUES ($1, $2, $3, $4::jsonb, $5::json, $6::json, $7::bytea[], now() + make_interval(days => $8::int), $9::bytea, $10::bytea)
  RETURNING id, collection, tokens`;
/** The CTE writing the outbox rows of parameter `$p`, when the statement carries events. */
const eventsCte = (events: boolean, p: number) => (events ? `, o AS (${outboxInsert(p)})` : '');
/** Statements in variants (with unique entries, with events), each prepared under its own name. */
function variants(name: string, make: (unique: boolean, events: boolean) => string): (unique: boolean, events: boolean) => Statement {
  const made = new Map<string, Statement>();
  return (unique, events) => {
    const key = `${unique ? '_unique' : ''}${events ? '_events' : ''}`;
    let st = made.get(key);
    if (!st) {
      st = statement(`${name}${key}`, make(unique, events));
      made.set(key, st);
    }
    return st;
  };
}
/** One record: $1-$10 the record, then the audit row, its unique entries (if any), its events (if any). */
const INSERT = variants('ward_insert_record', (unique, events) => {
  const u = 11 + AUDIT_PARAMS;
  const uniqueInsert = `INSERT INTO ward_unique (collection, field, value, record_id)
   SELECT $2, u.field, u.value, r.id FROM r, unnest($${u}::text[], $${u + 1}::bytea[]) AS u(field, value)`;
  return `WITH r AS (${INSERT_SQL}), t AS (${TOKENS_OF('r')}), a AS (${auditInsert(11)})${eventsCte(events, unique ? u + 2 : u)}
   ${unique ? uniqueInsert : 'SELECT 1'}`;
});
/**
 * Inserts the records of JSON recordset $1 (each with its collection, key version and retention)
 * and the unique entries of recordset $2, with the audit insert `audit`; `before` and `after` add CTEs.
 */
const insertRecordset = (audit: string, before = '', after = '') => `WITH ${before}r AS (
    INSERT INTO ward_records (id, collection, key_version, public, sealed, tokens, lookup, expires_at, subject, subject_key)
    SELECT n.id, n.collection, n.key_version, n.public, n.sealed, n.tokens,
           ARRAY(SELECT decode(h, 'hex') FROM jsonb_array_elements_text(n.lookup) AS h),
           now() + make_interval(days => n.retention), decode(n.subject, 'hex'), decode(n.subject_key, 'hex')
    FROM jsonb_to_recordset($1::jsonb) AS n(id uuid, collection text, key_version int, public jsonb, sealed json, tokens json,
                                           lookup jsonb, retention int, subject text, subject_key text)
    RETURNING id, collection, tokens
  ), t AS (${TOKENS_OF('r')}), a AS (${audit})${after}
  INSERT INTO ward_unique (collection, field, value, record_id)
  SELECT u.collection, u.field, decode(u.value, 'hex'), u.record_id
  FROM jsonb_to_recordset($2::jsonb) AS u(record_id uuid, collection text, field text, value text)`;
/** A batch of one collection's records with the batch's one audit event (from $3), and its events. */
const INSERT_MANY = variants('ward_insert_records', (_u, events) =>
  insertRecordset(auditInsert(3), '', eventsCte(events, 3 + AUDIT_PARAMS)),
);
const SELECT_SQL = `SELECT ${COLUMNS} FROM ward_records WHERE id = $1 AND collection = $2`;
/** A read and its audit row: the row the caller chose for a missing record when there is none. */
const GET = statement(
  'ward_get_record',
  `WITH r AS (${SELECT_SQL} AND ${LIVE()}),
   a AS (${auditInsert(3, { ifMissingOf: 'r', gone: { test: goneTest('$1::uuid', '$2::text'), id: '$1::uuid' } })}) SELECT * FROM r`,
);
/**
 * Statements for several single-record operations at once (see util/coalesce): the operations'
 * audit rows arrive as parallel arrays, one element per operation (its fields, and its record
 * ids when the record is missing, as JSON arrays), and are written in that order. `q.ord` is an
 * operation's 1-based position.
 */
const AUDIT_EACH = (from: number, n = AUDIT_PARAMS) =>
  `SELECT * FROM unnest(${Array.from({ length: n }, (_, i) => `$${from + i}::${i === 0 ? 'uuid' : 'text'}[]`).join(', ')})
       WITH ORDINALITY AS q(id, collection, actor, role, action, fields, purpose, outcome, reason, request_id, client, ${
         n > AUDIT_PARAMS ? 'missing_outcome, missing_ids, ' : ''
       }ord)`;
/** The audit insert for rows of AUDIT_EACH `q`; `outcome` and `ids` may override each row's outcome and record ids. */
const auditEachInsert = (from: string, outcome = 'q.outcome', ids = 'ARRAY[q.id]') => `INSERT INTO ward_audit_events (${AUDIT_COLUMNS})
     SELECT q.actor, q.role, q.action, q.collection, ${ids}, ARRAY(SELECT jsonb_array_elements_text(q.fields::jsonb)),
            q.purpose, ${outcome}, q.reason, q.request_id, q.client
     FROM ${from} ORDER BY q.ord`;
/** Several reads by id; each found row comes back with its read's `ord`. */
const GET_MANY = statement(
  'ward_get_records',
  `WITH q AS (${AUDIT_EACH(1, AUDIT_PARAMS_IF_MISSING)}),
   r AS (SELECT q.ord, ${COLUMNS.split(', ')
     .map((c) => `w.${c}`)
     .join(', ')} FROM q JOIN ward_records w ON w.id = q.id AND w.collection = q.collection AND ${LIVE('w')}),
   a AS (${auditEachInsert(
     'q LEFT JOIN (SELECT ord FROM r) AS f ON f.ord = q.ord',
     `CASE WHEN f.ord IS NOT NULL THEN q.outcome WHEN ${goneTest('q.id', 'q.collection')} THEN 'expired' ELSE q.missing_outcome END`,
     `CASE WHEN f.ord IS NOT NULL OR ${goneTest('q.id', 'q.collection')} THEN ARRAY[q.id]
           ELSE ARRAY(SELECT jsonb_array_elements_text(q.missing_ids::jsonb))::uuid[] END`,
   )})
   SELECT * FROM r`,
);
/** Several creates (see insertEach): $1 the records, $2 their unique entries, then audit arrays, then events. */
const INSERT_EACH = variants('ward_insert_each', (_u, events) =>
  insertRecordset(auditEachInsert('q'), `q AS (${AUDIT_EACH(3)}),\n  `, eventsCte(events, 3 + AUDIT_PARAMS)),
);
const SELECT_FOR_UPDATE = statement(
  'ward_select_record_lock',
  `SELECT ${COLUMNS}, NOT ${LIVE()} AS expired FROM ward_records WHERE id = $1 AND collection = $2 FOR UPDATE`,
);
/** A search and its audit row, which lists the records disclosed. */
const SEARCH = statement(
  'ward_search',
  `WITH r AS (SELECT ${COLUMNS} FROM ward_records WHERE collection = $1 AND lookup @> $2::bytea[] AND ${LIVE()} ORDER BY id LIMIT $3),
   a AS (${auditInsert(4, { disclosedBy: 'r' })})
   SELECT * FROM r ORDER BY id`,
);
/** For each token (by its 1-based position `ord`), one record that holds it, through ward_tokens' primary key. */
const TOKEN_HOLDERS = statement(
  'ward_token_holders',
  `SELECT t.ord, h.record_id::text AS record_id, h.collection, h.field FROM unnest($1::bytea[]) WITH ORDINALITY AS t(token, ord)
   CROSS JOIN LATERAL (SELECT k.record_id, k.collection, k.field FROM ward_tokens k JOIN ward_records w ON w.id = k.record_id
                       WHERE k.token = t.token AND ${LIVE('w')} LIMIT 1) AS h`,
);
const BY_IDS = statement('ward_records_by_ids', `SELECT ${COLUMNS} FROM ward_records WHERE id = ANY($1::uuid[]) AND ${LIVE()}`);
/** A delete, its audit row (the caller's row for a missing record when there is none) and, given, its events. */
const DELETE = variants(
  'ward_delete_record',
  (_u, events) => `WITH r AS (DELETE FROM ward_records WHERE id = $1 AND collection = $2 AND ${LIVE()} RETURNING id, tokens),
   u AS (DELETE FROM ward_unique WHERE record_id IN (SELECT id FROM r)),
   t AS (${TOKENS_GONE}),
   a AS (${auditInsert(3, { ifMissingOf: 'r', gone: { test: goneTest('$1::uuid', '$2::text'), id: '$1::uuid' } })})${eventsCte(events, 3 + AUDIT_PARAMS_IF_MISSING)}
   SELECT count(*)::int AS n FROM r`,
);

/** Inserts one record, its unique entries and its audit event in one statement. */
export async function insertRecord(
  q: Queryable,
  collection: string,
  keyVersion: number,
  retentionDays: number | undefined,
  r: NewRecord,
  audit: AuditRow,
  events: readonly OutboxRow[] = [],
): Promise<void> {
  const params: unknown[] = [
    r.id,
    collection,
    keyVersion,
    JSON.stringify(r.public),
    JSON.stringify(r.sealed),
    JSON.stringify(r.tokens),
    r.lookup,
    retentionDays ?? null,
    r.subject ?? null,
    r.subjectKey ?? null,
    ...auditParams(audit),
  ];
  const unique = r.unique.length > 0;
  if (unique)
    params.push(
      r.unique.map((u) => u.field),
      r.unique.map((u) => u.value),
    );
  if (events.length) params.push(outboxParam(events));
  await q.query(INSERT(unique, events.length > 0), params);
}

/** New records as the JSON recordsets $1 (records) and $2 (unique entries) of insertRecordset. */
function recordsets(writes: readonly Omit<Write, 'audit' | 'events'>[]): [string, string] {
  const records = writes.map((w) => ({
    id: w.record.id,
    collection: w.collection,
    key_version: w.keyVersion,
    public: w.record.public,
    sealed: w.record.sealed,
    tokens: w.record.tokens,
    lookup: w.record.lookup.map(hex),
    retention: w.retentionDays ?? null,
    subject: w.record.subject ? hex(w.record.subject) : null,
    subject_key: w.record.subjectKey ? hex(w.record.subjectKey) : null,
  }));
  const unique = writes.flatMap((w) =>
    w.record.unique.map((u) => ({ record_id: w.record.id, collection: w.collection, field: u.field, value: hex(u.value) })),
  );
  return [JSON.stringify(records), JSON.stringify(unique)];
}

/** Inserts many records with one audit event in one statement: all of them or, on any error, none. */
export async function insertRecords(
  q: Queryable,
  collection: string,
  keyVersion: number,
  retentionDays: number | undefined,
  records: NewRecord[],
  audit: AuditRow,
  events: readonly OutboxRow[] = [],
): Promise<void> {
  const rows = records.map((record) => ({ collection, keyVersion, retentionDays, record }));
  const params = [...recordsets(rows), ...auditParams(audit)];
  if (events.length) params.push(outboxParam(events));
  await q.query(INSERT_MANY(false, events.length > 0), params);
}

/** Reads a record and writes its audit event (outcome not_found when it is missing). */
export async function getRecord(q: Queryable, collection: string, id: string, audit: AuditRow): Promise<RecordRow | undefined> {
  const [row] = await q.query(GET, [id, collection, ...auditParams(audit, true)]);
  return row && toRecordRow(row);
}

/** One read by id and the audit row that records it. */
export interface Read {
  collection: string;
  id: string;
  audit: AuditRow;
}

/** One new record, the audit row that records its creation, and its change events. */
export interface Write {
  collection: string;
  keyVersion: number;
  retentionDays: number | undefined;
  record: NewRecord;
  audit: AuditRow;
  events: readonly OutboxRow[];
}

/** The audit rows of several single-record operations as GET_MANY and INSERT_EACH take them. */
function auditArrays(ops: readonly { id: string; collection: string; audit: AuditRow }[], ifMissing = false): unknown[][] {
  const column = <T>(f: (o: { id: string; collection: string; audit: AuditRow }) => T) => ops.map(f);
  return [
    column((o) => o.id),
    column((o) => o.collection),
    column((o) => o.audit.actor),
    column((o) => o.audit.role),
    column((o) => o.audit.action),
    column((o) => JSON.stringify(o.audit.fields)),
    column((o) => o.audit.purpose),
    column((o) => o.audit.outcome),
    column((o) => o.audit.reason),
    column((o) => o.audit.requestId),
    column((o) => o.audit.client),
    ...(ifMissing
      ? [
          column((o) => o.audit.ifMissing?.outcome ?? o.audit.outcome),
          column((o) => JSON.stringify(o.audit.ifMissing?.recordIds ?? o.audit.recordIds)),
        ]
      : []),
  ];
}

/** Several reads in one statement (see GET_MANY); the result has one entry per read, in order. */
export async function getRecords(q: Queryable, reads: readonly Read[]): Promise<(RecordRow | undefined)[]> {
  const rows = await q.query(GET_MANY, auditArrays(reads, true));
  const out: (RecordRow | undefined)[] = new Array(reads.length).fill(undefined);
  for (const row of rows) out[Number(row.ord) - 1] = toRecordRow(row);
  return out;
}

/**
 * Several independent creates in one statement, each record with its unique entries and its
 * own audit row: all of them or, on any error, none.
 */
export async function insertEach(q: Queryable, writes: readonly Write[]): Promise<void> {
  const events = writes.flatMap((w) => w.events);
  const params: unknown[] = [
    ...recordsets(writes),
    ...auditArrays(writes.map((w) => ({ id: w.record.id, collection: w.collection, audit: w.audit }))),
  ];
  if (events.length) params.push(outboxParam(events));
  await q.query(INSERT_EACH(false, events.length > 0), params);
}

/** Reads and locks a record inside the caller's transaction (no audit: the caller writes it). */
/** A record locked for the caller's transaction, and whether it is past its expiry (by the database's clock). */
export async function lockRecord(q: Queryable, collection: string, id: string): Promise<(RecordRow & { expired: boolean }) | undefined> {
  const [row] = await q.query(SELECT_FOR_UPDATE, [id, collection]);
  return row && { ...toRecordRow(row), expired: row.expired === true };
}

/** Rewrites a record locked by the caller's transaction; returns its new version. */
export async function updateRecord(
  q: Queryable,
  collection: string,
  id: string,
  keyVersion: number,
  r: StoredRecord,
  /** The tokens the record held until now (their ward_tokens rows are replaced). */
  held: Record<string, string>,
): Promise<number> {
  const [row] = await q.query<{ version: number }>(
    `UPDATE ward_records SET version = version + 1, key_version = $3, public = $4::jsonb, sealed = $5::json,
       tokens = $6::json, lookup = $7::bytea[], updated_at = now(), subject = $8::bytea, subject_key = $9::bytea
     WHERE id = $1 AND collection = $2 RETURNING version`,
    [
      id,
      collection,
      keyVersion,
      JSON.stringify(r.public),
      JSON.stringify(r.sealed),
      JSON.stringify(r.tokens),
      r.lookup,
      r.subject ?? null,
      r.subjectKey ?? null,
    ],
  );
  // Unique entries and tokens are replaced in their own statements: within one, the insert's
  // uniqueness check would still see the rows the delete removes.
  await q.query('DELETE FROM ward_unique WHERE record_id = $1', [id]);
  await q.query(`WITH r AS (SELECT $1::uuid AS id, $2::json AS tokens) ${TOKENS_GONE}`, [id, JSON.stringify(held)]);
  await q.query(
    `INSERT INTO ward_tokens (token, record_id, collection, field) SELECT convert_to(k.value, 'UTF8'), $1, $2, k.key FROM json_each_text($3::json) AS k`,
    [id, collection, JSON.stringify(r.tokens)],
  );
  if (r.unique.length)
    await q.query(
      'INSERT INTO ward_unique (collection, field, value, record_id) SELECT $1, f, v, $2 FROM unnest($3::text[], $4::bytea[]) AS u(f, v)',
      [collection, id, r.unique.map((u) => u.field), r.unique.map((u) => u.value)],
    );
  return row?.version ?? 0;
}

/** Deletes a record with its unique entries and writes its audit event and change events; false when missing. */
export async function deleteRecord(
  q: Queryable,
  collection: string,
  id: string,
  audit: AuditRow,
  events: readonly OutboxRow[] = [],
): Promise<boolean> {
  const params = [id, collection, ...auditParams(audit, true)];
  if (events.length) params.push(outboxParam(events));
  const [row] = await q.query<{ n: number }>(DELETE(false, events.length > 0), params);
  return (row?.n ?? 0) > 0;
}

/** Records whose lookup values include every one given (AND of equalities), audited. */
export async function searchRecords(
  q: Queryable,
  collection: string,
  values: Buffer[],
  limit: number,
  audit: AuditRow,
): Promise<RecordRow[]> {
  const rows = await q.query(SEARCH, [collection, values, limit, ...auditParams(audit)]);
  return rows.map(toRecordRow);
}

/** Where a token is held: one record, its collection and field. */
export interface TokenHolder {
  recordId: string;
  collection: string;
  field: string;
}

/**
 * For each token, one record that holds it (a deterministic token may be held by many: any one
 * will do), or undefined: one index probe per token, whatever the data. Nothing of the record is read.
 */
export async function tokenHolders(q: Queryable, tokens: readonly string[]): Promise<(TokenHolder | undefined)[]> {
  const rows = await q.query(TOKEN_HOLDERS, [tokens.map((t) => Buffer.from(t))]);
  const out: (TokenHolder | undefined)[] = new Array(tokens.length).fill(undefined);
  for (const r of rows)
    out[Number(r.ord) - 1] = { recordId: r.record_id as string, collection: r.collection as string, field: r.field as string };
  return out;
}

/** Whether retention took the record (past its expiry, or purged): it answers as gone, not as never there. */
export async function isGone(q: Queryable, collection: string, id: string): Promise<boolean> {
  const [row] = await q.query<{ gone: boolean }>(`SELECT ${goneTest('$1::uuid', '$2::text')} AS gone`, [id, collection]);
  return row?.gone === true;
}

/** Records by id, none past its expiry (the caller audits the disclosure). */
export async function selectByIds(q: Queryable, ids: readonly string[]): Promise<RecordRow[]> {
  return (await q.query(BY_IDS, [ids])).map(toRecordRow);
}

/**
 * Up to `limit` records of a collection on a key version older than `version`, after `after` in id order, locked
 * (rows another transaction holds are skipped: a concurrent rewrap or update has them).
 */
export async function selectForRewrap(
  q: Queryable,
  collection: string,
  version: number,
  after: string,
  limit: number,
): Promise<RecordRow[]> {
  const rows = await q.query(
    `SELECT ${COLUMNS} FROM ward_records WHERE collection = $1 AND id > $3::uuid AND key_version < $2 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED`,
    [collection, version, after, limit],
  );
  return rows.map(toRecordRow);
}

/** Sets the ciphertexts and key version of records (rewrap): their values, tokens and lookups are unchanged. */
export async function rewrapRecords(
  q: Queryable,
  version: number,
  rows: readonly { id: string; sealed: Record<string, string> }[],
): Promise<void> {
  await q.query(
    `UPDATE ward_records w SET key_version = $2, sealed = v.sealed::json
     FROM unnest($1::uuid[], $3::text[]) AS v(id, sealed) WHERE w.id = v.id`,
    [rows.map((r) => r.id), version, rows.map((r) => JSON.stringify(r.sealed))],
  );
}

/** Up to `limit` live records of a collection after `after`, in id order (a full pass in pages). */
/** The newest `limit` records of a collection (ids are time-ordered), newest first. */
export async function selectNewest(q: Queryable, collection: string, limit: number): Promise<{ id: string }[]> {
  return (
    await q.query('SELECT id::text AS id FROM ward_records WHERE collection = $1 ORDER BY id DESC LIMIT $2', [collection, limit])
  ).map((r) => ({ id: r.id as string }));
}

export async function selectPage(q: Queryable, collection: string, after: string, limit: number): Promise<RecordRow[]> {
  const rows = await q.query(
    `SELECT ${COLUMNS} FROM ward_records WHERE collection = $1 AND id > $2::uuid AND ${LIVE()} ORDER BY id LIMIT $3`,
    [collection, after, limit],
  );
  return rows.map(toRecordRow);
}
