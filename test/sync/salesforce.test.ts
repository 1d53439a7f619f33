/**
 * The Salesforce source against a local server speaking the subset of Salesforce's REST API Ward
 * uses (test/salesforce-server.ts), with every request going through a real `Egress` (TLS verified
 * against a test CA, agreements, audit): rows come in (SystemModstamp, Id) order, paged, resuming
 * after the watermark, deleted ones flagged; sessions are renewed once; both OAuth flows sign in;
 * the day's API budget and the org's reserve stop a pass; an uncovered host gets nothing; no error
 * carries a record value, a secret or a token.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Egress, type EgressRecord } from '../../src/egress/client.js';
import { EgressTransport } from '../../src/egress/salesforce-transport.js';
import { isWardError, type WardError } from '../../src/errors.js';
import type { SourceSpec } from '../../src/sync/mapping.js';
import { buildSoql, parseWatermark, type SalesforceSourceOptions, salesforceSource } from '../../src/sync/salesforce.js';
import type { SourceBatch } from '../../src/sync/source.js';
import { canaryPatient } from '../helpers.js';
import { testPki } from '../pki.js';
import { type SalesforceServer, startSalesforceServer } from '../salesforce-server.js';
import { scratchDir } from '../scratch.js';

type SalesforceSpec = Extract<SourceSpec, { kind: 'salesforce' }>;

const SECRET = `sf-secret-${Math.random().toString(36).slice(2)}`;
const CLIENT_ID = '3MVG9-ward-test-client';
const USERNAME = 'sync@ward.example';
const FIELDS = ['LastName', 'Email', 'Description'];

const pki = testPki(['sf.test', 'login.test', 'uncovered.test']);
const appKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

async function collect(batches: AsyncIterable<SourceBatch>): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

async function failure(p: Promise<unknown>): Promise<WardError> {
  try {
    await p;
  } catch (e) {
    if (isWardError(e)) return e;
    throw e;
  }
  throw new Error('expected a WardError');
}

describe('Salesforce source (a local server speaking the REST API subset Ward uses, through egress)', () => {
  let server: SalesforceServer;
  let keyFile: string;
  let otherKeyFile: string;
  const audits: EgressRecord[] = [];
  /** Host → the scope of the agreement covering it (a phi one covers both scopes). */
  const covered = new Map<string, 'phi' | 'no-phi'>();
  const egress = new Egress({
    covering: async (host, scope) => {
      const has = covered.get(host);
      return has && (has === 'phi' || scope === 'no-phi') ? { id: `baa-${host}` } : undefined;
    },
    audit: async (r) => {
      audits.push(r);
    },
    allowPrivate: true,
    ca: pki.ca,
    resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    timeoutMs: 5000,
  });

  beforeAll(async () => {
    const dir = scratchDir('sf-');
    keyFile = join(dir, 'app.key');
    otherKeyFile = join(dir, 'other.key');
    writeFileSync(keyFile, appKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(otherKeyFile, otherKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    server = await startSalesforceServer({
      pki,
      objects: {
        Contact: [
          { name: 'LastName', type: 'string' },
          { name: 'Email', type: 'email' },
          { name: 'Phone', type: 'phone' },
          { name: 'Birthdate', type: 'date' },
          { name: 'Description', type: 'textarea' },
        ],
      },
      clientId: CLIENT_ID,
      clientSecret: SECRET,
      username: USERNAME,
      loginHost: 'login.test',
      publicKey: appKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      pageSize: 3,
    });
  });
  afterAll(async () => server?.close());
  beforeEach(() => {
    server.reset();
    audits.length = 0;
    covered.clear();
    covered.set('sf.test', 'phi').set('login.test', 'phi');
  });

  const ccSpec = (): SalesforceSpec => ({
    kind: 'salesforce',
    instanceUrl: server.url,
    loginUrl: server.url,
    apiVersion: '60.0',
    auth: { flow: 'client_credentials', clientId: CLIENT_ID, clientSecretEnv: 'SF_CLIENT_SECRET' },
  });
  const jwtSpec = (file = keyFile): SalesforceSpec => ({
    kind: 'salesforce',
    instanceUrl: server.url,
    loginUrl: `https://login.test:${server.port}`,
    apiVersion: '60.0',
    auth: { flow: 'jwt', clientId: CLIENT_ID, username: USERNAME, privateKeyFile: file },
  });
  const source = (o: Partial<SalesforceSourceOptions> = {}) =>
    salesforceSource({
      spec: ccSpec(),
      objectName: 'Contact',
      fields: FIELDS,
      egress,
      env: { SF_CLIENT_SECRET: SECRET },
      budget: { used: 0, max: 1000 },
      ...o,
    });
  const seed = (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push(server.insert('Contact', { LastName: `Row${i}`, Email: `row${i}@example.org`, Description: null }));
    return ids;
  };
  const refs = (batches: SourceBatch[]) => batches.flatMap((b) => b.rows.map((r) => r.ref));
  const dataRequests = () => server.requests.filter((r) => r.kind !== 'token');

  it('pages over several query pages and yields every row once, in SystemModstamp, Id order, with the last row as watermark', async () => {
    const ids = seed(8);
    const batches = await collect(source().read(undefined, 2));
    expect(refs(batches)).toEqual(ids);
    expect(batches.map((b) => b.rows.length)).toEqual([2, 2, 2, 2]);
    expect(server.count('query')).toBe(1);
    expect(server.count('queryMore')).toBe(2); // 3 + 3 + 2 rows
    const last = batches.at(-1) as SourceBatch;
    expect(last.watermark).toEqual({
      modstamp: new Date(Date.parse(server.record('Contact', ids[7] as string)?.SystemModstamp as string)).toISOString(),
      id: ids[7],
    });
    expect(last.progress).toEqual({ done: 8, total: 8 });
    const row = batches[0]?.rows[0];
    expect(row?.values).toMatchObject({ Id: ids[0], LastName: 'Row0', Email: 'row0@example.org', IsDeleted: false });
    expect(row?.values).not.toHaveProperty('attributes');
    expect(row?.deleted).toBe(false);
  });

  it('sends every request, the token one included, through egress: each audited as sent, none to jsforce', async () => {
    seed(4);
    const s = source();
    await collect(s.read(undefined, 10));
    await s.describe();
    expect(server.requests.length).toBeGreaterThan(3);
    const sent = audits.filter((a) => a.outcome === 'sent');
    expect(sent).toHaveLength(server.requests.length);
    expect(new Set(sent.map((a) => `${a.host} ${a.purpose} ${a.agreement}`))).toEqual(new Set(['sf.test sync-salesforce baa-sf.test']));
    expect(server.requests.map((r) => r.kind)).toEqual(['token', 'limits', 'query', 'queryMore', 'describe']);
  });

  it('resumes after the watermark: a second read yields only the rows changed after it', async () => {
    const ids = seed(5);
    const first = await collect(source().read(undefined, 10));
    const mark = first.at(-1)?.watermark;
    server.update('Contact', ids[1] as string, { LastName: 'Changed' });
    const added = server.insert('Contact', { LastName: 'New' });
    server.update('Contact', ids[3] as string, { Email: 'changed@example.org' });
    const second = await collect(source().read(mark, 10));
    expect(refs(second)).toEqual([ids[1], added, ids[3]]);
    expect(second[0]?.rows[0]?.values.LastName).toBe('Changed');
    const third = await collect(source().read(second.at(-1)?.watermark, 10));
    expect(third).toEqual([]);
  });

  it('resumes within rows of one SystemModstamp by Id: nothing skipped, nothing repeated', async () => {
    const stamp = new Date(Date.now() - 60_000);
    const ids = [1, 2, 3, 4, 5].map((i) => server.insert('Contact', { LastName: `Same${i}` }, { stamp }));
    const it1 = source().read(undefined, 2)[Symbol.asyncIterator]();
    const firstBatch = (await it1.next()).value as SourceBatch;
    await it1.return?.();
    expect(firstBatch.watermark).toEqual({ modstamp: stamp.toISOString(), id: ids[1] });
    const rest = await collect(source().read(firstBatch.watermark, 2));
    expect(refs(rest)).toEqual(ids.slice(2));
  });

  it('deleted rows come with deleted = true (queryAll), and the deletion moves the watermark', async () => {
    const ids = seed(3);
    const mark = (await collect(source().read(undefined, 10))).at(-1)?.watermark;
    server.remove('Contact', ids[0] as string);
    const after = await collect(source().read(mark, 10));
    expect(after.flatMap((b) => b.rows)).toEqual([
      expect.objectContaining({ ref: ids[0], deleted: true, values: expect.objectContaining({ IsDeleted: true }) }),
    ]);
    expect(server.requests.find((r) => r.kind === 'query')?.url).toContain('/queryAll?q=');
  });

  it('a session expiring mid-run signs in again once and the read completes', async () => {
    const ids = seed(7);
    const got: string[] = [];
    for await (const b of source().read(undefined, 3)) {
      got.push(...b.rows.map((r) => r.ref));
      if (got.length === 3) server.expireSessions();
    }
    expect(got).toEqual(ids);
    expect(server.count('token')).toBe(2);
    expect(server.requests.filter((r) => r.status === 401).map((r) => r.kind)).toEqual(['queryMore']);
  });

  it('a session refused again after signing in anew is source_auth_failed, after one retry', async () => {
    seed(2);
    server.refuseSessions = true;
    const e = await failure(collect(source().read(undefined, 10)));
    expect(e.code).toBe('source_auth_failed');
    expect(e.message).toMatch(/INVALID_SESSION_ID/);
    expect(server.count('token')).toBe(2);
    expect(server.count('limits')).toBe(2);
  });

  it('signs in with the JWT bearer flow: an RS256 assertion with iss, sub, aud and exp in 3 minutes', async () => {
    const ids = seed(2);
    const batches = await collect(source({ spec: jwtSpec() }).read(undefined, 10));
    expect(refs(batches)).toEqual(ids);
    const t = server.requests.find((r) => r.kind === 'token');
    expect(t?.grant).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(t?.status).toBe(200);
    expect(t?.claims).toMatchObject({ iss: CLIENT_ID, sub: USERNAME, aud: `https://login.test:${server.port}` });
    const exp = (t?.claims?.exp as number) - Math.floor(Date.now() / 1000);
    expect(exp).toBeGreaterThan(170);
    expect(exp).toBeLessThanOrEqual(180);
    expect(audits.find((a) => a.host === 'login.test')?.outcome).toBe('sent');
  });

  it('a JWT signed with a key the connected app does not know is source_auth_failed naming the setting', async () => {
    const e = await failure(source({ spec: jwtSpec(otherKeyFile) }).describe());
    expect(e.code).toBe('source_auth_failed');
    expect(e.message).toContain('invalid_grant');
    expect(e.message).toContain('source.auth.private_key_file');
    expect(e.message).not.toContain('eyJ'); // no assertion (the server quoted it back)
    expect(dataRequests()).toHaveLength(0);
  });

  it('a private key file that is missing or not a key is source_auth_failed, and nothing is sent', async () => {
    const missing = await failure(source({ spec: jwtSpec(join(scratchDir('sf-'), 'none.key')) }).describe());
    expect(missing.code).toBe('source_auth_failed');
    expect(missing.message).toContain('source.auth.private_key_file');
    expect(server.requests).toHaveLength(0);
  });

  it('signs in with the client credentials flow', async () => {
    const ids = seed(1);
    expect(refs(await collect(source().read(undefined, 10)))).toEqual(ids);
    expect(server.requests[0]).toMatchObject({ kind: 'token', grant: 'client_credentials', status: 200 });
  });

  it('a wrong client secret is source_auth_failed, naming the variable and never the secret', async () => {
    const wrong = `wrong-${SECRET}`;
    const e = await failure(source({ env: { SF_CLIENT_SECRET: wrong } }).describe());
    expect(e.code).toBe('source_auth_failed');
    expect(e.message).toContain('invalid_client');
    expect(e.message).toContain('SF_CLIENT_SECRET');
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(SECRET);
    expect(JSON.stringify(e)).not.toContain(wrong);
    const unset = await failure(source({ env: {} }).describe());
    expect(unset.code).toBe('source_auth_failed');
    expect(unset.message).toContain('SF_CLIENT_SECRET');
  });

  it('the day budget spent is source_budget_exhausted after exactly max API calls', async () => {
    seed(10);
    const budget = { used: 0, max: 3 };
    let calls = 0;
    const got: string[] = [];
    const e = await failure(
      (async () => {
        for await (const b of source({ budget, onCall: () => calls++ }).read(undefined, 3)) got.push(...b.rows.map((r) => r.ref));
      })(),
    );
    expect(e.code).toBe('source_budget_exhausted');
    expect(e.message).toContain('sf_max_daily_api_calls');
    expect(budget.used).toBe(3);
    expect(calls).toBe(3);
    expect(dataRequests()).toHaveLength(3); // limits, query, queryMore
    expect(got).toHaveLength(6);
    // A spent budget sends nothing, not even a token request.
    server.reset();
    const again = await failure(source({ budget }).describe());
    expect(again.code).toBe('source_budget_exhausted');
    expect(server.requests).toHaveLength(0);
  });

  it('the org down to its reserve of DailyApiRequests is source_budget_exhausted before any query', async () => {
    seed(3);
    server.setLimits({ max: 1000, remaining: 40 });
    const e = await failure(collect(source().read(undefined, 10)));
    expect(e.code).toBe('source_budget_exhausted');
    expect(e.message).toMatch(/daily API requests left/);
    expect(server.count('limits')).toBe(1);
    expect(server.count('query')).toBe(0);
    // With a lower reserve the pass goes on.
    expect(refs(await collect(source({ orgReserve: 10 }).read(undefined, 10)))).toHaveLength(3);
  });

  it('an uncovered instance host is egress_denied and the server sees no request', async () => {
    seed(1);
    const spec = { ...ccSpec(), instanceUrl: `https://uncovered.test:${server.port}`, loginUrl: `https://uncovered.test:${server.port}` };
    const e = await failure(collect(source({ spec }).read(undefined, 10)));
    expect(e.code).toBe('egress_denied');
    expect(server.requests).toHaveLength(0);
    expect(audits).toEqual([expect.objectContaining({ host: 'uncovered.test', outcome: 'denied', reason: 'not_covered' })]);
  });

  it('a token endpoint naming an uncovered instance is egress_denied: no data request is sent', async () => {
    seed(1);
    server.instanceHost = 'uncovered.test';
    const spec = { ...ccSpec(), loginUrl: `https://login.test:${server.port}` };
    const e = await failure(collect(source({ spec }).read(undefined, 10)));
    expect(e.code).toBe('egress_denied');
    expect(server.requests.map((r) => r.kind)).toEqual(['token']);
  });

  it('the instance needs a phi agreement: a no-phi one admits the token request (no PHI in it) and nothing else', async () => {
    seed(1);
    covered.set('login.test', 'no-phi');
    expect(refs(await collect(source({ spec: jwtSpec() }).read(undefined, 10)))).toHaveLength(1);
    server.reset();
    audits.length = 0;
    covered.set('sf.test', 'no-phi');
    const e = await failure(collect(source({ spec: jwtSpec() }).read(undefined, 10)));
    expect(e.code).toBe('egress_denied');
    expect(server.requests.map((r) => r.kind)).toEqual(['token']);
    expect(audits.map((a) => `${a.host} ${a.outcome}`)).toEqual(['login.test sent', 'sf.test denied']);
  });

  it('jsforce cannot send around egress: its default HTTP client is unreachable, and a method egress does not send is refused', async () => {
    const sent: unknown[] = [];
    const t = new EgressTransport(
      {
        send: async (r) => {
          sent.push(r);
          return { status: 200, headers: {}, body: Buffer.from('{}') };
        },
      },
      {
        purpose: 'test',
        scope: () => 'phi',
      },
    );
    expect(() => t.getRequestStreamCreator()).toThrow(/only through Ward egress/);
    for (const method of ['DELETE', 'PATCH'] as const) {
      const e = await failure(t.httpRequest({ method, url: `${server.url}/services/data/v60.0/sobjects/Contact/x` }));
      expect(e.code).toBe('egress_denied');
    }
    expect(sent).toHaveLength(0);
    const ok = await t.httpRequest({
      method: 'GET',
      url: `${server.url}/x`,
      headers: { Authorization: 'Bearer t', 'Content-Length': '0' },
    });
    expect(ok.statusCode).toBe(200);
    expect(sent).toEqual([
      expect.objectContaining({ method: 'GET', headers: { authorization: 'Bearer t' }, purpose: 'test', scope: 'phi' }),
    ]);
    expect(() => source({ spec: { ...ccSpec(), instanceUrl: 'https://example.lightning.force.com' } })).toThrow(/My Domain/);
  });

  it('describe returns the fields and their Salesforce types, and follows a schema change', async () => {
    const s = source();
    expect(await s.describe()).toEqual([
      { name: 'Id', type: 'id' },
      { name: 'SystemModstamp', type: 'datetime' },
      { name: 'IsDeleted', type: 'boolean' },
      { name: 'LastName', type: 'string' },
      { name: 'Email', type: 'email' },
      { name: 'Phone', type: 'phone' },
      { name: 'Birthdate', type: 'date' },
      { name: 'Description', type: 'textarea' },
    ]);
    server.setSchema('Contact', [
      { name: 'LastName', type: 'string' },
      { name: 'Score__c', type: 'double' },
      { name: 'Status__c', type: 'picklist' },
    ]);
    expect((await s.describe())?.slice(3)).toEqual([
      { name: 'LastName', type: 'string' },
      { name: 'Score__c', type: 'double' },
      { name: 'Status__c', type: 'picklist' },
    ]);
  });

  it('an unreachable instance or a failing answer is source_unavailable', async () => {
    const spec = { ...ccSpec(), instanceUrl: 'https://sf.test:1', loginUrl: 'https://sf.test:1' };
    const down = await failure(source({ spec }).describe());
    expect(down.code).toBe('source_unavailable');
    server.failNext('query', 503, '<html>Service unavailable</html>', 'text/html');
    const e503 = await failure(collect(source().read(undefined, 10)));
    expect(e503.code).toBe('source_unavailable');
    expect(e503.message).toContain('ERROR_HTTP_503');
  });

  it('a malformed stored watermark is refused before anything is sent, and SOQL gets only checked values', async () => {
    for (const bad of [
      { modstamp: "2024-01-01T00:00:00Z OR Name != ''", id: '003000000000001AAA' },
      { modstamp: '2024-01-01T00:00:00.000Z', id: "003' OR Id != '" },
      { modstamp: '2024-01-01', id: '003000000000001AAA' },
      'yesterday',
      [1, 2],
    ]) {
      const e = await failure(collect(source().read(bad, 10)));
      expect(e.code).toBe('integrity_error');
    }
    expect(server.requests).toHaveLength(0);
    expect(parseWatermark({ modstamp: '2024-03-01T10:00:00.123+0000', id: '003000000000001AAA' })).toEqual({
      modstamp: '2024-03-01T10:00:00.123Z',
      id: '003000000000001AAA',
    });
    expect(buildSoql('Contact', ['LastName', 'Id'], { modstamp: '2024-03-01T10:00:00.123Z', id: '003000000000001' })).toBe(
      "SELECT Id, SystemModstamp, IsDeleted, LastName FROM Contact WHERE SystemModstamp > 2024-03-01T10:00:00.123Z OR (SystemModstamp = 2024-03-01T10:00:00.123Z AND Id > '003000000000001') ORDER BY SystemModstamp, Id",
    );
    expect(() => buildSoql('Contact', ['Name FROM User --'], undefined)).toThrow(/not a source field name/);
  });

  it('canary: no record value reaches an error message, whatever the org answers', async () => {
    const c = canaryPatient();
    const values = [c.name, c.email, c.notes, c.mrn];
    server.insert('Contact', { LastName: c.name, Email: c.email, Description: c.notes });
    const errors: WardError[] = [];
    // Salesforce error bodies quoting values.
    server.failNext('query', 400, [{ errorCode: 'INVALID_FIELD', message: `No such column near '${c.name}' ${c.email}` }]);
    errors.push(await failure(collect(source().read(undefined, 10))));
    server.failNext('describe', 500, `<html>${c.notes} ${c.mrn}</html>`, 'text/html');
    errors.push(await failure(source().describe()));
    server.failNext('query', 400, [
      { errorCode: 'MALFORMED_QUERY', message: c.name },
      { errorCode: 'INVALID_FIELD', message: c.email },
    ]);
    errors.push(await failure(collect(source().read(undefined, 10))));
    // An error code that is itself a value is not quoted.
    server.failNext('query', 400, [{ errorCode: c.notes, message: c.notes }]);
    errors.push(await failure(collect(source().read(undefined, 10))));
    // Answers of the wrong shape holding values.
    server.failNext('query', 200, { done: true, totalSize: 1, records: [{ LastName: c.name, Email: c.email }] });
    errors.push(await failure(collect(source().read(undefined, 10))));
    server.failNext('query', 200, { done: true, records: c.notes });
    errors.push(await failure(collect(source().read(undefined, 10))));
    server.failNext('token', 400, { error: 'invalid_grant', error_description: `${c.name} ${c.email}` });
    errors.push(await failure(source().describe()));
    server.failNext('token', 200, { access_token: c.mrn, instance_url: c.notes });
    errors.push(await failure(source().describe()));
    expect(errors.map((e) => e.code)).toEqual([
      'source_unavailable',
      'source_unavailable',
      'source_unavailable',
      'source_unavailable',
      'source_unavailable',
      'source_unavailable',
      'source_auth_failed',
      'source_unavailable',
    ]);
    for (const e of errors) {
      const text = `${e.message} ${JSON.stringify(e)} ${String(e.stack)}`;
      for (const v of values) expect(text).not.toContain(v);
    }
    expect(JSON.stringify(audits)).not.toContain(c.name);
  });
});
