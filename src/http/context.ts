/**
 * Per-request identity: the request id (a safe incoming `X-Request-Id` or a new UUID) and the
 * stated purpose of use (`Ward-Purpose`). Both are shape-checked: they end up in the audit trail
 * and the logs, so neither may carry a value.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../access/actions.js';
import { WardError } from '../errors.js';

// Only ids that cannot carry PHI are honoured: a UUID, or 16 to 64 hex digits (a trace id).
const SAFE_REQUEST_ID = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,64})$/;
/** Purposes are names such as `treatment` or `payment`, as listed in ward.yaml. */
const PURPOSE_SHAPE = /^[a-z][a-z0-9_-]{0,63}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking and why; set by the authentication hook on protected routes. */
    ward: RequestContext | null;
  }
  interface FastifyContextConfig {
    /** No API key needed (health, metrics, the OpenAPI document). */
    public?: boolean;
  }
}

/** Fastify's `genReqId`: honour a short, plain incoming id, else generate one. */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The `Ward-Purpose` header, if any; a malformed one is refused without being repeated. */
export function purposeOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['ward-purpose'];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !PURPOSE_SHAPE.test(raw))
    throw new WardError('invalid_request', 'Ward-Purpose must be one purpose name such as treatment (lowercase letters, digits, - and _)');
  return raw;
}

/** The context of an authenticated request; routes run only after the hook has set it. */
export function ctxOf(request: FastifyRequest): RequestContext {
  if (!request.ward) throw new WardError('unauthenticated');
  return request.ward;
}
