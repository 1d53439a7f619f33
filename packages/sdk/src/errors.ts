/**
 * The SDK's one error class. A problem+json answer becomes a WardError with the server's `code`,
 * `status`, `title` and request id; a request that never got an answer becomes `network_error`.
 * The message is built from the code and title alone: never from a request's body or URL, nor
 * from any text of an answer that is not a problem.
 */
import type { components } from './schema.js';

/** Every code the server may answer (the closed list of its problem registry). */
export type ProblemCode = components['schemas']['Problem']['code'];

/**
 * `ProblemCode`, or one of the SDK's own: `network_error` (no answer: connection refused or cut,
 * DNS, TLS) and `unexpected_response` (an answer that is no problem+json, from a proxy, say).
 * A newer server may answer a code this SDK does not list yet; it is kept as it is.
 */
export type ErrorCode = ProblemCode | 'network_error' | 'unexpected_response' | (string & {});

/** A field of a rejected record and the rule it broke (names and rules only). */
export interface FieldIssue {
  field: string;
  reason: string;
}

export interface WardErrorInit {
  code: ErrorCode;
  status: number;
  title: string;
  requestId?: string | undefined;
  detail?: string | undefined;
  issues?: readonly FieldIssue[] | undefined;
  retryAfter?: number | undefined;
}

export class WardError extends Error {
  /** Stable, from a closed list: branch on it. */
  readonly code: ErrorCode;
  /** The HTTP status; 0 when no answer came (`network_error`). */
  readonly status: number;
  /** The code's fixed title. */
  readonly title: string;
  /** Ward's id of the request (quote it when reporting a problem); absent when no answer came. */
  readonly requestId: string | undefined;
  /** The server's explanation: names settings, fields and rules, never a value. A system error code for `network_error`. */
  readonly detail: string | undefined;
  /** For `validation_failed`: each field and the rule it broke. */
  readonly issues: readonly FieldIssue[] | undefined;
  /** Seconds to wait before trying again, from Retry-After (429 and 503 answers). */
  readonly retryAfter: number | undefined;

  constructor(init: WardErrorInit) {
    super(`${init.code}: ${init.title}`);
    this.name = 'WardError';
    this.code = init.code;
    this.status = init.status;
    this.title = init.title;
    this.requestId = init.requestId;
    this.detail = init.detail;
    this.issues = init.issues;
    this.retryAfter = init.retryAfter;
  }
}

export function isWardError(e: unknown, code?: ErrorCode): e is WardError {
  return e instanceof WardError && (code === undefined || e.code === code);
}

const str = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);

/** Retry-After as seconds (a number of seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

function issuesOf(v: unknown): FieldIssue[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.flatMap((i) => {
    const field = str(i?.field, 200);
    const reason = str(i?.reason, 500);
    return field !== undefined && reason !== undefined ? [{ field, reason }] : [];
  });
}

/** An answer that is not 2xx as a WardError: its problem body when it has one, else `unexpected_response`. */
export function errorFromResponse(response: Response, body: unknown): WardError {
  const p = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const headerId = response.headers.get('x-request-id') ?? undefined;
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  const code = str(p.code, 64);
  const title = str(p.title, 300);
  // Only a well-formed problem is believed; anything else is described by its status alone.
  if (code === undefined || !/^[a-z][a-z0-9_]*$/.test(code) || title === undefined)
    return new WardError({
      code: 'unexpected_response',
      status: response.status,
      title: `HTTP ${response.status} without a problem+json body`,
      requestId: headerId,
      retryAfter,
    });
  return new WardError({
    code,
    status: typeof p.status === 'number' ? p.status : response.status,
    title,
    requestId: str(p.requestId, 200) || headerId,
    detail: str(p.detail, 2000),
    issues: issuesOf(p.issues),
    retryAfter,
  });
}

/** The system error code (ECONNREFUSED, UND_ERR_SOCKET...) somewhere in a failed fetch's causes. */
function systemCode(e: unknown): string | undefined {
  for (let at = e, depth = 0; at && typeof at === 'object' && depth < 5; at = (at as { cause?: unknown }).cause, depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
  }
  return undefined;
}

/** A fetch that threw (no answer) as `network_error`: the cause's system code kept, its message (which may name the URL) not. */
export function networkError(e: unknown): WardError {
  return new WardError({
    code: 'network_error',
    status: 0,
    title: 'The request got no answer from Ward (connection refused or cut, DNS or TLS failure)',
    detail: systemCode(e),
  });
}
