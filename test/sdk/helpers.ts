/**
 * SDK test plumbing: a real `ward serve` (startServer) on a fresh database of either driver, on a
 * port of its own, that a test can stop and start again on the same port and database; API keys
 * for the example roles; SDK clients for them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type ClientOptions, createClient, type WardClient } from '../../packages/sdk/src/index.js';
import type { Collections, components } from '../../packages/sdk/src/schema.js';
import { Policy } from '../../src/access/policy.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig, type WardConfig } from '../../src/config/load.js';
import { type RunningServer, startServer } from '../../src/http/server.js';
import { ApiKeys } from '../../src/vault/apikeys.js';
import { canaryPatient, type DriverName, freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { memoryLogger } from '../http/helpers.js';
import { scratchDir } from '../scratch.js';

export const TOPIC = 'local-dev.patients.refs.v1';
export const ROLES = ['clinician', 'billing', 'triage', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A canary patient (test/helpers.ts) typed as the SDK's create input. */
export const patient = (n?: number) => ({ ...canaryPatient(n), plan: 'gold' }) satisfies components['schemas']['PatientsCreate'];

export interface SdkServer {
  /** The server's URL; the same across restarts. */
  url: string;
  keys: Record<Role, string>;
  /** Every log line the server wrote. */
  logs: string[];
  /** A client for a role's key (clinician and triage: default purpose treatment). */
  client(role: Role, options?: Partial<ClientOptions>): WardClient<Collections>;
  stop(): Promise<void>;
  /** Starts the server again on the same port and database. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** A server on a fresh database; `sealEveryMs` seals the audit log that often (default the example's 10 s). */
export async function sdkServer(driver: DriverName, options: { sealEveryMs?: number } = {}): Promise<SdkServer> {
  const t: TestDb = await freshDb(driver);
  const masterKey = newMasterKey();
  let cfg: WardConfig;
  if (driver === 'pg') cfg = parseConfig(EXAMPLE_CONFIG, '/virtual/ward.yaml', { DATABASE_URL: t.location });
  else
    cfg = parseConfig(
      EXAMPLE_CONFIG.replace('embedded: .ward/pgdata', `embedded: ${t.location}`),
      join(scratchDir('ward-sdk-'), 'ward.yaml'),
      {},
    );
  if (options.sealEveryMs) cfg = { ...cfg, audit: { ...cfg.audit, sealEveryMs: options.sealEveryMs } };
  const apiKeys = new ApiKeys(t.db, new Policy(cfg.roles));
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) keys[role] = (await apiKeys.create(role, `sdk ${role}`)).key;
  // The server opens the database itself (the embedded one admits one process at a time).
  if (driver === 'pglite') await t.db.close();
  const logs: string[] = [];
  let port = 0;
  let running: RunningServer | undefined;
  const start = async () => {
    running = await startServer(
      { cfg },
      {
        port,
        env: { WARD_MASTER_KEY: masterKey },
        signals: false,
        cryptoThreads: 0,
        poolSize: 4,
        graceMs: 2000,
        logger: memoryLogger(logs),
      },
    );
    port = Number(new URL(running.url).port);
  };
  await start();
  const url = running?.url as string;
  const stop = async () => {
    await running?.close();
    running = undefined;
  };
  return {
    url,
    keys,
    logs,
    client: (role, o = {}) =>
      createClient({
        baseUrl: url,
        apiKey: keys[role],
        ...(role === 'clinician' || role === 'triage' ? { purpose: 'treatment' } : {}),
        ...o,
      }),
    stop,
    start,
    async dispose() {
      await stop();
      await t.dispose();
    },
  };
}

/** A server for the tests of one describe block. */
export function useSdkServer(driver: DriverName, options: { sealEveryMs?: number } = {}): SdkServer {
  const s = {} as SdkServer;
  beforeAll(async () => {
    Object.assign(s, await sdkServer(driver, options));
  });
  afterAll(async () => s.dispose?.());
  return s;
}

/** Polls `f` until it resolves (every 100 ms, at most `ms`), rethrowing its last error. */
export async function eventually<T>(f: () => Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
