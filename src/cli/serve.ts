/** `ward serve`: the HTTP API over the configured vault, until SIGTERM or SIGINT. */
import type { Command } from 'commander';
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
    .action(async (o: ServeFlags) => {
      if (!o.tlsCert !== !o.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
      const trustProxy = o.trustProxy
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      await startServer(
        { configFile: cli.configFile() },
        {
          env: cli.io.env,
          host: o.host,
          port: integer(o.port, '--port', 0, 65535),
          ...(o.tlsCert && o.tlsKey ? { tls: { cert: o.tlsCert, key: o.tlsKey } } : {}),
          ...(trustProxy?.length ? { trustProxy } : {}),
          poolSize: integer(o.poolSize, '--pool-size', 1, 500),
          ...(o.cryptoThreads === undefined ? {} : { cryptoThreads: integer(o.cryptoThreads, '--crypto-threads', 0, 64) }),
          ...(o.bodyLimit ? { bodyLimit: integer(o.bodyLimit, '--body-limit', 1024, 256 * 1024 * 1024) } : {}),
        },
      );
    });
}
