/**
 * The SDK against a live `ward serve` on both drivers: every operation of the OpenAPI document
 * through its method at least once (checked against the document), refusals as WardErrors with
 * code, status and request id, the per-call purpose over the client's, and retries only of
 * idempotent calls on 503 through the SDK's `fetch` seam.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Fetch, isWardError, WardError } from '../../packages/sdk/src/index.js';
import { DRIVERS } from '../helpers.js';
import { eventually, patient, TOPIC, useSdkServer } from './helpers.js';

const document = JSON.parse(readFileSync(new URL('../../packages/sdk/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};
/** Each operation of the document as a pattern over `METHOD /path`. */
const OPERATIONS = Object.entries(document.paths).flatMap(([path, ops]) =>
  Object.keys(ops).map((m) => {
    const pattern = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
    return { name: `${m.toUpperCase()} ${path}`, re: new RegExp(`^${m.toUpperCase()} ${pattern}$`) };
  }),
);

/** The rejection of `p`, which must be a WardError. */
async function refusal(p: Promise<unknown>): Promise<WardError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof WardError)) throw new Error(`expected a WardError, got ${String(e)}`);
  return e;
}

/** A 503 problem answer, as a server that is starting would give. */
const unavailable = () =>
  new Response(
    JSON.stringify({
      type: 'urn:ward:problem:shutting_down',
      title: 'Unavailable',
      status: 503,
      code: 'shutting_down',
      detail: 'x',
      requestId: 'r-503',
    }),
    {
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
    },
  );

describe.each(DRIVERS)('the SDK against ward serve on %s', (driver) => {
  const s = useSdkServer(driver, { sealEveryMs: 200 });
  /** `METHOD /path` of every request the tests' clients sent. */
  const sent: string[] = [];
  const recording: Fetch = (request) => {
    sent.push(`${request.method} ${decodeURIComponent(new URL(request.url).pathname)}`);
    return globalThis.fetch(request);
  };
  const as = (role: Parameters<typeof s.client>[0], o: Parameters<typeof s.client>[1] = {}) => s.client(role, { fetch: recording, ...o });

  it('records: create, batch, get, update, search, detokenize, delete; the per-call purpose wins over the client’s', async () => {
    const ward = as('clinician');
    const p = patient();
    const created = await ward.records.create('patients', p);
    expect(created).toMatchObject({ id: expect.any(String), version: 1, tokens: { ssn: expect.any(String), email: expect.any(String) } });
    const ids = await ward.records.batch('patients', [patient(), patient()]);
    expect(ids).toHaveLength(2);

    const got = await ward.records.get('patients', created.id);
    expect(got).toMatchObject({ id: created.id, version: 1, fields: { mrn: p.mrn, name: p.name, plan: 'gold' } });
    const masked = await ward.records.get('patients', created.id, { fields: ['ssn', 'plan'], masked: true });
    expect(Object.keys(masked.fields).sort()).toEqual(['plan', 'ssn']);
    expect(masked.fields.ssn).toMatch(/^\*\*\*-\*\*-\d{4}$/);

    expect(await ward.records.update('patients', created.id, { plan: 'silver', notes: null })).toEqual({ id: created.id, version: 2 });
    const found = await ward.records.search('patients', { mrn: p.mrn }, { fields: ['plan', 'notes'], limit: 5 });
    expect(found.map((r) => [r.id, r.fields])).toEqual([[created.id, { plan: 'silver' }]]);
    expect(await ward.detokenize([created.tokens.ssn as string])).toEqual({ [created.tokens.ssn as string]: p.ssn });

    // A client whose default purpose the role may not use: refused, unless the call states its own.
    const billingPurpose = as('clinician', { purpose: 'payment' });
    const refused = await refusal(billingPurpose.records.get('patients', created.id));
    expect([refused.code, refused.status, refused.message]).toEqual([
      'purpose_not_permitted',
      403,
      'purpose_not_permitted: Purpose of use not permitted for this role',
    ]);
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await billingPurpose.records.get('patients', created.id, { purpose: 'treatment' })).id).toBe(created.id);

    await ward.records.delete('patients', ids[0] as string);
    expect((await refusal(ward.records.get('patients', ids[0] as string))).code).toBe('not_found');
    // The example names no subject: shredding is refused, as a WardError.
    const shred = await refusal(ward.records.shredSubject('patients', created.id));
    expect(shred.status).toBeGreaterThanOrEqual(400);
  });

  it('break-glass: a call’s reason opens emergency access; an auditor lists and reviews the use', async () => {
    const p = patient();
    const { id } = await as('clinician').records.create('patients', p);
    const triage = as('triage');
    // Triage's own rules show name, MRN and plan; with a reason, every field.
    expect(Object.keys((await triage.records.get('patients', id)).fields).sort()).toEqual(['mrn', 'name', 'plan']);
    const reason = 'patient unconscious in the emergency department, treating now';
    expect((await triage.records.get('patients', id, { breakGlass: reason })).fields.diagnosis).toBe(p.diagnosis);
    // A role without break_glass is refused by name.
    const e = await refusal(as('clinician').records.get('patients', id, { breakGlass: reason }));
    expect([e.code, e.status]).toEqual(['break_glass_not_allowed', 403]);
    const auditor = as('auditor');
    const [use] = await auditor.audit.breakGlassUses({ unreviewed: true, limit: 10 });
    expect(use).toMatchObject({ role: 'triage', reviewed: null });
    const reviewed = await auditor.audit.reviewBreakGlass(use?.id as string, 'justified: emergency care');
    expect(reviewed.reviewed).toMatchObject({ note: 'justified: emergency care' });
    expect(await auditor.audit.breakGlassUses({ unreviewed: true })).toEqual([]);
  });

  it('audit, events, compliance, health: each answers through its method', async () => {
    const ward = as('clinician');
    const { id } = await ward.records.create('patients', patient());
    const auditor = as('auditor');
    const page = await auditor.audit.events({ recordId: id, since: new Date(Date.now() - 60_000), limit: 10 });
    expect(page.events.map((e) => e.action)).toContain('create');
    expect(page.next).toBeNull();
    const disclosures = await auditor.audit.disclosures(id, { limit: 10 });
    expect(disclosures.events.every((e) => e.recordIds.includes(id))).toBe(true);
    const report = await auditor.audit.verify();
    expect(report.ok).toBe(true);
    expect((await auditor.verify()).ok).toBe(true);
    const checkpoint = await eventually(() => auditor.audit.checkpoint());
    expect(checkpoint.treeSize).toBeGreaterThan(0);
    const checks = await auditor.compliance.checks();
    expect(checks.findings.length).toBeGreaterThan(10);
    expect(checks.findings.every((f) => ['ok', 'alarm', 'skip', 'info', 'error'].includes(f.status))).toBe(true);

    const billing = as('billing');
    const events = await billing.events.read(TOPIC, { after: 0, limit: 1000 });
    expect(events.events.some((e) => e.recordId === id && e.action === 'create')).toBe(true);
    expect(Object.keys(await billing.events.schemas())).toEqual([TOPIC]);
    const ac = new AbortController();
    for await (const e of billing.events.stream(TOPIC, { after: 0, signal: ac.signal })) {
      expect(e.seq).toBeGreaterThan(0);
      ac.abort();
    }
    expect(await ward.health()).toEqual({ status: 'ok' });
    expect(await ward.ready()).toEqual({ status: 'ready' });
    expect((await ward.openapi()).openapi).toBe('3.1.0');
  });

  it('admin: API keys created, listed, rotated and revoked; a revoked key is a 401 WardError; agreements', async () => {
    const admin = as('admin');
    const made = await admin.admin.apiKeys.create({ role: 'clinician', name: 'sdk test service', expires: '90d' });
    expect(made.key).toMatch(/^ward_/);
    expect((await admin.admin.apiKeys.list()).map((k) => k.id)).toContain(made.id);
    const rotated = await admin.admin.apiKeys.rotate(made.id, { overlap: '1h' });
    expect(rotated.replaces).toBe(made.id);
    const successor = as('clinician', { apiKey: rotated.key });
    expect(await successor.records.create('patients', patient())).toMatchObject({ version: 1 });
    await admin.admin.apiKeys.revoke(rotated.id);
    const e = await refusal(successor.records.create('patients', patient()));
    expect([e.code, e.status, e.title]).toEqual(['unauthenticated', 401, 'Missing, wrong, expired or revoked API key']);
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const agreement = await admin.admin.agreements.add({
      name: 'Acme Hosting',
      hosts: ['hooks.acme.example'],
      signed: '2026-01-01',
      expires: '2099-01-01',
    });
    expect(agreement).toMatchObject({ name: 'Acme Hosting', status: 'active' });
    expect((await admin.admin.agreements.list()).map((a) => a.id)).toContain(agreement.id);
    await admin.admin.agreements.revoke(agreement.id);
    expect((await admin.admin.agreements.list()).find((a) => a.id === agreement.id)?.status).toBe('revoked');
  });

  it('every operation of the OpenAPI document was called through the SDK', () => {
    const missing = OPERATIONS.filter((o) => !sent.some((r) => o.re.test(r))).map((o) => o.name);
    expect(missing).toEqual([]);
  });

  it('rule: a GET answered 503 is tried again (Retry-After honoured); a POST is not', async () => {
    let failures = 1;
    const calls: string[] = [];
    const flaky: Fetch = (request) => {
      calls.push(request.method);
      if (failures > 0) {
        failures--;
        return Promise.resolve(unavailable());
      }
      return globalThis.fetch(request);
    };
    const ward = s.client('clinician', { fetch: flaky });
    expect(await ward.health()).toEqual({ status: 'ok' });
    expect(calls).toEqual(['GET', 'GET']);

    calls.length = 0;
    failures = 1;
    const e = await refusal(ward.records.create('patients', patient()));
    expect([e.code, e.status, e.requestId, e.retryAfter, calls]).toEqual(['shutting_down', 503, 'r-503', 0, ['POST']]);

    // DELETE is idempotent: retried. `retries: 0` turns retrying off.
    const { id } = await ward.records.create('patients', patient());
    calls.length = 0;
    failures = 1;
    await ward.records.delete('patients', id);
    expect(calls).toEqual(['DELETE', 'DELETE']);
    failures = 1;
    const once = s.client('clinician', { fetch: flaky, retries: 0 });
    expect((await refusal(once.health())).code).toBe('shutting_down');
  });

  it('rule: a read whose connection fails is tried again; a write that got no answer is a network_error, not retried', async () => {
    let failures = 1;
    const calls: string[] = [];
    const cut: Fetch = (request) => {
      calls.push(request.method);
      if (failures-- > 0)
        return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('socket'), { code: 'ECONNRESET' }) }));
      return globalThis.fetch(request);
    };
    const ward = s.client('clinician', { fetch: cut });
    expect((await ward.ready()).status).toBe('ready');
    expect(calls).toEqual(['GET', 'GET']);
    calls.length = 0;
    failures = 1;
    const e = await refusal(ward.records.create('patients', patient()));
    expect([e.code, e.status, e.detail, e.requestId, calls]).toEqual(['network_error', 0, 'ECONNRESET', undefined, ['POST']]);
    expect(isWardError(e, 'network_error')).toBe(true);
  });
});
