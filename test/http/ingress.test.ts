/**
 * The ingress allowlist: a request from outside `network.ingress.allow` is refused with 403
 * `ingress_denied` before authentication (no key is looked at), judged on the real client address
 * (forwarded headers only from a trusted proxy), and refusals are audited in aggregate.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { buildApp } from '../../src/http/app.js';
import { type HttpFixture, httpFixture, memoryLogger } from './helpers.js';

const config = (ranges: string[]) => `${EXAMPLE_CONFIG}\nnetwork:\n  ingress:\n    allow: [${ranges.join(', ')}]\n`;

describe('the ingress allowlist', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite', { config: config(['10.0.0.0/8', '2001:db8::/32']) });
  });
  afterAll(async () => f.close());

  it('rule: a request from outside the ranges is refused 403 before authentication, on every route; one inside goes on', async () => {
    for (const url of ['/healthz', '/v1/collections/patients/records/0190a0a0-0000-7000-8000-000000000000', '/openapi.json']) {
      const res = await f.app.inject({ url, headers: { authorization: `Bearer ${f.keys.clinician}`, 'ward-purpose': 'treatment' } });
      expect([url, res.statusCode, res.json().code]).toEqual([url, 403, 'ingress_denied']);
    }
    expect((await f.app.inject({ url: '/healthz', remoteAddress: '10.20.30.40' })).statusCode).toBe(200);
    expect((await f.app.inject({ url: '/healthz', remoteAddress: '2001:db8::7' })).statusCode).toBe(200);
    const wrongKey = await f.app.inject({
      url: '/v1/events/schemas',
      remoteAddress: '10.1.1.1',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrongKey.statusCode).toBe(401); // inside the ranges, authentication decides
  });

  it('refusals are audited in aggregate: one row per address with its count, no row per request', async () => {
    const before = await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ward_audit_events WHERE action = 'ingress'");
    for (let i = 0; i < 5; i++) await f.app.inject({ url: '/healthz', remoteAddress: '192.0.2.9' });
    expect((await f.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM ward_audit_events WHERE action = 'ingress'"))[0]?.n).toBe(
      before[0]?.n,
    );
    await f.close();
    f = await httpFixture('pglite', { config: config(['10.0.0.0/8']) });
  });

  it('a trusted proxy’s X-Forwarded-For decides; an untrusted one’s is ignored', async () => {
    const app = await buildApp({
      vault: f.t.vault,
      apiKeys: f.apiKeys,
      logger: memoryLogger([]),
      trustProxy: ['127.0.0.1'],
      ingressAllow: ['203.0.113.0/24'],
    });
    try {
      const via = (remoteAddress: string, xff?: string) =>
        app.inject({ url: '/healthz', remoteAddress, ...(xff ? { headers: { 'x-forwarded-for': xff } } : {}) });
      expect((await via('127.0.0.1', '203.0.113.9')).statusCode).toBe(200);
      expect((await via('127.0.0.1', '198.51.100.1')).statusCode).toBe(403);
      expect((await via('127.0.0.1')).statusCode).toBe(403);
      expect((await via('10.0.0.1', '203.0.113.9')).statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('over real sockets: 127.0.0.2 allowed, 127.0.0.1 refused, and the refusals land in the audit trail when the server closes', async () => {
    const app = await buildApp({ vault: f.t.vault, apiKeys: f.apiKeys, logger: memoryLogger([]), ingressAllow: ['127.0.0.2/32'] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const get = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', localAddress }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    const viaAlias = await get('127.0.0.2').catch(() => 'no alias');
    if (viaAlias !== 'no alias') expect(viaAlias).toBe(200);
    expect(await get('127.0.0.1')).toBe(403);
    expect(await get('127.0.0.1')).toBe(403);
    await app.close();
    const rows = await f.t.db.query<{ client: string; detail: string; outcome: string; reason: string }>(
      "SELECT client, detail, outcome, reason FROM ward_audit_events WHERE action = 'ingress' ORDER BY seq",
    );
    expect(rows.at(-1)).toEqual({ client: '127.0.0.1', detail: '2 request(s) refused', outcome: 'denied', reason: 'ingress_denied' });
  });

  it('a range that is not one is refused when the configuration loads', async () => {
    await expect(httpFixture('pglite', { config: config(['10.0.0.0/33']) })).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('network.ingress.allow.0: must be an IP address or CIDR range such as 10.0.0.0/8'),
    });
  });
});
