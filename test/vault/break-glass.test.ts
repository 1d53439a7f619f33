/**
 * Break-glass (emergency access, 45 CFR 164.312(a)(2)(ii)): a role's break-glass rules apply only
 * to a request that states its reason, for a bounded window; every access is audited under the
 * use, an alert is sent, and the use is listed until someone else reviews it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/access/actions.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { verifyWebhook } from '../../src/events/webhooks.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { DRIVERS, freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { httpsReceiver, testPki } from '../pki.js';
import { scratchDir } from '../scratch.js';

const SECRET = 'alert_secret_0123456789';
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const REASON = 'Patient unconscious in ED bay 4, chart needed for treatment now';
/** A reason that carries PHI: the SSN must not be kept. */
const PHI_REASON = 'Unresponsive arrival, wallet card SSN 219-09-9999, need allergies';

/** The example roles, plus an ER lead who may both break glass and review uses (not their own). */
const ER_LEAD = `
  er_lead:
    audit: true
    allow: []
    break_glass:
      window: 5m
      max_unreviewed: 1
      allow:
        - collections: [patients]
          actions: [read]
          purposes: [treatment]
`;

describe.each(DRIVERS)('break-glass on %s', (driver) => {
  const pki = testPki(['alerts.test']);
  let receiver: Awaited<ReturnType<typeof httpsReceiver>>;
  let t: TestDb;
  let vault: Vault;
  let text: string;
  let env: Record<string, string>;
  let dir: string;
  let patientId: string;
  const keys: Record<string, string> = {};

  const as = (role: string, breakGlass?: string, purpose = 'treatment', v = vault): Promise<RequestContext> =>
    v.authenticate({ key: keys[role], purpose, client: '192.0.2.9', requestId: `req-${role}`, breakGlass });
  const reopen = () => openVault(parseConfig(text, join(dir, 'ward.yaml'), env), { env, db: t.db });

  beforeAll(async () => {
    receiver = await httpsReceiver(pki);
    dir = scratchDir('ward-break-glass-');
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    text = `${EXAMPLE_CONFIG.replace('\nroles:\n', `\nroles:\n${ER_LEAD}`)}
egress:
  allow_private: true
  ca_file: ca.pem
alerts:
  url: https://127.0.0.1:${receiver.port}/alerts
  secret_env: WARD_ALERT_SECRET
`;
    env = { WARD_MASTER_KEY: newMasterKey(), WARD_ALERT_SECRET: SECRET };
    t = await freshDb(driver);
    vault = await openVault(parseConfig(text, join(dir, 'ward.yaml'), env), { env, db: t.db, migrations: 'auto' });
    await vault.addAgreement({ name: 'Pager', hosts: ['127.0.0.1'], signed: day(-1), expires: day(90), scope: 'no-phi' });
    for (const role of ['triage', 'clinician', 'auditor', 'er_lead']) keys[role] = (await vault.createApiKey(role, `${role} key`)).key;
    patientId = (await vault.create('patients', { mrn: 'MRN-BG-1', name: 'Glass Patient', plan: 'gold', ssn: '219-09-9998' })).id;
  });
  afterAll(async () => {
    await vault?.close();
    await t?.dispose();
    await receiver?.close();
  });

  it("rule: the role's break-glass rules apply only to a request that states its reason, each access audited under the use", async () => {
    const normal = await as('triage');
    expect(normal.breakGlass).toBeUndefined();
    expect(Object.keys((await vault.get('patients', patientId, {}, normal)).fields).sort()).toEqual(['mrn', 'name', 'plan']);
    await expect(vault.get('patients', patientId, { fields: ['ssn'] }, normal)).rejects.toMatchObject({ code: 'forbidden' });

    const glass = await as('triage', REASON);
    const use = glass.breakGlass?.use;
    expect(use).toMatch(/^[0-9a-f-]{36}$/);
    expect((await vault.get('patients', patientId, { fields: ['ssn'] }, glass)).fields).toEqual({ ssn: '219-09-9998' });
    // Later requests in the window run under the same use; the header is still needed on each.
    expect((await as('triage', `${REASON} (again)`)).breakGlass?.use).toBe(use);
    await expect(vault.get('patients', patientId, { fields: ['ssn'] }, await as('triage'))).rejects.toMatchObject({
      code: 'forbidden',
    });

    const rows = await t.db.query<{ action: string; outcome: string; reason: string | null; record_ids: string[]; detail: string | null }>(
      "SELECT action, outcome, reason, record_ids, detail FROM ward_audit_events WHERE actor LIKE 'key:%' AND role = 'triage' ORDER BY seq",
    );
    expect(rows.filter((r) => r.action === 'break_glass.open')).toEqual([
      { action: 'break_glass.open', outcome: 'allowed', reason: null, record_ids: [use], detail: expect.stringMatching(/^window ends /) },
    ]);
    expect(rows.filter((r) => r.reason === `break_glass:${use}`)).toEqual([
      { action: 'read', outcome: 'allowed', reason: `break_glass:${use}`, record_ids: [patientId], detail: null },
    ]);
    // The window is the role's: one hour from the first request.
    const [row] = await t.db.query<{ seconds: number }>(
      'SELECT extract(epoch FROM ends_at - started_at)::int AS seconds FROM ward_break_glass WHERE id = $1',
      [use],
    );
    expect(row?.seconds).toBe(3600);

    // One alert per use opened, signed, naming the use and the key, never the reason.
    await vault.alerts.settled();
    const alerts = receiver.received.map((r) => ({ r, body: JSON.parse(r.body) })).filter((a) => a.body.type === 'break_glass');
    expect(alerts).toHaveLength(1);
    expect(verifyWebhook(SECRET, alerts[0]?.r.headers ?? {}, alerts[0]?.r.body ?? '')).toBe(true);
    expect(alerts[0]?.body).toMatchObject({ type: 'break_glass', space: 'local-dev', use, role: 'triage', actor: glass.principal.id });
    expect(alerts[0]?.r.body).not.toContain('unconscious');
  });

  it('rule: a malformed reason, a role without break-glass, or a key with too many unreviewed uses is refused', async () => {
    const before = await t.db.query(
      "SELECT 1 FROM ward_audit_events WHERE action = 'break_glass.open' AND reason = 'break_glass_reason_invalid'",
    );
    const bad = ['too short', '', ' '.repeat(30), `${'x'.repeat(25)}\u0007`, `${'x'.repeat(25)}\u009b`, 'y'.repeat(501)];
    for (const reason of bad) await expect(as('triage', reason)).rejects.toMatchObject({ code: 'break_glass_reason_invalid' });
    const after = await t.db.query(
      "SELECT 1 FROM ward_audit_events WHERE action = 'break_glass.open' AND reason = 'break_glass_reason_invalid'",
    );
    expect(after.length - before.length).toBe(bad.length);
    // A reason the detector's masks make longer than it was is still kept (cut to the column).
    const masked = await as('er_lead', 'Reno '.repeat(99).trim());
    expect(masked.breakGlass?.use).toBeDefined();
    await vault.reviewBreakGlass(masked.breakGlass?.use ?? '', undefined);
    await expect(as('clinician', REASON)).rejects.toMatchObject({ code: 'break_glass_not_allowed', status: 403 });
    const [denied] = await t.db.query<{ outcome: string; reason: string }>(
      "SELECT outcome, reason FROM ward_audit_events WHERE action = 'break_glass.open' AND role = 'clinician'",
    );
    expect(denied).toEqual({ outcome: 'denied', reason: 'break_glass_not_allowed' });

    // er_lead may have one use waiting for review: once its window has closed, no second one opens.
    const first = await as('er_lead', PHI_REASON);
    await t.db.query(
      "UPDATE ward_break_glass SET started_at = now() - interval '10 minutes', ends_at = now() - interval '5 minutes' WHERE role = 'er_lead'",
    );
    // A process that has not seen the use open (not closed here: it shares the test's database).
    const fresh = await reopen();
    await expect(as('er_lead', REASON, 'treatment', fresh)).rejects.toMatchObject({ code: 'break_glass_review_pending' });
    const [pending] = await t.db.query<{ outcome: string }>(
      "SELECT outcome FROM ward_audit_events WHERE action = 'break_glass.open' AND reason = 'break_glass_review_pending'",
    );
    expect(pending).toEqual({ outcome: 'denied' });
    await fresh.reviewBreakGlass(first.breakGlass?.use ?? '', 'checked with the attending');
    const second = await as('er_lead', REASON, 'treatment', fresh);
    expect(second.breakGlass?.use).not.toBe(first.breakGlass?.use);
  });

  it('rule: uses are listed until someone other than who declared them reviews them; the reason is kept without PHI', async () => {
    const lead = await as('er_lead');
    const auditor = await as('auditor');
    const waiting = await vault.breakGlassUses({ unreviewed: true }, auditor);
    expect(waiting.length).toBeGreaterThan(0);
    const triageUse = waiting.find((u) => u.role === 'triage');
    expect(triageUse).toMatchObject({ reason: REASON, accesses: 1, reviewed: null });
    const all = await vault.breakGlassUses({}, auditor);
    const phiUse = all.find((u) => u.role === 'er_lead' && u.reason.startsWith('Unresponsive arrival'));
    expect(phiUse?.reason).not.toContain('219-09-9999');
    expect(phiUse?.reason).toContain('need allergies');
    // Nothing kept anywhere holds the SSN from the reason.
    const dump = JSON.stringify([await t.db.query('SELECT * FROM ward_break_glass'), await t.db.query('SELECT * FROM ward_audit_events')]);
    expect(dump).not.toContain('219-09-9999');

    // er_lead's open use is its own: it may not review it, though it may review others.
    const own = all.find((u) => u.role === 'er_lead' && !u.reviewed);
    await expect(vault.reviewBreakGlass(own?.id ?? '', undefined, lead)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(vault.breakGlassUses({}, await as('triage'))).rejects.toMatchObject({ code: 'forbidden' });
    const reviewed = await vault.reviewBreakGlass(triageUse?.id ?? '', 'appropriate: unconscious patient', lead);
    expect(reviewed.reviewed).toMatchObject({ by: lead.principal.id, note: 'appropriate: unconscious patient' });
    // Reviewed while still open, the use ends: what would come after was not reviewed.
    expect(Date.parse(reviewed.endsAt)).toBeLessThanOrEqual(Date.now() + 1000);
    await expect(vault.reviewBreakGlass(triageUse?.id ?? '', undefined, auditor)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(vault.reviewBreakGlass('00000000-0000-4000-8000-000000000000', undefined, auditor)).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await vault.breakGlassUses({ unreviewed: true }, auditor)).map((u) => u.id)).not.toContain(triageUse?.id);
    const actions = await t.db.query<{ action: string; outcome: string }>(
      "SELECT action, outcome FROM ward_audit_events WHERE action LIKE 'break_glass.review' ORDER BY seq",
    );
    expect(actions).toEqual([
      { action: 'break_glass.review', outcome: 'allowed' },
      { action: 'break_glass.review', outcome: 'allowed' },
      { action: 'break_glass.review', outcome: 'denied' },
      { action: 'break_glass.review', outcome: 'allowed' },
      { action: 'break_glass.review', outcome: 'failed' },
    ]);
  });
});
