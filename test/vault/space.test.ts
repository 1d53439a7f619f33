/** A database belongs to the space that first opened it: another space, or another tier, is refused. */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
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
});
