/**
 * A Salesforce org as a sync source, over jsforce 3 with every HTTP request (the OAuth token,
 * queries, describe, limits) sent through Ward's egress client: jsforce's transport is replaced
 * by `EgressTransport` (egress/salesforce-transport), so the instance and login hosts must be
 * covered by a Business Associate Agreement in force (a `phi` one for the instance: its answers
 * carry PHI; the token request's body holds none) and each request is audited. jsforce never
 * opens a connection of its own.
 *
 * - Sign-in: OAuth 2.0 JWT bearer (an RS256 assertion signed with the mapping's private key) or
 *   client credentials (the secret from the environment variable the mapping names). A session
 *   that expires mid-pass (401 INVALID_SESSION_ID) signs in again once and retries the call.
 * - Reads: `queryAll` (deleted rows come with IsDeleted = true) ordered by SystemModstamp, Id,
 *   resuming after the watermark `{ modstamp, id }` of the last row read; pages follow
 *   nextRecordsUrl.
 * - Budget: each REST call counts against the mapping's `sf_max_daily_api_calls` (token requests
 *   do not: Salesforce does not count them); once spent, `source_budget_exhausted`. Each pass also
 *   reads the org's DailyApiRequests and stops while the org is down to its reserve, so Ward never
 *   spends what the org's other clients need.
 * - Errors name settings and Salesforce's error codes, never a message Salesforce wrote (its
 *   messages can quote values), a token or a secret.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Connection } from 'jsforce/lib/connection.js';
import type { Egress } from '../egress/client.js';
import { EgressTransport, type OutboundCall, routeThroughEgress } from '../egress/salesforce-transport.js';
import { isWardError, WardError } from '../errors.js';
import type { SourceSpec } from './mapping.js';
import type { Source, SourceBatch, SourceField, SourceRow } from './source.js';

type SalesforceSpec = Extract<SourceSpec, { kind: 'salesforce' }>;

export interface SalesforceSourceOptions {
  spec: SalesforceSpec;
  /** The sObject read (the mapping's object_name). */
  objectName: string;
  /** The mapped source field names (already checked identifiers). */
  fields: readonly string[];
  egress: Pick<Egress, 'send'>;
  /** Where the client secret's variable is read (client credentials flow). */
  env: NodeJS.ProcessEnv;
  /** API calls already made today and the mapping's sf_max_daily_api_calls; `used` grows with each call. */
  budget: { used: number; max: number };
  /** Called after `budget.used` grows, so the runner can persist the count. */
  onCall?: () => void;
  now?: () => Date;
  /** Stop while the org has this many DailyApiRequests left or fewer (default 5% of its daily maximum). */
  orgReserve?: number;
}

/** Where a pass resumes: after the row with this SystemModstamp (ISO, UTC) and Id. */
export interface SalesforceWatermark {
  modstamp: string;
  id: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
/** A Salesforce record Id: 15 characters, or 18 with the case-safe suffix. */
const SF_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})$/;
/**
 * An error code as Salesforce (INVALID_FIELD, ERROR_HTTP_503) or OAuth (invalid_grant) writes one:
 * quoted in messages only when it has this shape, so a "code" that is really text never is.
 */
const ERROR_CODE = /^(?:[A-Z][A-Z0-9_]{1,63}|[a-z][a-z_]{1,63})$/;
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SYSTEM_FIELDS = ['Id', 'SystemModstamp', 'IsDeleted'];

/** A datetime as SOQL takes it (UTC, milliseconds), or undefined when `s` is not one. */
function isoUtc(s: unknown): string | undefined {
  if (typeof s !== 'string' || !ISO_DATETIME.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** The watermark a pass resumes after; throws `integrity_error` for anything but one this source wrote. */
export function parseWatermark(w: unknown): SalesforceWatermark | undefined {
  if (w === undefined || w === null) return undefined;
  const bad = () =>
    new WardError(
      'integrity_error',
      'the stored Salesforce watermark is not { modstamp: ISO datetime, id: Salesforce Id }; reset the sync state',
    );
  if (typeof w !== 'object' || Array.isArray(w)) throw bad();
  const { modstamp, id } = w as Record<string, unknown>;
  const stamp = isoUtc(modstamp);
  if (!stamp || typeof id !== 'string' || !SF_ID.test(id)) throw bad();
  return { modstamp: stamp, id };
}

/** The query a pass makes: every row changed after the watermark, deleted ones too, in a stable order. */
export function buildSoql(objectName: string, fields: readonly string[], after: SalesforceWatermark | undefined): string {
  if (!NAME.test(objectName)) throw new WardError('config_invalid', 'object_name must be an object name such as Contact or Patient__c');
  for (const f of fields)
    if (!NAME.test(f)) throw new WardError('config_invalid', `config.fields: ${JSON.stringify(f).slice(0, 90)} is not a source field name`);
  const select = [...SYSTEM_FIELDS, ...fields.filter((f) => !SYSTEM_FIELDS.includes(f))];
  let soql = `SELECT ${[...new Set(select)].join(', ')} FROM ${objectName}`;
  if (after) {
    // Both checked again here, whatever the caller did: a datetime literal is unquoted in SOQL.
    const stamp = isoUtc(after.modstamp);
    if (!stamp || !SF_ID.test(after.id)) throw new WardError('integrity_error', 'the Salesforce watermark is malformed');
    soql += ` WHERE SystemModstamp > ${stamp} OR (SystemModstamp = ${stamp} AND Id > '${after.id}')`;
  }
  return `${soql} ORDER BY SystemModstamp, Id`;
}

interface QueryPage {
  totalSize?: number;
  done?: boolean;
  nextRecordsUrl?: string;
  records?: unknown;
}

/** An Error jsforce made from a Salesforce or OAuth error answer: its code only. */
function codeOf(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const c = (e as { errorCode?: unknown }).errorCode ?? e.name;
  return typeof c === 'string' && ERROR_CODE.test(c) ? c : undefined;
}

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

class SalesforceSource implements Source {
  private readonly conn: Connection;
  private readonly routed: () => void;
  private readonly now: () => Date;
  private readonly where: string;
  private signedIn = false;
  private key: KeyObject | undefined;
  /** The org's DailyApiRequests, once read this pass (and kept current from Sforce-Limit-Info). */
  private org: { remaining: number; max: number } | undefined;

  constructor(private readonly o: SalesforceSourceOptions) {
    this.now = o.now ?? (() => new Date());
    this.where = `mapping ${o.objectName}`;
    buildSoql(o.objectName, o.fields, undefined); // checks the names once, up front
    try {
      this.conn = new Connection({ loginUrl: o.spec.loginUrl, instanceUrl: o.spec.instanceUrl, version: o.spec.apiVersion });
    } catch {
      // jsforce refuses a Lightning URL as the instance.
      throw new WardError(
        'config_invalid',
        `${this.where}: source.instance_url must be the org's My Domain URL (https://NAME.my.salesforce.com), not a Lightning URL`,
      );
    }
    const tokenUrl = `${o.spec.loginUrl}/services/oauth2/token`;
    const transport = new EgressTransport(o.egress, {
      purpose: 'sync-salesforce',
      // The token request's body holds credentials, no PHI; every REST answer may hold PHI.
      scope: (c) => (c.url === tokenUrl ? 'no-phi' : 'phi'),
      before: (c) => this.beforeCall(c),
    });
    this.routed = routeThroughEgress(this.conn, transport);
  }

  async describe(): Promise<SourceField[] | undefined> {
    const d = (await this.call('describe', () => this.conn.describe(this.o.objectName))) as { fields?: unknown };
    if (!Array.isArray(d?.fields)) throw this.unavailable('describe', 'answered with something that is not an object description');
    const out: SourceField[] = [];
    for (const f of d.fields as { name?: unknown; type?: unknown }[]) {
      if (typeof f?.name !== 'string' || !NAME.test(f.name)) continue;
      out.push({ name: f.name, type: typeof f.type === 'string' && /^[a-z]{1,40}$/i.test(f.type) ? f.type.toLowerCase() : 'unknown' });
    }
    return out;
  }

  async *read(watermark: unknown, batch: number): AsyncIterable<SourceBatch> {
    const size = Math.max(1, Math.floor(batch) || 1);
    let last = parseWatermark(watermark);
    const soql = buildSoql(this.o.objectName, this.o.fields, last);
    await this.readOrgLimits();
    // Salesforce pages 200 to 2000 rows (a hint); egress reads an answer up to 1 MiB.
    const headers = () => ({ 'Sforce-Query-Options': `batchSize=${Math.min(2000, Math.max(200, size))}` });
    let page = (await this.call('query', () =>
      this.conn.query(soql, { scanAll: true, autoFetch: false, headers: headers() }),
    )) as QueryPage;
    const pending: SourceRow[] = [];
    let done = 0;
    let total: number | undefined;
    const take = (n: number): SourceBatch => {
      const rows = pending.splice(0, n);
      done += rows.length;
      return { rows, watermark: { ...last }, progress: { done, total } };
    };
    for (;;) {
      if (!page || !Array.isArray(page.records)) throw this.unavailable('query', 'answered with something that is not a query result');
      if (typeof page.totalSize === 'number' && Number.isSafeInteger(page.totalSize)) total ??= page.totalSize;
      for (const r of page.records as unknown[]) {
        const row = this.rowOf(r, last);
        pending.push(row.row);
        last = row.mark;
        if (pending.length === size) yield take(size);
      }
      const next = page.nextRecordsUrl;
      if (page.done !== false || typeof next !== 'string' || !next) break;
      page = (await this.call('queryMore', () =>
        this.conn.queryMore(next, { headers: headers(), scanAll: true, autoFetch: false, maxFetch: 2000, responseTarget: 'QueryResult' }),
      )) as QueryPage;
    }
    if (pending.length) yield take(pending.length);
  }

  async close(): Promise<void> {
    this.conn.accessToken = null;
    this.signedIn = false;
  }

  /** One record as a row, and the watermark after it; the answer must come in SystemModstamp order. */
  private rowOf(r: unknown, prev: SalesforceWatermark | undefined): { row: SourceRow; mark: SalesforceWatermark } {
    const rec = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    const id = rec.Id;
    const stamp = isoUtc(rec.SystemModstamp);
    if (typeof id !== 'string' || !SF_ID.test(id) || !stamp || typeof rec.IsDeleted !== 'boolean')
      throw this.unavailable('query', 'answered with a record without a valid Id, SystemModstamp or IsDeleted');
    // Ids of one SystemModstamp come in Salesforce's own Id order, which the next pass's `Id >` follows.
    if (prev && stamp < prev.modstamp) throw this.unavailable('query', 'answered with records out of SystemModstamp order');
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) if (k !== 'attributes') values[k] = v;
    return { row: { ref: id, values, deleted: rec.IsDeleted }, mark: { modstamp: stamp, id } };
  }

  /** Once per pass: the org's remaining daily API requests (one call), to stop at its reserve. */
  private async readOrgLimits(): Promise<void> {
    this.org = undefined;
    const l = (await this.call('limits', () => this.conn.limits())) as { DailyApiRequests?: { Max?: unknown; Remaining?: unknown } };
    const max = l?.DailyApiRequests?.Max;
    const remaining = l?.DailyApiRequests?.Remaining;
    if (typeof max === 'number' && typeof remaining === 'number' && max > 0) this.org = { remaining, max };
    this.checkOrg();
  }

  private checkOrg(): void {
    if (!this.org) return;
    const reserve = this.o.orgReserve ?? Math.ceil(this.org.max * 0.05);
    if (this.org.remaining <= reserve)
      throw new WardError(
        'source_budget_exhausted',
        `${this.where}: the Salesforce org has ${this.org.remaining} of its ${this.org.max} daily API requests left, the reserve (${reserve}) Ward leaves for its other clients; the sync resumes when the org's count resets`,
      );
  }

  /** Before each request: REST calls count against the day's budget and the org's reserve. */
  private beforeCall(c: OutboundCall): void {
    this.routed();
    let path: string;
    try {
      path = new URL(c.url).pathname;
    } catch {
      return; // egress refuses it
    }
    if (!path.startsWith('/services/data/')) return; // the token endpoint: not an API call
    const b = this.o.budget;
    this.checkBudget();
    if (!path.endsWith('/limits')) this.checkOrg();
    b.used += 1;
    if (this.org) this.org.remaining -= 1;
    this.o.onCall?.();
  }

  private checkBudget(): void {
    const b = this.o.budget;
    if (b.used >= b.max)
      throw new WardError(
        'source_budget_exhausted',
        `${this.where}: the day's Salesforce API budget (config.sf_max_daily_api_calls = ${b.max}) is spent; the sync resumes tomorrow`,
      );
  }

  /** Runs one REST call signed in; an expired session signs in again once and the call is retried. */
  private async call<T>(what: string, fn: () => PromiseLike<T>): Promise<T> {
    this.checkBudget(); // a spent budget sends nothing, not even a token request
    if (!this.signedIn) await this.signIn();
    for (let retried = false; ; retried = true) {
      try {
        this.conn.limitInfo = {};
        const out = await fn();
        const usage = this.conn.limitInfo?.apiUsage;
        if (this.org && usage && usage.limit > 0) this.org = { remaining: usage.limit - usage.used, max: usage.limit };
        return out;
      } catch (e) {
        if (codeOf(e) !== 'INVALID_SESSION_ID' || isWardError(e)) throw this.translate(e, what);
        if (retried)
          throw new WardError(
            'source_auth_failed',
            `${this.where}: Salesforce refused a new session too (INVALID_SESSION_ID); check that the connected app's user may use the REST API (source.auth)`,
          );
        this.signedIn = false;
        await this.signIn();
      }
    }
  }

  private translate(e: unknown, what: string): WardError {
    if (isWardError(e)) return e.code === 'egress_failed' ? this.unavailable(what, 'could not be reached (connection, TLS or timeout)') : e;
    const code = codeOf(e);
    if (code === 'REQUEST_LIMIT_EXCEEDED')
      return new WardError(
        'source_budget_exhausted',
        `${this.where}: Salesforce refused the ${what} (REQUEST_LIMIT_EXCEEDED): the org's API limit is reached`,
      );
    if (code === 'INVALID_FIELD' || code === 'INVALID_TYPE' || code === 'NOT_FOUND')
      return this.unavailable(
        what,
        `refused it (${code}): check the mapping's object_name and config.fields against the object (describe it)`,
      );
    return this.unavailable(what, code ? `refused it (${code})` : 'answered with something Ward could not read');
  }

  private unavailable(what: string, why: string): WardError {
    return new WardError('source_unavailable', `${this.where}: the Salesforce ${what} failed: the org ${why}`);
  }

  private async signIn(): Promise<void> {
    const { spec } = this.o;
    const a = spec.auth;
    let params: { grant_type: string; [name: string]: string };
    let fix: string;
    if (a.flow === 'jwt') {
      fix =
        'check source.auth.client_id, source.auth.username, source.login_url and that the certificate of source.auth.private_key_file is uploaded to the connected app';
      params = { grant_type: JWT_GRANT, assertion: this.assertion() };
    } else {
      fix = `check source.auth.client_id and the secret in ${a.clientSecretEnv} (source.auth.client_secret_env)`;
      const secret = this.o.env[a.clientSecretEnv];
      if (!secret)
        throw new WardError(
          'source_auth_failed',
          `${this.where}: the environment variable ${a.clientSecretEnv} (source.auth.client_secret_env) is not set`,
        );
      params = { grant_type: 'client_credentials', client_id: a.clientId, client_secret: secret };
    }
    this.routed();
    let res: { access_token?: unknown; instance_url?: unknown };
    try {
      res = await this.conn.oauth2.requestToken(params);
    } catch (e) {
      if (isWardError(e))
        throw e.code === 'egress_failed' ? this.unavailable('sign-in', 'could not be reached (connection, TLS or timeout)') : e;
      const code = codeOf(e);
      if (!code || /^ERROR_HTTP_5\d\d$/.test(code))
        throw this.unavailable('sign-in', code ? `answered ${code}` : 'answered with something Ward could not read');
      throw new WardError(
        'source_auth_failed',
        `${this.where}: Salesforce refused the ${a.flow === 'jwt' ? 'JWT bearer' : 'client credentials'} sign-in (${code}): ${fix}`,
      );
    }
    let instance: URL | undefined;
    try {
      instance = typeof res?.instance_url === 'string' ? new URL(res.instance_url) : undefined;
    } catch {
      instance = undefined;
    }
    if (
      typeof res?.access_token !== 'string' ||
      !res.access_token ||
      instance?.protocol !== 'https:' ||
      instance.username ||
      instance.password
    )
      throw this.unavailable('sign-in', 'answered without an access token and an https instance URL');
    // The instance the token endpoint names; egress holds it to the agreements like any host.
    this.conn.instanceUrl = instance.origin;
    this.conn.accessToken = res.access_token;
    this.signedIn = true;
  }

  /** The JWT bearer assertion: RS256 over { iss: client id, sub: username, aud: login URL, exp: now + 3 min }. */
  private assertion(): string {
    const a = this.o.spec.auth;
    if (a.flow !== 'jwt') throw new Error('not the JWT flow');
    if (!this.key) {
      let pem: string;
      try {
        pem = readFileSync(a.privateKeyFile, 'utf8');
      } catch {
        throw new WardError('source_auth_failed', `${this.where}: cannot read the private key file named by source.auth.private_key_file`);
      }
      try {
        const key = createPrivateKey(pem);
        if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
        this.key = key;
      } catch {
        throw new WardError('source_auth_failed', `${this.where}: source.auth.private_key_file does not hold an RSA private key in PEM`);
      }
    }
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const claims = base64url(
      JSON.stringify({ iss: a.clientId, sub: a.username, aud: this.o.spec.loginUrl, exp: Math.floor(this.now().getTime() / 1000) + 180 }),
    );
    const signature = sign('RSA-SHA256', Buffer.from(`${header}.${claims}`), this.key);
    return `${header}.${claims}.${base64url(signature)}`;
  }
}

/** A Salesforce org as a sync source (see the module's comment). */
export function salesforceSource(o: SalesforceSourceOptions): Source {
  return new SalesforceSource(o);
}
