/** 405 for a known path asked with a method it does not serve, with an `Allow` header. */
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { WardError } from '../errors.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Records each route's methods; call the returned function after the last route is declared. */
export function trackMethods(app: FastifyInstance): () => void {
  const byUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const set = byUrl.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) set.add(m);
    byUrl.set(route.url, set);
  });
  return () => {
    for (const [url, served] of [...byUrl]) {
      const missing = METHODS.filter((m) => !served.has(m));
      if (!missing.length) continue;
      const allow = [...served].join(', ');
      app.route({
        method: missing,
        url,
        config: { public: true },
        schema: { hide: true },
        handler: async (_request, reply) => {
          reply.header('allow', allow);
          throw new WardError('method_not_allowed', `this endpoint serves ${allow}`);
        },
      });
    }
  };
}
