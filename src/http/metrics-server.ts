/**
 * Prometheus metrics on a listener of their own, never on the API's: bound to loopback by
 * default, and on any other address only with a bearer token (`WARD_METRICS_TOKEN`), compared in
 * constant time. The metrics hold no PHI, but they tell an outsider the Node version and how the
 * server is used, so they are not for everyone.
 */
import { hash } from 'node:crypto';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { constantTimeEqual } from '../crypto/derive.js';
import { WardError } from '../errors.js';
import { DEFAULT_LIMITS, guardConnections, timeoutOptions } from './connections.js';
import type { Metrics } from './metrics.js';

export interface MetricsListen {
  host: string;
  port: number;
  /** Required unless `host` is a loopback address. */
  token?: string | undefined;
}

export const DEFAULT_METRICS_PORT = 9464;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Refuses a metrics listener on a non-loopback address without a token, and a token too short to be one. */
export function checkMetricsListen(m: MetricsListen): void {
  if (!LOOPBACK.test(m.host) && !m.token)
    throw new WardError(
      'config_invalid',
      `--metrics-host: ${m.host} is not a loopback address; set WARD_METRICS_TOKEN so scrapers must present it, or keep 127.0.0.1`,
    );
  if (m.token !== undefined && m.token.length < 16)
    throw new WardError('config_invalid', 'WARD_METRICS_TOKEN: use at least 16 random characters');
  if (m.host !== 'localhost' && !isIP(m.host)) throw new WardError('config_invalid', '--metrics-host: give an IP address');
}

/** Whether the bearer token is `token`, in constant time (digests of equal length, whatever was sent). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+)$/i.exec(header ?? '')?.[1] ?? '';
  return constantTimeEqual(hash('sha256', given, 'buffer'), hash('sha256', token, 'buffer'));
}

/** Starts the metrics listener; resolves once it listens. */
export async function startMetricsServer(m: MetricsListen, metrics: Metrics): Promise<FastifyInstance> {
  checkMetricsListen(m);
  // Scrapers are few: a small cap and short timeouts, within the descriptors kept back from clients.
  const limits = { ...DEFAULT_LIMITS, headersTimeoutMs: 5_000, requestTimeoutMs: 5_000, maxConnections: 16, maxConnectionsPerClient: 8 };
  const app = Fastify({
    logger: false,
    exposeHeadRoutes: false,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: timeoutOptions(limits),
  });
  guardConnections(app.server, limits, () => false);
  app.get('/metrics', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (m.token && !tokenMatches(request.headers.authorization, m.token))
      return reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'unauthenticated' });
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ code: 'route_not_found' }));
  try {
    await app.listen({ host: m.host, port: m.port, listenTextResolver: () => 'metrics listening' });
  } catch (e) {
    await app.close().catch(() => {});
    const code = (e as { code?: unknown }).code;
    if (code === 'EADDRINUSE')
      throw new WardError('config_invalid', `--metrics-port: ${m.host}:${m.port} is already in use; pick another port, or off`);
    throw new WardError('config_invalid', `--metrics-host/--metrics-port: cannot listen on ${m.host}:${m.port}`);
  }
  return app;
}
