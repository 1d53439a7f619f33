/** Roles, purposes and the audit trail at the service level: who sees what, and every touch recorded. */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/access/actions.js';
import { Policy } from '../../src/access/policy.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { isWardError, type WardError } from '../../src/errors.js';
import { ApiKeys } from '../../src/vault/apikeys.js';
import { canaryPatient, DRIVERS, type DriverName, exampleConfig, type TestVault, testVault } from '../helpers.js';

const as = (role: string, purpose?: string): RequestContext => ({
  principal: { id: `key:test-${role}`, role },
  purpose,
  requestId: `req-${role}`,
  client: '127.0.0.1',
});

async function refusal(p: Promise<unknown>): Promise<WardError> {
  try {
    await p;
  } catch (e) {
    if (isWardError(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe.each(DRIVERS)('access and audit on %s', (driver) => {
  let t: TestVault;
  const p = canaryPatient(1);
  let id = '';
  let tokens: Record<string, string> = {};
  const events = async () =>
    t.db.query<{ actor: string; action: string; outcome: string; reason: string | null; fields: string[]; record_ids: string[] }>(
      'SELECT * FROM ward_audit_events ORDER BY seq',
    );
  const count = async (table: string) => Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

  beforeAll(async () => {
    t = await testVault(driver);
    ({ id, tokens } = await t.vault.create('patients', p, as('clinician', 'treatment')));
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });

  it('clinician with purpose treatment sees every field', async () => {
    const r = await t.vault.get('patients', id, {}, as('clinician', 'treatment'));
    expect(r.fields).toEqual(p);
  });

  it('billing sees only name, plan and the last four of the SSN, for payment', async () => {
    const r = await t.vault.get('patients', id, {}, as('billing', 'payment'));
    expect(r.fields).toEqual({ name: p.name, ssn: `***-**-${p.ssn.slice(-4)}`, plan: 'gold' });
    const found = await t.vault.search('patients', { name: p.name }, {}, as('billing', 'payment'));
    expect(found.map((x) => x.fields)).toEqual([r.fields]);
    expect((await refusal(t.vault.get('patients', id, { fields: ['email'] }, as('billing', 'payment')))).code).toBe('forbidden');
    expect((await refusal(t.vault.search('patients', { mrn: p.mrn }, {}, as('billing', 'payment')))).code).toBe('forbidden');
    expect((await refusal(t.vault.detokenize([tokens.ssn], as('billing', 'payment')))).code).toBe('forbidden');
    expect((await refusal(t.vault.update('patients', id, { plan: 'silver' }, as('billing', 'payment')))).code).toBe('forbidden');
  });

  it('analytics sees a de-identified view: no identifiers or free text, dates as years, ZIP as three digits, a pseudonym for the id', async () => {
    const r = await t.vault.get('patients', id, {}, as('analytics', 'research'));
    expect(r.fields).toEqual({ dob: '1961', zip: '021**', plan: 'gold' });
    expect(r.id).toMatch(/^psn_[A-Za-z0-9_-]{24}$/);
    expect((await t.vault.get('patients', id, {}, as('analytics', 'research'))).id).toBe(r.id);
    expect((await refusal(t.vault.search('patients', { name: p.name }, {}, as('analytics', 'research')))).code).toBe('forbidden');
  });

  it('a request touching PHI without a permitted purpose is refused', async () => {
    expect((await refusal(t.vault.get('patients', id, {}, as('clinician')))).code).toBe('purpose_required');
    expect((await refusal(t.vault.get('patients', id, {}, as('clinician', 'payment')))).code).toBe('purpose_not_permitted');
    expect((await refusal(t.vault.get('patients', id, {}, as('billing', 'treatment')))).code).toBe('purpose_not_permitted');
    expect((await refusal(t.vault.create('patients', canaryPatient(), as('clinician', 'research')))).code).toBe('purpose_not_permitted');
  });

  it('the auditor and unknown roles get no records; only the auditor reads the audit trail', async () => {
    expect((await refusal(t.vault.get('patients', id, {}, as('auditor', 'treatment')))).code).toBe('forbidden');
    expect((await refusal(t.vault.get('patients', id, {}, as('intruder', 'treatment')))).code).toBe('forbidden');
    expect((await refusal(t.vault.auditEvents({ limit: 10 }, as('clinician', 'treatment')))).code).toBe('forbidden');
    const mine = await t.vault.auditEvents({ recordId: id, limit: 100 }, as('auditor'));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.recordIds.includes(id))).toBe(true);
  });

  it('every operation writes one audit event with fields and ids, and never a value', async () => {
    const before = (await events()).length;
    const ctx = as('clinician', 'treatment');
    const q = canaryPatient(2);
    const created = await t.vault.create('patients', q, ctx);
    await t.vault.get('patients', created.id, { fields: ['name'] }, ctx);
    await t.vault.search('patients', { mrn: q.mrn }, {}, ctx);
    await t.vault.update('patients', created.id, { plan: 'silver' }, ctx);
    await t.vault.detokenize([created.tokens.ssn], ctx);
    await t.vault.delete('patients', created.id, ctx);
    const after = (await events()).slice(before);
    expect(after.map((e) => [e.action, e.outcome])).toEqual([
      ['create', 'allowed'],
      ['read', 'allowed'],
      ['search', 'allowed'],
      ['update', 'allowed'],
      ['detokenize', 'allowed'],
      ['delete', 'allowed'],
    ]);
    expect(after.every((e) => e.actor === 'key:test-clinician' && e.record_ids.includes(created.id))).toBe(true);
    expect(after[1]?.fields).toEqual(['name']);
    expect(after[4]?.fields).toEqual(['ssn']);
    const raw = JSON.stringify(await events());
    for (const v of [q.mrn, q.name, q.ssn, q.email, q.diagnosis, q.notes, p.name, p.ssn]) expect(raw).not.toContain(v);
  });

  it('denied, failed and not-found requests are audited with their reason', async () => {
    const before = (await events()).length;
    await refusal(t.vault.get('patients', id, {}, as('billing', 'treatment')));
    await refusal(t.vault.create('patients', { ...canaryPatient(), ssn: '000-00-0000' }, as('clinician', 'treatment')));
    await refusal(t.vault.create('patients', { ...canaryPatient(), mrn: p.mrn }, as('clinician', 'treatment')));
    await refusal(t.vault.get('patients', '01a21781-981b-7347-b11b-0d5987c3b3a4', {}, as('clinician', 'treatment')));
    const after = (await events()).slice(before);
    expect(after.map((e) => [e.action, e.outcome, e.reason])).toEqual([
      ['read', 'denied', 'purpose_not_permitted'],
      ['create', 'failed', 'validation_failed'],
      ['create', 'failed', 'unique_violation'],
      ['read', 'not_found', null],
    ]);
  });

  it('fail-closed: when the audit row cannot be written, nothing is returned or changed', async () => {
    const ctx = as('clinician', 'treatment');
    const records = await count('ward_records');
    await t.db.query('ALTER TABLE ward_audit_events ADD CONSTRAINT ward_test_block CHECK (false) NOT VALID');
    try {
      for (const op of [
        () => t.vault.create('patients', canaryPatient(), ctx),
        () => t.vault.createMany('patients', [canaryPatient()], ctx),
        () => t.vault.get('patients', id, {}, ctx),
        () => t.vault.search('patients', { mrn: p.mrn }, {}, ctx),
        () => t.vault.update('patients', id, { plan: 'bronze' }, ctx),
        () => t.vault.detokenize([tokens.ssn], ctx),
        () => t.vault.delete('patients', id, ctx),
        () => t.vault.get('patients', id, {}, as('billing', 'treatment')),
      ]) {
        const e = await refusal(op());
        expect(e.code).toBe('audit_failed');
      }
    } finally {
      await t.db.query('ALTER TABLE ward_audit_events DROP CONSTRAINT ward_test_block');
    }
    expect(await count('ward_records')).toBe(records);
    expect((await t.vault.get('patients', id)).fields.plan).toBe('gold');
  });
});

describe.each(DRIVERS)('API keys on %s', (driver) => {
  let t: TestVault;
  let keys: ApiKeys;
  beforeAll(async () => {
    t = await testVault(driver);
    keys = new ApiKeys(t.db, new Policy(t.cfg.roles));
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });

  it('a key authenticates as its role; only a hash of its secret is stored', async () => {
    const { key, prefix } = await keys.create('billing', 'billing service');
    expect(key).toMatch(/^ward_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    expect(await keys.authenticate(key)).toEqual({ id: `key:${prefix}`, role: 'billing' });
    const rows = JSON.stringify(await t.db.query('SELECT * FROM ward_api_keys'));
    expect(rows).not.toContain(key.split('_').slice(2).join('_')); // the secret (base64url: may hold _)
    const [listed] = await keys.list();
    expect(listed).toMatchObject({ role: 'billing', name: 'billing service', prefix, revokedAt: null });
    expect(listed?.lastUsedAt).not.toBeNull();
  });

  it('wrong, malformed, expired and revoked keys are all the same 401 error', async () => {
    const { key, id } = await keys.create('clinician', 'ehr');
    const expired = await keys.create('clinician', 'old', new Date(Date.now() - 1000));
    const wrongSecret = `${key.slice(0, -4)}AAAA`;
    await keys.revoke(id);
    for (const k of [undefined, '', 'nope', wrongSecret, expired.key, key]) {
      const e = await refusal(keys.authenticate(k));
      expect([e.code, e.status, e.message]).toEqual(['unauthenticated', 401, 'Missing, wrong, expired or revoked API key']);
    }
    expect((await refusal(keys.revoke(id))).code).toBe('not_found');
  });

  it('keys are only made for declared roles', async () => {
    expect((await refusal(keys.create('root', 'x'))).message).toBe(
      'the role named is not declared under roles in ward.yaml (have: clinician, billing, triage, analytics, auditor, admin)',
    );
  });
});

/**
 * For one describe block: a vault on the example config with `from` replaced by `to` (which
 * must change it), holding one record of `p` made by a clinician.
 */
function exampleVariant(driver: DriverName, from: string, to: string, p: ReturnType<typeof canaryPatient>) {
  const v = {} as { t: TestVault; tokens: Record<string, string> };
  beforeAll(async () => {
    const text = EXAMPLE_CONFIG.replace(from, to);
    expect(text).not.toBe(EXAMPLE_CONFIG);
    v.t = await testVault(driver, undefined, exampleConfig(text));
    v.tokens = (await v.t.vault.create('patients', p, as('clinician', 'treatment'))).tokens;
  });
  afterAll(async () => {
    await v.t.vault.close();
    await v.t.dispose();
  });
  return v;
}

describe.each(DRIVERS)('searching on a public field on %s', (driver) => {
  const p = canaryPatient(2);
  // The example, with its public `plan` made searchable.
  const v = exampleVariant(
    driver,
    'values: [bronze, silver, gold, medicare, medicaid]\n        class: public',
    'values: [bronze, silver, gold, medicare, medicaid]\n        class: public\n        search: exact',
    p,
  );

  it('a search whose answer carries PHI needs a purpose, even when its terms are public', async () => {
    const before = Number((await v.t.db.query<{ n: string }>('SELECT count(*) AS n FROM ward_audit_events'))[0]?.n);
    const refused = await refusal(v.t.vault.search('patients', { plan: p.plan }, {}, as('clinician')));
    expect(refused.code).toBe('purpose_required');
    const [denied] = await v.t.db.query<{ outcome: string; reason: string; fields: string[] }>(
      'SELECT outcome, reason, fields FROM ward_audit_events ORDER BY seq DESC LIMIT 1',
    );
    expect(denied).toEqual({ outcome: 'denied', reason: 'purpose_required', fields: ['plan'] });
    expect(Number((await v.t.db.query<{ n: string }>('SELECT count(*) AS n FROM ward_audit_events'))[0]?.n)).toBe(before + 1);
    // Asking for public fields only needs none; the record's dates then show as years.
    const publicOnly = await v.t.vault.search('patients', { plan: p.plan }, { fields: ['plan'] }, as('clinician'));
    expect(publicOnly.map((r) => r.fields)).toEqual([{ plan: p.plan }]);
    expect(publicOnly[0]?.createdAt).toMatch(/^\d{4}$/);
    // With its purpose, the whole record, dates in full.
    const full = await v.t.vault.search('patients', { plan: p.plan }, {}, as('clinician', 'treatment'));
    expect(full.map((r) => r.fields)).toEqual([p]);
    expect(full[0]?.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe.each(DRIVERS)('detokenize as an oracle on %s', (driver) => {
  const p = canaryPatient(3);
  const unknown = `dtk_${'A'.repeat(24)}`;
  // The example, with billing also allowed to detokenize its own fields (name, ssn, plan).
  const v = exampleVariant(
    driver,
    '        actions: [read, search]\n        fields: [name, ssn, plan]',
    '        actions: [read, search, detokenize]\n        fields: [name, ssn, plan]',
    p,
  );

  const last = async () =>
    (
      await v.t.db.query<{ outcome: string; reason: string | null; fields: string[] }>(
        'SELECT outcome, reason, fields FROM ward_audit_events ORDER BY seq DESC LIMIT 2',
      )
    ).reverse();

  it('a role that may detokenize nothing is refused alike for stored and unknown tokens, before any lookup', async () => {
    for (const token of [v.tokens.ssn as string, unknown]) {
      const e = await refusal(v.t.vault.detokenize([token], as('analytics', 'research')));
      expect([e.code, e.message]).toEqual(['forbidden', 'role analytics may not detokenize']);
    }
  });

  it('a token of a field the role may not detokenize answers exactly as an unknown token does; the audit trail keeps why', async () => {
    const stored = await refusal(v.t.vault.detokenize([v.tokens.email as string], as('billing', 'payment')));
    const made = await refusal(v.t.vault.detokenize([unknown], as('billing', 'payment')));
    // One audit row each, as costly to write: the trail keeps the real reason.
    expect(await last()).toEqual([
      { outcome: 'denied', reason: 'forbidden', fields: ['email'] },
      { outcome: 'not_found', reason: 'invalid_token', fields: [] },
    ]);
    expect([stored.code, stored.message]).toEqual([made.code, made.message]);
    expect([made.code, made.message]).toEqual(['invalid_token', 'unknown token: tokens[0]']);
    // Whatever purpose is stated, or none: billing may detokenize email for none of them.
    for (const purpose of [undefined, 'research', 'treatment']) {
      const a = await refusal(v.t.vault.detokenize([v.tokens.email as string], as('billing', purpose)));
      const b = await refusal(v.t.vault.detokenize([unknown], as('billing', purpose)));
      expect([a.code, a.message]).toEqual([b.code, b.message]);
    }
    // Mixed: the refused one is listed with the unknown one, so neither stands out.
    const mixed = await refusal(v.t.vault.detokenize([unknown, v.tokens.email as string], as('billing', 'payment')));
    expect(mixed.message).toBe('unknown token: tokens[0], tokens[1]');
    // What it may detokenize it gets, through its mask.
    expect(await v.t.vault.detokenize([v.tokens.ssn as string], as('billing', 'payment'))).toEqual({
      [v.tokens.ssn as string]: `***-**-${p.ssn.slice(-4)}`,
    });
  });
});
