/** Business Associate Agreements over HTTP: the admin role manages them, every other role is refused (audited). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type HttpFixture, httpFixture, PURPOSE, ROLES } from './helpers.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('agreements over HTTP (pglite)', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite');
  });
  afterAll(async () => f.close());

  it('the admin role adds, lists and revokes an agreement', async () => {
    const body = { name: 'Drain Co', hosts: ['logs.drain.example'], signed: day(-1), expires: day(20), scope: 'no-phi' };
    const added = await call(f.app, { method: 'POST', url: '/v1/admin/baa', key: f.keys.admin, body });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ hosts: ['logs.drain.example'], scope: 'no-phi', status: 'expiring', daysToExpiry: 20 });
    const listed = await call(f.app, { url: '/v1/admin/baa', key: f.keys.admin });
    expect(listed.json().agreements.map((a: { id: string }) => a.id)).toContain(added.json().id);
    const revoked = await call(f.app, { method: 'DELETE', url: `/v1/admin/baa/${added.json().id}`, key: f.keys.admin });
    expect(revoked.statusCode).toBe(204);
    const again = await call(f.app, { method: 'DELETE', url: `/v1/admin/baa/${added.json().id}`, key: f.keys.admin });
    expect([again.statusCode, again.json().code]).toEqual([404, 'not_found']);
  });

  it.each(ROLES.filter((r) => r !== 'admin'))('rule: role %s may not manage agreements (403, audited)', async (role) => {
    const res = await call(f.app, { url: '/v1/admin/baa', key: f.keys[role], purpose: PURPOSE[role] });
    expect([res.statusCode, res.json().code]).toEqual([403, 'forbidden']);
    const [row] = await f.t.db.query<{ action: string; outcome: string }>(
      'SELECT action, outcome FROM ward_audit_events ORDER BY seq DESC LIMIT 1',
    );
    expect(row).toEqual({ action: 'baa.list', outcome: 'denied' });
  });

  it('bad input is refused by the rule it breaks, and never repeated', async () => {
    for (const [body, code] of [
      [{ name: 'X', hosts: ['Canaryname Smith'], signed: day(-1), expires: day(1) }, 'invalid_request'],
      [{ name: 'X', hosts: ['x.example'], signed: '2026-13-01', expires: day(1) }, 'invalid_request'],
      [{ name: 'X', hosts: ['x.example'], signed: day(-1) }, 'invalid_request'],
      [{ name: 'X', hosts: ['x.example'], signed: day(-1), expires: day(1), extra: true }, 'invalid_request'],
    ] as const) {
      const res = await call(f.app, { method: 'POST', url: '/v1/admin/baa', key: f.keys.admin, body });
      expect([res.statusCode, res.json().code]).toEqual([400, code]);
      expect(res.body).not.toContain('Canaryname');
    }
  });
});
