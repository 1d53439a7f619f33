/**
 * Per-request identity: the request id, always one Ward makes (it goes into the audit trail and
 * the logs, where nothing a client chose may go: even a hex trace id can spell an SSN). The
 * stated purpose is checked against the declared purposes by the vault.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
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

/** An IP address without a zone, or null. */
const ipAddress = (a: string | undefined): string | null => (a && isIP(a) && !a.includes('%') ? a : null);

/**
 * The client's address: the forwarded one when the connection comes from a trusted proxy (Fastify's
 * `request.ip`), else the socket's; only a plain IP address (a trusted proxy could pass on any text,
 * or an IPv6 zone such as %name), else null.
 */
export const clientAddress = (request: FastifyRequest): string | null => ipAddress(request.ip) ?? ipAddress(request.socket.remoteAddress);

/** The context of an authenticated request; routes run only after the hook has set it. */
export function ctxOf(request: FastifyRequest): RequestContext {
  if (!request.ward) throw new WardError('unauthenticated');
  return request.ward;
}
