/**
 * Egress against real local HTTPS servers with a test CA: a request goes out only over verified
 * HTTPS to a host covered by an agreement in force whose scope fits, at an address it may reach,
 * pinned at its first resolution; everything else is refused (`egress_denied`) and every request,
 * sent or refused, is audited without its body. (Names resolve through a resolver the test gives
 * the client: the hosts are this machine under made-up names.)
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertProductionSafe } from '../../src/compliance/startup.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { addressRefusal } from '../../src/egress/client.js';
import { canaryPatient, exampleConfig, type TestVault, testVault } from '../helpers.js';
import { testPki } from '../pki.js';
import { scratchDir } from '../scratch.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

interface Received {
  path: string;
  body: string;
  host: string | undefined;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return (server.address() as AddressInfo).port;
}

describe('egress: the one way out', () => {
  const pki = testPki([
    'covered.test',
    'nophi.test',
    'expired.test',
    'revoked.test',
    'elsewhere.test',
    'private.test',
    'rebind.test',
    'meta.test',
  ]);
  const received: Received[] = [];
  let server: Server;
  let rogue: Server;
  let port = 0;
  let roguePort = 0;
  let t: TestVault;
  let strict: TestVault;
  const resolved: string[] = [];
  let rebinds = 0;
  const resolve = async (host: string) => {
    resolved.push(host);
    if (host === 'private.test') return [{ address: '10.0.0.5', family: 4 }];
    if (host === 'meta.test') return [{ address: '169.254.169.254', family: 4 }];
    if (host === 'public.test') return [{ address: '203.0.113.10', family: 4 }];
    if (host === 'rebind.test') return rebinds++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.9.9.9', family: 4 }];
    return [{ address: '127.0.0.1', family: 4 }];
  };
  const audit = async (v: TestVault) =>
    v.db.query<{ outcome: string; reason: string | null; detail: string }>(
      "SELECT outcome, reason, detail FROM ward_audit_events WHERE action = 'egress' ORDER BY seq DESC LIMIT 1",
    );

  beforeAll(async () => {
    server = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', body, host: req.headers.host });
        if (req.url?.startsWith('/redirect')) {
          res.writeHead(302, { location: `https://elsewhere.test:${port}/landed` });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    port = await listen(server);
    rogue = createServer({ cert: pki.selfCert, key: pki.selfKey }, (_req, res) => res.end('rogue'));
    roguePort = await listen(rogue);
    const dir = scratchDir('ward-egress-');
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, pki.ca);
    t = await testVault('pglite', undefined, exampleConfig(`${EXAMPLE_CONFIG}\negress:\n  allow_private: true\n  ca_file: ${ca}\n`));
    strict = await testVault('pglite', undefined, exampleConfig(`${EXAMPLE_CONFIG}\negress:\n  ca_file: ${ca}\n`));
    for (const v of [t, strict]) {
      await v.vault.addAgreement({
        name: 'Receiver',
        hosts: ['covered.test', 'private.test', 'rebind.test', 'meta.test', 'public.test'],
        signed: day(-10),
        expires: day(100),
      });
      await v.vault.addAgreement({ name: 'Metrics', hosts: ['nophi.test'], signed: day(-10), expires: day(100), scope: 'no-phi' });
      await v.vault.addAgreement({ name: 'Old', hosts: ['expired.test'], signed: day(-400), expires: day(-1) });
      const gone = await v.vault.addAgreement({ name: 'Gone', hosts: ['revoked.test'], signed: day(-10), expires: day(100) });
      await v.vault.revokeAgreement(gone.id);
    }
  });
  afterAll(async () => {
    for (const v of [t, strict]) {
      await v?.vault.close();
      await v?.dispose();
    }
    await new Promise((ok) => server?.close(ok));
    await new Promise((ok) => rogue?.close(ok));
  });

  it('a covered host with an agreement in force gets the request, over verified TLS, audited with the agreement and no body', async () => {
    const p = canaryPatient();
    const res = await t.vault
      .egress({ resolve })
      .send({ url: `https://covered.test:${port}/hook`, body: JSON.stringify(p), purpose: 'webhook', scope: 'phi' });
    expect(res.status).toBe(200);
    expect(received.at(-1)).toMatchObject({ path: '/hook', host: `covered.test:${port}` });
    const [row] = await audit(t);
    expect(row).toMatchObject({ outcome: 'allowed', reason: null });
    expect(row?.detail).toMatch(/^webhook to covered\.test: \d+ bytes, status 200, agreement [0-9a-f-]{36}$/);
    const rows = JSON.stringify(await t.db.query("SELECT * FROM ward_audit_events WHERE action = 'egress'"));
    for (const [field, v] of Object.entries(p)) if (field !== 'plan') expect(rows, field).not.toContain(v);
  });

  it.each([
    ['plain HTTP', (p: number) => `http://covered.test:${p}/hook`, 'phi', 'not_https'],
    ['an expired agreement', (p: number) => `https://expired.test:${p}/hook`, 'no-phi', 'not_covered'],
    ['a revoked agreement', (p: number) => `https://revoked.test:${p}/hook`, 'no-phi', 'not_covered'],
    ['no agreement at all', (p: number) => `https://elsewhere.test:${p}/hook`, 'no-phi', 'not_covered'],
    ['PHI to a no-phi agreement', (p: number) => `https://nophi.test:${p}/hook`, 'phi', 'not_covered'],
    ['a cloud metadata address', (p: number) => `https://meta.test:${p}/hook`, 'phi', 'metadata_address'],
    ['credentials in the URL', (p: number) => `https://user:secret@covered.test:${p}/hook`, 'phi', 'bad_url'],
  ] as const)('rule: %s is refused with egress_denied, audited, and nothing reaches the server', async (_what, url, scope, reason) => {
    const before = received.length;
    await expect(t.vault.egress({ resolve }).send({ url: url(port), body: '{}', purpose: 'webhook', scope })).rejects.toMatchObject({
      code: 'egress_denied',
    });
    expect(received.length).toBe(before);
    expect((await audit(t))[0]).toMatchObject({ outcome: 'denied', reason });
  });

  it('a no-phi agreement covers data with no PHI', async () => {
    expect(
      (await t.vault.egress({ resolve }).send({ url: `https://nophi.test:${port}/m`, purpose: 'alert', scope: 'no-phi' })).status,
    ).toBe(200);
  });

  it('rule: a private or loopback address is refused unless the nonproduction space allows it', async () => {
    for (const url of [`https://private.test:${port}/hook`, `https://covered.test:${port}/hook`, `https://127.0.0.1:${port}/hook`]) {
      await expect(strict.vault.egress({ resolve }).send({ url, purpose: 'webhook', scope: 'no-phi' })).rejects.toMatchObject({
        code: 'egress_denied',
      });
      expect((await audit(strict))[0]).toMatchObject({ outcome: 'denied' });
    }
    expect((await audit(strict))[0]?.reason).toBe('not_covered'); // 127.0.0.1 itself is not a covered host
    await expect(
      strict.vault.egress({ resolve }).send({ url: `https://private.test:${port}/hook`, purpose: 'webhook', scope: 'no-phi' }),
    ).rejects.toMatchObject({
      code: 'egress_denied',
    });
    expect((await audit(strict))[0]?.reason).toBe('address_not_allowed');
  });

  it('rule: a redirect is followed only to a covered host; one to an uncovered host is refused and audited', async () => {
    const before = received.length;
    await expect(
      t.vault
        .egress({ resolve })
        .send({ method: 'GET', url: `https://covered.test:${port}/redirect`, purpose: 'webhook', scope: 'phi', maxRedirects: 2 }),
    ).rejects.toMatchObject({ code: 'egress_denied' });
    expect(received.slice(before).map((r) => r.path)).toEqual(['/redirect']);
    expect((await audit(t))[0]).toMatchObject({ outcome: 'denied', reason: 'not_covered' });
    // Without redirects allowed, or for a POST (its body is never sent on to another URL), the 302 itself is the answer.
    expect(
      (await t.vault.egress({ resolve }).send({ url: `https://covered.test:${port}/redirect`, purpose: 'webhook', scope: 'phi' })).status,
    ).toBe(302);
    const posted = await t.vault
      .egress({ resolve })
      .send({ url: `https://covered.test:${port}/redirect`, body: '{}', purpose: 'webhook', scope: 'phi', maxRedirects: 2 });
    expect(posted.status).toBe(302);
  });

  it('rule: public addresses are reachable and private ones are not, IPv4-mapped IPv6 judged as the IPv4 it maps', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8', '::ffff:808:808'])
      expect(addressRefusal(a, false), a).toBeUndefined();
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.9',
      '100.64.0.1',
      '::1',
      'fe80::1',
      'fd12::1',
      '::ffff:127.0.0.1',
      '::ffff:a01:203',
    ])
      expect(addressRefusal(a, false), a).toBe('address_not_allowed');
    for (const a of ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254'])
      expect(addressRefusal(a, true), a).toBe('metadata_address');
  });

  it('rule: a connection another client makes (the broker) is admitted only covered, to an allowed address, and with TLS unless private; audited', async () => {
    const admit = (v: TestVault, host: string, tls: boolean) =>
      v.vault.egress({ resolve }).admitConnection({ host, purpose: 'event broker', scope: 'phi', tls });
    await expect(admit(strict, 'public.test', false)).rejects.toMatchObject({ code: 'egress_denied' });
    expect(await audit(strict)).toEqual([expect.objectContaining({ outcome: 'denied', reason: 'not_tls' })]);
    expect(await admit(strict, 'public.test', true)).toEqual({ address: '203.0.113.10' });
    expect(await audit(strict)).toEqual([
      expect.objectContaining({ outcome: 'allowed', detail: expect.stringMatching(/^event broker to public\.test: 0 bytes, agreement /) }),
    ]);
    await expect(admit(strict, 'covered.test', false)).rejects.toMatchObject({ code: 'egress_denied' });
    expect(await audit(strict)).toEqual([expect.objectContaining({ outcome: 'denied', reason: 'address_not_allowed' })]);
    expect(await admit(t, 'covered.test', false)).toEqual({ address: '127.0.0.1' });
    await expect(admit(t, 'nophi.test', true)).rejects.toMatchObject({ code: 'egress_denied' });
    expect(await t.vault.egress().covers('covered.test', 'phi')).toBe(true);
    expect(await t.vault.egress().covers('nophi.test', 'phi')).toBe(false);
    expect(await t.vault.egress().covers('revoked.test', 'no-phi')).toBe(false);
  });

  it('rule: a host is resolved once and the connection pinned, so a second, different answer (DNS rebinding) is never used', async () => {
    rebinds = 0;
    const before = resolved.filter((h) => h === 'rebind.test').length;
    const res = await t.vault.egress({ resolve }).send({ url: `https://rebind.test:${port}/pinned`, purpose: 'webhook', scope: 'phi' });
    expect(res.status).toBe(200);
    expect(received.at(-1)?.path).toBe('/pinned');
    expect(resolved.filter((h) => h === 'rebind.test').length - before).toBe(1);
  });

  it('rule: a certificate the trusted CAs did not sign fails the request (egress_failed), audited, with no detail of the TLS error', async () => {
    const e = await t.vault
      .egress({ resolve })
      .send({ url: `https://covered.test:${roguePort}/hook`, purpose: 'webhook', scope: 'phi' })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'egress_failed', message: 'the request could not be completed (connection, TLS or timeout)' });
    expect((await audit(t))[0]).toMatchObject({ outcome: 'failed', reason: 'network_error' });
  });

  it('rule: a production space refuses to start with private addresses allowed', () => {
    const cfg = exampleConfig(`${EXAMPLE_CONFIG}\negress:\n  allow_private: true\n`);
    const production = {
      ...cfg,
      space: { name: 'prod', tier: 'production' as const },
      database: { kind: 'url' as const, url: 'postgres://db.internal/ward?sslmode=verify-full', source: 'ward.yaml' as const },
    };
    const key = { source: 'WARD_MASTER_KEY', dev: false, exposed: false };
    expect(() => assertProductionSafe(production, key)).toThrow(
      /egress\.allow_private: a production space never sends to loopback or private addresses/,
    );
    expect(() => assertProductionSafe({ ...production, egress: { allow_private: false } }, key)).not.toThrow();
  });
});
