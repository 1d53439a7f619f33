/** Detokenize: the current values behind tokens, for roles granted `detokenize` on their fields. */
import type { FastifyInstance } from 'fastify';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import { detokenizeInput, problems } from '../schemas.js';

export function tokenRoutes(app: FastifyInstance, vault: Vault): void {
  app.post<{ Body: { tokens: string[] } }>(
    '/v1/detokenize',
    {
      schema: {
        summary: 'The current values behind tokens (all of them, or an error)',
        tags: ['tokens'],
        security: [{ apiKey: [] }],
        headers: { type: 'object', properties: { 'ward-purpose': { type: 'string' } } },
        body: detokenizeInput,
        response: {
          200: {
            type: 'object',
            properties: { values: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } } },
          },
          ...problems(413, 415, 422, 503),
        },
      },
    },
    async (request) => ({ values: await vault.detokenize(request.body.tokens, ctxOf(request)) }),
  );
}
