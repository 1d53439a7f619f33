/** API keys over HTTP, for roles with `admin: true`: create (the key is shown once), list, revoke. All audited. */
import { lifetimeMs } from '../../vault/apikeys.js';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import { apiKeyInput, apiKeyParams, apiKeySchema, problems, ref } from '../schemas.js';
import type { Scopes } from './records.js';

const security = [{ apiKey: [] }];
const tags = ['admin'];

export function adminRoutes({ plain, json }: Scopes, vault: Vault): void {
  json.post<{ Body: { role: string; name: string; expires?: string } }>(
    '/v1/admin/api-keys',
    {
      schema: {
        summary: 'Create an API key for a role; the key is in this answer only (only a hash of it is stored)',
        tags,
        security,
        body: apiKeyInput,
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string', format: 'uuid' },
              key: { type: 'string', description: 'the whole key: store it now, it is not shown again' },
              prefix: { type: 'string' },
              role: { type: 'string' },
              expiresAt: { type: ['string', 'null'] },
            },
          },
          ...problems(400, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const { role, name, expires } = request.body;
      const created = await vault.createApiKey(role, name, expires === undefined ? undefined : lifetimeMs(expires), ctxOf(request));
      return reply.code(201).send(created);
    },
  );

  plain.get(
    '/v1/admin/api-keys',
    {
      schema: {
        summary: 'Every API key, never the keys themselves',
        tags,
        security,
        response: { 200: { type: 'object', properties: { keys: { type: 'array', items: ref(apiKeySchema.$id) } } }, ...problems() },
      },
    },
    async (request) => ({ keys: await vault.listApiKeys(ctxOf(request)) }),
  );

  plain.delete<{ Params: { id: string } }>(
    '/v1/admin/api-keys/:id',
    {
      schema: {
        summary: 'Revoke an API key; effective on its next request, in every server process',
        tags,
        security,
        params: apiKeyParams,
        response: { 204: { type: 'null', description: 'revoked' }, ...problems(404) },
      },
    },
    async (request, reply) => {
      await vault.revokeApiKey(request.params.id, ctxOf(request));
      return reply.code(204).send();
    },
  );
}
