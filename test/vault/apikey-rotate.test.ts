/** API key rotation: a successor for the same role, the old key working through the overlap only; listed when near expiry. */
import { describe, expect, it } from 'vitest';
import { DRIVERS, testVault } from '../helpers.js';
import { call, httpFixture } from '../http/helpers.js';

const DAY = 86_400_000;
const caller = (key: string) => ({ key, purpose: undefined, client: '192.0.2.4', requestId: 'r' });

describe.each(DRIVERS)('API key rotation on %s', (driver) => {
  it('rule: rotation issues a successor for the same role and ends the old key after the overlap (never later than it would have)', async () => {
    const t = await testVault(driver);
    try {
      const v = t.vault;
      const old = await v.createApiKey('billing', 'billing sync', 30 * DAY);
      const { old: was, successor } = await v.rotateApiKey(old.id, 7 * DAY);
      expect(successor).toMatchObject({ role: 'billing', key: expect.stringMatching(/^ward_/) });
      expect(Date.parse(was.expiresAt ?? '') - Date.now()).toBeGreaterThan(7 * DAY - 60_000);
      expect(Date.parse(was.expiresAt ?? '') - Date.now()).toBeLessThanOrEqual(7 * DAY);
      expect(Date.parse(successor.expiresAt ?? '') - Date.now()).toBeGreaterThan(30 * DAY - 60_000);
      // Both work during the overlap.
      for (const k of [old.key, successor.key]) expect((await v.authenticate(caller(k))).principal.role).toBe('billing');
      const listed = await v.listApiKeys();
      expect(listed.find((k) => k.id === old.id)).toMatchObject({ expiringSoon: true, name: 'billing sync' });
      expect(listed.find((k) => k.id === successor.id)).toMatchObject({ expiringSoon: false, name: 'billing sync (rotated)' });
      const [row] = await t.db.query<{ record_ids: string[] }>("SELECT record_ids FROM ward_audit_events WHERE action = 'apikey.rotate'");
      expect(row?.record_ids).toEqual([old.id, successor.id]);

      // Past the overlap the old key is refused; the successor is not.
      await t.db.query("UPDATE ward_api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [old.id]);
      await expect(v.authenticate(caller(old.key))).rejects.toMatchObject({ code: 'unauthenticated' });
      expect((await v.authenticate(caller(successor.key))).principal.role).toBe('billing');
      await expect(v.rotateApiKey(old.id, DAY)).rejects.toMatchObject({ code: 'not_found' });

      // An overlap longer than the key had left does not extend it.
      const short = await v.createApiKey('billing', 'short lived', 2 * DAY);
      const r = await v.rotateApiKey(short.prefix, 7 * DAY);
      expect(Date.parse(r.old.expiresAt ?? '') - Date.now()).toBeLessThanOrEqual(2 * DAY);
    } finally {
      await t.vault.close();
      await t.dispose();
    }
  });
});

describe('API key rotation over HTTP', () => {
  it('the admin rotates a key (201, the successor shown once); another role is refused', async () => {
    const f = await httpFixture('pglite');
    try {
      const [billing] = (await call(f.app, { url: '/v1/admin/api-keys', key: f.keys.admin }))
        .json()
        .keys.filter((k: { role: string }) => k.role === 'billing');
      const res = await call(f.app, {
        method: 'POST',
        url: `/v1/admin/api-keys/${billing.id}/rotate`,
        key: f.keys.admin,
        body: { overlap: '1d' },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ role: 'billing', replaces: billing.id, key: expect.stringMatching(/^ward_/) });
      const denied = await call(f.app, {
        method: 'POST',
        url: `/v1/admin/api-keys/${billing.id}/rotate`,
        key: f.keys.billing,
        purpose: 'payment',
        body: {},
      });
      expect([denied.statusCode, denied.json().code]).toEqual([403, 'forbidden']);
      const bad = await call(f.app, {
        method: 'POST',
        url: `/v1/admin/api-keys/${billing.id}/rotate`,
        key: f.keys.admin,
        body: { overlap: 'soon' },
      });
      expect([bad.statusCode, bad.json().code]).toEqual([400, 'invalid_request']);
    } finally {
      await f.close();
    }
  });
});
