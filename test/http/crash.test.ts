/**
 * Crash consistency: `ward serve` (the built CLI) on PostgreSQL is killed with SIGKILL during
 * a write load and restarted. Every acknowledged write must be there with its audit event, and
 * no record may exist without one. Run `npm run build` first (as for test/cli).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { freePort } from '../free-port.js';
import { canaryPatient, freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { scratchDir } from '../scratch.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash consistency of ward serve on PostgreSQL', () => {
  let t: TestDb;
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let key = '';
  let url = '';
  let port = 0;
  let vault: Vault;
  const children: ChildProcess[] = [];

  function serve(): ChildProcess {
    const child = spawn(process.execPath, [CLI, 'serve', '--workers', '1', '--port', String(port), '--metrics-port', '0'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.resume();
    children.push(child);
    return child;
  }

  async function ready(): Promise<void> {
    for (let i = 0; i < 150; i++) {
      if ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200) return;
      await sleep(50);
    }
    throw new Error('ward serve did not become ready');
  }

  beforeAll(async () => {
    t = await freshDb('pg');
    dir = scratchDir('ward-crash-');
    writeFileSync(join(dir, 'ward.yaml'), EXAMPLE_CONFIG);
    const { DATABASE_URL: _d, WARD_CONFIG: _c, ...rest } = process.env;
    env = { ...rest, DATABASE_URL: t.location, WARD_MASTER_KEY: newMasterKey(), WARD_LOG_LEVEL: 'warn' };
    await promisify(execFile)(process.execPath, [CLI, 'migrate'], { cwd: dir, env });
    vault = await openVault(parseConfig(EXAMPLE_CONFIG, join(dir, 'ward.yaml'), env), { env, db: t.db });
    key = (await vault.createApiKey('clinician', 'crash load')).key;
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await t.dispose();
  });

  it('after kill -9 under load and a restart, every acknowledged write is present with its audit event', async () => {
    const first = serve();
    await ready();
    const acked: string[] = [];
    let stop = false;
    const headers = { authorization: `Bearer ${key}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' };
    const worker = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${url}/v1/collections/patients/records`, {
            method: 'POST',
            headers,
            body: JSON.stringify(canaryPatient()),
          });
          if (res.status === 201) acked.push(((await res.json()) as { id: string }).id);
        } catch {
          await sleep(5); // the server is gone: the write was not acknowledged
        }
      }
    };
    const load = Array.from({ length: 8 }, worker);
    while (acked.length < 50) await sleep(20);
    first.kill('SIGKILL');
    await once(first, 'exit');
    stop = true;
    await Promise.all(load);
    expect(acked.length).toBeGreaterThanOrEqual(50);

    const second = serve();
    await ready();
    const present = await t.db.query<{ id: string }>('SELECT id FROM ward_records WHERE id = ANY($1::uuid[])', [acked]);
    expect(present.length).toBe(acked.length);
    const audited = await t.db.query<{ id: string }>(
      "SELECT DISTINCT unnest(record_ids)::text AS id FROM ward_audit_events WHERE action = 'create' AND outcome = 'allowed' AND record_ids && $1::uuid[]",
      [acked],
    );
    expect(new Set(audited.map((r) => r.id))).toEqual(new Set(acked));
    const orphans = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ward_records r
       WHERE NOT EXISTS (SELECT 1 FROM ward_audit_events a WHERE a.action = 'create' AND a.record_ids @> ARRAY[r.id])`,
    );
    expect(orphans[0]?.n).toBe(0);
    const got = await fetch(`${url}/v1/collections/patients/records/${acked[0]}`, { headers });
    expect(got.status).toBe(200);

    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect(code).toBe(0);
    // The sealed audit log survived the kill: a round cut short left no partial leaves.
    await vault.sealAudit(10_000);
    expect(await vault.verifyAudit()).toMatchObject({ ok: true, unsealed: 0 });
  });
});
