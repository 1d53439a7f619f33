/**
 * The one request body parser: JSON in UTF-8, nothing else. Every failure is a fixed message,
 * because parser messages can quote the body (which may hold PHI).
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { WardError } from '../errors.js';

/** Keys that could reach an object's prototype chain in careless code: refused wherever they sit. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True when some object, at any depth, has a forbidden key. Iterative: deep nesting cannot overflow the stack. */
function hasForbiddenKey(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) stack.push(...v);
    else
      for (const [k, child] of Object.entries(v)) {
        if (FORBIDDEN_KEYS.has(k)) return true;
        stack.push(child);
      }
  }
  return false;
}

/** Parses a JSON body: refuses empty bodies, invalid UTF-8, invalid JSON and prototype keys. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new WardError('invalid_request', 'the request body is empty; send a JSON value');
  if (!isUtf8(body)) throw new WardError('invalid_request', 'the request body is not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WardError('invalid_request', 'the request body is not valid JSON');
  }
  if (hasForbiddenKey(value))
    throw new WardError('invalid_request', 'the request body holds a forbidden key (__proto__, constructor or prototype)');
  return value;
}

/** Replaces Fastify's parsers: only `application/json` bodies are read; others get 415. */
export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
