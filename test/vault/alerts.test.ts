/** Alerts: a lockout starting is posted, signed, through egress to the configured HTTPS endpoint. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { verifyWebhook } from '../../src/events/webhooks.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { httpsReceiver, testPki } from '../pki.js';
import { scratchDir } from '../scratch.js';

const SECRET = 'alert_secret_0123456789';
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('alerts', () => {
  const pki = testPki(['alerts.test']);
  let receiver: Awaited<ReturnType<typeof httpsReceiver>>;
  let t: TestDb;
  let vault: Vault;

  beforeAll(async () => {
    receiver = await httpsReceiver(pki);
    const port = receiver.port;
    const dir = scratchDir('ward-alerts-');
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    const text = `${EXAMPLE_CONFIG}
auth:
  max_failures: 2
egress:
  allow_private: true
  ca_file: ca.pem
alerts:
  url: https://127.0.0.1:${port}/alerts
  secret_env: WARD_ALERT_SECRET
`;
    const env = { WARD_MASTER_KEY: newMasterKey(), WARD_ALERT_SECRET: SECRET };
    t = await freshDb('pglite');
    vault = await openVault(parseConfig(text, join(dir, 'ward.yaml'), env), { env, db: t.db });
    await vault.addAgreement({ name: 'Pager', hosts: ['127.0.0.1'], signed: day(-1), expires: day(90), scope: 'no-phi' });
  });
  afterAll(async () => {
    await vault?.close();
    await t?.dispose();
    await receiver?.close();
  });

  it('a lockout starting raises one signed alert naming the client address, never the key typed', async () => {
    const attempt = (n: number) =>
      vault
        .authenticate({ key: `ward_nothere_wrongkey${n}`, purpose: undefined, client: '192.0.2.5', requestId: `r${n}` })
        .catch((e: unknown) => e);
    for (let i = 0; i < 4; i++) await attempt(i);
    await vault.alerts.settled();
    expect(receiver.received).toHaveLength(1);
    const [alert] = receiver.received;
    expect(verifyWebhook(SECRET, alert?.headers ?? {}, alert?.body ?? '')).toBe(true);
    expect(JSON.parse(alert?.body ?? '{}')).toMatchObject({
      type: 'lockout',
      space: 'local-dev',
      by: 'client',
      subject: '192.0.2.5',
      failures: 3,
    });
    expect(alert?.body).not.toContain('wrongkey');
    const [row] = await t.db.query<{ outcome: string; detail: string }>(
      "SELECT outcome, detail FROM ward_audit_events WHERE action = 'egress'",
    );
    expect(row).toMatchObject({
      outcome: 'allowed',
      detail: expect.stringMatching(/^alert to 127\.0\.0\.1: \d+ bytes, status 200, agreement /),
    });
  });
});
