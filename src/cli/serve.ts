/** `ward serve`: the HTTP API over the configured vault, until SIGTERM or SIGINT. */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { intervalMs } from '../config/schema.js';
import { WardError } from '../errors.js';
import { type ConnectionLimits, DEFAULT_LIMITS } from '../http/connections.js';
import { DEFAULT_METRICS_PORT, type MetricsListen } from '../http/metrics-server.js';
import { startServer } from '../http/server.js';
import { type Cli, integer, UsageError } from './run.js';

interface ServeFlags {
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  docs?: boolean;
  trustProxy?: string;
  bodyLimit?: string;
  poolSize?: string;
  workers: string;
  cryptoThreads?: string;
  headersTimeout: string;
  requestTimeout: string;
  keepAliveTimeout: string;
  idleTimeout: string;
  maxConnections?: string;
  maxConnectionsPerClient?: string;
  metricsHost: string;
  metricsPort: string;
}

const seconds = (ms: number) => `${ms / 1000}s`;

/** A duration flag such as 10s, 500ms or 1m, from 100 ms to 10 minutes. */
function duration(text: string, flag: string): number {
  const ms = /^\d{1,7}(ms|s|m)$/.test(text) ? intervalMs(text) : null;
  if (ms === null || ms < 100 || ms > 600_000) throw new UsageError(`${flag}: expected a duration from 100ms to 10m, such as 10s`);
  return ms;
}

function limits(o: ServeFlags): Partial<ConnectionLimits> {
  const out: Partial<ConnectionLimits> = {
    headersTimeoutMs: duration(o.headersTimeout, '--headers-timeout'),
    requestTimeoutMs: duration(o.requestTimeout, '--request-timeout'),
    keepAliveTimeoutMs: duration(o.keepAliveTimeout, '--keep-alive-timeout'),
    idleTimeoutMs: duration(o.idleTimeout, '--idle-timeout'),
  };
  if ((out.headersTimeoutMs as number) > (out.requestTimeoutMs as number))
    throw new UsageError('--headers-timeout must not be longer than --request-timeout');
  if (o.maxConnections !== undefined) out.maxConnections = integer(o.maxConnections, '--max-connections', 1, 1_000_000);
  if (o.maxConnectionsPerClient !== undefined)
    out.maxConnectionsPerClient = integer(o.maxConnectionsPerClient, '--max-connections-per-client', 1, 1_000_000);
  return out;
}

function metrics(o: ServeFlags, env: NodeJS.ProcessEnv): MetricsListen | undefined {
  if (o.metricsPort === 'off') return undefined;
  const token = env.WARD_METRICS_TOKEN;
  return { host: o.metricsHost, port: integer(o.metricsPort, '--metrics-port', 0, 65535), ...(token ? { token } : {}) };
}

export function registerServe(program: Command, cli: Cli): void {
  program
    .command('serve')
    .description('serve the HTTP API (v1) until SIGTERM or SIGINT; logs are JSON lines on stdout')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--trust-proxy <list>', 'comma-separated addresses or CIDR ranges of TLS-terminating proxies to believe')
    .option('--body-limit <bytes>', 'largest request body accepted (default 1048576)')
    .option(
      '--pool-size <n>',
      'database connections per worker (a PostgreSQL server; default 20 for one worker, else 40 shared out, at least 4 each)',
    )
    .option(
      '--workers <n>',
      'processes sharing the port: a number, or auto (one per core on a PostgreSQL server; 1 on the embedded database)',
      'auto',
    )
    .option(
      '--crypto-threads <n>',
      'threads for field encryption besides the main one (0: none; default one per core beyond the first, at most 2)',
    )
    .option(
      '--headers-timeout <duration>',
      'the request line and headers must arrive within this',
      seconds(DEFAULT_LIMITS.headersTimeoutMs),
    )
    .option(
      '--request-timeout <duration>',
      'the whole request, body included, must arrive within this',
      seconds(DEFAULT_LIMITS.requestTimeoutMs),
    )
    .option(
      '--keep-alive-timeout <duration>',
      'an idle kept-alive connection closes after this',
      seconds(DEFAULT_LIMITS.keepAliveTimeoutMs),
    )
    .option('--idle-timeout <duration>', 'a connection with no traffic either way closes after this', seconds(DEFAULT_LIMITS.idleTimeoutMs))
    .option('--max-connections <n>', 'open connections in all (default: what the open-file limit leaves after the pool, at most 4096)')
    .option(
      '--max-connections-per-client <n>',
      `open connections from one client address, trusted proxies exempt (default ${DEFAULT_LIMITS.maxConnectionsPerClient}, at most a quarter of --max-connections)`,
    )
    .option('--docs', 'serve the API reference at /docs in a production space too (outside production it is always on)')
    .option('--no-docs', 'do not serve /docs')
    .option('--metrics-host <host>', 'address of the metrics listener; not loopback only with WARD_METRICS_TOKEN set', '127.0.0.1')
    .option('--metrics-port <port>', 'port of the metrics listener (GET /metrics), or off', String(DEFAULT_METRICS_PORT))
    .action(async (o: ServeFlags) => {
      if (!o.tlsCert !== !o.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
      const workers = workerCount(o.workers, cli.config().database.kind === 'embedded');
      if (workers > 1 && cluster.isPrimary) return supervise(workers, cli);
      const poolSize =
        o.poolSize === undefined ? (workers > 1 ? Math.max(4, Math.ceil(40 / workers)) : 20) : integer(o.poolSize, '--pool-size', 1, 500);
      // Only the first worker serves metrics (the port is shared: one listener answers for its process).
      const first = !cluster.isWorker || cli.io.env.WARD_WORKER === '1';
      const trustProxy = o.trustProxy
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const m = metrics(o, cli.io.env);
      const running = await startServer(
        { configFile: cli.configFile() },
        {
          env: cli.io.env,
          // A worker stops on its own signal handler below, then leaves the cluster.
          ...(cluster.isWorker ? { signals: false } : {}),
          host: o.host,
          port: integer(o.port, '--port', 0, 65535),
          ...(o.tlsCert && o.tlsKey ? { tls: { cert: cli.path(o.tlsCert), key: cli.path(o.tlsKey) } } : {}),
          ...(trustProxy?.length ? { trustProxy } : {}),
          poolSize,
          ...(o.cryptoThreads === undefined ? {} : { cryptoThreads: integer(o.cryptoThreads, '--crypto-threads', 0, 64) }),
          ...(o.bodyLimit ? { bodyLimit: integer(o.bodyLimit, '--body-limit', 1024, 256 * 1024 * 1024) } : {}),
          limits: limits(o),
          ...(m && first ? { metrics: m } : {}),
          ...(o.docs === undefined ? {} : { docs: o.docs }),
        },
      );
      if (cluster.isWorker) {
        let stopping = false;
        const stop = () => {
          // The primary's SIGTERM may follow one the platform sent every process: the first one drains.
          if (stopping) return;
          stopping = true;
          running.app.log.info({ worker: cli.io.env.WARD_WORKER }, 'shutting down: finishing requests in flight');
          // Kept-alive connections the primary handed over are closed now; requests in flight finish.
          running.app.server.closeIdleConnections();
          setTimeout(() => process.exit(1), 15_000).unref();
          void running.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.on('SIGTERM', stop).on('SIGINT', stop);
      }
    });
}

/** `--workers`: a number from 1 to 256, or auto (one per core; 1 on the embedded database, which one process holds). */
function workerCount(text: string, embedded: boolean): number {
  if (text === 'auto') return embedded ? 1 : availableParallelism();
  const n = integer(text, '--workers', 1, 256);
  if (n > 1 && embedded)
    throw new WardError(
      'config_invalid',
      '--workers: the embedded database is held by one process; use a PostgreSQL server (DATABASE_URL) for more workers',
    );
  return n;
}

/**
 * The primary of `ward serve --workers N`: forks N workers that share the port (each a whole
 * server with its own pool; background jobs stay single-active through PostgreSQL advisory
 * locks), starts a worker again if one dies, and on SIGTERM or SIGINT stops them all gracefully,
 * each finishing its requests in flight, then exits.
 */
async function supervise(n: number, cli: Cli): Promise<void> {
  let stopping = false;
  let failed = false;
  /** Workers that died within a few seconds of starting, in a row: past a handful, the primary gives up. */
  let earlyDeaths = 0;
  const log = (level: number, msg: string, extra: Record<string, unknown> = {}) =>
    cli.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...extra })}\n`);
  let stop = () => {};
  const fork = (index: number) => {
    const started = Date.now();
    const w = cluster.fork({ ...cli.io.env, WARD_WORKER: String(index) });
    w.on('exit', (code, signal) => {
      if (stopping) return;
      earlyDeaths = Date.now() - started < 5_000 ? earlyDeaths + 1 : 0;
      if (earlyDeaths >= 5) {
        // A worker that cannot start (configuration, database, port) would be restarted for ever.
        void log(60, 'workers keep failing at start; stopping (the worker log above says why)', { worker: index, code, signal });
        failed = true;
        stop();
        return;
      }
      void log(50, 'a worker exited; starting it again', { worker: index, code, signal });
      setTimeout(() => fork(index), Math.min(10_000, 500 * 2 ** earlyDeaths));
    });
  };
  for (let i = 1; i <= n; i++) fork(i);
  await log(30, 'ward serve: workers started', { workers: n });
  await new Promise<void>((done) => {
    stop = () => {
      if (stopping) return;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      const check = () => (Object.values(cluster.workers ?? {}).some((w) => w && !w.isDead()) ? setTimeout(check, 50) : done());
      check();
    };
    // Every signal after the first is ignored (on Heroku the dyno's processes all get SIGTERM).
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
  await log(failed ? 60 : 30, 'ward serve: every worker has stopped');
  if (failed) throw new WardError('internal_error', 'ward serve: the workers could not start; see their log lines');
}
