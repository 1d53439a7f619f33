/**
 * /docs: the API reference served by `ward serve` with Swagger UI's assets from the package, on
 * outside production and off in production unless asked for. Rendered in Chromium with every
 * request recorded: nothing is fetched from another origin.
 */
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig, type WardConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { type RunningServer, serveDocs, startServer } from '../../src/http/server.js';
import { migrate } from '../../src/store/migrate.js';
import { freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { call, httpFixture, memoryLogger } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('the API reference at /docs', () => {
  let t: TestDb;
  let cfg: WardConfig;
  let server: RunningServer;
  const env = { WARD_MASTER_KEY: newMasterKey() };

  beforeAll(async () => {
    t = await freshDb('pg');
    await migrate(t.db);
    cfg = parseConfig(EXAMPLE_CONFIG, '/virtual/ward.yaml', { DATABASE_URL: t.location });
    server = await startServer({ cfg }, { port: 0, env, signals: false, logger: memoryLogger([]) });
  });
  afterAll(async () => {
    await server.close();
    await t.dispose();
  });

  it('rule: served without an API key outside production, under a Content-Security-Policy, its assets from this server', async () => {
    const page = await fetch(`${server.url}/docs/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https:|upgrade-insecure-requests|\*/);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    const spec = await fetch(`${server.url}/docs/json`);
    expect((await spec.json()).paths['/v1/collections/{c}/records'].post.operationId).toBe('createRecord');
    // The routes behind it still need a key.
    expect((await fetch(`${server.url}/v1/admin/api-keys`)).status).toBe(401);
  });

  it('rule: Chromium renders the reference and fetches nothing from another origin', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    try {
      const p = await browser.newPage();
      const origins = new Set<string>();
      p.on('request', (r) => origins.add(new URL(r.url()).origin));
      await p.goto(`${server.url}/docs/`);
      await p.waitForSelector('#operations-records-createRecord', { timeout: 20_000 });
      expect([...origins]).toEqual([server.url]);
    } finally {
      await browser.close();
    }
  });

  it('rule: off in a production space unless --docs turns it on; --no-docs turns it off anywhere', async () => {
    expect([
      serveDocs('production', undefined),
      serveDocs('production', true),
      serveDocs('nonproduction', undefined),
      serveDocs('nonproduction', false),
    ]).toEqual([false, true, true, false]);
    const f = await httpFixture('pglite');
    try {
      expect((await call(f.app, { url: '/docs/' })).statusCode).toBe(404);
      const on = await buildApp({ vault: f.t.vault, apiKeys: f.apiKeys, logger: memoryLogger([]), docs: true });
      expect((await call(on, { url: '/docs/' })).statusCode).toBe(200);
      await on.close();
    } finally {
      await f.close();
    }
  });
});
