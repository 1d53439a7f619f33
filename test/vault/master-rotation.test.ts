/**
 * Master key rotation: `ward keys rotate --master` records the new master key as the next epoch and
 * rewraps every data, index and audit signing key under it, resumably; during the rotation a Ward
 * holding both keys serves, after it the new key alone does and the old one is refused.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig, type WardConfig } from '../../src/config/load.js';
import { isWardError } from '../../src/errors.js';
import { beginMasterRotation, openVault } from '../../src/vault/open.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey } from '../helpers.js';
import { scratchDir } from '../scratch.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const patient = (n: number) => ({ mrn: `MRN-MR-${n}`, name: 'Rotated Person', plan: 'gold', ssn: `219-09-${String(2000 + n)}` });
const rotating = (cfg: WardConfig): WardConfig => ({ ...cfg, keys: { provider: 'env', previous: { provider: 'env' } } });
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (isWardError(e) ? e.code : String(e)),
  );

describe.each(DRIVERS)('master key rotation on %s', (driver) => {
  it('rule: every key moves to the new master key; both keys serve during the rotation, the new one alone after, the old one is refused', async () => {
    const t = await freshDb(driver);
    const oldKey = newMasterKey();
    const newKey = newMasterKey();
    try {
      const v = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: oldKey }, db: t.db, migrations: 'auto' });
      const first = (await v.create('patients', patient(1))).id;
      await v.rotateKey('patients');
      const second = (await v.create('patients', patient(2))).id;
      await v.rotateAuditSigningKey();

      const both = { WARD_MASTER_KEY: newKey, WARD_PREVIOUS_MASTER_KEY: oldKey };
      // The new key alone is not yet this database's.
      await expect(code(openVault(exampleConfig(), { env: { WARD_MASTER_KEY: newKey }, db: t.db }))).resolves.toBe('master_key_mismatch');
      // keys.previous must be the key the database is wrapped under now.
      const wrongPrevious = { WARD_MASTER_KEY: newKey, WARD_PREVIOUS_MASTER_KEY: newMasterKey() };
      await expect(code(beginMasterRotation(rotating(exampleConfig()), wrongPrevious, t.db))).resolves.toBe('master_key_mismatch');

      await beginMasterRotation(rotating(exampleConfig()), both, t.db);
      await beginMasterRotation(rotating(exampleConfig()), both, t.db); // idempotent: resumes
      // A second rotation cannot start before this one finishes (keys would be split over three keys).
      const third = { WARD_MASTER_KEY: newMasterKey(), WARD_PREVIOUS_MASTER_KEY: newKey };
      await expect(code(beginMasterRotation(rotating(exampleConfig()), third, t.db))).resolves.toBe('invalid_request');
      const during = await openVault(rotating(exampleConfig()), { env: both, db: t.db });
      expect((await during.get('patients', first)).fields.mrn).toBe('MRN-MR-1');
      // A new key made during the rotation is wrapped under the new master key.
      await during.rotateKey('patients');
      const done = await during.rotateMaster({ batch: 2 });
      expect(done).toMatchObject({ epoch: 2, signingKeys: 2, complete: true });
      expect(done.keys).toBe(3); // data v1 and v2, index v1; v3 was made under the new key
      expect(await t.db.query('SELECT 1 FROM ward_keys WHERE master_epoch <> 2')).toEqual([]);
      expect((await during.rotateMaster()).keys).toBe(0);

      const after = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: newKey }, db: t.db });
      expect((await after.get('patients', first)).fields).toMatchObject({ mrn: 'MRN-MR-1', ssn: '219-09-2001' });
      expect((await after.get('patients', second)).fields.mrn).toBe('MRN-MR-2');
      expect((await after.search('patients', { mrn: 'MRN-MR-2' })).map((r) => r.id)).toEqual([second]);
      await after.sealAudit(1000);
      const verified = await after.verifyAudit();
      expect(verified).toMatchObject({ ok: true });
      const audited = await t.db.query<{ detail: string }>("SELECT detail FROM ward_audit_events WHERE action = 'keys.rotate_master'");
      expect(audited.map((a) => a.detail)).toEqual([
        'master epoch 2: 3 key(s), 2 signing key(s) rewrapped',
        'master epoch 2: 0 key(s), 0 signing key(s) rewrapped',
      ]);

      const stale = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: oldKey }, db: t.db }).catch((e) => e);
      expect(isWardError(stale, 'master_key_mismatch')).toBe(true);
      expect(String(stale.message)).toContain('was replaced');
    } finally {
      await t.dispose();
    }
  });
});

describe('master key rotation, interrupted', () => {
  it('rule: kill -9 of ward keys rotate --master mid-run, then a second run: every key on the new master key, once, every record readable', async () => {
    const t = await freshDb('pg');
    const dir = scratchDir('ward-master-kill-');
    const yaml = EXAMPLE_CONFIG.replace(/ {2}provider: file .*\n {2}file: .*\n/, '  provider: env\n  previous:\n    provider: env\n');
    expect(yaml).toContain('previous:');
    writeFileSync(join(dir, 'ward.yaml'), yaml);
    const { DATABASE_URL: _d, WARD_CONFIG: _c, ...rest } = process.env;
    const oldKey = newMasterKey();
    const env = { ...rest, DATABASE_URL: t.location, WARD_MASTER_KEY: oldKey };
    try {
      const v = await openVault(parseConfig(EXAMPLE_CONFIG, join(dir, 'ward.yaml'), env), { env, db: t.db, migrations: 'auto' });
      const ids = (await v.createMany('patients', [patient(1), patient(2), patient(3)])).ids;
      for (let i = 0; i < 400; i++) await v.rotateKey('patients');
      const keyRows = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_keys'))[0]?.n ?? 0;
      const both = { ...env, WARD_MASTER_KEY: newMasterKey(), WARD_PREVIOUS_MASTER_KEY: oldKey };
      const child = spawn(process.execPath, [CLI, 'keys', 'rotate', '--master', '--batch', '1'], { cwd: dir, env: both, stdio: 'ignore' });
      const moved = async () =>
        (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_keys WHERE master_epoch = 2'))[0]?.n ?? 0;
      for (let i = 0; i < 1000 && (await moved()) < 20; i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const midway = await moved();
      expect(midway).toBeGreaterThan(0);
      expect(midway).toBeLessThan(keyRows);
      const second = spawn(process.execPath, [CLI, 'keys', 'rotate', '--master'], { cwd: dir, env: both, stdio: 'ignore' });
      expect(await new Promise((r) => second.once('exit', r))).toBe(0);
      expect(await moved()).toBe(keyRows);
      const completed = await t.db.query<{ epoch: number; done: boolean }>(
        'SELECT epoch, completed_at IS NOT NULL AS done FROM ward_master_epochs ORDER BY epoch',
      );
      expect(completed).toEqual([
        { epoch: 1, done: true },
        { epoch: 2, done: true },
      ]);
      const after = await openVault(parseConfig(EXAMPLE_CONFIG, join(dir, 'ward.yaml'), env), {
        env: { WARD_MASTER_KEY: both.WARD_MASTER_KEY },
        db: t.db,
      });
      for (const [n, id] of ids.entries()) expect((await after.get('patients', id)).fields.mrn).toBe(`MRN-MR-${n + 1}`);
    } finally {
      await t.dispose();
    }
  }, 90_000);
});
