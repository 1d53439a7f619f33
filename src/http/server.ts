/**
 * Starts the server: checks the transport rules, opens the vault, builds the app, listens. On
 * SIGTERM or SIGINT it stops accepting requests, lets those in flight finish (each is one
 * transaction, so none is half-written), then closes the database.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { assertSafeServing, inspectorOn, transportFacts } from '../compliance/startup.js';
import { configPath, loadConfig, type WardConfig } from '../config/load.js';
import { defaultCryptoThreads } from '../crypto/threads.js';
import { isWardError, WardError } from '../errors.js';
import { loadMappings } from '../sync/mapping.js';
import { SyncScheduler } from '../sync/scheduler.js';
import { isAddressOrRange } from '../util/address.js';
import { openDb, openVault } from '../vault/open.js';
import type { Vault } from '../vault/vault.js';
import { buildApp } from './app.js';
import type { ConnectionLimits } from './connections.js';
import { defaultLogger } from './logging.js';
import { Metrics } from './metrics.js';
import { checkMetricsListen, type MetricsListen, startMetricsServer } from './metrics-server.js';

export interface ServerOptions {
  /** Where to listen; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8080; 0 picks a free port (see `url`). */
  port?: number;
  /** PEM files to serve HTTPS from; default plain HTTP. */
  tls?: { cert: string; key: string };
  /** Addresses or CIDR ranges of TLS-terminating proxies whose X-Forwarded-* headers are believed. */
  trustProxy?: readonly string[];
  /** Connections to a PostgreSQL server; default 20. */
  poolSize?: number;
  /** Threads for field crypto besides the main thread; default one per core beyond the first, at most two. */
  cryptoThreads?: number;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** A pino logger; default JSON lines on stdout (`logStream`) and to the configured log drains. */
  logger?: FastifyBaseLogger;
  /** Where the default logger writes besides the drains; default stdout. */
  logStream?: DestinationStream;
  /** Environment for the master key and DATABASE_URL; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Close on SIGTERM and SIGINT; default true. */
  signals?: boolean;
  /** How long in-flight requests may take to finish at shutdown before their connections are cut; default 10 s. */
  graceMs?: number;
  /** Timeouts and connection caps (see DEFAULT_LIMITS). */
  limits?: Partial<ConnectionLimits>;
  /** Where Prometheus metrics are served, on a listener of their own; default none (`ward serve`: 127.0.0.1:9464). */
  metrics?: MetricsListen;
  /** Serve the API reference at /docs; default on outside production, off in production. */
  docs?: boolean;
}

/** The configuration: already loaded, or a ward.yaml path to load. */
export type ServerConfig = { cfg: WardConfig; configFile?: never } | { configFile: string; cfg?: never };

export interface RunningServer {
  url: string;
  /** The metrics endpoint, when metrics are served. */
  metricsUrl?: string;
  app: FastifyInstance;
  /** Stops accepting, waits for requests in flight, closes the database; safe to call twice. */
  close(): Promise<void>;
}

/** Checks --trust-proxy entries: IP addresses or CIDR ranges only ("trust everyone" is refused). */
export function checkTrustProxy(list: readonly string[]): string[] {
  return list.map((entry, i) => {
    if (!isAddressOrRange(entry))
      throw new WardError('config_invalid', `--trust-proxy entry ${i + 1}: expected an IP address or CIDR range such as 10.0.0.0/8`);
    return entry;
  });
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    throw new WardError('config_invalid', `${flag}: cannot read ${path}`);
  }
}

/** A production space runs no debugger: an inspector port would open the process's memory, PHI and keys included (check no-debugger). */
export function assertNoDebugger(
  cfg: WardConfig,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): void {
  assertSafeServing(cfg, { tls: true, trustProxy: 0, inspector: inspectorOn(execArgv, nodeOptions) });
}

/** A production space serves HTTPS itself or sits behind a named TLS-terminating proxy, and runs no debugger (checks ingress-tls, no-debugger). */
export function assertSafeTransport(cfg: WardConfig, options: ServerOptions): void {
  assertSafeServing(cfg, transportFacts(options));
}

/** Whether /docs is served: as asked, else outside production only. */
export const serveDocs = (tier: string, asked: boolean | undefined): boolean => asked ?? tier !== 'production';

/** A socket error at listen, as a message that names the flag to change. */
function listenError(e: unknown, options: ServerOptions): unknown {
  const code = (e as { code?: unknown }).code;
  const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 8080}`;
  if (code === 'EADDRINUSE') return new WardError('config_invalid', `--port: ${where} is already in use; pick another port`);
  if (code === 'EACCES') return new WardError('config_invalid', `--port: no permission to listen on ${where}; use a port above 1023`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new WardError('config_invalid', `--host: cannot listen on ${where}`);
  return e;
}

/** Fails fast when the address is taken, before the database is opened (the embedded one is single-process). */
function probe(options: ServerOptions): Promise<void> {
  if (!options.port) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (e) => reject(listenError(e, options)));
    s.listen(options.port, options.host ?? '127.0.0.1', () => s.close(() => resolve()));
  });
}

/** The URL a listening app answers on. */
function addressUrl(app: FastifyInstance, scheme: string, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startServer(config: ServerConfig, options: ServerOptions = {}): Promise<RunningServer> {
  const cfg = config.cfg ?? loadConfig(configPath(config.configFile), options.env);
  assertSafeTransport(cfg, options);
  const trustProxy = checkTrustProxy(options.trustProxy ?? []);
  if (options.metrics) checkMetricsListen(options.metrics);
  const tls = options.tls && { cert: readPem(options.tls.cert, '--tls-cert'), key: readPem(options.tls.key, '--tls-key') };
  await probe({ ...options, port: options.port ?? 8080 });
  const metrics = new Metrics().withProcessMetrics();
  const db = await openDb(cfg, options.poolSize ?? 20);
  const cryptoThreads = options.cryptoThreads ?? defaultCryptoThreads();
  const vault = await openVault(cfg, { db, cryptoThreads, ...(options.env ? { env: options.env } : {}) }).catch(async (e) => {
    await db.close().catch(() => {});
    throw e;
  });
  let built: FastifyInstance | undefined;
  let metricsApp: FastifyInstance | undefined;
  let drains: Awaited<ReturnType<Vault['logDrains']>> | undefined;
  try {
    // Log drains only to hosts an agreement covers for PHI: an uncovered one stops the start here.
    if (cfg.logging.drains.length && !options.logger) drains = await vault.logDrains(cfg.logging.drains);
    const logger = options.logger ?? (drains || options.logStream ? defaultLogger(drains, options.logStream) : undefined);
    // Validated keys are cached (a revocation from any process evicts through LISTEN/NOTIFY), lockouts shared.
    await vault.startServing();
    built = await buildApp({
      vault,
      metrics,
      config: cfg,
      docs: serveDocs(cfg.space.tier, options.docs),
      ingressAllow: cfg.ingressAllow,
      trustProxy,
      ...(tls ? { tls } : {}),
      ...(logger ? { logger } : {}),
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    await built.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080, listenTextResolver: () => 'listening' });
    if (options.metrics) metricsApp = await startMetricsServer(options.metrics, metrics);
  } catch (e) {
    await built?.close().catch(() => {});
    await drains?.close().catch(() => {});
    await vault.close().catch(() => {});
    throw listenError(e, options);
  }
  const app = built;
  // Audit events are sealed into the signed log in the background (any Ward process may do it),
  // the whole log verified now and then (one process at a time), and change events relayed to
  // the broker (one relay across all processes) or, without one, expired from the outbox.
  const code = (e: unknown) => (isWardError(e) ? e.code : 'internal_error');
  /** Undoes a start that failed once the server listened: everything started so far stops. */
  const abort = async () => {
    await metricsApp?.close().catch(() => {});
    await app.close().catch(() => {});
    await vault.stopBackground().catch(() => {});
    await drains?.close().catch(() => {});
    await vault.close().catch(() => {});
  };
  try {
    await vault.startBackground(
      { sealEveryMs: cfg.audit.sealEveryMs, verifyEveryMs: cfg.audit.verifyEveryMs },
      {
        sealFailed: (e) =>
          // An integrity error's message names positions only (a leaf the sealer did not write, say).
          app.log.error(
            { code: code(e), ...(isWardError(e, 'integrity_error') ? { problem: e.message } : {}) },
            'audit sealing failed; retrying at the next interval',
          ),
        verified: (r) =>
          r.ok
            ? app.log.info({ treeSize: r.treeSize }, 'audit log verified in full')
            : app.log.error(
                { problem: r.problem?.kind, seq: r.problem?.seq, treeSize: r.problem?.treeSize },
                'AUDIT LOG VERIFICATION FAILED',
              ),
        verifyFailed: (e) => app.log.error({ code: code(e) }, 'audit log verification could not run'),
        relayFailed: (e) => app.log.error({ code: code(e) }, 'event relay round failed; retrying with backoff'),
        retentionFailed: (e) => app.log.error({ code: code(e) }, 'retention purge failed; retrying at the next interval'),
      },
    );
  } catch (e) {
    await abort();
    throw e;
  }
  // Connect: the mappings ward.yaml lists, each on its polling interval, one runner across processes.
  let scheduler: SyncScheduler | undefined;
  try {
    const collections = new Map(vault.collectionList().map((c) => [c.name, c]));
    const mappings = cfg.syncMappings.flatMap((f) => loadMappings(f, cfg, collections));
    scheduler = new SyncScheduler(
      vault,
      mappings,
      {
        onPass: (r) => {
          metrics.syncPass(r);
          const { freeText, drift, ...counts } = r;
          app.log.info({ sync: { ...counts, freeTextScanned: freeText.scanned, freeTextWithPhi: freeText.withPhi, drift } }, 'sync pass');
        },
        onFailed: (m, e) => app.log.error({ mapping: m.name, code: code(e) }, 'sync pass failed; retrying at its next interval'),
      },
      options.env ? { env: options.env } : {},
    );
    scheduler.start();
  } catch (e) {
    await abort();
    throw e;
  }
  // An agreement about to end is a warning now; once it has, it covers nothing.
  for (const a of await vault.agreementsExpiringSoon().catch(() => []))
    app.log.warn({ agreement: a.id, expires: a.expires, daysToExpiry: a.daysToExpiry }, 'a business associate agreement expires soon');
  const url = addressUrl(app, tls ? 'https' : 'http', options.host ?? '127.0.0.1');

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      await scheduler?.stop().catch(() => {});
      await metricsApp?.close();
      const cut = setTimeout(() => app.server.closeAllConnections(), options.graceMs ?? 10_000);
      cut.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
        // Seals what the last requests wrote, so a clean shutdown leaves nothing unsealed.
        await vault.stopBackground().catch((e) => app.log.error({ code: code(e) }, 'final audit seal failed'));
        // The last lines, this one's included, go to the drains before the vault (which audits them) closes.
        await drains?.close().catch(() => {});
        await vault.close();
      }
    })();
    return closed;
  };
  function onSignal(signal: NodeJS.Signals) {
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    close().catch(() => {
      process.exitCode = 1;
    });
  }
  if (options.signals ?? true) process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  const metricsUrl = metricsApp ? addressUrl(metricsApp, 'http', options.metrics?.host ?? '127.0.0.1') : undefined;
  app.log.info({ url, metricsUrl: metricsUrl ?? 'off', space: cfg.space.name, tier: cfg.space.tier }, 'ward server listening');
  return { url, app, close, ...(metricsUrl ? { metricsUrl: `${metricsUrl}/metrics` } : {}) };
}
