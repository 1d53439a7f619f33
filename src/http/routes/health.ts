/** Unauthenticated endpoints holding no PHI: liveness, readiness and the OpenAPI document. */
import type { FastifyInstance } from 'fastify';
import { WardError } from '../../errors.js';
import type { Vault } from '../../vault/vault.js';
import { problemSchema, ref } from '../schemas.js';

const open = { public: true };
const status = { type: 'object', properties: { status: { type: 'string' } } } as const;

export function healthRoutes(app: FastifyInstance, vault: Vault): void {
  app.get(
    '/healthz',
    { config: open, schema: { summary: 'Liveness: the process is up', tags: ['operations'], response: { 200: status } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: open,
      schema: { summary: 'Readiness: the database answers', tags: ['operations'], response: { 200: status, 503: ref(problemSchema.$id) } },
    },
    async () => {
      try {
        await vault.ping();
      } catch {
        throw new WardError('database_error', 'the database does not answer');
      }
      return { status: 'ready' };
    },
  );

  app.get('/openapi.json', { config: open, schema: { summary: 'This API as OpenAPI 3.1', tags: ['operations'] } }, async () =>
    app.swagger(),
  );
}
