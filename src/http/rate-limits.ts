/**
 * Request rate limits with @fastify/rate-limit: per role (`rate_limit` in ward.yaml, counted for
 * each API key) on every authenticated route, and fixed ones on costly routes (`verifyRateLimit`).
 * Counted after authentication and before a body is read; past the limit, 429 `too_many_requests`
 * with Retry-After. Counts are kept per server process.
 */
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { WardError } from '../errors.js';
import type { Vault } from '../vault/vault.js';

const keyOf = (request: FastifyRequest) => request.ward?.principal.id ?? `ip:${request.ip}`;

const tooMany = () => new WardError('too_many_requests', 'this API key has made too many requests; retry after the time in Retry-After');

export function roleRateLimits(vault: Vault): RateLimitPluginOptions {
  const limitOf = (request: FastifyRequest) => (request.ward ? vault.rateLimit(request.ward.principal.role) : undefined);
  return {
    global: true,
    hook: 'preParsing',
    keyGenerator: keyOf,
    // Public routes and roles without a limit are not counted.
    allowList: (request) => limitOf(request) === undefined,
    max: (request) => limitOf(request)?.requests ?? Number.MAX_SAFE_INTEGER,
    timeWindow: (request) => limitOf(request)?.perMs ?? 60_000,
    errorResponseBuilder: tooMany,
  };
}

/** A route's own limit per API key, whatever its role (e.g. verification, which reads the whole log). */
export function routeRateLimit(max: number, perMs: number) {
  return { rateLimit: { max, timeWindow: perMs, allowList: () => false, keyGenerator: keyOf, errorResponseBuilder: tooMany } };
}
