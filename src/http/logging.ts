/**
 * Structured request logs without PHI: one line per response with the route template (never the
 * raw URL), method, status, duration and request id. Bodies, headers, record values, tokens and
 * error messages are never logged.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { type DestinationStream, pino } from 'pino';
import { createLogger } from '../detect/logger.js';

/**
 * The default logger: Ward's scrubbing logger (every string checked for PHI), JSON lines on
 * stdout (or `out`) at `WARD_LOG_LEVEL` (default `info`), and to the log drains when there are any.
 */
export function defaultLogger(drains?: DestinationStream, out?: DestinationStream): FastifyBaseLogger {
  const destination = drains
    ? pino.multistream([
        { level: 'trace', stream: out ?? pino.destination(1) },
        { level: 'trace', stream: drains },
      ])
    : out;
  return createLogger(
    {
      level: process.env.WARD_LOG_LEVEL ?? 'info',
      // Belt and braces: nothing here logs headers, but a future caller might.
      redactPaths: ['req.headers.authorization', 'headers.authorization', 'req.headers["ward-break-glass"]', 'headers["ward-break-glass"]'],
      redactKeys: ['authorization'],
    },
    destination,
  ) as FastifyBaseLogger;
}

/** An error as it may be logged: its class, code and stack frames, never its message (which may quote data). */
export function safeError(e: unknown): { type: string; code?: string; frames: string[] } {
  const err = e as { name?: unknown; code?: unknown; stack?: unknown };
  const frames = typeof err?.stack === 'string' ? err.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
  const out: { type: string; code?: string; frames: string[] } = { type: typeof err?.name === 'string' ? err.name : typeof e, frames };
  if (typeof err?.code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(err.code)) out.code = err.code;
  return out;
}

/** The route template a request matched, or a fixed label: safe as a log field and metric label. */
export function routeOf(request: FastifyRequest): string {
  return request.is404 ? '(unmatched)' : (request.routeOptions.url ?? '(unmatched)');
}

/** onResponse: the one access-log line. */
export function logResponse(request: FastifyRequest, reply: FastifyReply): void {
  const status = reply.statusCode;
  const line = { method: request.method, route: routeOf(request), status, ms: Math.round(reply.elapsedTime * 10) / 10 };
  if (status >= 500) request.log.warn(line, 'request failed');
  else request.log.info(line, 'request completed');
}
