/**
 * Per-request identity: the request id, always one Ward makes (it goes into the audit trail and
 * the logs, where nothing a client chose may go: even a hex trace id can spell an SSN). The
 * stated purpose is checked against the declared purposes by the vault.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../access/actions.js';
import { WardError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking and why; set by the authentication hook on protected routes. */
    ward: RequestContext | null;
  }
  interface FastifyContextConfig {
    /** No API key needed (health, readiness, the OpenAPI document). */
    public?: boolean;
  }
}

/** Fastify's `genReqId`: a new UUID for every request, whatever `X-Request-Id` it brought. */
export const requestId = (): string => randomUUID();

/** The context of an authenticated request; routes run only after the hook has set it. */
export function ctxOf(request: FastifyRequest): RequestContext {
  if (!request.ward) throw new WardError('unauthenticated');
  return request.ward;
}
