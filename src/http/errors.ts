/**
 * The one place errors become responses: `application/problem+json` with a code from the
 * registry in src/errors.ts. Fastify's own errors are mapped to fixed messages (theirs can quote
 * a path or body); anything unexpected is a bare 500 with the request id, details only in the log.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode, type FieldIssue, isWardError, WardError } from '../errors.js';
import { safeError } from './logging.js';

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string;
  issues?: readonly FieldIssue[];
}

export function problem(e: WardError, requestId: string): Problem {
  const { status, title } = ERROR_CODES[e.code];
  const out: Problem = { type: `urn:ward:problem:${e.code}`, title, status, code: e.code, detail: e.message, requestId };
  if (e.code === 'validation_failed' && e.issues.length) out.issues = e.issues;
  return out;
}

/** Fastify's error codes, each mapped to ours with a message that quotes nothing. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'the request body exceeds the size limit'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'send the body as application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['invalid_request', 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_request', 'the request body is empty; send a JSON value'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_request', 'the request body is not valid JSON'],
  FST_ERR_BAD_URL: ['invalid_request', 'the request path is not a valid URL'],
  FST_ERR_MAX_PARAM_LENGTH: ['invalid_request', 'a path parameter is too long'],
};

/**
 * Names an error may quote: those the API's schemas and ward.yaml declare. Anything else in a
 * request (a key a client made up may be PHI) is located by its position instead.
 */
export type Declared = (name: string) => boolean;

/** Ajv messages for these keywords name only the schema's rules, never the submitted data. */
const SAFE_KEYWORDS = new Set([
  'type',
  'required',
  'additionalProperties',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'format',
  'pattern',
  'enum',
  'minProperties',
  'maxProperties',
]);

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** What lies at `segments` of `data`. */
function dataAt(data: unknown, segments: readonly string[]): unknown {
  let at: unknown = data;
  for (const s of segments) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[s] : undefined;
  return at;
}

/** The position of key `key` in the object at `segments` of `data`, as `(key N)`. */
function keyPosition(data: unknown, segments: readonly string[], key: string): string {
  const at = dataAt(data, segments);
  const i = at && typeof at === 'object' ? Object.keys(at).indexOf(key) : -1;
  return i >= 0 ? `(key ${i + 1})` : '(a key)';
}

/**
 * "body.where: must be object", from the first schema violation, naming places but no values: a
 * name the API or ward.yaml declares is quoted, an array index kept, any other key located by its
 * position in `data` (what the request sent in `context`).
 */
export function validationMessage(
  context: string | undefined,
  issues: readonly ValidationIssue[],
  declared: Declared = () => false,
  data?: unknown,
): string {
  const first = issues[0];
  if (!first) return 'the request is malformed';
  const raw = first.instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  // An index of an array is a position already; a key of an object only when declared (a key can be digits too).
  const index = (i: number) => Array.isArray(dataAt(data, raw.slice(0, i)));
  const path = raw.map((s, i) => ((index(i) && /^\d{1,6}$/.test(s)) || declared(s) ? s : keyPosition(data, raw.slice(0, i), s)));
  const extra = first.params.additionalProperty;
  if (first.keyword === 'additionalProperties' && typeof extra === 'string')
    path.push(declared(extra) ? extra : keyPosition(data, raw, extra));
  const where = [context ?? 'request', ...path].join('.');
  const rule = first.keyword === 'additionalProperties' ? 'is not allowed' : SAFE_KEYWORDS.has(first.keyword) ? first.message : undefined;
  return `${where}: ${rule ?? 'is invalid'}`;
}

/** Any thrown value as a WardError; unknown errors become `internal_error` (and are logged by the caller). */
export function toWardError(e: unknown, declared?: Declared, request?: FastifyRequest): WardError {
  if (isWardError(e)) return e;
  const err = e as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (err?.validation) {
    const ctx = err.validationContext;
    const data = request && ctx ? (request as unknown as Record<string, unknown>)[ctx === 'querystring' ? 'query' : ctx] : undefined;
    return new WardError('invalid_request', validationMessage(ctx, err.validation, declared, data));
  }
  const mapped = typeof err?.code === 'string' ? FASTIFY_ERRORS[err.code] : undefined;
  if (mapped) return new WardError(mapped[0], mapped[1]);
  if (typeof err?.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
    return new WardError('invalid_request', 'the request is malformed');
  return new WardError('internal_error', 'an unexpected error occurred; quote the request id when reporting it');
}

export function sendProblem(reply: FastifyReply, e: WardError): FastifyReply {
  if (e.code === 'unauthenticated') reply.header('www-authenticate', 'Bearer');
  return reply.code(e.status).type(PROBLEM_TYPE).send(problem(e, reply.request.id));
}

function handle(e: unknown, request: FastifyRequest, reply: FastifyReply, declared?: Declared): FastifyReply {
  const ward = toWardError(e, declared, request);
  if (ward.code === 'internal_error' && !isWardError(e)) request.log.error({ err: safeError(e) }, 'unexpected error');
  return sendProblem(reply, ward);
}

/** Installs the error, not-found, framework-error and connection-error handling on `app`. */
export function installErrorHandling(app: FastifyInstance, declared: Declared): void {
  app.setErrorHandler((e, request, reply) => handle(e, request, reply, declared));
  app.setNotFoundHandler({}, (_request, reply) =>
    sendProblem(reply, new WardError('route_not_found', 'no endpoint at this path; see /openapi.json')),
  );
}

/** Fastify's `frameworkErrors` option: malformed URLs and over-long parameters, before routing. */
export function frameworkErrors(e: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  handle(e, request, reply);
}

/** Node's `clientError` (malformed HTTP, header overflow, timeout): a problem body on the raw socket. */
export function clientErrorHandler(e: Error & { code?: string }, socket: Socket): void {
  if (e.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout' : e.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'invalid_request';
  const { status, title } = ERROR_CODES[code];
  const body = JSON.stringify({ type: `urn:ward:problem:${code}`, title, status, code, detail: title, requestId: '' });
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  socket.destroy();
}
