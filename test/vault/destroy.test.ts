/**
 * The end of a space: every key destroyed, a signed certificate that an auditor can check against
 * the sealed log, and a database that Ward no longer serves.
 */
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { loadMasterKey } from '../../src/crypto/master-key.js';
import { MasterRing } from '../../src/crypto/masters.js';
import { isWardError } from '../../src/errors.js';
import { verifyCertificate } from '../../src/vault/destroy.js';
import { openVault } from '../../src/vault/open.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey } from '../helpers.js';

describe.each(DRIVERS)('destroying a space on %s', (driver) => {
  it('rule: ward destroy destroys every key, refuses to serve the database after, and certifies it verifiably', async () => {
    const t = await freshDb(driver);
    const env = { WARD_MASTER_KEY: newMasterKey() };
    try {
      const v = await openVault(exampleConfig(), { env, db: t.db, migrations: 'auto' });
      for (let n = 0; n < 3; n++) await v.create('patients', { mrn: `MRN-END-${n}`, name: 'Ending Person', plan: 'gold' });
      await v.rotateKey('patients');
      await expect(v.destroySpace('staging')).rejects.toMatchObject({ code: 'invalid_request' });
      const cert = await v.destroySpace('local-dev');
      expect(cert.body).toMatchObject({
        format: 'ward-destruction-certificate/v1',
        space: 'local-dev',
        tier: 'nonproduction',
        records: [{ collection: 'patients', records: 3, archived: 0 }],
        masterKeyCheck: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(cert.body.keys).toEqual([
        { collection: 'patients', purpose: 'data', version: 1 },
        { collection: 'patients', purpose: 'data', version: 2 },
        { collection: 'patients', purpose: 'index', version: 1 },
      ]);
      expect(await t.db.query('SELECT 1 FROM ward_keys')).toEqual([]);
      const [row] = await t.db.query<{ outcome: string; detail: string }>(
        "SELECT outcome, detail FROM ward_audit_events WHERE action = 'space.destroy'",
      );
      expect(row).toEqual({ outcome: 'allowed', detail: '3 key version(s) destroyed; 3 record(s) unreadable' });

      // Not served again: no new keys over the old ciphertexts.
      const again = await openVault(exampleConfig(), { env, db: t.db }).catch((e) => e);
      expect(isWardError(again, 'space_destroyed')).toBe(true);
      expect(await t.db.query('SELECT 1 FROM ward_keys')).toEqual([]);

      // The certificate checks out against the database's signing keys and sealed log; altered, it does not.
      const text = JSON.stringify(cert);
      const audit = await AuditLog.open(t.db, await MasterRing.open(t.db, { current: await loadMasterKey({ provider: 'env' }, env) }));
      expect(await verifyCertificate(t.db, audit, text, 'cert')).toMatchObject({ ok: true, space: 'local-dev', keysDestroyed: 3 });
      const altered = JSON.parse(text);
      altered.body.records[0].records = 1;
      expect(await verifyCertificate(t.db, audit, JSON.stringify(altered), 'cert')).toMatchObject({
        ok: false,
        problem: 'the signature does not hold: the certificate was altered',
      });
      await expect(verifyCertificate(t.db, audit, '{"nope": 1}', 'cert')).rejects.toMatchObject({ code: 'invalid_request' });
    } finally {
      await t.dispose();
    }
  });
});
