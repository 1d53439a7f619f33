/**
 * The Fastify app: the v1 contract over the vault. Routes are thin adapters; this file wires
 * what every request goes through: connection limits, request id, authentication (throttled,
 * fail-closed audit), rate limits, body parsing only where a route takes a body, problem+json
 * errors, PHI-free logs and metrics, and security headers.
 */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { transportFacts } from '../compliance/startup.js';
import type { WardConfig } from '../config/load.js';
import { WardError } from '../errors.js';
import type { ApiKeys } from '../vault/apikeys.js';
import type { Vault } from '../vault/vault.js';
import { authenticate } from './auth.js';
import { addressMatcher, type ConnectionLimits, guardConnections, limitsWith, timeoutOptions } from './connections.js';
import { requestId } from './context.js';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './errors.js';
import { ingressAllowlist } from './ingress.js';
import { ignoreBodies, jsonScope } from './json.js';
import { defaultLogger, logResponse, routeOf } from './logging.js';
import { trackMethods } from './methods.js';
import { Metrics } from './metrics.js';
import { openapiOptions } from './openapi.js';
import { roleRateLimits } from './rate-limits.js';
import { adminRoutes } from './routes/admin.js';
import { auditRoutes, breakGlassRoutes } from './routes/audit.js';
import { complianceRoutes } from './routes/compliance.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { recordRoutes } from './routes/records.js';
import { tokenRoutes } from './routes/tokens.js';
import { SHARED_SCHEMAS } from './schemas.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const HSTS = 'max-age=31536000; includeSubDomains';

export interface AppOptions {
  vault: Vault;
  /** Where API keys are checked; default the vault's (a server starts its cache). */
  apiKeys?: ApiKeys;
  /** A pino logger (e.g. the PHI-scrubbing one). Default: JSON lines on stdout at `WARD_LOG_LEVEL`, else info. */
  logger?: FastifyBaseLogger;
  /**
   * Proxies whose `X-Forwarded-For`/`-Proto` are believed: IP addresses or CIDR ranges. Default
   * none: the client address is the socket's.
   */
  trustProxy?: readonly string[];
  /** Largest request body in bytes, for every route; default 1 MiB. Larger bodies get 413. */
  bodyLimit?: number;
  /** Serve HTTPS with these PEM contents (and send HSTS); default plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Where metrics are counted; default a new registry with process metrics. They are served elsewhere (metrics-server). */
  metrics?: Metrics;
  /** Client addresses requests may come from (`network.ingress.allow`); default any. */
  ingressAllow?: readonly string[] | undefined;
  /** Timeouts and connection caps; defaults in DEFAULT_LIMITS, the server-wide cap from the open-file limit. */
  limits?: Partial<ConnectionLimits>;
  /** The configuration the vault was opened with: `GET /v1/compliance/checks` runs the checks over it (absent: no such route). */
  config?: WardConfig;
  /** Serve the API reference at /docs (Swagger UI, its assets from the package: no CDN). Default off. */
  docs?: boolean;
}

/** The app, not yet listening: call `listen()`, or `inject()` in tests. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { vault } = options;
  const apiKeys = options.apiKeys;
  const metrics = (options.metrics ?? new Metrics().withProcessMetrics()).track(vault);
  const limits = limitsWith(vault.poolSize, options.limits);
  const timeouts = timeoutOptions(limits);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    loggerInstance: options.logger ?? defaultLogger(),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestId,
    requestIdHeader: false,
    trustProxy: options.trustProxy?.length ? [...options.trustProxy] : false,
    bodyLimit,
    exposeHeadRoutes: false,
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true } },
    frameworkErrors,
    clientErrorHandler,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: timeouts,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, ...timeouts } } : {}),
  }) as unknown as FastifyInstance;
  guardConnections(app.server, limits, addressMatcher(options.trustProxy ?? []));

  let closing = false;
  app.addHook('onClose', async () => metrics.untrack());
  app.addHook('preClose', async () => {
    closing = true;
  });
  // The synchronous hooks take Fastify's callback form: no promise per request.
  app.addHook('onRequest', (_request, _reply, done) => done(closing ? new WardError('shutting_down') : undefined));
  ingressAllowlist(app, options.ingressAllow, (client, n) => vault.recordIngressRefusals(client, n));
  app.addHook('onRequest', authenticate({ vault, apiKeys, onFailure: () => metrics.authFailures.inc() }));
  app.addHook('onSend', (request, reply, payload, done) => {
    securityHeaders(request, reply, !!options.tls);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    logResponse(request, reply);
    metrics.observe(request.method, routeOf(request), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.decorateRequest('ward', null);
  installErrorHandling(app, declaredNames(app, vault));
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, openapiOptions(vault.collectionList()));
  if (options.docs) await app.register(docsRoutes);
  await app.register(rateLimit, roleRateLimits(vault));

  const finishMethods = trackMethods(app);
  // Only routes that take a body parse one (in the JSON scope); everywhere else a body is drained unread.
  ignoreBodies(app);
  healthRoutes(app, vault);
  auditRoutes(app, vault);
  if (options.config) complianceRoutes(app, vault, options.config, transportFacts(options));
  // A stream checks its caller again before each page: a key revoked meanwhile ends it.
  eventRoutes(app, vault, authenticate({ vault, apiKeys }));
  await jsonScope(app, bodyLimit, (json) => {
    const scopes = { plain: app, json };
    recordRoutes(scopes, vault);
    tokenRoutes(json, vault);
    adminRoutes(scopes, vault);
    breakGlassRoutes(scopes, vault);
  });
  finishMethods();
  return app;
}

/**
 * The names errors may quote: collections and fields from ward.yaml, and every property the
 * routes' schemas declare (collected as routes are added).
 */
function declaredNames(app: FastifyInstance, vault: Vault): (name: string) => boolean {
  const names = new Set<string>();
  for (const c of vault.collectionList()) {
    names.add(c.name);
    for (const f of c.fields.keys()) names.add(f);
  }
  for (const t of vault.events.topicNames()) names.add(t);
  const collect = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object') return;
    const props = (schema as { properties?: unknown }).properties;
    if (props && typeof props === 'object') for (const k of Object.keys(props)) names.add(k);
    for (const v of Object.values(schema)) collect(v);
  };
  for (const s of SHARED_SCHEMAS) collect(s);
  app.addHook('onRoute', (route) => collect(route.schema));
  return (name) => names.has(name);
}

function securityHeaders(request: FastifyRequest, reply: FastifyReply, https: boolean): void {
  reply.header('x-request-id', request.id);
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
  if (https || request.protocol === 'https') reply.header('strict-transport-security', HSTS);
}
