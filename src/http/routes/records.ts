/** Records: thin adapters from the v1 contract to the vault's create, get, update, delete and search. */
import type { FastifyInstance } from 'fastify';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import {
  batchInput,
  collectionParams,
  problems,
  readQuery,
  recordInput,
  recordParams,
  recordSchema,
  ref,
  searchInput,
} from '../schemas.js';

interface CollectionRoute {
  Params: { c: string };
}
interface RecordRoute {
  Params: { c: string; id: string };
}

const security = [{ apiKey: [] }];
const tags = ['records'];
const purposeHeader = {
  type: 'object',
  properties: {
    'ward-purpose': { type: 'string', description: 'purpose of use, required to touch identifier or clinical fields' },
    'ward-break-glass': {
      type: 'string',
      description: "emergency access: the reason (20 to 500 characters) for access beyond the role's rules, for roles with break_glass",
    },
  },
} as const;

/** `a,b` → ['a', 'b']; empty entries dropped. */
export const fieldList = (s: string | undefined) => (s === undefined ? undefined : s.split(',').filter(Boolean));

/** Routes that read a body go in `json`, the others in `plain`, where no body is ever parsed. */
export interface Scopes {
  plain: FastifyInstance;
  json: FastifyInstance;
}

export function recordRoutes({ plain, json }: Scopes, vault: Vault): void {
  json.post<CollectionRoute & { Body: unknown }>(
    '/v1/collections/:c/records',
    {
      schema: {
        summary: 'Create a record',
        tags,
        security,
        headers: purposeHeader,
        params: collectionParams,
        body: recordInput,
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string', format: 'uuid' },
              version: { type: 'integer' },
              tokens: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
          ...problems(404, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => reply.code(201).send(await vault.create(request.params.c, request.body, ctxOf(request))),
  );

  json.post<CollectionRoute & { Body: { records: unknown[] } }>(
    '/v1/collections/:c/records::batch',
    {
      schema: {
        summary: 'Create many records: all of them or none',
        tags,
        security,
        headers: purposeHeader,
        params: collectionParams,
        body: batchInput,
        response: {
          201: { type: 'object', properties: { ids: { type: 'array', items: { type: 'string', format: 'uuid' } } } },
          ...problems(404, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => reply.code(201).send(await vault.createMany(request.params.c, request.body.records, ctxOf(request))),
  );

  plain.get<RecordRoute & { Querystring: { fields?: string; masked?: 'true' | 'false' } }>(
    '/v1/collections/:c/records/:id',
    {
      schema: {
        summary: 'Read a record: the fields the role may see, masked as its grant says',
        tags,
        security,
        headers: purposeHeader,
        params: recordParams,
        querystring: readQuery,
        response: { 200: ref(recordSchema.$id), ...problems(404, 422, 503) },
      },
    },
    async (request) => {
      const fields = fieldList(request.query.fields);
      const options = { masked: request.query.masked === 'true', ...(fields ? { fields } : {}) };
      return vault.get(request.params.c, request.params.id, options, ctxOf(request));
    },
  );

  json.patch<RecordRoute & { Body: unknown }>(
    '/v1/collections/:c/records/:id',
    {
      schema: {
        summary: 'Change some fields of a record (null removes a field)',
        tags,
        security,
        headers: purposeHeader,
        params: recordParams,
        body: recordInput,
        response: {
          200: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, version: { type: 'integer' } } },
          ...problems(404, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request) => vault.update(request.params.c, request.params.id, request.body, ctxOf(request)),
  );

  plain.delete<RecordRoute>(
    '/v1/collections/:c/records/:id',
    {
      schema: {
        summary: 'Delete a record',
        tags,
        security,
        headers: purposeHeader,
        params: recordParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...problems(404, 503) },
      },
    },
    async (request, reply) => {
      await vault.delete(request.params.c, request.params.id, ctxOf(request));
      return reply.code(204).send();
    },
  );

  // The subject is named through one of its records, in the body: never an identifier in a URL.
  json.post<CollectionRoute & { Body: { recordId: string } }>(
    '/v1/collections/:c/subjects/shred',
    {
      schema: {
        summary: "Crypto-shred a record's subject: destroy the subject's key and delete every record of the subject",
        description:
          'For roles granted `shred`. The subject key lives outside the database, so copies of the records in backups and replicas can no longer be read. Audited with every record shredded; answers the ids.',
        tags,
        security,
        headers: purposeHeader,
        params: collectionParams,
        body: {
          type: 'object',
          required: ['recordId'],
          additionalProperties: false,
          properties: { recordId: { type: 'string', format: 'uuid', description: 'any record of the subject' } },
        },
        response: {
          200: {
            type: 'object',
            properties: { shredded: { type: 'array', items: { type: 'string', format: 'uuid' } } },
          },
          ...problems(400, 404, 413, 415, 422, 503),
        },
      },
    },
    async (request) => vault.shredSubject(request.params.c, request.body.recordId, ctxOf(request)),
  );

  json.post<CollectionRoute & { Body: { where: Record<string, unknown>; fields?: string[]; limit?: number; masked?: boolean } }>(
    '/v1/collections/:c/search',
    {
      schema: {
        summary: 'Equality search on searchable fields (blind indexes)',
        tags,
        security,
        headers: purposeHeader,
        params: collectionParams,
        body: searchInput,
        response: {
          200: { type: 'object', properties: { records: { type: 'array', items: ref(recordSchema.$id) } } },
          ...problems(404, 413, 415, 422, 503),
        },
      },
    },
    async (request) => {
      const { where, fields, limit, masked } = request.body;
      const options = { masked: masked ?? false, ...(fields ? { fields } : {}), ...(limit === undefined ? {} : { limit }) };
      return { records: await vault.search(request.params.c, where, options, ctxOf(request)) };
    },
  );
}
