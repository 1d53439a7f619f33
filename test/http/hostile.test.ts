/**
 * Hostile clients, in-process: bodies of any shape, purposes and names a client makes up,
 * headers it forges, per-role rate limits and the admin endpoints. (Slow clients and lockouts
 * run over a real socket: sockets.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { initialized, ward } from '../cli/harness.js';
import { canaryPatient } from '../helpers.js';
import { call, count, type HttpFixture, httpFixture } from './helpers.js';

const C = '/v1/collections/patients';
const CANARY = 'canarylast-387-29-4615';
/** 130,000 numbers: about 260 KB, under the body limit. */
const HUGE_ARRAY = `[${'0,'.repeat(129_999)}0]`;

describe('bodies of any shape (pglite)', () => {
  let f: HttpFixture;
  let id = '';
  beforeAll(async () => {
    f = await httpFixture('pglite');
    id = (
      await call(f.app, { method: 'POST', url: `${C}/records`, key: f.keys.clinician, purpose: 'treatment', body: canaryPatient(1) })
    ).json().id;
  });
  afterAll(() => f.close());

  const clinician = () => ({ key: f.keys.clinician, purpose: 'treatment' });

  it('rule: no body shape gives a 5xx: a 130,000-element array is refused (4xx) on every kind of route, with no stack trace logged', async () => {
    const before = await count(f, 'ward_records');
    const answers = await Promise.all([
      call(f.app, { method: 'POST', url: '/healthz', raw: HUGE_ARRAY }),
      call(f.app, { method: 'POST', url: '/v2/anything', raw: HUGE_ARRAY }),
      call(f.app, { method: 'POST', url: `${C}/records`, raw: HUGE_ARRAY }),
      call(f.app, { method: 'POST', url: `${C}/records`, raw: HUGE_ARRAY, ...clinician() }),
      call(f.app, { method: 'POST', url: `${C}/search`, raw: HUGE_ARRAY, ...clinician() }),
      call(f.app, { method: 'POST', url: '/v1/detokenize', raw: HUGE_ARRAY, ...clinician() }),
    ]);
    expect(answers.map((r) => [r.statusCode, r.json().code])).toEqual([
      [405, 'method_not_allowed'],
      [404, 'route_not_found'],
      [401, 'unauthenticated'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
      [400, 'invalid_request'],
    ]);
    expect(answers[3]?.json().detail).toBe('the request body holds more than 100000 values');
    expect(await count(f, 'ward_records')).toBe(before);
    expect(f.logs.filter((l) => l.includes('"level":50') || l.includes('frames'))).toEqual([]);
  });

  it('rule: the body check is bounded in depth and breadth: deep nesting and wide objects are 400, not a stack overflow', async () => {
    const deep = await call(f.app, { method: 'POST', url: `${C}/records`, raw: `${'['.repeat(5000)}${']'.repeat(5000)}`, ...clinician() });
    expect([deep.statusCode, deep.json().detail]).toEqual([400, 'the request body nests deeper than 32 levels']);
    const wide = `{${Array.from({ length: 101_000 }, (_, i) => `"${i.toString(36)}":0`).join(',')}}`;
    const r = await call(f.app, { method: 'POST', url: `${C}/records`, raw: wide, ...clinician() });
    expect([r.statusCode, r.json().code]).toEqual([400, 'invalid_request']);
  });

  it('rule: locating undeclared keys costs linear work: a batch of 1,000 records with 90 made-up keys each answers at once', async () => {
    const records = Array.from({ length: 1000 }, (_, r) =>
      Object.fromEntries(Array.from({ length: 90 }, (_, k) => [(r * 90 + k).toString(36), 0])),
    );
    const started = performance.now();
    const res = await call(f.app, { method: 'POST', url: `${C}/records:batch`, body: { records }, ...clinician() });
    expect([res.statusCode, res.json().code]).toEqual([422, 'unknown_field']);
    expect(res.json().detail).toMatch(
      /^records\[0\] \(key 1\), .*records\[0\] \(key 10\) and \d+ more: not a field of collection patients$/,
    );
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('rule: a route that takes no body does not parse one: what is sent with a GET, DELETE or 405 is never read', async () => {
    // Bodies that would be refused if parsed: invalid JSON, a forbidden key, a huge array.
    for (const raw of ['{"not json', '{"__proto__": {}}', HUGE_ARRAY]) {
      const del = await call(f.app, { method: 'DELETE', url: `${C}/records/01a21781-981b-7347-b11b-0d5987c3b3a4`, raw, ...clinician() });
      expect([del.statusCode, del.json().code]).toEqual([404, 'not_found']);
      const put = await call(f.app, { method: 'PUT', url: `${C}/records/${id}`, raw, ...clinician() });
      expect([put.statusCode, put.json().code]).toEqual([405, 'method_not_allowed']);
      const admin = await call(f.app, { method: 'DELETE', url: `/v1/admin/api-keys/${id}`, raw, key: f.keys.admin });
      expect([admin.statusCode, admin.json().code]).toEqual([404, 'not_found']);
    }
    // A route that takes one still refuses what is not JSON.
    const text = await call(f.app, { method: 'POST', url: `${C}/records`, raw: 'x', contentType: 'text/plain', ...clinician() });
    expect([text.statusCode, text.json().code]).toEqual([415, 'unsupported_media_type']);
  });
});

describe('what a client makes up never reaches the audit trail (pglite)', () => {
  let f: HttpFixture;
  let id = '';
  beforeAll(async () => {
    f = await httpFixture('pglite');
    id = (
      await call(f.app, { method: 'POST', url: `${C}/records`, key: f.keys.clinician, purpose: 'treatment', body: canaryPatient(2) })
    ).json().id;
  });
  afterAll(() => f.close());

  const auditText = async () => JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'));

  it('rule: an undeclared purpose is refused with unknown_purpose and audited with no purpose, never verbatim', async () => {
    const before = await count(f, 'ward_audit_events');
    for (const [key, url] of [
      [f.keys.clinician, `${C}/records/${id}`],
      [f.keys.billing, `${C}/records/${id}`], // a role that would be denied anyway
      [f.keys.auditor, '/v1/audit/events'],
    ] as const) {
      const r = await call(f.app, { url, key, purpose: CANARY });
      expect([r.statusCode, r.json().code]).toEqual([403, 'unknown_purpose']);
      expect(r.body).not.toContain(CANARY);
    }
    const rows = await f.t.db.query<{ purpose: string | null; outcome: string; reason: string }>(
      'SELECT purpose, outcome, reason FROM ward_audit_events WHERE seq > (SELECT max(seq) - 3 FROM ward_audit_events) ORDER BY seq',
    );
    expect(rows).toEqual(Array(3).fill({ purpose: null, outcome: 'denied', reason: 'unknown_purpose' }));
    expect(await count(f, 'ward_audit_events')).toBe(before + 3);
    expect(await auditText()).not.toContain('387-29-4615');
    expect(f.logs.join('\n')).not.toContain('387-29-4615');
  });

  it('rule: a purpose declared for another role is no unknown purpose: it is purpose_not_permitted', async () => {
    const r = await call(f.app, { url: `${C}/records/${id}`, key: f.keys.clinician, purpose: 'payment' });
    expect([r.statusCode, r.json().code]).toEqual([403, 'purpose_not_permitted']);
    const repeated = await f.app.inject({
      url: `${C}/records/${id}`,
      headers: { authorization: `Bearer ${f.keys.clinician}`, 'ward-purpose': ['treatment', 'payment'] },
    });
    expect([repeated.statusCode, repeated.json().code]).toEqual([403, 'unknown_purpose']);
  });

  it('rule: no audit column holds a client-chosen string: forged request ids, key prefixes, forwarded addresses and agents', async () => {
    const forgedKey = `ward_canaryname_${'A'.repeat(43)}`;
    await call(f.app, {
      url: `${C}/records/${id}`,
      key: forgedKey,
      headers: { 'x-request-id': '3872946150000000', 'user-agent': CANARY, 'x-forwarded-for': '387.29.46.15' },
    });
    await call(f.app, {
      url: `${C}/records/01a21781-981b-7347-b11b-0d5987c3b3a4`,
      key: f.keys.clinician,
      purpose: 'treatment',
      headers: { 'x-request-id': '3872946150000000', 'user-agent': CANARY },
    });
    // A record that does not exist is not found before its patch is judged: the id sent is not kept.
    const madeUp = '38729461-5000-4000-8000-000000000000';
    const patch = await call(f.app, {
      method: 'PATCH',
      url: `${C}/records/${madeUp}`,
      key: f.keys.clinician,
      purpose: 'treatment',
      body: { zip: 'x' },
    });
    expect([patch.statusCode, patch.json().code]).toEqual([404, 'not_found']);
    const text = await auditText();
    for (const planted of ['canaryname', '387294615', CANARY, '387.29.46.15', '38729461']) expect(text).not.toContain(planted);
    const [denied] = await f.t.db.query<{ actor: string; client: string }>(
      "SELECT actor, client FROM ward_audit_events WHERE action = 'authenticate' ORDER BY seq DESC LIMIT 1",
    );
    expect(denied).toEqual({ actor: 'anonymous', client: '127.0.0.1' });
  });
});

const LIMITED = EXAMPLE_CONFIG.replace(
  '    description: Billing office; name, SSN (last four digits only) and plan, for payment\n',
  '    description: Billing office; name, SSN (last four digits only) and plan, for payment\n    rate_limit: { requests: 3, per: 1m }\n',
);

describe('per-role rate limits (pglite)', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite', { config: LIMITED });
  });
  afterAll(() => f.close());

  it('rule: past its role rate, a key gets 429 too_many_requests with Retry-After; other roles are not held back', async () => {
    const search = {
      method: 'POST' as const,
      url: `${C}/search`,
      key: f.keys.billing,
      purpose: 'payment',
      body: { where: { name: 'Nobody Here' } },
    };
    for (let i = 0; i < 3; i++) expect((await call(f.app, search)).statusCode).toBe(200);
    const over = await call(f.app, search);
    expect([over.statusCode, over.json().code]).toEqual([429, 'too_many_requests']);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++)
      expect((await call(f.app, { ...search, key: f.keys.clinician, purpose: 'treatment' })).statusCode).toBe(200);
  });
});

describe('API keys over HTTP for admin roles (pglite)', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite');
  });
  afterAll(() => f.close());

  it('an admin creates a key (shown once), lists keys without secrets, revokes one: refused from its next request, all audited', async () => {
    const created = await call(f.app, {
      method: 'POST',
      url: '/v1/admin/api-keys',
      key: f.keys.admin,
      body: { role: 'billing', name: `billing for ${CANARY}`, expires: '90d' },
    });
    expect(created.statusCode).toBe(201);
    const { id, key, role, expiresAt } = created.json();
    expect([role, key]).toEqual(['billing', expect.stringMatching(/^ward_[a-z0-9]{10}_/)]);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const use = { url: `${C}/records/01a21781-981b-7347-b11b-0d5987c3b3a4?fields=plan`, key };
    expect((await call(f.app, use)).statusCode).toBe(404);
    const listed = await call(f.app, { url: '/v1/admin/api-keys', key: f.keys.admin });
    expect(listed.body).not.toContain(key);
    expect(listed.body).not.toContain(key.split('_').slice(2).join('_')); // the secret (base64url: may hold _)
    expect(listed.json().keys.find((k: { id: string }) => k.id === id)).toMatchObject({ role: 'billing', revokedAt: null });
    expect((await call(f.app, { method: 'DELETE', url: `/v1/admin/api-keys/${id}`, key: f.keys.admin })).statusCode).toBe(204);
    expect((await call(f.app, use)).json().code).toBe('unauthenticated');
    const again = await call(f.app, { method: 'DELETE', url: `/v1/admin/api-keys/${id}`, key: f.keys.admin });
    expect([again.statusCode, again.json().code]).toEqual([404, 'not_found']);
    const rows = await f.t.db.query<{ action: string; outcome: string; record_ids: string[] }>(
      "SELECT action, outcome, record_ids FROM ward_audit_events WHERE action LIKE 'apikey.%' ORDER BY seq",
    );
    expect(rows.map((r) => [r.action, r.outcome])).toEqual([
      ['apikey.create', 'allowed'],
      ['apikey.list', 'allowed'],
      ['apikey.revoke', 'allowed'],
      ['apikey.revoke', 'failed'],
    ]);
    expect(rows[0]?.record_ids).toEqual([id]);
    expect(JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'))).not.toContain('canarylast');
  });

  it('rule: a role without admin: true may not manage keys: 403 forbidden, audited, nothing created', async () => {
    const before = (await call(f.app, { url: '/v1/admin/api-keys', key: f.keys.admin })).json().keys.length;
    for (const role of ['clinician', 'auditor'] as const) {
      const r = await call(f.app, {
        method: 'POST',
        url: '/v1/admin/api-keys',
        key: f.keys[role],
        body: { role: 'admin', name: 'escalate' },
      });
      expect([r.statusCode, r.json().code]).toEqual([403, 'forbidden']);
      expect((await call(f.app, { url: '/v1/admin/api-keys', key: f.keys[role] })).statusCode).toBe(403);
    }
    expect((await call(f.app, { url: '/v1/admin/api-keys', key: f.keys.admin })).json().keys).toHaveLength(before);
    const [row] = await f.t.db.query<{ outcome: string; reason: string }>(
      "SELECT outcome, reason FROM ward_audit_events WHERE action = 'apikey.create' AND outcome = 'denied' LIMIT 1",
    );
    expect(row).toEqual({ outcome: 'denied', reason: 'forbidden' });
    const unknownRole = await call(f.app, {
      method: 'POST',
      url: '/v1/admin/api-keys',
      key: f.keys.admin,
      body: { role: 'root', name: 'x' },
    });
    expect([unknownRole.statusCode, unknownRole.json().code]).toEqual([400, 'invalid_request']);
    const named = await call(f.app, {
      method: 'POST',
      url: '/v1/admin/api-keys',
      key: f.keys.admin,
      body: { role: 'jane_doe_19400101', name: 'x' },
    });
    expect([named.statusCode, named.body.includes('jane_doe')]).toEqual([400, false]);
    const nul = await call(f.app, {
      method: 'POST',
      url: '/v1/admin/api-keys',
      key: f.keys.admin,
      body: { role: 'billing', name: 'a\u0000b' },
    });
    expect([nul.statusCode, nul.json().code]).toEqual([400, 'invalid_request']);
  });
});

describe('errors quote only names ward.yaml and the API declare (pglite)', () => {
  let f: HttpFixture;
  let dir = '';
  const ID = '01a21781-981b-7347-b11b-0d5987c3b3a4';
  const typed = 'Canarylast';
  beforeAll(async () => {
    f = await httpFixture('pglite');
    dir = await initialized('ward-errors-');
  });
  afterAll(() => f.close());

  it('rule: an unknown collection, field, key or parameter is located (its position), never quoted', async () => {
    const clinician = { key: f.keys.clinician, purpose: 'treatment' };
    const cases: [Parameters<typeof call>[1], number, string, string][] = [
      [
        { url: `/v1/collections/${typed}/records/${ID}` },
        404,
        'unknown_collection',
        'the request names a collection ward.yaml does not declare',
      ],
      [{ url: `${C}/records/${ID}?fields=name,${typed}` }, 422, 'unknown_field', 'fields[1]: not a field of collection patients'],
      [
        { method: 'POST', url: `${C}/search`, body: { where: { mrn: 'MRN-1', [typed]: 'x' } } },
        422,
        'unknown_field',
        'where (key 2): not a field of collection patients',
      ],
      [
        { method: 'POST', url: `${C}/search`, body: { where: { mrn: 'MRN-1' }, fields: ['plan', typed] } },
        422,
        'unknown_field',
        'fields[1]: not a field of collection patients',
      ],
      [
        { method: 'POST', url: `${C}/records:batch`, body: { records: [canaryPatient(30), { ...canaryPatient(31), [typed]: 1 }] } },
        422,
        'unknown_field',
        'records[1] (key 11): not a field of collection patients',
      ],
      [
        { method: 'PATCH', url: `${C}/records/${ID}`, body: { plan: 'gold', [typed]: 1 } },
        422,
        'unknown_field',
        '(key 2): not a field of collection patients',
      ],
      [
        { method: 'POST', url: `${C}/search`, body: { where: { [typed]: { nested: true } } } },
        400,
        'invalid_request',
        'body.where.(key 1): must be string,number,boolean',
      ],
      [
        { method: 'POST', url: `${C}/search`, body: { where: { mrn: 'x' }, [typed]: 1 } },
        400,
        'invalid_request',
        'body.(key 2): is not allowed',
      ],
      [{ url: `${C}/records/${ID}?${typed}=1` }, 400, 'invalid_request', 'querystring.(key 1): is not allowed'],
      // digits are a key too, not an array index: not quoted either
      [
        { method: 'POST', url: `${C}/search`, body: { where: { 190212: { x: 1 } } } },
        400,
        'invalid_request',
        'body.where.(key 1): must be string,number,boolean',
      ],
    ];
    for (const [c, status, code, detail] of cases) {
      const r = await call(f.app, { ...clinician, ...c });
      expect([r.statusCode, r.json().code, r.json().detail], c.url).toEqual([status, code, detail]);
      expect(r.body).not.toContain(typed);
    }
    expect(f.logs.join('\n')).not.toContain(typed);
    const audit = JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'));
    expect(audit).not.toContain(typed);
  });

  it('rule: a field the collection does not have is the same error, code and status over HTTP and at the command line', async () => {
    const body = { ...canaryPatient(32), shoe_size: 42 };
    const http = await call(f.app, { method: 'POST', url: `${C}/records`, key: f.keys.clinician, purpose: 'treatment', body });
    const cli = await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify(body)]);
    expect([http.statusCode, http.json().code]).toEqual([422, 'unknown_field']);
    expect(cli).toEqual({ code: 1, stdout: '', stderr: `ward: ${http.json().detail} [unknown_field]\n` });
    // A role with no right to the collection at all is still refused as such.
    const auditor = await call(f.app, { method: 'POST', url: `${C}/records`, key: f.keys.auditor, body });
    expect([auditor.statusCode, auditor.json().code]).toEqual([403, 'forbidden']);
  });
});

describe('the de-identified view is HIPAA Safe Harbor (pglite)', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite');
  });
  afterAll(() => f.close());

  it('rule: ages over 89 and the years that reveal them are one category; sparse ZIP areas are 000; free text is dropped; the id is a pseudonym', async () => {
    const elder = {
      ...canaryPatient(40),
      dob: '1921-05-06',
      zip: '03601',
      diagnosis: 'Z00.0 pt Elder Person SSN 219-09-9999',
      diagnosis_code: 'Z00.0',
    };
    const { id } = (
      await call(f.app, { method: 'POST', url: `${C}/records`, key: f.keys.clinician, purpose: 'treatment', body: elder })
    ).json();
    const r = await call(f.app, { url: `${C}/records/${id}`, key: f.keys.analytics, purpose: 'research' });
    expect(r.statusCode).toBe(200);
    const view = r.json();
    expect(view.fields).toEqual({ dob: '90 or older', zip: '000**', diagnosis_code: 'Z00.0', plan: elder.plan });
    expect(view.id).toMatch(/^psn_/);
    expect(view.createdAt).toMatch(/^\d{4}$/);
    for (const leak of [id, '1921', '036', 'Elder', '219-09-9999']) expect(r.body).not.toContain(leak);
    // The pseudonym is stable for the record and differs between records.
    const again = await call(f.app, { url: `${C}/records/${id}`, key: f.keys.analytics, purpose: 'research' });
    expect(again.json().id).toBe(view.id);
    const { id: other } = (
      await call(f.app, { method: 'POST', url: `${C}/records`, key: f.keys.clinician, purpose: 'treatment', body: canaryPatient(41) })
    ).json();
    const second = await call(f.app, { url: `${C}/records/${other}`, key: f.keys.analytics, purpose: 'research' });
    expect(second.json().id).not.toBe(view.id);
    // A year of 89 or fewer years ago is shown; a ZIP area with more people keeps its three digits.
    expect(second.json().fields).toMatchObject({ dob: '1961', zip: '021**' });
  });
});
