/**
 * The authorization matrix: every role × endpoint × field over HTTP. Each case asserts what the
 * role may see and that nothing more leaks: not in the body, not masked away, not in an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryPatient } from '../helpers.js';
import { type Call, call, count, type HttpFixture, httpFixture, PURPOSE, ROLES, type Role } from './helpers.js';

const p = canaryPatient(1);
type Field = keyof typeof p;
const FIELDS = Object.keys(p) as Field[];

/** What each role sees of `p` on a read: field → shown value. The auditor reads no records. */
const VISIBLE: Record<Role, Partial<Record<Field, string>>> = {
  clinician: { ...p },
  billing: { name: p.name, ssn: `***-**-${p.ssn.slice(-4)}`, plan: p.plan },
  // Safe Harbor: no identifiers and no free text (diagnosis is a string); dates as years, ZIP codes as three digits.
  analytics: { dob: p.dob.slice(0, 4), zip: `${p.zip.slice(0, 3)}**`, plan: p.plan },
  auditor: {},
  admin: {},
};

/** Roles that read records; the auditor and admin roles read none. */
const READERS = ROLES.filter((r) => r !== 'auditor' && r !== 'admin');

/** Asserts that a response body holds no canary value the role may not see in full. */
function expectNoLeak(role: Role, body: string): void {
  for (const f of FIELDS) if (f !== 'plan' && VISIBLE[role][f] !== p[f]) expect(body, `${role} must not see ${f}`).not.toContain(p[f]);
}

describe('authorization matrix over HTTP (pglite)', () => {
  let f: HttpFixture;
  let id = '';
  let tokens: Record<string, string> = {};
  const records = (c: string) => `/v1/collections/${c}/records`;

  /** Calls as `role` with its own purpose (unless given), checks for leaks, returns the response. */
  async function as(role: Role, c: Omit<Call, 'key'>) {
    const res = await call(f.app, { purpose: PURPOSE[role], ...c, key: f.keys[role] });
    expectNoLeak(role, res.body);
    return res;
  }

  /** A refusal: status, code, no record data in the body, and an audit row for the denial. */
  async function expectDenied(role: Role, c: Omit<Call, 'key'>, code = 'forbidden', status = 403) {
    const before = await count(f, 'ward_audit_events');
    const res = await as(role, c);
    expect([res.statusCode, res.json().code]).toEqual([status, code]);
    expect(res.json()).not.toHaveProperty('fields');
    const rows = await f.t.db.query<{ outcome: string; reason: string; role: string }>(
      'SELECT outcome, reason, role FROM ward_audit_events WHERE seq > (SELECT max(seq) - 1 FROM ward_audit_events)',
    );
    expect(await count(f, 'ward_audit_events')).toBe(before + 1);
    expect(rows[0]).toEqual({ outcome: 'denied', reason: code, role });
  }

  beforeAll(async () => {
    f = await httpFixture('pglite');
    const res = await call(f.app, { method: 'POST', url: records('patients'), key: f.keys.clinician, purpose: 'treatment', body: p });
    ({ id, tokens } = res.json());
  });
  afterAll(async () => f.close());

  describe('read a record', () => {
    it.each(READERS)('%s reads exactly its granted view of every field', async (role) => {
      const res = await as(role, { url: `${records('patients')}/${id}` });
      expect(res.statusCode).toBe(200);
      expect(res.json().fields).toEqual(VISIBLE[role]);
      // The record's own dates: in full, except in the de-identified view, which shows years as for date fields.
      const full = (await as('clinician', { url: `${records('patients')}/${id}` })).json();
      expect(full.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const years = (d: string | null) => (d === null ? null : d.slice(0, 4));
      const shown = res.json();
      const expected =
        role === 'analytics'
          ? [years(full.createdAt), years(full.updatedAt), years(full.expiresAt)]
          : [full.createdAt, full.updatedAt, full.expiresAt];
      expect([shown.createdAt, shown.updatedAt, shown.expiresAt]).toEqual(expected);
    });

    it('auditor reading a record is refused with 403, audited, and gets no record data', async () => {
      await expectDenied('auditor', { url: `${records('patients')}/${id}` });
    });

    const cells = ROLES.flatMap((role) => FIELDS.map((field) => [role, field] as const));
    it.each(cells)('%s asking for field %s gets it only as granted, else 403 forbidden', async (role, field) => {
      const c = { url: `${records('patients')}/${id}?fields=${field}` };
      const shown = VISIBLE[role][field];
      if (shown === undefined) return expectDenied(role, c);
      const res = await as(role, c);
      expect(res.statusCode).toBe(200);
      expect(res.json().fields).toEqual({ [field]: shown });
    });

    it('a public field needs no purpose; a PHI field without one is refused with purpose_required', async () => {
      const plan = await as('billing', { url: `${records('patients')}/${id}?fields=plan`, purpose: undefined });
      expect(plan.json().fields).toEqual({ plan: p.plan });
      await expectDenied('billing', { url: `${records('patients')}/${id}?fields=name`, purpose: undefined }, 'purpose_required');
    });
  });

  describe('purpose of use', () => {
    const cells = READERS.flatMap((role) =>
      [undefined, ...Object.values(PURPOSE).filter((x) => x !== undefined)]
        .filter((x) => x !== PURPOSE[role])
        .map((purpose) => [role, purpose ?? '(none)'] as const),
    );
    it.each(cells)('%s with purpose %s reads nothing: 403 with the reason code', async (role, purpose) => {
      const code = purpose === '(none)' ? 'purpose_required' : 'purpose_not_permitted';
      await expectDenied(role, { url: `${records('patients')}/${id}`, purpose: purpose === '(none)' ? undefined : purpose }, code);
    });

    // Functions: the record and its tokens exist only once beforeAll has run.
    const unstated: [string, () => Omit<Call, 'key'>][] = [
      ['create', () => ({ method: 'POST', url: records('patients'), body: canaryPatient() })],
      ['batch create', () => ({ method: 'POST', url: `${records('patients')}:batch`, body: { records: [canaryPatient()] } })],
      ['update', () => ({ method: 'PATCH', url: `${records('patients')}/${id}`, body: { name: 'Changed Name' } })],
      ['delete', () => ({ method: 'DELETE', url: `${records('patients')}/${id}` })],
      ['search', () => ({ method: 'POST', url: '/v1/collections/patients/search', body: { where: { name: p.name } } })],
      ['detokenize', () => ({ method: 'POST', url: '/v1/detokenize', body: { tokens: [tokens.ssn] } })],
    ];
    it.each(unstated)(
      'clinician without a purpose: %s is refused with purpose_required, audited, and changes nothing',
      async (_name, request) => {
        const before = await count(f, 'ward_records');
        await expectDenied('clinician', { ...request(), purpose: undefined }, 'purpose_required');
        expect(await count(f, 'ward_records')).toBe(before);
        const now = await as('clinician', { url: `${records('patients')}/${id}` });
        expect(now.json().fields).toEqual(p);
      },
    );
  });

  describe('search', () => {
    it('clinician finds the record by name and sees every field', async () => {
      const res = await as('clinician', { method: 'POST', url: '/v1/collections/patients/search', body: { where: { name: p.name } } });
      expect(res.json().records.map((r: { fields: unknown }) => r.fields)).toEqual([p]);
    });

    it('billing finds by name and sees only its view; searching on ungranted or masked fields is refused', async () => {
      const res = await as('billing', { method: 'POST', url: '/v1/collections/patients/search', body: { where: { name: p.name } } });
      expect(res.json().records.map((r: { fields: unknown }) => r.fields)).toEqual([VISIBLE.billing]);
      for (const where of [{ mrn: p.mrn }, { email: p.email }])
        await expectDenied('billing', { method: 'POST', url: '/v1/collections/patients/search', body: { where } });
      const fields = await as('billing', {
        method: 'POST',
        url: '/v1/collections/patients/search',
        body: { where: { name: p.name }, fields: ['diagnosis'] },
      });
      expect([fields.statusCode, fields.json().code]).toEqual([403, 'forbidden']);
    });

    it('billing searching on the SSN it sees only masked is refused and audited (it would reveal it by trial)', async () => {
      await expectDenied('billing', { method: 'POST', url: '/v1/collections/patients/search', body: { where: { ssn: p.ssn } } });
    });

    it.each(['analytics', 'auditor', 'admin'] as const)('%s may not search: 403, audited, no records', async (role) => {
      await expectDenied(role, { method: 'POST', url: '/v1/collections/patients/search', body: { where: { name: p.name } } });
    });
  });

  describe('writes', () => {
    it.each(['billing', 'analytics', 'auditor', 'admin'] as const)(
      '%s may not create, batch, update or delete: 403 and nothing changes',
      async (role) => {
        const before = await count(f, 'ward_records');
        const fresh = canaryPatient(2);
        await expectDenied(role, { method: 'POST', url: records('patients'), body: fresh });
        await expectDenied(role, { method: 'POST', url: `${records('patients')}:batch`, body: { records: [fresh] } });
        await expectDenied(role, { method: 'PATCH', url: `${records('patients')}/${id}`, body: { plan: 'bronze' } });
        await expectDenied(role, { method: 'DELETE', url: `${records('patients')}/${id}` });
        expect(await count(f, 'ward_records')).toBe(before);
        const still = await as('clinician', { url: `${records('patients')}/${id}` });
        expect(still.json()).toMatchObject({ version: 1, fields: p });
      },
    );

    it('clinician may create, batch, update and delete', async () => {
      const one = await as('clinician', { method: 'POST', url: records('patients'), body: canaryPatient(3) });
      expect(one.statusCode).toBe(201);
      const many = await as('clinician', { method: 'POST', url: `${records('patients')}:batch`, body: { records: [canaryPatient(4)] } });
      expect(many.statusCode).toBe(201);
      const upd = await as('clinician', { method: 'PATCH', url: `${records('patients')}/${one.json().id}`, body: { plan: 'bronze' } });
      expect(upd.json().version).toBe(2);
      expect((await as('clinician', { method: 'DELETE', url: `${records('patients')}/${one.json().id}` })).statusCode).toBe(204);
    });
  });

  describe('detokenize', () => {
    it('clinician gets the current values behind its tokens', async () => {
      const res = await as('clinician', { method: 'POST', url: '/v1/detokenize', body: { tokens: [tokens.ssn, tokens.email] } });
      expect(res.json()).toEqual({ values: { [tokens.ssn as string]: p.ssn, [tokens.email as string]: p.email } });
    });

    const cells = (['billing', 'analytics', 'auditor', 'admin'] as const).flatMap((role) =>
      (['ssn', 'email'] as const).map((t) => [role, t] as const),
    );
    it.each(cells)('%s may not detokenize the %s token: 403, audited, no value', async (role, t) => {
      await expectDenied(role, { method: 'POST', url: '/v1/detokenize', body: { tokens: [tokens[t]] } });
    });
  });

  describe('audit trail', () => {
    it('auditor reads audit events, which hold no values', async () => {
      const res = await as('auditor', { url: '/v1/audit/events?limit=1000' });
      expect(res.statusCode).toBe(200);
      expect(res.json().events.length).toBeGreaterThan(10);
      expectNoLeak('auditor', res.body);
    });

    const auditUrls = [
      '/v1/audit/events',
      '/v1/audit/subjects/{id}/disclosures',
      '/v1/audit/verify',
      '/v1/audit/checkpoint',
      '/v1/audit/break-glass',
      '/v1/compliance/checks',
    ];
    const auditCells = (['clinician', 'billing', 'analytics'] as const).flatMap((role) => auditUrls.map((url) => [role, url] as const));
    it.each(auditCells)('%s may not read %s: 403, audited', async (role, url) => {
      await expectDenied(role, { url: url.replace('{id}', id) });
    });
    it.each(['clinician', 'billing', 'analytics', 'auditor', 'admin'] as const)(
      '%s (no shred action) may not shred a subject: 403, audited, every record kept',
      async (role) => {
        const before = await count(f, 'ward_records');
        await expectDenied(role, { method: 'POST', url: '/v1/collections/patients/subjects/shred', body: { recordId: id } });
        expect(await count(f, 'ward_records')).toBe(before);
      },
    );
    it.each(['clinician', 'billing', 'analytics', 'admin'] as const)('%s may not review a break-glass use: 403, audited', async (role) => {
      await expectDenied(role, { method: 'POST', url: `/v1/audit/break-glass/${id}/review`, body: {} });
    });
  });
});
