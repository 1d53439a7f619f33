/**
 * Ward's logger: pino, with every string of every record scrubbed (message, fields, keys,
 * bindings, error messages and stacks) and the values of known sensitive keys replaced
 * outright. Everything in Ward logs through `createLogger`.
 */
import { format } from 'node:util';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { scrub } from './scrub.js';
import { cleanAsIs, normalizeKey, scrubValue } from './scrub-value.js';

export { SENSITIVE_KEYS } from './scrub-value.js';

export interface WardLoggerOptions {
  /** Minimum level written. Default 'info'. */
  level?: LoggerOptions['level'];
  /** Extra key names whose values are always replaced, at any depth (case, "-" and "_" ignored). */
  redactKeys?: readonly string[];
  /** Extra pino redaction paths (pino's `redact` syntax, e.g. "req.body.notes"). */
  redactPaths?: readonly string[];
  /** Bindings on every line (default: pid and hostname, as pino does). They are scrubbed too. */
  base?: Record<string, unknown> | null;
}

/**
 * A pino logger whose output holds no PHI the detector can see. `destination` defaults to
 * stdout. Interpolation arguments (`log.info('%s', x)`) are formatted first and the whole
 * message scrubbed, so a value split across arguments is still caught.
 */
export function createLogger(options: WardLoggerOptions = {}, destination?: DestinationStream): Logger {
  const keys = new Set((options.redactKeys ?? []).map(normalizeKey));
  const clean = (v: unknown) => scrubValue(v, keys);
  const asIs = (v: object, msg: string | undefined) => cleanAsIs(v, msg, keys);
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    formatters: { bindings: (b) => clean(b) as Record<string, unknown> },
    // Errors were already made plain and scrubbed in logMethod; pino's serializer would rename their type.
    serializers: { err: (e: unknown) => e },
    hooks: {
      logMethod(args, method) {
        method.apply(this, cleanArgs(args as unknown[], clean, asIs) as Parameters<typeof method>);
      },
    },
  };
  if (options.base !== undefined) opts.base = options.base === null ? null : (clean(options.base) as Record<string, unknown>);
  if (options.redactPaths?.length) opts.redact = { paths: [...options.redactPaths], censor: '[REDACTED]' };
  const logger = destination ? pino(opts, destination) : pino(opts);
  // pino applies formatters.bindings to the root's bindings only; scrub each child's too (and
  // its message prefix, which pino adds after the logMethod hook). Children inherit this.
  const baseChild = logger.child;
  logger.child = function child(this: Logger, bindings: Record<string, unknown>, childOptions?: Record<string, unknown>) {
    const o = childOptions?.msgPrefix === undefined ? childOptions : { ...childOptions, msgPrefix: scrub(String(childOptions.msgPrefix)) };
    return baseChild.call(this, clean(bindings) as Record<string, unknown>, o);
  } as Logger['child'];
  return logger;
}

/** The arguments of one log call, made safe: a merge object scrubbed, the message formatted and scrubbed. */
function cleanArgs(args: unknown[], clean: (v: unknown) => unknown, asIs: (v: object, msg: string | undefined) => boolean): unknown[] {
  const first = args[0];
  if (typeof first === 'string') return [message(args, 0)];
  if (first === null || typeof first !== 'object') return args.length > 1 ? [first, message(args, 1)] : args;
  // Fast path: one detector pass over all the record's strings finds nothing.
  const msg = args[1];
  if (args.length <= 2 && (msg === undefined || typeof msg === 'string') && asIs(first, msg)) return args;
  const err = first instanceof Error ? first : (first as { err?: unknown }).err;
  const obj = clean(first instanceof Error ? { err: first } : httpMessage(first)) as Record<string, unknown>;
  if (args.length > 1) return [obj, message(args, 1)];
  // pino would fall back to the raw error message; give it the scrubbed one instead.
  if (err instanceof Error && obj.msg === undefined) return [obj, scrub(err.message)];
  return [obj];
}

/** args[at] as the message, formatted with the arguments after it, then scrubbed. */
function message(args: unknown[], at: number): string {
  const msg = args[at];
  if (args.length > at + 1) return scrub(format(msg, ...args.slice(at + 1)));
  return scrub(typeof msg === 'string' ? msg : String(msg));
}

/** Node's request and response objects become what pino's serializers make of them (as pino itself does). */
function httpMessage(o: object): object {
  const x = o as { method?: unknown; headers?: unknown; socket?: unknown; setHeader?: unknown };
  if (x.method && x.headers && x.socket) return pino.stdSerializers.req(o as Parameters<typeof pino.stdSerializers.req>[0]);
  if (typeof x.setHeader === 'function') return pino.stdSerializers.res(o as Parameters<typeof pino.stdSerializers.res>[0]);
  return o;
}
