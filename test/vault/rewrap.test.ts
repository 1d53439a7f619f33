/**
 * Rewrap and retire: records re-encrypted to the active key version in audited batches, online
 * and resumable (kill -9 mid-run, run again: nothing lost, skipped or re-encrypted twice); a key
 * version is destroyed only when no record uses it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { isWardError } from '../../src/errors.js';
import { openVault } from '../../src/vault/open.js';
import type { RewrapProgress } from '../../src/vault/rewrap.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey } from '../helpers.js';
import { scratchDir } from '../scratch.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const patient = (n: number) => ({ mrn: `MRN-RW-${n}`, name: 'Wrapped Person', plan: 'gold', ssn: `219-09-${String(1000 + n)}` });
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (isWardError(e) ? e.code : String(e)),
  );

describe.each(DRIVERS)('rewrap and retire on %s', (driver) => {
  it('rule: rewrap moves every record to the active version in audited batches, each once; retire destroys only an unused version', async () => {
    const t = await freshDb(driver);
    const env = { WARD_MASTER_KEY: newMasterKey() };
    try {
      const v = await openVault(exampleConfig(), { env, db: t.db, migrations: 'auto' });
      const old: string[] = [];
      for (let n = 0; n < 25; n++) old.push((await v.create('patients', patient(n))).id);
      expect(await v.rotateKey('patients')).toBe(2);
      const fresh = (await v.create('patients', patient(99))).id;
      // Right after a rotation, a server may still write under the old version for a few seconds.
      await expect(v.retireKey('patients', 1)).rejects.toMatchObject({
        code: 'invalid_request',
        message: expect.stringContaining('less than a minute old'),
      });
      const settled = { settleMs: 0 };
      await expect(code(v.retireKey('patients', 1, settled))).resolves.toBe('key_in_use');

      const seen: RewrapProgress[] = [];
      const done = await v.rewrapKeys('patients', { batch: 10, onProgress: (p) => seen.push(p) });
      expect(done).toEqual({ collection: 'patients', version: 2, done: 25, total: 25 });
      expect(seen.map((p) => p.done)).toEqual([0, 10, 20, 25]);
      const versions = await t.db.query<{ key_version: number; n: number }>(
        'SELECT key_version, count(*)::int AS n FROM ward_records GROUP BY key_version',
      );
      expect(versions).toEqual([{ key_version: 2, n: 26 }]);
      const audited = await t.db.query<{ record_ids: string[]; detail: string }>(
        "SELECT record_ids, detail FROM ward_audit_events WHERE action = 'keys.rewrap' ORDER BY seq",
      );
      expect(audited.map((r) => r.record_ids.length)).toEqual([10, 10, 5]);
      expect(audited.flatMap((r) => r.record_ids).sort()).toEqual([...old].sort());
      expect(audited.flatMap((r) => r.record_ids)).not.toContain(fresh);
      expect(audited[0]?.detail).toBe('10 record(s) re-encrypted to data key version 2');
      // Values, searches and tokens are as they were.
      expect((await v.get('patients', old[3] as string)).fields).toMatchObject({ mrn: 'MRN-RW-3', ssn: '219-09-1003' });
      expect((await v.search('patients', { mrn: 'MRN-RW-7' })).map((r) => r.id)).toEqual([old[7]]);
      expect((await v.rewrapKeys('patients')).done).toBe(0);

      await expect(code(v.retireKey('patients', 2, settled))).resolves.toBe('invalid_request');
      await v.retireKey('patients', 1, settled);
      expect(await t.db.query("SELECT version FROM ward_keys WHERE collection = 'patients' AND purpose = 'data'")).toEqual([
        { version: 2 },
      ]);
      await expect(code(v.retireKey('patients', 1, settled))).resolves.toBe('not_found');
      const again = await openVault(exampleConfig(), { env, db: t.db });
      expect((await again.get('patients', old[0] as string)).fields.mrn).toBe('MRN-RW-0');
      const retired = await t.db.query<{ detail: string }>(
        "SELECT detail FROM ward_audit_events WHERE action = 'keys.retire' AND outcome = 'allowed'",
      );
      expect(retired).toEqual([{ detail: 'data key version 1 destroyed' }]);
    } finally {
      await t.dispose();
    }
  });
});

describe('rewrap, interrupted', () => {
  it('rule: kill -9 of ward keys rewrap mid-run, then a second run: every record on the new version, readable, re-encrypted exactly once', async () => {
    const t = await freshDb('pg');
    const dir = scratchDir('ward-rewrap-kill-');
    writeFileSync(join(dir, 'ward.yaml'), EXAMPLE_CONFIG);
    const { DATABASE_URL: _d, WARD_CONFIG: _c, ...rest } = process.env;
    const env = { ...rest, DATABASE_URL: t.location, WARD_MASTER_KEY: newMasterKey() };
    try {
      const v = await openVault(parseConfig(EXAMPLE_CONFIG, join(dir, 'ward.yaml'), env), { env, db: t.db });
      const ids = (
        await v.createMany(
          'patients',
          Array.from({ length: 300 }, (_, n) => patient(n)),
        )
      ).ids;
      await v.rotateKey('patients');
      const child = spawn(process.execPath, [CLI, 'keys', 'rewrap', 'patients', '--batch', '7', '--rate', '200'], {
        cwd: dir,
        env,
        stdio: 'ignore',
      });
      // Killed once some batches have committed, well before the last.
      const onNew = async () =>
        (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records WHERE key_version = 2'))[0]?.n ?? 0;
      for (let i = 0; i < 500 && (await onNew()) < 20; i++) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const midway = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records WHERE key_version = 2');
      expect(midway[0]?.n).toBeGreaterThan(0);
      expect(midway[0]?.n).toBeLessThan(300);
      const second = spawn(process.execPath, [CLI, 'keys', 'rewrap', 'patients', '--batch', '50'], { cwd: dir, env, stdio: 'ignore' });
      expect(await new Promise((r) => second.once('exit', r))).toBe(0);
      const versions = await t.db.query<{ key_version: number; n: number }>(
        'SELECT key_version, count(*)::int AS n FROM ward_records GROUP BY 1',
      );
      expect(versions).toEqual([{ key_version: 2, n: 300 }]);
      const audited = await t.db.query<{ record_ids: string[] }>("SELECT record_ids FROM ward_audit_events WHERE action = 'keys.rewrap'");
      const all = audited.flatMap((r) => r.record_ids);
      expect(all.length).toBe(300);
      expect(new Set(all)).toEqual(new Set(ids));
      for (const id of [ids[0], ids[150], ids[299]]) expect((await v.get('patients', id as string)).fields.plan).toBe('gold');
    } finally {
      await t.dispose();
    }
  }, 60_000);
});
