/** GET /v1/compliance/checks on both drivers: who may run it, what it returns, what it audits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../src/compliance/checks/index.js';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { call, type HttpFixture, httpFixture, PURPOSE, type Role } from './helpers.js';

describe.each(DRIVERS)('compliance checks over HTTP on %s', (driver) => {
  let f: HttpFixture;
  const p = canaryPatient(11);
  const as = (role: Role) => call(f.app, { url: '/v1/compliance/checks', key: f.keys[role], purpose: PURPOSE[role] });

  beforeAll(async () => {
    f = await httpFixture(driver);
    await call(f.app, { method: 'POST', url: '/v1/collections/patients/records', body: p, key: f.keys.clinician, purpose: 'treatment' });
  });
  afterAll(async () => f.close());

  it.each(['auditor', 'admin'] as const)(
    'rule: %s runs every check over config, key, transport and database; audited; no PHI in the answer',
    async (role) => {
      const before = await f.t.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM ward_audit_events WHERE action = 'compliance.check'",
      );
      const res = await as(role);
      expect(res.statusCode).toBe(200);
      const r = res.json();
      expect(r).toMatchObject({
        format: 'ward-checks/v1',
        space: { tier: 'nonproduction' },
        gathered: ['master', 'transport', 'database'],
      });
      expect(r.findings.map((x: { id: string }) => x.id)).toEqual(ALL_CHECKS.map((c) => c.id));
      const byId = Object.fromEntries(r.findings.map((x: { id: string }) => [x.id, x]));
      expect(byId['ingress-tls']).toMatchObject({
        status: 'skip',
        reason: 'nonproduction space: plain HTTP is allowed',
        citations: ['164.312(e)(1)', '164.312(e)(2)(ii)'],
      });
      expect(byId['api-keys-expire'].status).not.toBe('skip');
      // The server samples no records: that is `ward check`'s, as the operator.
      expect(byId['nonproduction-no-phi'].status).toBe('skip');
      for (const v of Object.values(p)) if (typeof v === 'string' && v.length > 4) expect(res.body).not.toContain(v);
      const after = await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ward_audit_events WHERE action = 'compliance.check'");
      expect((after[0]?.n ?? 0) - (before[0]?.n ?? 0)).toBe(1);
    },
  );
});
