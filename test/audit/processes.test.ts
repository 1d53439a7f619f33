/**
 * Several `ward serve` processes (the built CLI) writing to one PostgreSQL database, each sealing
 * in the background: one consistent sealed order, every event sealed exactly once, and the log
 * verifies afterwards. Run `npm run build` first (as for test/cli).
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
const PROCESSES = 3;

describe('several Ward processes sealing one audit log on PostgreSQL', () => {
  let t: TestDb;
  let vault: Vault;
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  let key = '';
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await freshDb('pg');
    dir = scratchDir('ward-seal-procs-');
    const config = EXAMPLE_CONFIG.replace('seal_every: 10s', 'seal_every: 100ms');
    writeFileSync(join(dir, 'ward.yaml'), config);
    const { DATABASE_URL: _d, WARD_CONFIG: _c, ...rest } = process.env;
    env = { ...rest, DATABASE_URL: t.location, WARD_MASTER_KEY: newMasterKey(), WARD_LOG_LEVEL: 'warn' };
    await promisify(execFile)(process.execPath, [CLI, 'migrate'], { cwd: dir, env });
    vault = await openVault(parseConfig(config, join(dir, 'ward.yaml'), env), { env, db: t.db });
    key = (await vault.createApiKey('clinician', 'seal load')).key;
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await t.dispose();
  });

  it('every event is sealed once, in one (txid, seq) order, and the log verifies', { timeout: 60_000 }, async () => {
    const urls: string[] = [];
    for (let i = 0; i < PROCESSES; i++) {
      const port = await freePort();
      const child = spawn(process.execPath, [CLI, 'serve', '--workers', '1', '--port', String(port), '--metrics-port', '0'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.resume();
      children.push(child);
      urls.push(`http://127.0.0.1:${port}`);
    }
    for (const url of urls) {
      for (let i = 0; (await fetch(`${url}/readyz`).catch(() => undefined))?.status !== 200; i++) {
        if (i > 200) throw new Error('ward serve did not become ready');
        await sleep(50);
      }
    }
    const headers = { authorization: `Bearer ${key}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' };
    let created = 0;
    const worker = async (url: string) => {
      for (let i = 0; i < 40; i++) {
        const res = await fetch(`${url}/v1/collections/patients/records`, {
          method: 'POST',
          headers,
          body: JSON.stringify(canaryPatient()),
        });
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        expect((await fetch(`${url}/v1/collections/patients/records/${id}`, { headers })).status).toBe(200);
        created++;
      }
    };
    await Promise.all(urls.flatMap((url) => [worker(url), worker(url)]));
    expect(created).toBe(PROCESSES * 80);
    // A clean shutdown seals what is left.
    const exits = children.map((c) => once(c, 'exit'));
    for (const c of children) c.kill('SIGTERM');
    expect((await Promise.all(exits)).map(([code]) => code)).toEqual(children.map(() => 0));

    const [{ events, leaves, distinct, checkpoints }] = (await t.db.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM ward_audit_events)::text AS events, (SELECT count(*) FROM ward_audit_leaves)::text AS leaves,
              (SELECT count(DISTINCT seq) FROM ward_audit_leaves)::text AS distinct, (SELECT count(*) FROM ward_audit_checkpoints)::text AS checkpoints`,
    )) as [Record<string, string>];
    expect(Number(events)).toBeGreaterThanOrEqual(PROCESSES * 80 * 2);
    expect(leaves).toBe(events);
    expect(distinct).toBe(events);
    expect(Number(checkpoints)).toBeGreaterThan(1);
    const gaps = await t.db.query(
      `SELECT 1 FROM ward_audit_leaves a JOIN ward_audit_leaves b ON b.idx = a.idx + 1
       JOIN ward_audit_events x ON x.seq = a.seq JOIN ward_audit_events y ON y.seq = b.seq
       WHERE (x.txid, x.seq) >= (y.txid, y.seq)`,
    );
    expect(gaps).toEqual([]);
    expect(await vault.verifyAudit()).toMatchObject({ ok: true, problem: null, unsealed: 0 });
  });
});
