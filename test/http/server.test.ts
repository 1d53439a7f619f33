/**
 * Over a real socket: `startServer` on PostgreSQL and PGlite, graceful shutdown with requests in
 * flight, HTTPS with HSTS, trusted proxies, malformed HTTP, and the production transport rule.
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy } from '../../src/access/policy.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig, type WardConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { checkTrustProxy, type RunningServer, startServer } from '../../src/http/server.js';
import { migrate } from '../../src/store/migrate.js';
import { ApiKeys } from '../../src/vault/apikeys.js';
import { canaryPatient, freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { scratchDir } from '../scratch.js';
import { call, memoryLogger } from './helpers.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** POSTs a record on a fresh connection (no keep-alive pool), resolving with the status or the socket error code. */
function post(url: string, key: string, body: unknown): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest(
      `${url}/v1/collections/patients/records`,
      {
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${key}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    req.end(JSON.stringify(body));
  });
}

/** Sends raw bytes and returns everything the server wrote back before closing. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(bytes));
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
    });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('ward server over a socket on PostgreSQL', () => {
  let t: TestDb;
  let cfg: WardConfig;
  let server: RunningServer;
  let key = '';
  const masterKey = newMasterKey();
  const logs: string[] = [];

  beforeAll(async () => {
    t = await freshDb('pg');
    await migrate(t.db);
    cfg = parseConfig(EXAMPLE_CONFIG, '/virtual/ward.yaml', { DATABASE_URL: t.location });
    key = (await new ApiKeys(t.db, new Policy(cfg.roles)).create('clinician', 'socket test')).key;
    server = await startServer({ cfg }, { port: 0, env: { WARD_MASTER_KEY: masterKey }, signals: false, logger: memoryLogger(logs) });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('serves the API on loopback and answers readiness', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const p = canaryPatient(1);
    expect(await post(server.url, key, p)).toBe(201);
    const ready = await fetch(`${server.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    expect(logs.some((l) => l.includes('"msg":"ward server listening"'))).toBe(true);
  });

  it('answers malformed HTTP with a problem body and stays up', async () => {
    const out = await raw(server.url, 'GARBAGE / HTTP/9.9\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(out).toContain('"code":"invalid_request"');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('graceful shutdown: stops accepting, lets requests in flight commit, then closes', async () => {
    const admin = new pg.Client({ connectionString: t.location });
    await admin.connect();
    const before = Number((await admin.query('SELECT count(*) AS n FROM ward_records')).rows[0].n);
    const lastEvent = (await admin.query('SELECT coalesce(max(seq), 0) AS seq FROM ward_audit_events')).rows[0].seq;
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE ward_records IN ACCESS EXCLUSIVE MODE');
    const inFlight = [canaryPatient(2), canaryPatient(3), canaryPatient(4)].map((p) => post(server.url, key, p));
    // One more on a keep-alive connection of its own, to send a second request on once closing has begun.
    const kept = connect(Number(new URL(server.url).port), '127.0.0.1');
    let answers = '';
    kept.on('data', (d) => {
      answers += d;
    });
    const keptClosed = new Promise((r) => kept.once('close', r));
    const create = (p: unknown) => {
      const body = JSON.stringify(p);
      return `POST /v1/collections/patients/records HTTP/1.1\r\nHost: ward\r\nAuthorization: Bearer ${key}\r\nWard-Purpose: treatment\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    };
    kept.write(create(canaryPatient(5)));
    // wait until the requests are inside the server, at least one blocked in the database (asked
    // on another connection: inside a transaction, pg_stat_activity answers from its first snapshot)
    const watch = new pg.Client({ connectionString: t.location });
    await watch.connect();
    const blocked = async () =>
      (await watch.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"))
        .rows[0].n;
    for (let i = 0; i < 100 && (await blocked()) < 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await blocked()).toBeGreaterThanOrEqual(1);
    await watch.end();
    await new Promise((r) => setTimeout(r, 200));
    const closing = server.close();
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(await post(server.url, key, canaryPatient(7))).toBe('ECONNREFUSED');
      // A request on a connection that is still open: refused with 503 shutting_down, or not read at all (below).
      kept.write(create(canaryPatient(6)));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await admin.query('COMMIT');
    }
    expect(await Promise.all(inFlight)).toEqual([201, 201, 201]);
    await closing;
    await keptClosed;
    // The first was in flight: it finished. The second either gets 503 shutting_down or, when
    // Node closes the connection as it goes idle before reading it, no answer; never a write.
    const statuses = [...answers.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    expect(statuses[0]).toBe(201);
    expect(statuses.slice(1)).toEqual(statuses.length > 1 ? [503] : []);
    if (statuses.length > 1) expect(answers).toContain('"code":"shutting_down"');
    const after = Number((await admin.query('SELECT count(*) AS n FROM ward_records')).rows[0].n);
    expect(after).toBe(before + 4);
    // The refused request wrote nothing: no record, no create event.
    const creates = await admin.query("SELECT count(*)::int AS n FROM ward_audit_events WHERE action = 'create' AND seq > $1", [lastEvent]);
    expect(creates.rows[0].n).toBe(4);
    await admin.end();
  });
});

describe('ward server transport rules', () => {
  const dir = scratchDir('ward-serve-');
  const env = { WARD_MASTER_KEY: newMasterKey() };
  const cfg = parseConfig(EXAMPLE_CONFIG, join(dir, 'ward.yaml'), {});

  it.skipIf(!hasOpenssl)('serves HTTPS from cert and key files, with HSTS', async () => {
    const cert = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const server = await startServer({ cfg }, { port: 0, env, signals: false, tls: { cert, key: keyFile }, logger: memoryLogger([]) });
    try {
      expect(server.url).toMatch(/^https:\/\//);
      const { status, hsts } = await new Promise<{ status: number; hsts: unknown }>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/healthz`, { ca: execFileSync('cat', [cert]) }, (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] });
        });
        req.on('error', reject);
        req.end();
      });
      expect([status, hsts]).toEqual([200, 'max-age=31536000; includeSubDomains']);
    } finally {
      await server.close();
    }
  });

  it('a production space refuses plain HTTP at start, naming the fix', async () => {
    const prod = { ...cfg, space: { ...cfg.space, tier: 'production' as const } };
    const e = await startServer({ cfg: prod }, { port: 0, env, signals: false }).catch((x) => x);
    expect(e.code).toBe('unsafe_production');
    expect(e.message).toContain('--tls-cert and --tls-key');
    expect(e.message).toContain('--trust-proxy');
  });

  it('a port in use fails at start with a message naming --port, before the database is opened', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const { port } = busy.address() as { port: number };
    const e = await startServer({ cfg }, { port, env, signals: false }).catch((x) => x);
    busy.close();
    expect([e.code, e.message]).toEqual(['config_invalid', `--port: 127.0.0.1:${port} is already in use; pick another port`]);
  });

  it('--trust-proxy takes addresses and CIDR ranges only', () => {
    expect(checkTrustProxy(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'])).toHaveLength(4);
    for (const bad of ['true', '*', '10.0.0.0/33', 'proxy.internal', '1'])
      expect(() => checkTrustProxy([bad])).toThrow(/--trust-proxy entry 1: expected an IP address or CIDR range/);
  });
});

describe('behind a trusted proxy (in-process)', () => {
  it('believes X-Forwarded-For and -Proto only from the trusted proxy', async () => {
    const t = await freshDb('pglite');
    const { openVault } = await import('../../src/vault/open.js');
    const cfg = parseConfig(EXAMPLE_CONFIG, '/virtual/ward.yaml', {});
    const vault = await openVault(cfg, { env: { WARD_MASTER_KEY: newMasterKey() }, db: t.db });
    const apiKeys = new ApiKeys(t.db, new Policy(cfg.roles));
    const { key } = await apiKeys.create('clinician', 'proxy');
    let forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
    const clientOf = async (trustProxy: string[]) => {
      const app = await buildApp({ vault, apiKeys, trustProxy, logger: memoryLogger([]) });
      const res = await call(app, {
        method: 'POST',
        url: '/v1/collections/patients/records',
        key,
        purpose: 'treatment',
        body: canaryPatient(),
        headers: forwarded,
      });
      const [row] = await t.db.query<{ client: string }>('SELECT client FROM ward_audit_events WHERE request_id = $1', [
        res.headers['x-request-id'],
      ]);
      await app.close();
      return [row?.client, res.headers['strict-transport-security'] ?? null];
    };
    expect(await clientOf(['127.0.0.1'])).toEqual(['203.0.113.7', 'max-age=31536000; includeSubDomains']);
    expect(await clientOf(['10.0.0.0/8'])).toEqual(['127.0.0.1', null]);
    expect(await clientOf([])).toEqual(['127.0.0.1', null]);
    // What a proxy passes on that is no plain address (text, an IPv6 zone) is not stored: the proxy's own address is.
    for (const text of ['fe80::1%JohnSmith', 'Canaryname Smith']) {
      forwarded = { 'x-forwarded-for': text, 'x-forwarded-proto': 'https' };
      expect((await clientOf(['127.0.0.1']))[0]).toBe('127.0.0.1');
    }
    await vault.close();
  });
});
