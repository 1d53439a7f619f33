/** HTTP test plumbing: an app over a fresh vault, API keys for the example roles, captured logs. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { Policy } from '../../src/access/policy.js';
import { buildApp } from '../../src/http/app.js';
import { Metrics } from '../../src/http/metrics.js';
import { ApiKeys } from '../../src/vault/apikeys.js';
import { type DriverName, exampleConfig, type TestVault, testVault } from '../helpers.js';

export const ROLES = ['clinician', 'billing', 'analytics', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The purpose each example role is granted; the auditor and admin roles state none (they touch no PHI). */
export const PURPOSE: Record<Role, string | undefined> = {
  clinician: 'treatment',
  billing: 'payment',
  analytics: 'research',
  auditor: undefined,
  admin: undefined,
};

export interface HttpFixture {
  t: TestVault;
  app: FastifyInstance;
  apiKeys: ApiKeys;
  keys: Record<Role, string>;
  metrics: Metrics;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  close(): Promise<void>;
}

/** A logger that keeps its lines in memory. */
export function memoryLogger(lines: string[]) {
  return pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
}

export interface FixtureOptions {
  bodyLimit?: number;
  /** ward.yaml text; default the example. */
  config?: string;
}

export async function httpFixture(driver: DriverName, { config, ...options }: FixtureOptions = {}): Promise<HttpFixture> {
  const metrics = new Metrics();
  const t = await testVault(driver, undefined, exampleConfig(config));
  const apiKeys = new ApiKeys(t.db, new Policy(t.cfg.roles));
  await apiKeys.startCache();
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) keys[role] = (await apiKeys.create(role, `${role} test key`)).key;
  const logs: string[] = [];
  const app = await buildApp({
    vault: t.vault,
    apiKeys,
    logger: memoryLogger(logs),
    metrics,
    ingressAllow: t.cfg.ingressAllow,
    config: t.cfg,
    ...options,
  });
  await app.ready();
  return {
    t,
    app,
    apiKeys,
    keys,
    metrics,
    logs,
    async close() {
      await app.close();
      await apiKeys.close();
      await t.vault.close();
      await t.dispose();
    },
  };
}

export interface Call {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'HEAD' | 'OPTIONS';
  url: string;
  key?: string | undefined;
  purpose?: string | undefined;
  body?: unknown;
  /** A raw payload sent as it is (with `contentType`). */
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export async function call(app: FastifyInstance, c: Call): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.key !== undefined) headers.authorization = `Bearer ${c.key}`;
  if (c.purpose !== undefined) headers['ward-purpose'] = c.purpose;
  let payload: string | Buffer | undefined;
  if (c.raw !== undefined) payload = c.raw;
  else if (c.body !== undefined) payload = JSON.stringify(c.body);
  if (payload !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  return app.inject({ method: c.method ?? 'GET', url: c.url, headers, ...(payload === undefined ? {} : { payload }) });
}

/** Counts rows of a table (ward_records, ward_audit_events). */
export async function count(f: HttpFixture, table: 'ward_records' | 'ward_audit_events'): Promise<number> {
  const [row] = await f.t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return row?.n ?? 0;
}
