/** The sealed audit log and the accounting of disclosures over HTTP, on both drivers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportedSignatureHolds } from '../../src/audit/checkpoint.js';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { call, count, type HttpFixture, httpFixture, PURPOSE, type Role } from './helpers.js';

describe.each(DRIVERS)('audit log endpoints on %s', (driver) => {
  let f: HttpFixture;
  const p = canaryPatient(7);
  let id = '';
  const as = (role: Role, c: { method?: 'GET' | 'POST' | 'DELETE'; url: string; purpose?: string }) =>
    call(f.app, { key: f.keys[role], purpose: PURPOSE[role], ...c });

  beforeAll(async () => {
    f = await httpFixture(driver);
    id = (
      await call(f.app, { method: 'POST', url: '/v1/collections/patients/records', body: p, key: f.keys.clinician, purpose: 'treatment' })
    ).json().id;
    await as('clinician', { url: `/v1/collections/patients/records/${id}?fields=name,diagnosis` });
    await as('billing', { url: `/v1/collections/patients/records/${id}` });
    await as('billing', { url: `/v1/collections/patients/records/${id}`, purpose: 'marketing' });
    await as('auditor', { url: `/v1/audit/events?recordId=${id}` });
  });
  afterAll(async () => f.close());

  it('the accounting of disclosures lists who touched the record, when, which fields, why and the outcome; never values', async () => {
    const before = await count(f, 'ward_audit_events');
    const res = await as('auditor', { url: `/v1/audit/subjects/${id}/disclosures` });
    expect(res.statusCode).toBe(200);
    const events = res.json().events as {
      actor: string;
      role: string;
      action: string;
      fields: string[];
      purpose: string;
      outcome: string;
    }[];
    expect(events.map((e) => [e.role, e.action, e.purpose, e.outcome])).toEqual([
      ['clinician', 'create', 'treatment', 'allowed'],
      ['clinician', 'read', 'treatment', 'allowed'],
      ['billing', 'read', 'payment', 'allowed'],
    ]);
    expect(events[1]?.fields).toEqual(['name', 'diagnosis']);
    expect(events.every((e) => /^key:[a-z0-9]{10}$/.test(e.actor))).toBe(true);
    for (const v of Object.values(p)) if (v !== 'gold') expect(res.body).not.toContain(v);
    // Reading the accounting is itself audited, against the record.
    expect(await count(f, 'ward_audit_events')).toBe(before + 1);
    const [last] = await f.t.db.query<{ action: string; record_ids: string[] }>(
      'SELECT action, record_ids FROM ward_audit_events ORDER BY seq DESC LIMIT 1',
    );
    expect(last).toEqual({ action: 'audit.disclosures', record_ids: [id] });
  });

  it('disclosures page with limit and after, and a malformed record id is a 400 naming the parameter', async () => {
    const page1 = await as('auditor', { url: `/v1/audit/subjects/${id}/disclosures?limit=2` });
    expect(page1.json().events).toHaveLength(2);
    const page2 = await as('auditor', { url: `/v1/audit/subjects/${id}/disclosures?limit=2&after=${page1.json().next}` });
    expect(page2.json()).toMatchObject({ next: null });
    expect(page2.json().events).toHaveLength(1);
    const bad = await as('auditor', { url: '/v1/audit/subjects/not-a-uuid/disclosures' });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'invalid_request']);
    expect(bad.json().detail).toMatch(/recordId/);
  });

  it("rule: an auditor's verify is incremental: it checks what was sealed since the last sound verification; a full one finds an old change and its failure stands", async () => {
    await f.t.vault.sealAudit(5_000);
    const ok = await as('auditor', { url: '/v1/audit/verify' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, problem: null, from: 0, complete: true, lastFull: null });
    expect(ok.json().treeSize).toBeGreaterThan(5);
    const checkpoint = await as('auditor', { url: '/v1/audit/checkpoint' });
    expect(checkpoint.statusCode).toBe(200);
    expect(exportedSignatureHolds(checkpoint.json())).toBe(true);
    // A new stretch is checked from where the last one ended; a change in it is named.
    await as('clinician', { url: `/v1/collections/patients/records/${id}` });
    await f.t.vault.sealAudit(5_000);
    const tamper = async (seq: string | undefined) =>
      f.t.db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query("UPDATE ward_audit_events SET actor = actor || 'x' WHERE seq = $1", [seq]);
      });
    const [fresh] = await f.t.db.query<{ seq: string }>('SELECT seq::text AS seq FROM ward_audit_leaves ORDER BY idx DESC LIMIT 1');
    await tamper(fresh?.seq);
    const newBad = await as('auditor', { url: '/v1/audit/verify' });
    expect(newBad.json()).toMatchObject({ ok: false, from: ok.json().treeSize, problem: { kind: 'modified', seq: fresh?.seq } });
    // An event verified before is not looked at again by the incremental check...
    const [old] = await f.t.db.query<{ seq: string }>('SELECT seq::text AS seq FROM ward_audit_leaves WHERE idx = 2');
    await tamper(old?.seq);
    // ...but a full verification finds it, and from then on every answer says so.
    expect((await f.t.vault.verifyAudit()).problem).toMatchObject({ kind: 'modified', seq: old?.seq });
    const after = await as('auditor', { url: '/v1/audit/verify' });
    expect(after.json()).toMatchObject({ ok: false, lastFull: { ok: false } });
  });

  it('rule: verification over HTTP is rate-limited per key (6 a minute) and bounded in work', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await as('auditor', { url: '/v1/audit/verify' })).statusCode);
    expect(codes.slice(-1)).toEqual([429]);
    const over = await as('auditor', { url: '/v1/audit/verify' });
    expect([over.statusCode, over.json().code, Number(over.headers['retry-after']) > 0]).toEqual([429, 'too_many_requests', true]);
  });

  it('rule: nothing deletes audit events through the API', async () => {
    const before = await count(f, 'ward_audit_events');
    for (const url of ['/v1/audit/events', `/v1/audit/subjects/${id}/disclosures`, '/v1/audit/checkpoint']) {
      const res = await as('auditor', { method: 'DELETE', url });
      expect([res.statusCode, res.json().code]).toEqual([405, 'method_not_allowed']);
    }
    expect(await count(f, 'ward_audit_events')).toBeGreaterThanOrEqual(before);
    const [{ n }] = (await f.t.db.query<{ n: string }>("SELECT count(*)::text AS n FROM ward_audit_events WHERE action = 'create'")) as [
      { n: string },
    ];
    expect(Number(n)).toBe(1);
  });
});
