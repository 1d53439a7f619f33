/** The v1 contract in-process: every endpoint's status, shape and headers, on both drivers. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import type { Vault } from '../../src/vault/vault.js';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { call, type HttpFixture, httpFixture, memoryLogger } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(DRIVERS)('HTTP API v1 on %s', (driver) => {
  let f: HttpFixture;
  const as = () => ({ key: f.keys.clinician, purpose: 'treatment' });
  beforeAll(async () => {
    f = await httpFixture(driver);
  });
  afterAll(async () => f.close());

  it('creates, reads, updates, searches, detokenizes and deletes a record', async () => {
    const p = canaryPatient(1);
    const created = await call(f.app, { method: 'POST', url: '/v1/collections/patients/records', body: p, ...as() });
    expect(created.statusCode).toBe(201);
    const { id, version, tokens } = created.json();
    expect(id).toMatch(UUID);
    expect(version).toBe(1);
    expect(Object.keys(tokens).sort()).toEqual(['email', 'ssn']);

    const got = await call(f.app, { url: `/v1/collections/patients/records/${id}`, ...as() });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id, version: 1, fields: p });
    expect(Object.keys(got.json()).sort()).toEqual(['createdAt', 'expiresAt', 'fields', 'id', 'updatedAt', 'version']);
    const some = await call(f.app, { url: `/v1/collections/patients/records/${id}?fields=ssn,plan&masked=true`, ...as() });
    expect(some.json().fields).toEqual({ ssn: `***-**-${p.ssn.slice(-4)}`, plan: 'gold' });

    const patched = await call(f.app, {
      method: 'PATCH',
      url: `/v1/collections/patients/records/${id}`,
      body: { plan: 'silver', notes: null },
      ...as(),
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toEqual({ id, version: 2 });

    const found = await call(f.app, {
      method: 'POST',
      url: '/v1/collections/patients/search',
      body: { where: { name: p.name }, fields: ['plan'] },
      ...as(),
    });
    expect(found.statusCode).toBe(200);
    expect(found.json().records.map((r: { id: string; fields: unknown }) => [r.id, r.fields])).toEqual([[id, { plan: 'silver' }]]);

    const values = await call(f.app, { method: 'POST', url: '/v1/detokenize', body: { tokens: [tokens.ssn, tokens.email] }, ...as() });
    expect(values.statusCode).toBe(200);
    expect(values.json()).toEqual({ values: { [tokens.ssn]: p.ssn, [tokens.email]: p.email } });

    const deleted = await call(f.app, { method: 'DELETE', url: `/v1/collections/patients/records/${id}`, ...as() });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    const gone = await call(f.app, { url: `/v1/collections/patients/records/${id}`, ...as() });
    expect([gone.statusCode, gone.json().code]).toEqual([404, 'not_found']);
  });

  it('batch create is all or nothing and names the bad record by position', async () => {
    const url = '/v1/collections/patients/records:batch';
    const good = [canaryPatient(10), canaryPatient(11)];
    const ok = await call(f.app, { method: 'POST', url, body: { records: good }, ...as() });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().ids).toHaveLength(2);
    const before = await f.t.db.query('SELECT id FROM ward_records');
    const bad = await call(f.app, {
      method: 'POST',
      url,
      body: { records: [canaryPatient(12), { ...canaryPatient(13), zip: 'ABCDE' }] },
      ...as(),
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'validation_failed', issues: [{ field: 'records[1].zip' }] });
    expect(await f.t.db.query('SELECT id FROM ward_records')).toHaveLength(before.length);
  });

  it("rule: the request id is always Ward's own: an X-Request-Id never reaches the response, the logs or the audit trail", async () => {
    // Even a hex trace id can spell an SSN (387294615...), so none is adopted.
    for (const given of ['4bf92f3577b34da6a3ce929d0e0e4736', '387294615000000000', "x' OR 1=1 --", '123-45-6789']) {
      const res = await call(f.app, { url: '/healthz', headers: { 'x-request-id': given } });
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.headers['x-request-id']).not.toBe(given);
    }
    const p = canaryPatient(20);
    const res = await call(f.app, {
      method: 'POST',
      url: '/v1/collections/patients/records',
      body: p,
      headers: { 'x-request-id': '387294615000000000' },
      ...as(),
    });
    const [row] = await f.t.db.query<{ request_id: string; client: string; purpose: string; actor: string }>(
      'SELECT * FROM ward_audit_events WHERE request_id = $1',
      [res.headers['x-request-id']],
    );
    expect(row).toMatchObject({ client: '127.0.0.1', purpose: 'treatment', actor: expect.stringMatching(/^key:[a-z0-9]{10}$/) });
    const stored = JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'));
    expect(stored).not.toContain('387294615');
    expect(f.logs.join('\n')).not.toContain('387294615');
  });

  it('sends no-store, nosniff and the request id on every response, and no HSTS over plain HTTP', async () => {
    for (const url of ['/healthz', '/v1/audit/events', '/nowhere']) {
      const r = await call(f.app, { url });
      expect(r.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      expect(r.headers['x-request-id']).toBeTruthy();
      expect(r.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('lists audit events with filters and paging', async () => {
    const p = canaryPatient(30);
    const { id } = (await call(f.app, { method: 'POST', url: '/v1/collections/patients/records', body: p, ...as() })).json();
    for (let i = 0; i < 3; i++) await call(f.app, { url: `/v1/collections/patients/records/${id}`, ...as() });
    const auditor = { key: f.keys.auditor };
    const page1 = await call(f.app, { url: `/v1/audit/events?recordId=${id}&limit=2`, ...auditor });
    expect(page1.statusCode).toBe(200);
    expect(page1.json().events.map((e: { action: string }) => e.action)).toEqual(['create', 'read']);
    const page2 = await call(f.app, { url: `/v1/audit/events?recordId=${id}&limit=2&after=${page1.json().next}`, ...auditor });
    expect(page2.json().events.map((e: { action: string }) => e.action)).toEqual(['read', 'read']);
    const page3 = await call(f.app, { url: `/v1/audit/events?recordId=${id}&after=${page2.json().next}`, ...auditor });
    // reading the trail is audited too: the first two pages' reads follow
    expect(page3.json().events.map((e: { action: string; role: string }) => [e.action, e.role])).toEqual([
      ['audit.read', 'auditor'],
      ['audit.read', 'auditor'],
    ]);
    expect(page3.json().next).toBeNull();
    const event = page1.json().events[0];
    expect(event).toMatchObject({ recordIds: [id], collection: 'patients', outcome: 'allowed', purpose: 'treatment', role: 'clinician' });
    const actor = event.actor;
    const byActor = await call(f.app, { url: `/v1/audit/events?actor=${actor}&limit=1000`, ...auditor });
    expect(byActor.json().events.every((e: { actor: string }) => e.actor === actor)).toBe(true);
    const future = await call(f.app, { url: '/v1/audit/events?since=2999-01-01T00:00:00Z', ...auditor });
    expect(future.json().events).toEqual([]);
    const past = await call(f.app, { url: '/v1/audit/events?until=2000-01-01T00:00:00Z', ...auditor });
    expect(past.json().events).toEqual([]);
    for (const q of ['limit=0', 'limit=5000', 'recordId=nope', 'since=yesterday', 'after=-1', 'colour=red'])
      expect((await call(f.app, { url: `/v1/audit/events?${q}`, ...auditor })).json().code).toBe('invalid_request');
  });

  it('health, readiness and the OpenAPI document need no key; metrics are not on the API listener', async () => {
    expect((await call(f.app, { url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await call(f.app, { url: '/readyz' })).json()).toEqual({ status: 'ready' });
    expect((await call(f.app, { url: '/metrics' })).json()).toMatchObject({ status: 404, code: 'route_not_found' });
    const metrics = { body: await f.metrics.registry.metrics() };
    expect(metrics.body).toContain('ward_http_requests_total{method="GET",route="/healthz",status="200"}');
    expect(metrics.body).toContain('ward_http_request_duration_seconds_bucket');
    expect(metrics.body).toMatch(/ward_audit_writes_total \d+/);
    expect(metrics.body).toMatch(/^ward_db_pool_connections\{state="total"\} [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^ward_db_pool_connections\{state="idle"\} \d+$/m);
    expect(metrics.body).toMatch(/^ward_db_pool_connections\{state="waiting"\} 0$/m);
  });

  it('the pool gauge is read at scrape time: callers waiting for a connection show up', async () => {
    const gauge = async (state: string) =>
      (await f.metrics.poolConnections.get()).values.find((v) => v.labels.state === state)?.value ?? Number.NaN;
    expect(await gauge('total')).toBe(f.t.db.stats().total);
    if (driver === 'pglite') return expect([await gauge('total'), await gauge('waiting')]).toEqual([1, 0]);
    // Hold all 4 pooled connections (freshDb's pool size) in transactions, then queue a query behind them.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const holders = Array.from({ length: 4 }, () => f.t.db.transaction(() => held));
    await vi.waitFor(() => expect(f.t.db.stats()).toEqual({ total: 4, idle: 0, waiting: 0 }));
    const queued = f.t.db.query('SELECT 1');
    expect([await gauge('total'), await gauge('idle'), await gauge('waiting')]).toEqual([4, 0, 1]);
    release();
    await Promise.all([...holders, queued]);
    expect([await gauge('total'), await gauge('waiting')]).toEqual([4, 0]);
  });

  it('readiness is 503 database_error when the database does not answer; liveness stays 200', async () => {
    const down = { ...f.t.db, query: () => Promise.reject(new Error('connection refused')) };
    const vault = Object.create(f.t.vault, { db: { value: down } }) as Vault;
    const app = await buildApp({ vault, apiKeys: f.apiKeys, logger: memoryLogger([]) });
    const ready = await call(app, { url: '/readyz' });
    expect([ready.statusCode, ready.json().code]).toEqual([503, 'database_error']);
    expect((await call(app, { url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it('counts audit writes exactly as the audit table grows', async () => {
    const rows = async () => (await f.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_audit_events'))[0]?.n ?? 0;
    const counted = async () => (await f.metrics.auditWrites.get()).values[0]?.value ?? 0;
    const [rowsBefore, countedBefore] = [await rows(), await counted()];
    const p = canaryPatient(40);
    const { id } = (await call(f.app, { method: 'POST', url: '/v1/collections/patients/records', body: p, ...as() })).json();
    await call(f.app, { method: 'PATCH', url: `/v1/collections/patients/records/${id}`, body: { plan: 'bronze' }, ...as() });
    await call(f.app, { url: `/v1/collections/patients/records/${id}`, key: f.keys.billing, purpose: 'treatment' });
    await call(f.app, { url: `/v1/collections/patients/records/${id}`, key: 'ward_wrong' });
    expect((await rows()) - rowsBefore).toBe(4);
    expect((await counted()) - countedBefore).toBe(4);
  });

  it('publishes an OpenAPI 3.1 document listing every route with its methods', async () => {
    const doc = (await call(f.app, { url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    const methods = Object.fromEntries(
      Object.entries(doc.paths as Record<string, object>).map(([path, ops]) => [path, Object.keys(ops).sort()]),
    );
    expect(methods).toEqual({
      '/healthz': ['get'],
      '/readyz': ['get'],
      '/openapi.json': ['get'],
      '/v1/collections/{c}/records': ['post'],
      '/v1/collections/{c}/records:batch': ['post'],
      '/v1/collections/{c}/records/{id}': ['delete', 'get', 'patch'],
      '/v1/collections/{c}/search': ['post'],
      '/v1/collections/{c}/subjects/shred': ['post'],
      '/v1/detokenize': ['post'],
      '/v1/events/schemas': ['get'],
      '/v1/admin/baa': ['get', 'post'],
      '/v1/admin/baa/{id}': ['delete'],
      '/v1/events/{topic}': ['get'],
      '/v1/events/{topic}/stream': ['get'],
      '/v1/audit/events': ['get'],
      '/v1/audit/subjects/{recordId}/disclosures': ['get'],
      '/v1/audit/verify': ['get'],
      '/v1/audit/checkpoint': ['get'],
      '/v1/compliance/checks': ['get'],
      '/v1/audit/break-glass': ['get'],
      '/v1/audit/break-glass/{id}/review': ['post'],
      '/v1/admin/api-keys': ['get', 'post'],
      '/v1/admin/api-keys/{id}': ['delete'],
      '/v1/admin/api-keys/{id}/rotate': ['post'],
    });
    const get = doc.paths['/v1/collections/{c}/records/{id}'].get;
    expect(get.security).toEqual([{ apiKey: [] }]);
    expect(get.parameters.map((x: { in: string; name: string }) => `${x.in}:${x.name}`).sort()).toEqual([
      'header:ward-break-glass',
      'header:ward-purpose',
      'path:c',
      'path:id',
      'query:fields',
      'query:masked',
    ]);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '401', '403', '404', '422', '503']);
    // The closed list of problem codes is part of the contract.
    expect(doc.components.schemas.Problem.properties.code.enum.sort()).toEqual(Object.keys(ERROR_CODES).sort());
    expect(doc.components.schemas.Problem.properties.code.enum).toEqual(expect.arrayContaining(['purpose_required', 'audit_failed']));
    expect(Object.keys(doc.components.schemas).sort()).toEqual([
      'ApiKey',
      'AuditEvent',
      'PatientsCreate',
      'PatientsFields',
      'PatientsUpdate',
      'Problem',
      'Record',
    ]);
    // Each collection's record schemas refuse fields ward.yaml does not declare, and the SDK's generator finds them by name.
    expect(doc.components.schemas.PatientsCreate).toMatchObject({ additionalProperties: false, required: ['mrn', 'name'] });
    expect(doc['x-ward-collections'].patients.create).toEqual({ $ref: '#/components/schemas/PatientsCreate' });
    // Every operation has a stable id (generators name methods after them) and says how it is secured.
    for (const ops of Object.values(doc.paths) as Record<string, { operationId?: string; security?: unknown[] }>[])
      for (const op of Object.values(ops)) {
        expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
        expect(Array.isArray(op.security)).toBe(true);
      }
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
