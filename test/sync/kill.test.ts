/** `ward sync run` killed with SIGKILL mid-pass, then run again: every source row once in the vault, none lost or duplicated. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { openVault } from '../../src/vault/open.js';
import { canaryPatient, freshDb, newMasterKey } from '../helpers.js';
import { scratchDir } from '../scratch.js';
import { mappingFile, SYNC_CONFIG } from './helpers.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const ROWS = 3000;

describe('sync, interrupted', () => {
  it('rule: kill -9 of ward sync run mid-pass, then a second run: every row exactly once', async () => {
    const t = await freshDb('pg');
    const dir = scratchDir('ward-sync-kill-');
    writeFileSync(join(dir, 'ward.yaml'), SYNC_CONFIG);
    const { DATABASE_URL: _d, WARD_CONFIG: _c, ...rest } = process.env;
    const env = { ...rest, DATABASE_URL: t.location, WARD_MASTER_KEY: newMasterKey() };
    try {
      // Migrated, the space recorded, as the operator's first run would leave it.
      await openVault(parseConfig(SYNC_CONFIG, join(dir, 'ward.yaml'), env), { env, db: t.db, migrations: 'auto' });
      const head = 'Id,MRN__c,Name,SSN__c,Plan__c,Secret_Notes__c,Description';
      const lines = Array.from({ length: ROWS }, (_, n) => {
        const p = canaryPatient(n);
        return `${n},${p.mrn},${p.name},,gold,,`;
      });
      writeFileSync(join(dir, 'contacts.csv'), `${head}\n${lines.join('\n')}\n`);
      mappingFile(dir, { kind: 'csv', file: 'contacts.csv' });
      const count = async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records'))[0]?.n ?? 0;
      const child = spawn(process.execPath, [CLI, 'sync', 'run', 'mapping.json', '--batch', '50'], { cwd: dir, env, stdio: 'ignore' });
      for (let i = 0; i < 1000 && (await count()) < 300; i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const midway = await count();
      expect(midway).toBeGreaterThan(0);
      expect(midway).toBeLessThan(ROWS);
      const second = spawn(process.execPath, [CLI, 'sync', 'run', 'mapping.json', '--batch', '500'], { cwd: dir, env, stdio: 'ignore' });
      expect(await new Promise((r) => second.once('exit', r))).toBe(0);
      expect(await count()).toBe(ROWS);
      const third = spawn(process.execPath, [CLI, 'sync', 'run', 'mapping.json'], { cwd: dir, env, stdio: 'ignore' });
      expect(await new Promise((r) => third.once('exit', r))).toBe(0);
      expect(await count()).toBe(ROWS);
      expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_sync_rows'))[0]?.n).toBe(ROWS);
      expect((await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records WHERE version > 1'))[0]?.n).toBe(0);
    } finally {
      await t.dispose();
    }
  }, 90_000);
});
