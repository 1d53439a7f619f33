/** A database belongs to the space that first opened it: another space, or another tier, is refused. */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { loadMasterKey } from '../../src/crypto/master-key.js';
import { openVault } from '../../src/vault/open.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey } from '../helpers.js';

describe.each(DRIVERS)('the space a database belongs to, on %s', (driver) => {
  it('rule: a database is served only to the space and tier that first opened it', async () => {
    const t = await freshDb(driver);
    const env = { WARD_MASTER_KEY: newMasterKey() };
    try {
      const first = await openVault(exampleConfig(), { env, db: t.db, migrations: 'auto' });
      await first.create('patients', { mrn: 'MRN-SPACE-1', name: 'Space Person', plan: 'gold' });
      const again = await openVault(exampleConfig(), { env, db: t.db });
      expect((await again.search('patients', { mrn: 'MRN-SPACE-1' })).length).toBe(1);
      for (const text of [EXAMPLE_CONFIG.replaceAll('local-dev', 'staging')]) {
        await expect(openVault(exampleConfig(text), { env, db: t.db })).rejects.toMatchObject({
          code: 'space_mismatch',
          message: expect.stringContaining('this database belongs to space local-dev (nonproduction), not staging (nonproduction)'),
        });
      }
      // The same name as a production space: the tier differs, so it is refused too.
      const production = {
        ...exampleConfig(),
        space: { name: 'local-dev', tier: 'production' as const },
        database: { kind: 'url' as const, url: 'postgres://db.internal/ward?sslmode=verify-full', source: 'ward.yaml' as const },
        keys: { provider: 'env' as const },
      };
      await expect(openVault(production, { env, db: t.db })).rejects.toMatchObject({
        code: 'space_mismatch',
        message: expect.stringContaining('belongs to space local-dev (nonproduction), not local-dev (production)'),
      });
      const rows = await t.db.query<{ name: string; tier: string }>('SELECT name, tier FROM ward_space');
      expect(rows).toEqual([{ name: 'local-dev', tier: 'nonproduction' }]);
    } finally {
      await t.dispose();
    }
  });

  it('rule: a copy of a database restored under another space cannot be decrypted there, even with the same master key', async () => {
    const t = await freshDb(driver);
    const env = { WARD_MASTER_KEY: newMasterKey() };
    const copies = [];
    try {
      const v = await openVault(exampleConfig(), { env, db: t.db, migrations: 'auto' });
      const { id } = await v.create('patients', { mrn: 'MRN-BOUND-1', name: 'Bound Person', plan: 'gold' });
      await t.db.close();
      const staging = exampleConfig(EXAMPLE_CONFIG.replaceAll('local-dev', 'staging'));

      // Restored where it belongs, the copy reads.
      const home = await freshDb(driver, { copyOf: t.location });
      copies.push(home);
      const restored = await openVault(exampleConfig(), { env, db: home.db });
      expect((await restored.get('patients', id)).fields.name).toBe('Bound Person');

      // Restored under another space, with its space record rewritten to match: the keys do not unwrap.
      const elsewhere = await freshDb(driver, { copyOf: t.location });
      copies.push(elsewhere);
      await expect(openVault(staging, { env, db: elsewhere.db })).rejects.toMatchObject({ code: 'space_mismatch' });
      await elsewhere.db.query("UPDATE ward_space SET name = 'staging'");
      await expect(openVault(staging, { env, db: elsewhere.db })).rejects.toMatchObject({
        code: 'space_mismatch',
        message: expect.stringContaining('does not unwrap in space staging'),
      });
      const formats = await elsewhere.db.query<{ wrap_format: number }>('SELECT DISTINCT wrap_format FROM ward_keys');
      expect(formats).toEqual([{ wrap_format: 2 }]);
      // Nor with other collections declared (the stored keys are all checked, not only the configured ones).
      const other = EXAMPLE_CONFIG.replaceAll('local-dev', 'staging')
        .replace('\n  patients:\n', '\n  people:\n')
        .replaceAll('[patients]', '[people]');
      await expect(openVault(exampleConfig(other), { env, db: elsewhere.db })).rejects.toMatchObject({ code: 'space_mismatch' });
      // The application may only bind a key, never change one otherwise: a format-2 key cannot go back to 1 or be overwritten.
      for (const sql of [
        'UPDATE ward_keys SET wrap_format = 1',
        "UPDATE ward_keys SET wrapped = '\\x00'",
        "UPDATE ward_keys SET version = version + 10 WHERE purpose = 'data'",
      ])
        await expect(elsewhere.db.query(sql), sql).rejects.toBeDefined();
    } finally {
      for (const c of copies) await c.dispose();
      await t.dispose();
    }
  });

  it('rule: keys wrapped before spaces were bound are bound to the recorded space at the next open', async () => {
    const t = await freshDb(driver);
    const env = { WARD_MASTER_KEY: newMasterKey() };
    try {
      const v = await openVault(exampleConfig(), { env, db: t.db, migrations: 'auto' });
      const { id } = await v.create('patients', { mrn: 'MRN-BOUND-2', name: 'Older Person', plan: 'gold' });
      // Rewrap every key the way Ward did before wrap format 2 (no space in the associated data),
      // past the guard that otherwise forbids it (as the database's owner could).
      const master = await loadMasterKey({ provider: 'env' }, env);
      await t.db.query('ALTER TABLE ward_keys DISABLE TRIGGER ward_keys_guard');
      const rows = await t.db.query<{ collection: string; purpose: string; version: number; wrapped: Buffer }>(
        'SELECT collection, purpose, version, wrapped FROM ward_keys',
      );
      for (const r of rows) {
        const key = await master.unwrap(
          Buffer.from(r.wrapped),
          `ward/key/v2/local-dev/nonproduction/${r.collection}/${r.purpose}/${r.version}`,
        );
        await t.db.query('UPDATE ward_keys SET wrapped = $1, wrap_format = 1 WHERE collection = $2 AND purpose = $3 AND version = $4', [
          await master.wrap(key, `ward/key/v1/${r.collection}/${r.purpose}/${r.version}`),
          r.collection,
          r.purpose,
          r.version,
        ]);
      }
      await t.db.query('ALTER TABLE ward_keys ENABLE TRIGGER ward_keys_guard');
      const again = await openVault(exampleConfig(), { env, db: t.db });
      expect((await again.get('patients', id)).fields.name).toBe('Older Person');
      expect((await again.search('patients', { mrn: 'MRN-BOUND-2' })).length).toBe(1);
      const formats = await t.db.query<{ wrap_format: number }>('SELECT DISTINCT wrap_format FROM ward_keys');
      expect(formats).toEqual([{ wrap_format: 2 }]);
    } finally {
      await t.dispose();
    }
  });
});
