/** `ward retention run | restore` and `ward hold add | list | remove` end to end on the embedded database. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { pgliteDb } from '../../src/store/pglite.js';
import { openVault } from '../../src/vault/open.js';
import { initialized, json, ward } from './harness.js';

describe('ward retention and ward hold', () => {
  it('a dry run reports, a run archives, a restore brings a record back under a hold, and holds are listed and removed', async () => {
    const dir = await initialized('ward-cli-retention-');
    const vault = await openVault(loadConfig(join(dir, 'ward.yaml'), {}), { env: {} });
    const ids: string[] = [];
    try {
      for (const n of [1, 2]) ids.push((await vault.create('patients', { mrn: `MRN-CLI-RET-${n}`, name: 'Old Person', plan: 'gold' })).id);
    } finally {
      await vault.close();
    }
    const [old, other] = ids as [string, string];
    // Make both records older than the example's 7-year retention (as the database's owner could).
    const raw = await pgliteDb(join(dir, '.ward', 'pgdata'));
    await raw.query(
      `UPDATE ward_records SET created_at = now() - make_interval(days => ${7 * 365 + 1}), expires_at = now() - interval '1 day'`,
    );
    await raw.close();

    const held = json(await ward(dir, ['hold', 'add', 'patients', other, '--reason', 'Matter 77', '--json']));
    expect(held).toMatchObject({ recordId: other, reason: 'Matter 77' });
    const dry = await ward(dir, ['retention', 'run', '--dry-run']);
    expect(dry.stdout).toMatch(/^collection\s+expired\s+held\s+archive due\npatients\s+1\s+1\s+0\n$/m);
    expect(json(await ward(dir, ['retention', 'run', '--json'])).collections).toEqual([
      { collection: 'patients', archived: 1, removed: 0, held: 1 },
    ]);
    const restored = await ward(dir, ['retention', 'restore', 'patients', old, '--reason', 'Appeal']);
    expect(restored.stdout).toMatch(new RegExp(`^restored ${old} under hold [0-9a-f-]{36} \\(ward hold remove `));
    const listed = await ward(dir, ['hold', 'list']);
    expect(listed.stdout).toMatch(/^id\s+collection\s+record\s+since\s+by\s+reason\n/);
    expect(listed.stdout).toContain('Matter 77');
    expect(listed.stdout).toContain('Appeal');
    const holds = json(await ward(dir, ['hold', 'list', '--json'])) as { id: string; recordId: string }[];
    const removed = await ward(dir, ['hold', 'remove', holds.find((h) => h.recordId === other)?.id ?? '']);
    expect(removed).toMatchObject({ code: 0 });
    expect(json(await ward(dir, ['retention', 'run', '--json'])).collections).toEqual([
      { collection: 'patients', archived: 1, removed: 0, held: 0 },
    ]);
    // The de-identified copy holds the records still served: the restored one, still held.
    expect(json(await ward(dir, ['deid', 'refresh', '--json']))).toEqual([
      expect.objectContaining({ collection: 'patients', table: 'ward_deid.patients', records: 1 }),
    ]);
    const bad = await ward(dir, ['hold', 'add', 'patients', old, '--reason', '']);
    expect(bad).toMatchObject({ code: 1, stderr: 'ward: --reason must give the reason in 1 to 500 characters [invalid_request]\n' });
  });
});
