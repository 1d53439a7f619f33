/** Shared test plumbing: fresh databases on both drivers, configs, vaults and canaries. */
import { randomBytes } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { AuditLog } from '../src/audit/log.js';
import { EXAMPLE_CONFIG } from '../src/config/example.js';
import { parseConfig, type WardConfig } from '../src/config/load.js';
import { loadMasterKey } from '../src/crypto/master-key.js';
import { MasterRing } from '../src/crypto/masters.js';
import type { Db } from '../src/store/db.js';
import { pgDb } from '../src/store/pg.js';
import { pgliteDb } from '../src/store/pglite.js';
import { openVault } from '../src/vault/open.js';
import type { Vault } from '../src/vault/vault.js';
import { dropLater, forget, scratchDir } from './scratch.js';

export type DriverName = 'pglite' | 'pg';
/** Every database test runs against both drivers. */
export const DRIVERS: DriverName[] = ['pglite', 'pg'];

export interface TestDb {
  db: Db;
  /** Connection URL for 'pg', data directory for 'pglite'. */
  location: string;
  dispose(): Promise<void>;
}

export function serverUrl(database?: string): string {
  const u = new URL(inject('databaseUrl'));
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

/** The run's NATS server with JetStream (see global-setup): NATS_URL or a throwaway one; '' when the tier is skipped. */
export function natsUrl(): string {
  return inject('natsUrl');
}

/**
 * `describe` for the NATS tier: without a NATS server in the run the suite is still declared, as
 * `describe.skip`, its name marked, so the report lists its tests as skipped instead of losing them.
 */
export const describeNats = (name: string, fn: () => void): void => {
  if (natsUrl()) describe(name, fn);
  else describe.skip(`${name} [NATS tier skipped: no NATS_URL, no nats-server]`, fn);
};

/**
 * A new database: a copy of the run's migrated template (see global-setup), or with `empty` one
 * without Ward's schema. On the real server a database of its own; on PGlite a temp directory.
 * `dispose()` drops or removes it.
 */
/**
 * A fresh database from the migrated template; `empty` for none at all; `copyOf` for a byte copy
 * of another test database's location (a restored backup: close that database first).
 */
export async function freshDb(driver: DriverName, options: { empty?: boolean; copyOf?: string } = {}): Promise<TestDb> {
  if (driver === 'pglite') {
    const dir = scratchDir('ward-test-lite-');
    if (!options.empty) cpSync(options.copyOf ?? inject('liteTemplate'), dir, { recursive: true });
    let db: Db;
    try {
      db = await pgliteDb(dir);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    return {
      db,
      location: dir,
      async dispose() {
        await db.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `ward_test_${randomBytes(6).toString('hex')}`;
  const template = options.copyOf ? new URL(options.copyOf).pathname.slice(1) : inject('pgTemplate');
  await adminQuery(`CREATE DATABASE ${name}${options.empty ? '' : ` TEMPLATE ${template}`}`);
  const url = serverUrl(name);
  const db = pgDb(url, { max: 4 });
  const drop = async () => {
    forget(name);
    await db.close().catch(() => {});
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  dropLater(name, drop);
  return { db, location: url, dispose: drop };
}

/** One statement on the server's default database (CREATE and DROP DATABASE). */
async function adminQuery(sql: string): Promise<void> {
  const a = new pg.Client({ connectionString: serverUrl() });
  await a.connect();
  try {
    await a.query(sql);
  } finally {
    await a.end();
  }
}

export const newMasterKey = () => randomBytes(32).toString('base64');

export function exampleConfig(text = EXAMPLE_CONFIG): WardConfig {
  return parseConfig(text, '/virtual/ward.yaml', {});
}

export interface TestVault {
  vault: Vault;
  db: Db;
  cfg: WardConfig;
  masterKey: string;
  location: string;
  dispose(): Promise<void>;
}

export async function testVault(
  driver: DriverName,
  masterKey = newMasterKey(),
  cfg = exampleConfig(),
  options: { cryptoThreads?: number } = {},
): Promise<TestVault> {
  const t = await freshDb(driver);
  // A collection naming a subject needs a subject key store: another database, as in production.
  const keystore = Object.values(cfg.collections).some((c) => c.subject) ? await freshDb(driver, { empty: true }) : undefined;
  const vault = await openVault(cfg, {
    env: { WARD_MASTER_KEY: masterKey },
    db: t.db,
    migrations: 'auto',
    ...(keystore ? { subjectKeys: keystore.db } : {}),
    ...options,
  });
  const dispose = async () => {
    await keystore?.dispose();
    await t.dispose();
  };
  return { vault, db: t.db, cfg, masterKey, location: t.location, dispose };
}

/**
 * A second handle on a test vault's sealed audit log (the vault keeps its own private): for
 * tests that drive the sealer round by round.
 */
export async function auditLogOf(t: TestVault): Promise<AuditLog> {
  const ring = await MasterRing.open(t.db, { current: await loadMasterKey(t.cfg.keys, { WARD_MASTER_KEY: t.masterKey }) });
  return AuditLog.open(t.db, ring);
}

/** A vault for the tests of one describe block: opened before them, closed after them. */
export function useTestVault(driver: DriverName, options: { cryptoThreads?: number } = {}): TestVault {
  const t = {} as TestVault;
  beforeAll(async () => {
    Object.assign(t, await testVault(driver, undefined, undefined, options));
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });
  return t;
}

/** A unique, valid, synthetic patient whose values are canaries: they must never leak. */
export function canaryPatient(n = Math.floor(Math.random() * 1e6)) {
  const tag = randomBytes(4).toString('hex');
  const letters = tag.replace(/\d/g, (d) => 'ghijklmnop'[Number(d)] as string);
  return {
    mrn: `CANARY-${tag}-${n}`.slice(0, 32),
    name: `Canaryname ${letters}`,
    ssn: `${100 + (n % 500)}-${String(10 + (n % 89)).padStart(2, '0')}-${String(1000 + (n % 8999)).padStart(4, '0')}`,
    dob: '1961-07-04',
    email: `canary.${tag}@example.org`,
    phone: '+1 617 555 0142',
    zip: '02139',
    diagnosis: `CANARYDX-${tag}`,
    notes: `Canary note ${tag} about the patient`,
    plan: 'gold',
  };
}
