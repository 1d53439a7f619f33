/**
 * The canary test: unique PHI values are planted and driven through every endpoint, errors
 * included; none may appear in the logs, the metrics, an error body or the audit table. API
 * keys and tokens are canaries too: they must never be logged or stored either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import type { Vault } from '../../src/vault/vault.js';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { type Call, call, type HttpFixture, httpFixture, memoryLogger, PURPOSE, ROLES } from './helpers.js';

const C = '/v1/collections/patients';
const TOPIC = 'local-dev.patients.refs.v1';

describe.each(DRIVERS)('no canary value escapes over HTTP on %s', (driver) => {
  let f: HttpFixture;
  const patients = [canaryPatient(101), canaryPatient(102), canaryPatient(103)];
  const [a, b, c] = patients as [(typeof patients)[0], (typeof patients)[0], (typeof patients)[0]];
  const errorBodies: string[] = [];
  const secrets: string[] = [];

  async function drive(x: Call) {
    const res = await call(f.app, x);
    if (res.statusCode >= 400) errorBodies.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${res.body}`);
    return res;
  }

  beforeAll(async () => {
    f = await httpFixture(driver);
    const cl = { key: f.keys.clinician, purpose: 'treatment' };
    const created = await drive({ method: 'POST', url: `${C}/records`, body: a, ...cl });
    const { id, tokens } = created.json();
    const batch = await drive({ method: 'POST', url: `${C}/records:batch`, body: { records: [b, c] }, ...cl });
    const [idB] = batch.json().ids;
    secrets.push(...Object.values(f.keys), ...Object.values(tokens as Record<string, string>));
    for (const role of ROLES) {
      const as = { key: f.keys[role], purpose: PURPOSE[role] };
      await drive({ url: `${C}/records/${id}`, ...as });
      await drive({ url: `${C}/records/${id}?fields=name,ssn,dob&masked=true`, ...as });
      await drive({ method: 'POST', url: `${C}/search`, body: { where: { name: a.name, email: a.email } }, ...as });
      await drive({ method: 'POST', url: '/v1/detokenize', body: { tokens: Object.values(tokens) }, ...as });
      await drive({ method: 'PATCH', url: `${C}/records/${idB}`, body: { phone: a.phone, notes: a.notes }, ...as });
      await drive({ url: '/v1/audit/events?limit=1000', ...as });
      await drive({ url: `/v1/audit/subjects/${id}/disclosures`, ...as });
      await drive({ url: '/v1/audit/verify', ...as });
      await drive({ url: '/v1/audit/checkpoint', ...as });
      await drive({ url: '/v1/audit/break-glass', ...as });
      await drive({ url: `/v1/events/${TOPIC}?after=0&limit=1000`, ...as });
      await drive({ url: '/v1/events/schemas', ...as });
      await drive({ url: `${C}/records/${id}`, key: f.keys[role], purpose: 'marketing' });
    }
    // errors, each carrying canary values in the place it goes wrong
    const errors: Call[] = [
      { method: 'POST', url: `${C}/records`, body: { ...a, dob: a.ssn, email: a.name, zip: a.mrn } },
      { method: 'POST', url: `${C}/records`, body: { ...b, mrn: a.mrn } },
      { method: 'POST', url: `${C}/records`, body: { [a.mrn]: a.name, [a.notes]: a.diagnosis } },
      {
        method: 'POST',
        url: `${C}/records:batch`,
        body: {
          records: [
            { ...c, mrn: `${c.mrn}-new` },
            { ...a, ssn: a.email },
          ],
        },
      },
      { method: 'POST', url: `${C}/records`, raw: `{"mrn": "${a.mrn}", "name": "${a.name}", ` },
      { method: 'POST', url: `${C}/records`, raw: JSON.stringify(a), contentType: 'text/plain' },
      { method: 'POST', url: `${C}/records`, raw: JSON.stringify({ ...a, notes: a.notes.repeat(40_000) }) },
      { method: 'POST', url: `/v1/collections/${encodeURIComponent(a.name)}/records`, body: a },
      { url: `${C}/records/${encodeURIComponent(a.ssn)}` },
      { url: `${C}/records/${id}?fields=${encodeURIComponent(a.email)}` },
      { method: 'POST', url: `${C}/search`, body: { where: { [a.name]: a.ssn } } },
      { method: 'POST', url: `${C}/search`, body: { where: { email: a.name, dob: a.zip } } },
      { method: 'POST', url: `${C}/search`, body: { where: { diagnosis: a.diagnosis } } },
      { method: 'POST', url: '/v1/detokenize', body: { tokens: [a.ssn, a.email] } },
      { method: 'PATCH', url: `${C}/records/${encodeURIComponent(a.mrn)}`, body: { name: a.name } },
      { method: 'DELETE', url: `${C}/records/${encodeURIComponent(a.phone)}` },
      { url: `/v1/audit/events?actor=${encodeURIComponent(a.email)}` },
      { url: `/v1/audit/subjects/${encodeURIComponent(a.ssn)}/disclosures` },
      { url: `/v1/audit/subjects/${id}/disclosures?since=${encodeURIComponent(a.dob + a.name)}` },
      { url: `/${encodeURIComponent(a.notes)}` },
      { url: `/v1/events/${encodeURIComponent(a.name)}` },
      { url: `/v1/events/${encodeURIComponent(`local-dev.${a.mrn.toLowerCase()}.refs.v1`)}` },
      { url: `/v1/events/${TOPIC}?after=${encodeURIComponent(a.ssn)}` },
      { url: `/v1/events/${TOPIC}/stream`, headers: { 'last-event-id': a.phone } },
      // break-glass: canaries in the reason (a role without break-glass; a reason too short), the use id and the note
      { url: `${C}/records/${id}`, headers: { 'ward-break-glass': `${a.name} ${a.ssn} coded in the lobby` } },
      { url: `${C}/records/${id}`, headers: { 'ward-break-glass': a.ssn } },
      { method: 'POST', url: `/v1/audit/break-glass/${encodeURIComponent(a.mrn)}/review`, body: { note: a.notes } },
      { url: `/v1/audit/break-glass?limit=${encodeURIComponent(a.ssn)}` },
    ];
    for (const x of errors) await drive({ key: f.keys.clinician, purpose: 'treatment', ...x });
    await drive({ url: `${C}/records/${id}`, key: f.keys.clinician, purpose: a.diagnosis });
    await drive({ url: `${C}/records/${id}`, key: a.ssn, purpose: 'treatment' });
    await drive({ url: `${C}/records/${id}`, headers: { authorization: `Basic ${Buffer.from(a.email).toString('base64')}` } });
    await drive({ url: `${C}/records/${id}`, key: f.keys.clinician.slice(0, -2), purpose: 'treatment' });
    await drive({ method: 'DELETE', url: `${C}/records/${idB}`, key: f.keys.clinician, purpose: 'treatment' });
    await drive({ url: `${C}/records/${idB}`, key: f.keys.clinician, purpose: 'treatment' });
    await drive({ url: '/healthz' });
    await drive({ url: '/readyz' });
    await drive({ url: '/openapi.json' });
    // an unexpected error whose message quotes PHI: a bare 500, and the log holds no message
    const broken = Object.create(f.t.vault, {
      create: { value: async () => Promise.reject(new TypeError(`cannot handle ${a.ssn} for ${a.name}`)) },
    }) as Vault;
    const app = await buildApp({ vault: broken, apiKeys: f.apiKeys, logger: memoryLogger(f.logs) });
    const res = await call(app, { method: 'POST', url: `${C}/records`, body: a, key: f.keys.clinician, purpose: 'treatment' });
    errorBodies.push(res.body);
    expect([res.statusCode, res.json().code, res.json().detail]).toEqual([
      500,
      'internal_error',
      'an unexpected error occurred; quote the request id when reporting it',
    ]);
    await app.close();
  });
  afterAll(async () => f.close());

  const canaries = () => [...patients.flatMap((p) => Object.values(p).filter((v) => v !== 'gold')), ...secrets];
  /**
   * Asserts no canary is in `text`. An all-digit canary (the ZIP code) counts only with no digit
   * on either side: inside a longer number (a millisecond timestamp such as 1795739021395) it is
   * not that value.
   */
  const expectNone = (text: string) => {
    for (const v of canaries())
      if (/^\d+$/.test(v)) expect(text, v).not.toMatch(new RegExp(`(?<!\\d)${v}(?!\\d)`));
      else expect(text).not.toContain(v);
  };

  it('drove every endpoint, errors included', () => {
    expect(errorBodies.length).toBeGreaterThan(30);
    expect(f.logs.length).toBeGreaterThan(50);
    const error = f.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'unexpected error');
    expect(error).toMatchObject({ level: 50, err: { type: 'TypeError', frames: expect.any(Array) } });
  });

  it('no canary value, key or token appears in any log line', () => {
    const logs = f.logs.join('\n');
    expectNone(logs);
    expect(logs).not.toMatch(/authorization|bearer/i);
  });

  it('no canary value, key or token appears in any error body or header', () => {
    expectNone(errorBodies.join('\n'));
  });

  it('no canary value, key or token appears in the metrics', async () => {
    const metrics = await f.metrics.registry.metrics();
    expect(metrics).toContain('ward_http_requests_total');
    expectNone(metrics);
  });

  it('no canary value appears in the outbox or the events any role can read', async () => {
    const rows = await f.t.db.query<{ body: unknown; topic: string }>(
      'SELECT topic, body FROM ward_outbox UNION ALL SELECT topic, body FROM ward_events',
    );
    expect(rows.length).toBeGreaterThan(3);
    const text = JSON.stringify(rows);
    for (const v of patients.flatMap((p) => Object.values(p).filter((x) => x !== 'gold')))
      if (/^\d+$/.test(v)) expect(text, v).not.toMatch(new RegExp(`(?<!\\d)${v}(?!\\d)`));
      else expect(text).not.toContain(v);
    const read = await call(f.app, { url: `/v1/events/${TOPIC}?after=0&limit=1000`, key: f.keys.billing });
    expect(read.json().events.length).toBe(rows.length);
  });

  it('no canary value, key or token appears in the audit table', async () => {
    const rows = JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'));
    expect(rows).toContain('"outcome":"unauthenticated"');
    expectNone(rows);
  });
});
