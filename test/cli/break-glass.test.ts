/** `ward audit break-glass [--unreviewed]` lists uses until `ward audit break-glass review <id>` marks them reviewed. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openVault } from '../../src/vault/open.js';
import { initialized, json, ward } from './harness.js';

describe('ward audit break-glass', () => {
  it('lists a use waiting for review with its reason and accesses, marks it reviewed, then lists none waiting', async () => {
    const dir = await initialized('ward-cli-glass-');
    const vault = await openVault(loadConfig(join(dir, 'ward.yaml'), {}), { env: {} });
    let use: string | undefined;
    try {
      const { key } = await vault.createApiKey('triage', 'front desk');
      const ctx = await vault.authenticate({
        key,
        purpose: 'treatment',
        client: '192.0.2.1',
        requestId: 'r1',
        breakGlass: 'Unconscious arrival, chart needed for treatment',
      });
      use = ctx.breakGlass?.use;
      const { id } = await vault.create('patients', { mrn: 'MRN-CLI-BG', name: 'Glass Person', plan: 'gold', ssn: '219-09-9996' });
      await vault.get('patients', id, { fields: ['ssn'] }, ctx);
    } finally {
      await vault.close();
    }
    const listed = await ward(dir, ['audit', 'break-glass', '--unreviewed']);
    expect(listed.stdout).toMatch(/^id\s+actor\s+role\s+started\s+ends\s+accesses\s+reviewed\s+reason\n/);
    expect(listed.stdout).toContain(`${use}  key:`);
    expect(listed.stdout).toMatch(/NO\s+Unconscious arrival, chart needed for treatment\n$/);
    const reviewed = await ward(dir, ['audit', 'break-glass', 'review', use ?? '', '--note', 'justified']);
    expect(reviewed.stdout).toBe(`reviewed break-glass use ${use} (1 access(es) under it)\n`);
    expect((await ward(dir, ['audit', 'break-glass', '--unreviewed'])).stdout).toBe('no break-glass use is waiting for review\n');
    const all = json(await ward(dir, ['audit', 'break-glass', '--json']));
    expect(all).toEqual([expect.objectContaining({ id: use, role: 'triage', reviewed: expect.objectContaining({ note: 'justified' }) })]);
    const again = await ward(dir, ['audit', 'break-glass', 'review', use ?? '']);
    expect(again).toMatchObject({ code: 1, stderr: 'ward: this break-glass use was reviewed already [invalid_request]\n' });
  });
});
