/** `ward serve`: the HTTP API over the configured vault, until SIGTERM or SIGINT. */
import type { Command } from 'commander';
import { intervalMs } from '../config/schema.js';
import { type ConnectionLimits, DEFAULT_LIMITS } from '../http/connections.js';
import { DEFAULT_METRICS_PORT, type MetricsListen } from '../http/metrics-server.js';
import { startServer } from '../http/server.js';
import { type Cli, integer, UsageError } from './run.js';

interface ServeFlags {
  host: string;
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  bodyLimit?: string;
  poolSize: string;
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
    .option('--pool-size <n>', 'database connections (a PostgreSQL server; more lets more commits share a flush)', '20')
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
    .option('--metrics-host <host>', 'address of the metrics listener; not loopback only with WARD_METRICS_TOKEN set', '127.0.0.1')
    .option('--metrics-port <port>', 'port of the metrics listener (GET /metrics), or off', String(DEFAULT_METRICS_PORT))
    .action(async (o: ServeFlags) => {
      if (!o.tlsCert !== !o.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
      const trustProxy = o.trustProxy
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const m = metrics(o, cli.io.env);
      await startServer(
        { configFile: cli.configFile() },
        {
          env: cli.io.env,
          host: o.host,
          port: integer(o.port, '--port', 0, 65535),
          ...(o.tlsCert && o.tlsKey ? { tls: { cert: cli.path(o.tlsCert), key: cli.path(o.tlsKey) } } : {}),
          ...(trustProxy?.length ? { trustProxy } : {}),
          poolSize: integer(o.poolSize, '--pool-size', 1, 500),
          ...(o.cryptoThreads === undefined ? {} : { cryptoThreads: integer(o.cryptoThreads, '--crypto-threads', 0, 64) }),
          ...(o.bodyLimit ? { bodyLimit: integer(o.bodyLimit, '--body-limit', 1024, 256 * 1024 * 1024) } : {}),
          limits: limits(o),
          ...(m ? { metrics: m } : {}),
        },
      );
    });
}
