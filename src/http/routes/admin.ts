/**
 * For roles with `admin: true`: API keys (create, the key shown once; list; revoke) and Business
 * Associate Agreements (add, list with days to expiry, revoke). All audited.
 */
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

  json.post<{ Params: { id: string }; Body: { overlap?: string } }>(
    '/v1/admin/api-keys/:id/rotate',
    {
      schema: {
        summary: 'Rotate an API key: a successor for the same role (the key in this answer only); the old key ends after the overlap',
        tags,
        security,
        params: apiKeyParams,
        body: {
          type: 'object',
          properties: {
            overlap: { type: 'string', pattern: '^[0-9]{1,5}[hdwy]$', description: 'how long the old key keeps working (default 7d)' },
          },
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string', format: 'uuid' },
              key: { type: 'string', description: 'the whole successor key: store it now, it is not shown again' },
              prefix: { type: 'string' },
              role: { type: 'string' },
              expiresAt: { type: ['string', 'null'] },
              replaces: { type: 'string', format: 'uuid' },
              oldExpiresAt: { type: ['string', 'null'] },
            },
          },
          ...problems(400, 404, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const overlap = lifetimeMs(request.body?.overlap ?? '7d', 'overlap');
      const { old, successor } = await vault.rotateApiKey(request.params.id, overlap, ctxOf(request));
      return reply.code(201).send({ ...successor, replaces: old.id, oldExpiresAt: old.expiresAt });
    },
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

  const agreementSchema = {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      hosts: { type: 'array', items: { type: 'string' } },
      signed: { type: 'string', format: 'date' },
      expires: { type: 'string', format: 'date' },
      scope: { type: 'string', enum: ['phi', 'no-phi'] },
      documentSha256: { type: ['string', 'null'] },
      createdAt: { type: 'string' },
      revokedAt: { type: ['string', 'null'] },
      daysToExpiry: { type: 'integer' },
      status: { type: 'string', enum: ['active', 'expiring', 'expired', 'revoked'] },
    },
  } as const;

  json.post<{
    Body: { name: string; hosts: string[]; signed: string; expires: string; scope?: 'phi' | 'no-phi'; documentSha256?: string };
  }>(
    '/v1/admin/baa',
    {
      schema: {
        summary: 'Record a Business Associate Agreement covering hosts until a date',
        tags,
        security,
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            hosts: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', maxLength: 253 } },
            signed: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
            scope: { type: 'string', enum: ['phi', 'no-phi'] },
            documentSha256: {
              type: 'string',
              pattern: '^[0-9a-fA-F]{64}$',
              description: 'the signed document’s SHA-256; the document is not sent',
            },
          },
          required: ['name', 'hosts', 'signed', 'expires'],
          additionalProperties: false,
        },
        response: { 201: agreementSchema, ...problems(400, 413, 415) },
      },
    },
    async (request, reply) => reply.code(201).send(await vault.addAgreement(request.body, ctxOf(request))),
  );

  plain.get(
    '/v1/admin/baa',
    {
      schema: {
        summary: 'Every Business Associate Agreement, soonest expiry first, with its status',
        tags,
        security,
        response: { 200: { type: 'object', properties: { agreements: { type: 'array', items: agreementSchema } } }, ...problems() },
      },
    },
    async (request) => ({ agreements: await vault.listAgreements(ctxOf(request)) }),
  );

  plain.delete<{ Params: { id: string } }>(
    '/v1/admin/baa/:id',
    {
      schema: {
        summary: 'Revoke an agreement: it covers nothing from now on',
        tags,
        security,
        params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
        response: { 204: { type: 'null', description: 'revoked' }, ...problems(404) },
      },
    },
    async (request, reply) => {
      await vault.revokeAgreement(request.params.id, ctxOf(request));
      return reply.code(204).send();
    },
  );
}
