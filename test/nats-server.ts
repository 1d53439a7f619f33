/**
 * A throwaway NATS server with JetStream for the tests: `nats-server -js` on 127.0.0.1, its store
 * in a temp directory (`ward-test-nats-*`) that `dispose()` removes. The binary comes from the
 * PATH, or /usr/sbin and /usr/local/sbin where Debian puts it (not on a normal user's PATH).
 * Its log is read and dropped, never printed: only the tail is kept, for the error when it fails to start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The JetStream store directory (`-sd`). */
  storeDir: string;
  /** SIGTERM (a clean shutdown, the store flushed), SIGKILL after 5 s; resolves once it exited. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); resolves once it exited. */
  kill(): Promise<void>;
  /** stop(), then a new server on the same port and store directory. */
  restart(): Promise<void>;
  /** stop(), and remove the store directory when startNats made it. */
  dispose(): Promise<void>;
}

const BINARY = 'nats-server';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
/** What nats-server logs once it listens for clients, after JetStream (and its stores) are up. */
const READY = 'Server is ready';

/** The nats-server binary: on the PATH, else in /usr/sbin or /usr/local/sbin; undefined when none. */
export function natsServerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const file = join(dir, BINARY);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when the tests can start a throwaway nats-server (see natsServerBinary). */
export function natsServerOnPath(): boolean {
  return natsServerBinary() !== undefined;
}

/** True when host:port accepts a TCP connection within `timeoutMs`. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * True when a NATS URL (or a comma-separated list, as the clients take it; `host:port` without a
 * scheme too) has a server that accepts a TCP connection within `timeoutMs`.
 */
export async function natsReachable(url: string, timeoutMs: number): Promise<boolean> {
  const checks = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      let u: URL;
      try {
        u = new URL(s.includes('://') ? s : `nats://${s}`);
      } catch {
        return Promise.resolve(false);
      }
      const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
      return tcpReachable(host, u.port ? Number(u.port) : 4222, timeoutMs);
    });
  return (await Promise.all(checks)).some(Boolean);
}

function failure(what: string, detail: string): Error {
  return new Error(
    `the throwaway ${BINARY} for the tests could not ${what}: ${detail.trim().split('\n').slice(-3).join(' | ')}\n` +
      'Install it (apt-get install nats-server) or run the tests against a server of your own: NATS_URL=nats://127.0.0.1:4222 npx vitest run',
  );
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns the server and resolves once it logged that it is ready and its port accepts connections. */
async function launch(bin: string, port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let ready = false; // our own server said so: another process answering on the port does not count
  const keep = (chunk: string) => {
    log = (log + chunk).slice(-4000);
    if (log.includes(READY)) ready = true;
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  let ended: Error | undefined;
  child.once('error', (e) => {
    ended ??= failure('start', e.message);
  });
  child.once('exit', (code, signal) => {
    ended ??= failure('start', `it exited (${signal ?? `code ${code}`}): ${log}`);
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (ended) throw ended;
    if (ready && (await tcpReachable('127.0.0.1', port, 500))) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited(child);
      throw failure('start', `port ${port} did not accept connections within ${START_TIMEOUT_MS / 1000} s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `nats-server -js` on 127.0.0.1 (a free port unless given), its store in a new temp directory unless given. */
export async function startNats(options: { port?: number; storeDir?: string } = {}): Promise<NatsServer> {
  const bin = natsServerBinary();
  if (!bin) throw failure('start', `${BINARY} is not on the PATH (nor in /usr/sbin or /usr/local/sbin)`);
  const port = options.port ?? (await freePort());
  const ownDir = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'ward-test-nats-'));
  let child: ChildProcess;
  try {
    child = await launch(bin, port, storeDir);
  } catch (e) {
    if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    throw e;
  }
  // An interrupted run (Ctrl-C) skips the teardown: end the server from 'exit' then.
  const onExit = () => {
    child.kill('SIGKILL');
    if (ownDir) rmSync(storeDir, { recursive: true, force: true });
  };
  process.prependListener('exit', onExit);

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = exited(child);
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => {
      timer = setTimeout(() => r('late'), STOP_GRACE_MS);
    });
    const how = await Promise.race([done, late]);
    clearTimeout(timer);
    if (how === 'late') {
      child.kill('SIGKILL');
      await done;
    }
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    async restart() {
      await stop();
      child = await launch(bin, port, storeDir);
    },
    async dispose() {
      await stop();
      process.off('exit', onExit);
      if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
