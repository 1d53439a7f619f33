/**
 * Request bodies. Only routes that declare a body read one, and only as JSON in UTF-8: they are
 * registered in a scope of their own with the one JSON parser (`jsonScope`). Everywhere else (the
 * other routes, 404s, 405s) a body is drained unread. Every failure is a fixed message, because
 * parser messages can quote the body (which may hold PHI).
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { WardError } from '../errors.js';

/** Keys that could reach an object's prototype chain in careless code: refused wherever they sit. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Limits on a body's shape, far above any request Ward takes (a batch of 1,000 records is about 12,000 values). */
export const BODY_SHAPE = { maxDepth: 32, maxValues: 100_000 } as const;

/**
 * Walks a parsed body without recursion and refuses prototype keys, nesting deeper than
 * `maxDepth` and more than `maxValues` values in all: bounded work for any body.
 */
export function checkShape(root: unknown, limits: { maxDepth: number; maxValues: number } = BODY_SHAPE): void {
  const stack: [unknown, number][] = [[root, 1]];
  let values = 0;
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (++values > limits.maxValues) throw new WardError('invalid_request', `the request body holds more than ${limits.maxValues} values`);
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limits.maxDepth) throw new WardError('invalid_request', `the request body nests deeper than ${limits.maxDepth} levels`);
    const keys = Array.isArray(v) ? undefined : Object.keys(v);
    if (values + (keys ?? (v as unknown[])).length > limits.maxValues)
      throw new WardError('invalid_request', `the request body holds more than ${limits.maxValues} values`);
    if (!keys) {
      for (const child of v as unknown[]) stack.push([child, depth + 1]);
      continue;
    }
    for (const k of keys) {
      if (FORBIDDEN_KEYS.has(k))
        throw new WardError('invalid_request', 'the request body holds a forbidden key (__proto__, constructor or prototype)');
      stack.push([(v as Record<string, unknown>)[k], depth + 1]);
    }
  }
}

/** Parses a JSON body: refuses empty bodies, invalid UTF-8, invalid JSON, prototype keys and outsized shapes. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new WardError('invalid_request', 'the request body is empty; send a JSON value');
  if (!isUtf8(body)) throw new WardError('invalid_request', 'the request body is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WardError('invalid_request', 'the request body is not valid JSON');
  }
  checkShape(value);
  return value;
}

/** No parser reads a body here: whatever was sent is drained unread, and the route answers as if none was. */
export function ignoreBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null, undefined);
  });
}

/**
 * Registers `routes` in a scope whose one parser reads `application/json` bodies up to
 * `bodyLimit` bytes; any other media type gets 415. Hooks, schemas and error handling come from
 * the parent.
 */
export async function jsonScope(app: FastifyInstance, bodyLimit: number, routes: (scope: FastifyInstance) => void): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
      try {
        done(null, parseJsonBody(body as Buffer));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    routes(scope);
  });
}
