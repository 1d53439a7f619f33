/**
 * Business Associate Agreements: recorded, listed and revoked by the operator and admin roles,
 * every change audited by id; what an agreement covers (hosts, wildcards, scope, expiry,
 * revocation); bad input named by the rule it breaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentDigest } from '../../src/vault/baa.js';
import { DRIVERS, type TestVault, testVault } from '../helpers.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const clinician = { principal: { id: 'key:clinician0', role: 'clinician' }, purpose: 'treatment', requestId: 'r1' };
const admin = { principal: { id: 'key:admin00000', role: 'admin' }, requestId: 'r2' };

describe.each(DRIVERS)('Business Associate Agreements on %s', (driver) => {
  let t: TestVault;
  const audit = async (action: string) =>
    t.db.query<{ outcome: string; reason: string | null; record_ids: string[]; role: string }>(
      'SELECT outcome, reason, record_ids::text[] AS record_ids, role FROM ward_audit_events WHERE action = $1 ORDER BY seq',
      [action],
    );
  beforeAll(async () => {
    t = await testVault(driver);
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });

  it('an agreement covers its hosts (a wildcard its subdomains) until it expires, for its scope', async () => {
    const doc = documentDigest(Buffer.from('the signed agreement'));
    const a = await t.vault.addAgreement({
      name: 'Drain Co',
      hosts: ['Logs.Drain.example', '*.hooks.example'],
      signed: day(-100),
      expires: day(200),
      documentSha256: doc,
    });
    expect(a).toMatchObject({
      hosts: ['logs.drain.example', '*.hooks.example'],
      scope: 'phi',
      status: 'active',
      daysToExpiry: 200,
      documentSha256: doc,
    });
    expect((await t.vault.agreementCovering('logs.drain.example', 'phi'))?.id).toBe(a.id);
    expect((await t.vault.agreementCovering('eu.hooks.example', 'no-phi'))?.id).toBe(a.id);
    for (const host of ['hooks.example', 'drain.example', 'logs.drain.example.evil.test', 'not a host'])
      expect(await t.vault.agreementCovering(host, 'phi'), host).toBeUndefined();
    expect((await audit('baa.add')).at(-1)).toMatchObject({ outcome: 'allowed', record_ids: [a.id] });
  });

  it('a no-phi agreement covers only PHI-free payloads; one expiring within 30 days is flagged; an expired one covers nothing', async () => {
    const metrics = await t.vault.addAgreement({
      name: 'Metrics Co',
      hosts: ['metrics.example'],
      signed: day(-10),
      expires: day(20),
      scope: 'no-phi',
    });
    expect(metrics).toMatchObject({ status: 'expiring', daysToExpiry: 20 });
    expect(await t.vault.agreementCovering('metrics.example', 'phi')).toBeUndefined();
    expect((await t.vault.agreementCovering('metrics.example', 'no-phi'))?.id).toBe(metrics.id);
    expect((await t.vault.agreementsExpiringSoon()).map((a) => a.id)).toContain(metrics.id);
    const old = await t.vault.addAgreement({ name: 'Old Co', hosts: ['old.example'], signed: day(-400), expires: day(-1) });
    expect(old).toMatchObject({ status: 'expired', daysToExpiry: -1 });
    expect(await t.vault.agreementCovering('old.example', 'no-phi')).toBeUndefined();
  });

  it('rule: a revoked agreement covers nothing, and the revocation is audited with its id', async () => {
    const a = await t.vault.addAgreement({ name: 'Gone Co', hosts: ['gone.example'], signed: day(-1), expires: day(300) });
    expect((await t.vault.agreementCovering('gone.example', 'phi'))?.id).toBe(a.id);
    await t.vault.revokeAgreement(a.id.toUpperCase());
    expect(await t.vault.agreementCovering('gone.example', 'phi')).toBeUndefined();
    expect((await t.vault.listAgreements()).find((x) => x.id === a.id)).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    expect((await audit('baa.revoke')).at(-1)).toMatchObject({ outcome: 'allowed', record_ids: [a.id] });
    // Again, or an id that names nothing: not_found, and an id nobody made is not kept.
    await expect(t.vault.revokeAgreement(a.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(t.vault.revokeAgreement('0190a0a0-0000-7000-8000-00000000dead')).rejects.toMatchObject({ code: 'not_found' });
    expect((await audit('baa.revoke')).at(-1)).toMatchObject({ outcome: 'failed', reason: 'not_found', record_ids: [] });
  });

  it('rule: only the operator and admin roles manage agreements; a refusal is audited', async () => {
    const input = { name: 'X', hosts: ['x.example'], signed: day(-1), expires: day(10) };
    await expect(t.vault.addAgreement(input, clinician)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(t.vault.listAgreements(clinician)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await audit('baa.add')).at(-1)).toMatchObject({ outcome: 'denied', reason: 'forbidden', role: 'clinician' });
    expect((await t.vault.addAgreement(input, admin)).hosts).toEqual(['x.example']);
    expect((await t.vault.listAgreements(admin)).length).toBeGreaterThan(0);
  });

  it.each([
    [{ name: '' }, 'name must be 1 to 200 characters'],
    [{ hosts: [] }, 'hosts must list 1 to 50 host names'],
    [{ hosts: ['ok.example', 'http://bad.example/path'] }, 'hosts[1] must be a host name'],
    [{ signed: '2026-02-30' }, 'signed must be a calendar date as YYYY-MM-DD'],
    [{ expires: '31/12/2030' }, 'expires must be a calendar date as YYYY-MM-DD'],
    [{ expires: '2020-01-01', signed: '2021-01-01' }, 'expires must be after signed'],
    [{ scope: 'some' }, 'scope must be phi or no-phi'],
    [{ documentSha256: 'abc' }, 'documentSha256 must be 64 hexadecimal digits'],
  ])('refuses %o, naming the rule', async (change, message) => {
    const input = { name: 'Co', hosts: ['co.example'], signed: day(-1), expires: day(10), ...change };
    await expect(t.vault.addAgreement(input as never)).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining(message),
    });
  });
});
