/**
 * A local stand-in for a Salesforce org, for tests of the Salesforce source: an HTTPS server on
 * 127.0.0.1 (certificate from test/pki) speaking the subset of the REST API Ward uses, strict
 * where Salesforce is:
 * - `POST /services/oauth2/token`: the JWT bearer grant (the assertion's RS256 signature checked
 *   with the connected app's public key, its `iss` = client id, `sub` = username, `aud` = the login
 *   URL and `exp` in the next 5 minutes) and the client credentials grant (client id and secret);
 *   a refusal is `400 {"error":"invalid_grant"|"invalid_client","error_description":...}`, and the
 *   description quotes what was sent (as a careless server might), so a test can tell Ward never
 *   repeats it;
 * - `GET /services/data/vXX.0/query|queryAll?q=SOQL`: exactly the query shape Ward sends
 *   (`SELECT fields FROM Object [WHERE SystemModstamp > T OR (SystemModstamp = T AND Id > 'ID')]
 *   ORDER BY SystemModstamp, Id`), paged at `pageSize` rows (or a smaller `Sforce-Query-Options:
 *   batchSize`), with `nextRecordsUrl`; `GET /services/data/vXX.0/query/<locator>` reads the next
 *   page; `queryAll` includes deleted rows (IsDeleted = true), `query` does not;
 * - `GET /services/data/vXX.0/sobjects/<Object>/describe` and `GET /services/data/vXX.0/limits`;
 * - every data request needs `Authorization: Bearer <token>` of a live session, else
 *   `401 [{"errorCode":"INVALID_SESSION_ID",...}]`; each counts against DailyApiRequests (reported
 *   in `Sforce-Limit-Info`), and with none left the answer is `403 REQUEST_LIMIT_EXCEEDED`.
 * Test controls: add, update and delete records (SystemModstamp advances, or is given), expire
 * sessions, change an object's schema, force the next answer of a kind, and read every request it
 * received (refused ones too), so a test can tell nothing arrived.
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SfField {
  name: string;
  /** Salesforce's type name: string, textarea, email, phone, id, datetime, date, boolean, double, picklist... */
  type: string;
}

export interface SalesforceServerOptions {
  pki: { cert: string; key: string };
  /** Object name → its custom and standard fields (Id, SystemModstamp and IsDeleted are always there). */
  objects: Record<string, SfField[]>;
  clientId: string;
  /** The client credentials flow's secret (the flow is refused when unset). */
  clientSecret?: string;
  /** The JWT bearer flow's user and the connected app's certificate key (PEM; the flow is refused when unset). */
  username?: string;
  publicKey?: string;
  /** The host name the token endpoint gives as instance_url (default sf.test). */
  instanceHost?: string;
  /** The host name of the login URL a JWT's `aud` must name (default: the instance host). */
  loginHost?: string;
  apiVersion?: string;
  /** Rows per query page (default 2000). */
  pageSize?: number;
  limits?: { max: number; remaining: number };
}

export type SfRequestKind = 'token' | 'query' | 'queryMore' | 'describe' | 'limits' | 'other';

/** A request as received: refused ones too. */
export interface SfRequest {
  kind: SfRequestKind;
  method: string;
  /** The path and query string. */
  url: string;
  host: string | undefined;
  status: number;
  /** The token grant, for `token`. */
  grant?: string;
  /** The JWT's claims, for a JWT bearer grant whose signature verified. */
  claims?: Record<string, unknown>;
}

interface Row {
  Id: string;
  stamp: number;
  IsDeleted: boolean;
  values: Record<string, unknown>;
}

export interface SalesforceServer {
  port: number;
  /** https://<instance host>:PORT */
  url: string;
  /** https://<login host>:PORT */
  loginUrl: string;
  requests: SfRequest[];
  /** The host name the token endpoint gives as instance_url from now on. */
  instanceHost: string;
  /** Refuse every session, even a new one (a user that may not use the API). */
  refuseSessions: boolean;
  pageSize: number;
  /** Adds a record; returns its Id. `stamp` sets its SystemModstamp (default: the clock, always advancing). */
  insert(object: string, values: Record<string, unknown>, o?: { stamp?: Date }): string;
  update(object: string, id: string, values: Record<string, unknown>, o?: { stamp?: Date }): void;
  /** Deletes a record (to the recycle bin: `queryAll` still returns it, with IsDeleted = true). */
  remove(object: string, id: string): void;
  /** The record as stored, with its SystemModstamp as Salesforce writes it. */
  record(object: string, id: string): Record<string, unknown> | undefined;
  /** Ends every session: the next data request with an old token is 401 INVALID_SESSION_ID. */
  expireSessions(): void;
  setSchema(object: string, fields: SfField[]): void;
  setLimits(l: { max: number; remaining: number }): void;
  /** The next request of `kind` gets this answer instead (its body as JSON, or text). */
  failNext(kind: SfRequestKind, status: number, body: unknown, contentType?: string): void;
  /** Requests of a kind received. */
  count(kind?: SfRequestKind): number;
  /** Empties records, sessions, requests and forced answers; limits and schema back to the start. */
  reset(): void;
  close(): Promise<void>;
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SYSTEM: SfField[] = [
  { name: 'Id', type: 'id' },
  { name: 'SystemModstamp', type: 'datetime' },
  { name: 'IsDeleted', type: 'boolean' },
];
const sfDate = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})$/;
const QUERY =
  /^SELECT (.+?) FROM ([A-Za-z][A-Za-z0-9_]*)(?: WHERE SystemModstamp > (\S+) OR \(SystemModstamp = (\S+) AND Id > '([A-Za-z0-9]{15}|[A-Za-z0-9]{18})'\))? ORDER BY SystemModstamp, Id$/;

export async function startSalesforceServer(o: SalesforceServerOptions): Promise<SalesforceServer> {
  const version = o.apiVersion ?? '60.0';
  const initialSchema = structuredClone(o.objects);
  let schema = structuredClone(o.objects);
  let limits = { ...(o.limits ?? { max: 15_000, remaining: 15_000 }) };
  let data = new Map<string, Map<string, Row>>();
  let sessions = new Set<string>();
  let cursors = new Map<string, { object: string; fields: string[]; rows: Row[] }>();
  let forced = new Map<SfRequestKind, { status: number; body: unknown; contentType: string }>();
  let clock = 0;
  let serial = 0;
  const publicKey = o.publicKey ? createPublicKey(o.publicKey) : undefined;

  const tick = (given?: Date) => {
    if (given) return given.getTime();
    clock = Math.max(Date.now(), clock + 1);
    return clock;
  };
  const table = (object: string) => {
    if (!schema[object]) throw new Error(`the test server has no object ${object}`);
    let t = data.get(object);
    if (!t) {
      t = new Map();
      data.set(object, t);
    }
    return t;
  };
  const newId = (object: string) => {
    serial += 1;
    const prefix = `a${(Object.keys(schema).indexOf(object) + 10).toString(36).toUpperCase()}0`;
    return `${prefix}${String(serial).padStart(12, '0')}AAA`;
  };

  const server = createServer({ cert: o.pki.cert, key: o.pki.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;

  const api: SalesforceServer = {
    port,
    get url() {
      return `https://${api.instanceHost}:${port}`;
    },
    get loginUrl() {
      return `https://${o.loginHost ?? o.instanceHost ?? 'sf.test'}:${port}`;
    },
    requests: [],
    instanceHost: o.instanceHost ?? 'sf.test',
    refuseSessions: false,
    pageSize: o.pageSize ?? 2000,
    insert(object, values, opts = {}) {
      const t = table(object);
      const Id = newId(object);
      t.set(Id, { Id, stamp: tick(opts.stamp), IsDeleted: false, values: { ...values } });
      return Id;
    },
    update(object, id, values, opts = {}) {
      const row = table(object).get(id);
      if (!row || row.IsDeleted) throw new Error(`no record ${id}`);
      Object.assign(row.values, values);
      row.stamp = tick(opts.stamp);
    },
    remove(object, id) {
      const row = table(object).get(id);
      if (!row) throw new Error(`no record ${id}`);
      row.IsDeleted = true;
      row.stamp = tick();
    },
    record(object, id) {
      const row = table(object).get(id);
      return row && { Id: row.Id, SystemModstamp: sfDate(row.stamp), IsDeleted: row.IsDeleted, ...row.values };
    },
    expireSessions() {
      sessions = new Set();
    },
    setSchema(object, fields) {
      schema[object] = structuredClone(fields);
    },
    setLimits(l) {
      limits = { ...l };
    },
    failNext(kind, status, body, contentType = 'application/json;charset=UTF-8') {
      forced.set(kind, { status, body, contentType });
    },
    count(kind) {
      return kind ? api.requests.filter((r) => r.kind === kind).length : api.requests.length;
    },
    reset() {
      data = new Map();
      sessions = new Set();
      cursors = new Map();
      forced = new Map();
      schema = structuredClone(initialSchema);
      limits = { ...(o.limits ?? { max: 15_000, remaining: 15_000 }) };
      api.requests.length = 0;
      api.instanceHost = o.instanceHost ?? 'sf.test';
      api.refuseSessions = false;
      api.pageSize = o.pageSize ?? 2000;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };

  function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const url = new URL(req.url ?? '/', 'https://x');
    const path = url.pathname;
    const entry: SfRequest = { kind: 'other', method: req.method ?? '', url: req.url ?? '', host: req.headers.host, status: 0 };
    api.requests.push(entry);
    const send = (
      status: number,
      answer: unknown,
      contentType = 'application/json;charset=UTF-8',
      headers: Record<string, string> = {},
    ) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
    };
    const sfError = (status: number, errorCode: string, message: string) => send(status, [{ message, errorCode }]);

    if (path === '/services/oauth2/token') {
      entry.kind = 'token';
      const f = forced.get('token');
      if (f) {
        forced.delete('token');
        return send(f.status, f.body, f.contentType);
      }
      if (req.method !== 'POST') return send(405, { error: 'invalid_request', error_description: 'must use HTTP POST' });
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
        return send(400, { error: 'invalid_request', error_description: 'form body expected' });
      const p = new URLSearchParams(body);
      entry.grant = p.get('grant_type') ?? '';
      return token(p, entry, send);
    }

    const m = /^\/services\/data\/v(\d+\.\d)(\/.*)$/.exec(path);
    if (!m) return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
    const rest = m[2] as string;
    entry.kind =
      rest === '/query' || rest === '/queryAll'
        ? 'query'
        : /^\/query(All)?\/[^/]+$/.test(rest)
          ? 'queryMore'
          : /^\/sobjects\/[^/]+\/describe$/.test(rest)
            ? 'describe'
            : rest === '/limits'
              ? 'limits'
              : 'other';
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (!auth || !sessions.has(auth[1] as string) || api.refuseSessions)
      return sfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    if (limits.remaining <= 0) return sfError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    limits.remaining -= 1;
    const usage = { 'sforce-limit-info': `api-usage=${limits.max - limits.remaining}/${limits.max}` };
    const f = forced.get(entry.kind);
    if (f) {
      forced.delete(entry.kind);
      return send(f.status, f.body, f.contentType, usage);
    }
    if (m[1] !== version) return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (req.method !== 'GET') return sfError(405, 'METHOD_NOT_ALLOWED', 'HTTP Method not allowed');
    const ok = (answer: unknown) => send(200, answer, undefined, usage);

    switch (entry.kind) {
      case 'limits':
        return ok({
          DailyApiRequests: { Max: limits.max, Remaining: limits.remaining },
          DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
        });
      case 'describe': {
        const object = rest.split('/')[2] as string;
        const fields = schema[object];
        if (!fields) return sfError(404, 'NOT_FOUND', `The requested resource does not exist: ${object}`);
        return ok({ name: object, label: object, fields: [...SYSTEM, ...fields].map((x) => ({ ...x, label: x.name })) });
      }
      case 'query': {
        const soql = url.searchParams.get('q') ?? '';
        const q = QUERY.exec(soql);
        if (!q) return sfError(400, 'MALFORMED_QUERY', `unexpected token in: ${soql}`);
        const object = q[2] as string;
        const known = schema[object];
        if (!known) return sfError(400, 'INVALID_TYPE', `sObject type '${object}' is not supported.`);
        const fields = (q[1] as string).split(', ');
        for (const name of fields)
          if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || ![...SYSTEM, ...known].some((x) => x.name === name))
            return sfError(400, 'INVALID_FIELD', `No such column '${name}' on entity '${object}'.`);
        let after: { stamp: number; id: string } | undefined;
        if (q[3] !== undefined) {
          if (q[3] !== q[4] || !DATETIME.test(q[3]) || Number.isNaN(Date.parse(q[3])))
            return sfError(400, 'MALFORMED_QUERY', `invalid datetime: ${q[3]}`);
          after = { stamp: Date.parse(q[3]), id: q[5] as string };
        }
        const all = rest === '/queryAll';
        const rows = [...table(object).values()]
          .filter((r) => all || !r.IsDeleted)
          .filter((r) => !after || r.stamp > after.stamp || (r.stamp === after.stamp && r.Id > after.id))
          .sort((a, b) => a.stamp - b.stamp || (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0))
          .map((r) => structuredClone(r));
        return ok(page({ object, fields, rows }, 0, batchSizeOf(req)));
      }
      case 'queryMore': {
        const locator = rest.split('/')[2] as string;
        const lm = /^(01g[0-9A-Za-z]+)-(\d+)$/.exec(locator);
        const cursor = lm && cursors.get(lm[1] as string);
        if (!lm || !cursor) return sfError(400, 'INVALID_QUERY_LOCATOR', `invalid query locator: ${locator}`);
        return ok(page(cursor, Number(lm[2]), batchSizeOf(req), lm[1]));
      }
      default:
        return sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
  }

  function batchSizeOf(req: IncomingMessage): number {
    const b = /batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''));
    const n = b ? Number(b[1]) : 2000;
    return Math.min(api.pageSize, Math.max(200, Math.min(2000, n)));
  }

  function page(cursor: { object: string; fields: string[]; rows: Row[] }, offset: number, size: number, locator?: string) {
    const slice = cursor.rows.slice(offset, offset + size);
    const next = offset + slice.length;
    const done = next >= cursor.rows.length;
    let id = locator;
    if (!done && !id) {
      id = `01g${randomBytes(6).toString('hex')}`;
      cursors.set(id, cursor);
    }
    return {
      totalSize: cursor.rows.length,
      done,
      ...(done ? {} : { nextRecordsUrl: `/services/data/v${version}/query/${id}-${next}` }),
      records: slice.map((r) => {
        const rec: Record<string, unknown> = {
          attributes: { type: cursor.object, url: `/services/data/v${version}/sobjects/${cursor.object}/${r.Id}` },
        };
        for (const f of cursor.fields)
          rec[f] = f === 'Id' ? r.Id : f === 'SystemModstamp' ? sfDate(r.stamp) : f === 'IsDeleted' ? r.IsDeleted : (r.values[f] ?? null);
        return rec;
      }),
    };
  }

  function token(p: URLSearchParams, entry: SfRequest, send: (status: number, answer: unknown) => void) {
    const grant = p.get('grant_type');
    const issue = () => {
      const t = `00Dxx0000001gPF!${randomBytes(24).toString('base64url')}`;
      sessions.add(t);
      send(200, {
        access_token: t,
        instance_url: api.url,
        id: `${api.loginUrl}/id/00Dxx0000001gPFEAY/005xx000001SwiUAAS`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
        signature: randomBytes(32).toString('base64'),
      });
    };
    if (grant === 'client_credentials') {
      const id = p.get('client_id');
      const secret = p.get('client_secret');
      if (!o.clientSecret || id !== o.clientId || secret !== o.clientSecret)
        // Quotes what was sent, as a careless server might: Ward must not repeat it.
        return send(400, { error: 'invalid_client', error_description: `invalid client credentials: ${id} / ${secret}` });
      return issue();
    }
    if (grant === JWT_GRANT) {
      const assertion = p.get('assertion') ?? '';
      const parts = assertion.split('.');
      const refuse = (why: string) => send(400, { error: 'invalid_grant', error_description: `${why}: ${assertion}` });
      if (parts.length !== 3 || !publicKey || !o.username) return refuse('invalid assertion');
      const [h, c, s] = parts as [string, string, string];
      let header: Record<string, unknown>;
      let claims: Record<string, unknown>;
      try {
        header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
        claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
      } catch {
        return refuse('invalid assertion');
      }
      if (header.alg !== 'RS256') return refuse('invalid assertion algorithm');
      if (!verify('RSA-SHA256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, 'base64url')))
        return refuse('invalid assertion signature');
      entry.claims = claims;
      const now = Math.floor(Date.now() / 1000);
      if (claims.iss !== o.clientId) return refuse('invalid client identifier');
      if (claims.sub !== o.username) return refuse('user hasn t approved this consumer');
      if (claims.aud !== api.loginUrl) return refuse('audience is invalid');
      if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 300) return refuse('expired authorization code');
      return issue();
    }
    return send(400, { error: 'unsupported_grant_type', error_description: `grant type not supported: ${grant}` });
  }

  return api;
}
