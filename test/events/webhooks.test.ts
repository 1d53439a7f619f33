/**
 * Webhooks for topics, against a real HTTPS receiver with a test CA: each event arrives once it
 * is acknowledged, in order, signed (the receiver verifies it), with no canary in any header or
 * body; a failing receiver gets retries with growing waits, then the event goes to the dead
 * letters and the next one is delivered; a host without an agreement gets nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { signature, verifyWebhook } from '../../src/events/webhooks.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { canaryPatient, freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { httpsReceiver, testPki } from '../pki.js';
import { scratchDir } from '../scratch.js';

const SECRET = 'whsec_test_0123456789abcdef';
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('webhooks for topics', () => {
  const pki = testPki(['receiver.test']);
  let receiver: Awaited<ReturnType<typeof httpsReceiver>>;
  /** What the receiver answers next (then 200). */
  const answers: number[] = [];
  let port = 0;
  let t: TestDb;
  let vault: Vault;

  beforeAll(async () => {
    receiver = await httpsReceiver(pki, () => answers.shift() ?? 200);
    port = receiver.port;
    const dir = scratchDir('ward-webhooks-');
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    const text = `${EXAMPLE_CONFIG.replace(
      '  consumers:',
      `  webhooks:
    - name: billing_hook
      topic: local-dev.patients.refs.v1
      url: https://127.0.0.1:${port}/ward
      secret_env: BILLING_HOOK_SECRET
      max_attempts: 3
      retry_after: 100ms
  consumers:`,
    )}\negress:\n  allow_private: true\n  ca_file: ca.pem\n`;
    const env = { WARD_MASTER_KEY: newMasterKey(), BILLING_HOOK_SECRET: SECRET };
    t = await freshDb('pglite');
    vault = await openVault(parseConfig(text, join(dir, 'ward.yaml'), env), { env, db: t.db });
  });
  afterAll(async () => {
    await vault?.close();
    await t?.dispose();
    await receiver?.close();
  });

  it('rule: a receiver without an agreement in force gets nothing; the attempts are refused by egress and audited', async () => {
    await vault.create('patients', canaryPatient());
    const now = Date.now();
    for (let i = 0; i < 3; i++) expect(await vault.events.deliverWebhooks(now + i * 1000)).toBe(0);
    expect(receiver.received).toEqual([]);
    const rows = await t.db.query<{ outcome: string; reason: string }>(
      "SELECT outcome, reason FROM ward_audit_events WHERE action = 'egress'",
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.outcome === 'denied' && r.reason === 'not_covered')).toBe(true);
    // Three attempts, then a dead letter: ids and position only.
    expect(await vault.events.deadLetters()).toEqual([
      expect.objectContaining({ webhook: 'billing_hook', attempts: 3, lastStatus: null, lastReason: 'egress_denied' }),
    ]);
  });

  it('each event is delivered in order, signed and verifiable, with no PHI in any header or body', async () => {
    await vault.addAgreement({ name: 'Receiver', hosts: ['127.0.0.1'], signed: day(-1), expires: day(100) });
    const patients = [canaryPatient(), canaryPatient()];
    const a = await vault.create('patients', patients[0]);
    await vault.update('patients', a.id, { plan: 'silver' });
    await vault.create('patients', patients[1]);
    const before = receiver.received.length;
    expect(await vault.events.deliverWebhooks()).toBe(3);
    const mine = receiver.received.slice(before);
    expect(mine.map((d) => [JSON.parse(d.body).action, JSON.parse(d.body).version])).toEqual([
      ['create', 1],
      ['update', 2],
      ['create', 1],
    ]);
    for (const d of mine) {
      expect(verifyWebhook(SECRET, d.headers, d.body)).toBe(true);
      expect(d.headers['ward-webhook-id']).toBe(JSON.parse(d.body).id);
      expect(verifyWebhook('another secret entirely', d.headers, d.body)).toBe(false);
      expect(verifyWebhook(SECRET, d.headers, d.body.replace('"version":', '"version": '))).toBe(false);
      const all = JSON.stringify(d);
      for (const p of patients) for (const [field, v] of Object.entries(p)) if (field !== 'plan') expect(all, field).not.toContain(v);
    }
    // Nothing is sent twice.
    expect(await vault.events.deliverWebhooks()).toBe(0);
  });

  it('rule: a stale or replayed delivery fails verification', () => {
    const body = '{"id":"x"}';
    const old = Math.floor(Date.now() / 1000) - 301;
    const headers = { 'ward-webhook-timestamp': String(old), 'ward-webhook-signature': signature(SECRET, old, body) };
    expect(verifyWebhook(SECRET, headers, body)).toBe(false);
    expect(verifyWebhook(SECRET, headers, body, 600)).toBe(true);
  });

  it('a failing receiver gets retries with growing waits; after max_attempts the event is a dead letter and the next goes', async () => {
    const first = await vault.create('patients', canaryPatient());
    const second = await vault.create('patients', canaryPatient());
    const before = receiver.received.length;
    // The first event: 500, then 503 (two attempts), then delivered on the third.
    answers.push(500, 503);
    const now = Date.now();
    expect(await vault.events.deliverWebhooks(now)).toBe(0);
    expect(await vault.events.deliverWebhooks(now + 50)).toBe(0); // still waiting out 100 ms
    expect(await vault.events.deliverWebhooks(now + 150)).toBe(0); // second attempt: 503
    expect(await vault.events.deliverWebhooks(now + 260)).toBe(0); // waiting out 200 ms
    expect(await vault.events.deliverWebhooks(now + 400)).toBe(2);
    expect(receiver.received.slice(before).map((d) => JSON.parse(d.body).recordId)).toEqual([first.id, second.id]);
    // Three failures in a row: the event is given up on, the next is delivered.
    const doomed = await vault.create('patients', canaryPatient());
    const next = await vault.create('patients', canaryPatient());
    answers.push(500, 500, 500);
    const later = Date.now() + 10_000;
    for (const dt of [0, 150, 400]) await vault.events.deliverWebhooks(later + dt);
    const letters = await vault.events.deadLetters();
    expect(letters.at(-1)).toMatchObject({ webhook: 'billing_hook', attempts: 3, lastStatus: 500, lastReason: 'status' });
    expect(receiver.received.at(-1) && JSON.parse(receiver.received.at(-1)?.body as string).recordId).toBe(next.id);
    expect(receiver.received.map((d) => JSON.parse(d.body).recordId)).not.toContain(doomed.id);
  });

  it('attempts count for one event: another process having delivered it, the next event starts afresh', async () => {
    const first = await vault.create('patients', canaryPatient());
    const second = await vault.create('patients', canaryPatient());
    answers.push(500, 500); // the first event fails twice (max_attempts is 3)
    const now = Date.now() + 100_000;
    await vault.events.deliverWebhooks(now);
    await vault.events.deliverWebhooks(now + 150);
    // Meanwhile another sender delivered the first event (its position moved on).
    const [pos] = await t.db.query<{ pos: string }>('SELECT pos::text AS pos FROM ward_events WHERE record_id = $1', [first.id]);
    await t.db.query("UPDATE ward_event_state SET pos = $1 WHERE name = 'webhook:billing_hook'", [Number(pos?.pos)]);
    const lettersBefore = (await vault.events.deadLetters()).length;
    answers.push(500);
    await vault.events.deliverWebhooks(now + 1_000); // the second event's first failure, not its third
    expect((await vault.events.deadLetters()).length).toBe(lettersBefore);
    expect(await vault.events.deliverWebhooks(now + 2_000)).toBe(1);
    expect(JSON.parse(receiver.received.at(-1)?.body as string).recordId).toBe(second.id);
  });

  it('rule: events retention removed before the webhook got them are a dead letter, not skipped silently', async () => {
    await vault.create('patients', canaryPatient());
    const head = Number((await t.db.query<{ pos: string }>('SELECT ward_sequence_events()::text AS pos'))[0]?.pos);
    await t.db.query(
      "INSERT INTO ward_event_state (name, pos) VALUES ('floor:local-dev.patients.refs.v1', $1) ON CONFLICT (name) DO UPDATE SET pos = excluded.pos",
      [head],
    );
    await vault.events.deliverWebhooks(Date.now() + 200_000);
    expect((await vault.events.deadLetters()).at(-1)).toMatchObject({
      eventId: null,
      pos: head,
      lastReason: expect.stringMatching(/^removed_by_retention: positions \d+ to \d+$/),
    });
  });

  it('start-up refuses a webhook whose secret is not in the environment, or whose topic is not declared', async () => {
    const text = EXAMPLE_CONFIG.replace(
      '  consumers:',
      `  webhooks:\n    - name: h\n      topic: local-dev.patients.refs.v1\n      url: https://hooks.example/x\n      secret_env: MISSING_SECRET\n  consumers:`,
    );
    const env = { WARD_MASTER_KEY: newMasterKey() };
    await expect(openVault(parseConfig(text, '/virtual/ward.yaml', env), { env, db: t.db })).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining(
        'events.webhooks[0].secret_env: the environment variable MISSING_SECRET must hold the signing secret',
      ),
    });
    const wrongTopic = text.replace('topic: local-dev.patients.refs.v1\n      url', 'topic: local-dev.nothing.refs.v1\n      url');
    await expect(
      openVault(parseConfig(wrongTopic, '/virtual/ward.yaml', env), { env: { ...env, MISSING_SECRET: SECRET }, db: t.db }),
    ).rejects.toMatchObject({ message: expect.stringContaining('events.webhooks[0].topic: not a topic declared under events.topics') });
  });
});
