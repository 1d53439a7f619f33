/**
 * Crypto-shredding over HTTP: `POST /v1/collections/{c}/subjects/shred` with the subject named
 * through a record id in the body, for a role granted `shred` only; the answer names the records
 * shredded and no value, and nothing of the subject is served after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { call, type HttpFixture, httpFixture, PURPOSE } from './helpers.js';

// The example, with the patient's MRN as the subject and the clinician granted `shred` too.
const CONFIG = EXAMPLE_CONFIG.replace('\n  patients:\n', '\n  patients:\n    subject: mrn\n').replace(
  'actions: [create, read, update, delete, search, detokenize]',
  'actions: [create, read, update, delete, search, detokenize, shred]',
);

describe.each(DRIVERS)('shredding a subject over HTTP on %s', (driver) => {
  let f: HttpFixture;
  beforeAll(async () => {
    expect(CONFIG).toContain('subject: mrn');
    expect(CONFIG).toContain('detokenize, shred]');
    f = await httpFixture(driver, { config: CONFIG });
  });
  afterAll(() => f.close());

  it('rule: a role granted shred destroys the subject; one without is refused; no value in any answer or log', async () => {
    const p = canaryPatient(7);
    const created = await call(f.app, {
      key: f.keys.clinician,
      method: 'POST',
      url: '/v1/collections/patients/records',
      body: p,
      purpose: 'treatment',
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const q = canaryPatient(8);
    const other = (
      await call(f.app, { key: f.keys.clinician, method: 'POST', url: '/v1/collections/patients/records', body: q, purpose: 'treatment' })
    ).json().id as string;

    const refused = await call(f.app, {
      key: f.keys.billing,
      method: 'POST',
      url: '/v1/collections/patients/subjects/shred',
      body: { recordId: id },
      purpose: PURPOSE.billing,
    });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'forbidden']);

    const done = await call(f.app, {
      key: f.keys.clinician,
      method: 'POST',
      url: '/v1/collections/patients/subjects/shred',
      body: { recordId: id },
      purpose: 'treatment',
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ shredded: [id] });
    const gone = await call(f.app, { key: f.keys.clinician, url: `/v1/collections/patients/records/${id}`, purpose: 'treatment' });
    expect([gone.statusCode, gone.json().code]).toEqual([404, 'not_found']);
    const again = await call(f.app, {
      key: f.keys.clinician,
      method: 'POST',
      url: '/v1/collections/patients/subjects/shred',
      body: { recordId: id },
      purpose: 'treatment',
    });
    expect([again.statusCode, again.json().code]).toEqual([404, 'not_found']);
    const kept = await call(f.app, { key: f.keys.clinician, url: `/v1/collections/patients/records/${other}`, purpose: 'treatment' });
    expect(kept.json().fields.mrn).toBe(q.mrn);

    const everything = [refused.body, done.body, gone.body, again.body, f.logs.join('\n')].join('\n');
    for (const v of [p.mrn, p.name, p.ssn, p.email]) expect(everything).not.toContain(String(v));
    const audited = await f.t.db.query<{ outcome: string; record_ids: string[] }>(
      "SELECT outcome, record_ids FROM ward_audit_events WHERE action = 'shred' ORDER BY seq",
    );
    expect(audited).toEqual([
      { outcome: 'denied', record_ids: [] },
      { outcome: 'allowed', record_ids: [id] },
      { outcome: 'failed', record_ids: [] },
    ]);
  });
});
