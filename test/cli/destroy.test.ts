/** `ward destroy --certificate FILE --confirm SPACE`, then `ward audit verify --certificate FILE`, on the embedded database. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialized, json, ward } from './harness.js';

describe('ward destroy', () => {
  it('destroys the space, writes a 0600 certificate that verifies, and refuses to serve the database after', async () => {
    const dir = await initialized('ward-cli-destroy-');
    json(await ward(dir, ['records', 'create', 'patients', '--json', '{"mrn": "MRN-CLI-END", "name": "Ending Person", "plan": "gold"}']));
    const wrong = await ward(dir, ['destroy', '--certificate', 'cert.json', '--confirm', 'production']);
    expect(wrong).toMatchObject({ code: 1 });
    expect(wrong.stderr).toContain('--confirm must repeat the space name exactly');
    const done = await ward(dir, ['destroy', '--certificate', 'cert.json', '--confirm', 'local-dev']);
    expect(done.stdout).toMatch(/^space local-dev destroyed: 2 key version\(s\); certificate in cert\.json/);
    expect(statSync(join(dir, 'cert.json')).mode & 0o777).toBe(0o600);
    const ok = await ward(dir, ['audit', 'verify', '--certificate', 'cert.json']);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/^certificate ok: space local-dev destroyed /);
    const cert = JSON.parse(readFileSync(join(dir, 'cert.json'), 'utf8'));
    cert.body.destroyedAt = '2020-01-01T00:00:00.000Z';
    writeFileSync(join(dir, 'forged.json'), JSON.stringify(cert));
    const forged = await ward(dir, ['audit', 'verify', '--certificate', 'forged.json']);
    expect(forged).toMatchObject({ code: 1, stdout: 'CERTIFICATE FAILED: the signature does not hold: the certificate was altered\n' });
    const refused = await ward(dir, ['keys', 'status']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[space_destroyed]');
  });
});
