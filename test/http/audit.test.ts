/** Authentication failures and the fail-closed audit trail over HTTP, on both drivers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { type Call, call, count, type HttpFixture, httpFixture } from './helpers.js';

type AuditRowDb = {
  actor: string;
  role: string;
  action: string;
  outcome: string;
  reason: string | null;
  request_id: string;
  client: string;
  record_ids: string[];
};

describe.each(DRIVERS)('authentication and the audit trail over HTTP on %s', (driver) => {
  let f: HttpFixture;
  const p = canaryPatient(1);
  let id = '';
  let tokens: Record<string, string> = {};
  const clinician = () => ({ key: f.keys.clinician, purpose: 'treatment' });
  const lastEvent = async () => (await f.t.db.query<AuditRowDb>('SELECT * FROM ward_audit_events ORDER BY seq DESC LIMIT 1'))[0];

  beforeAll(async () => {
    f = await httpFixture(driver);
    ({ id, tokens } = (await call(f.app, { method: 'POST', url: '/v1/collections/patients/records', body: p, ...clinician() })).json());
  });
  afterAll(async () => f.close());

  /** Asserts a 401 whose audit row names `actor`, and that the request stored nothing. */
  async function expectUnauthenticated(c: Omit<Call, 'url'>, actor: string | RegExp) {
    const records = await count(f, 'ward_records');
    const res = await call(f.app, { method: 'POST', body: canaryPatient(), ...c, url: '/v1/collections/patients/records' });
    expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(await count(f, 'ward_records')).toBe(records);
    const e = await lastEvent();
    expect(e).toMatchObject({
      action: 'authenticate',
      outcome: 'unauthenticated',
      reason: 'unauthenticated',
      role: 'none',
      client: '127.0.0.1',
    });
    expect(e?.actor).toMatch(actor);
    expect(e?.request_id).toBe(res.headers['x-request-id']);
  }

  it('a request without a key gets 401, stores nothing and is audited as anonymous', async () => {
    await expectUnauthenticated({}, /^anonymous$/);
    await expectUnauthenticated({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }, /^anonymous$/);
    await expectUnauthenticated({ key: 'not-a-ward-key' }, /^anonymous$/);
  });

  it('a well-formed key with a wrong secret gets 401 and is audited under its prefix only', async () => {
    const prefix = f.keys.clinician.split('_')[1] as string;
    const forged = `ward_${prefix}_${'A'.repeat(43)}`;
    await expectUnauthenticated({ key: forged, purpose: 'treatment' }, new RegExp(`^key:${prefix}$`));
    const secret = f.keys.clinician.split('_').slice(2).join('_');
    const rows = await f.t.db.query('SELECT * FROM ward_audit_events');
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('a revoked key gets 401 from its next request on', async () => {
    const { key, id: keyId } = await f.apiKeys.create('clinician', 'soon revoked');
    const url = `/v1/collections/patients/records/${id}`;
    expect((await call(f.app, { url, key, purpose: 'treatment' })).statusCode).toBe(200);
    await f.apiKeys.revoke(keyId);
    expect((await call(f.app, { url, key, purpose: 'treatment' })).statusCode).toBe(401);
  });

  it('an expired key gets 401', async () => {
    const { key } = await f.apiKeys.create('clinician', 'expired', new Date(Date.now() - 1000));
    await expectUnauthenticated({ key, purpose: 'treatment' }, /^key:[a-z0-9]{10}$/);
  });

  it('fail-closed: when the audit row cannot be written, every endpoint answers 503 audit_failed with no data and changes nothing', async () => {
    const records = await count(f, 'ward_records');
    const base = '/v1/collections/patients';
    const calls: Call[] = [
      { method: 'POST', url: `${base}/records`, body: canaryPatient(2), ...clinician() },
      { method: 'POST', url: `${base}/records:batch`, body: { records: [canaryPatient(3)] }, ...clinician() },
      { url: `${base}/records/${id}`, ...clinician() },
      { method: 'PATCH', url: `${base}/records/${id}`, body: { plan: 'bronze', name: 'Changed Name' }, ...clinician() },
      { method: 'DELETE', url: `${base}/records/${id}`, ...clinician() },
      { method: 'POST', url: `${base}/search`, body: { where: { mrn: p.mrn } }, ...clinician() },
      { method: 'POST', url: '/v1/detokenize', body: { tokens: [tokens.ssn] }, ...clinician() },
      { url: `${base}/records/${id}`, key: f.keys.billing, purpose: 'treatment' },
      { url: '/v1/audit/events', key: f.keys.auditor },
      { url: `${base}/records/${id}` },
    ];
    await f.t.db.query('ALTER TABLE ward_audit_events ADD CONSTRAINT ward_test_block CHECK (false) NOT VALID');
    try {
      for (const c of calls) {
        const res = await call(f.app, c);
        expect([c.method ?? 'GET', c.url, res.statusCode, res.json().code]).toEqual([c.method ?? 'GET', c.url, 503, 'audit_failed']);
        expect(Object.keys(res.json()).sort()).toEqual(['code', 'detail', 'requestId', 'status', 'title', 'type']);
        for (const v of Object.values(p)) if (v !== 'gold') expect(res.body).not.toContain(v);
      }
    } finally {
      await f.t.db.query('ALTER TABLE ward_audit_events DROP CONSTRAINT ward_test_block');
    }
    expect(await count(f, 'ward_records')).toBe(records);
    const after = await call(f.app, { url: `${base}/records/${id}`, ...clinician() });
    expect(after.json()).toMatchObject({ version: 1, fields: p });
  });
});
