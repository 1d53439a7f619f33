/** Options for @fastify/swagger: an OpenAPI 3.1 document built from the route schemas. */
import type { SwaggerOptions } from '@fastify/swagger';
import { type Collection, fieldSchema, recordInputSchema } from '../schema/collection.js';
import { ref } from './schemas.js';

/**
 * Every operation's stable `operationId` (generators name methods after them; the SDK's are in
 * packages/sdk). A route missing here stops the document from being built: add its id, never
 * rename one (clients depend on them).
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'GET /openapi.json': 'getOpenApiDocument',
  'POST /v1/collections/{c}/records': 'createRecord',
  'POST /v1/collections/{c}/records:batch': 'createRecords',
  'GET /v1/collections/{c}/records/{id}': 'getRecord',
  'PATCH /v1/collections/{c}/records/{id}': 'updateRecord',
  'DELETE /v1/collections/{c}/records/{id}': 'deleteRecord',
  'POST /v1/collections/{c}/search': 'searchRecords',
  'POST /v1/collections/{c}/subjects/shred': 'shredSubject',
  'POST /v1/detokenize': 'detokenize',
  'GET /v1/events/schemas': 'listEventSchemas',
  'GET /v1/events/{topic}': 'readEvents',
  'GET /v1/events/{topic}/stream': 'streamEvents',
  'GET /v1/audit/events': 'listAuditEvents',
  'GET /v1/audit/subjects/{recordId}/disclosures': 'listDisclosures',
  'GET /v1/audit/verify': 'verifyAuditLog',
  'GET /v1/audit/checkpoint': 'getAuditCheckpoint',
  'GET /v1/audit/break-glass': 'listBreakGlassUses',
  'POST /v1/audit/break-glass/{id}/review': 'reviewBreakGlassUse',
  'GET /v1/compliance/checks': 'runComplianceChecks',
  'POST /v1/admin/api-keys': 'createApiKey',
  'GET /v1/admin/api-keys': 'listApiKeys',
  'POST /v1/admin/api-keys/{id}/rotate': 'rotateApiKey',
  'DELETE /v1/admin/api-keys/{id}': 'revokeApiKey',
  'POST /v1/admin/baa': 'addAgreement',
  'GET /v1/admin/baa': 'listAgreements',
  'DELETE /v1/admin/baa/{id}': 'revokeAgreement',
};

/** Routes anyone may call (no API key): health, readiness, this document. Ingress rules still apply (403). */
const PUBLIC = new Set(['getHealth', 'getReadiness', 'getOpenApiDocument']);

/** The route's path as OpenAPI writes it: `:id` as `{id}`. */
const openapiPath = (url: string) =>
  url
    .split('::') // a literal colon ("records::batch")
    .map((part) => part.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}'))
    .join(':');

/** A collection's name as a schema name: `lab_results` → `LabResults`. */
const pascal = (name: string) => name.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());

/**
 * Each collection's record schemas, named `<Collection>Create`, `<Collection>Update` and
 * `<Collection>Fields` (a read's fields: any of them, as the caller's grant shows them), and the
 * `x-ward-collections` map from collection name to them, which the SDK's generator reads.
 */
function collectionSchemas(collections: readonly Collection[]): { schemas: Record<string, unknown>; map: Record<string, unknown> } {
  const schemas: Record<string, unknown> = {};
  const map: Record<string, unknown> = {};
  for (const c of collections) {
    const n = pascal(c.name);
    schemas[`${n}Create`] = recordInputSchema(c, 'create');
    schemas[`${n}Update`] = recordInputSchema(c, 'update');
    // Reads show a field masked ("***-**-6789"), in a de-identified form ("1961") or not at all: strings or the stored type.
    schemas[`${n}Fields`] = {
      type: 'object',
      description: `the fields of a record of ${c.name} the caller may see (masked or de-identified ones as strings)`,
      additionalProperties: false,
      properties: Object.fromEntries(
        [...c.fields.values()].map((f) => {
          const t = fieldSchema(f);
          return [
            f.name,
            t.type === 'string' ? { type: 'string', description: t.description } : { type: [t.type, 'string'], description: t.description },
          ];
        }),
      ),
    };
    map[c.name] = {
      create: { $ref: `#/components/schemas/${n}Create` },
      update: { $ref: `#/components/schemas/${n}Update` },
      fields: { $ref: `#/components/schemas/${n}Fields` },
    };
  }
  return { schemas, map };
}

export function openapiOptions(collections: readonly Collection[] = []): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ward',
        version: '1',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
        description:
          'A self-hosted PHI vault. Send `Authorization: Bearer <api key>`, and `Ward-Purpose: <purpose>` on any request ' +
          'that touches identifier or clinical fields. In an emergency, a role with break_glass may send `Ward-Break-Glass: <reason>` ' +
          '(20 to 500 characters): granted beyond its rules for a bounded window, audited and alerted, reviewed afterwards. ' +
          'Errors are application/problem+json with a stable `code`.',
      },
      servers: [{ url: '/', description: 'the Ward server this document came from (ward serve)' }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a Ward API key (ward_...)' } } },
      tags: [
        { name: 'records', description: 'encrypted records' },
        { name: 'tokens', description: 'tokens standing in for values' },
        { name: 'audit', description: 'the audit trail' },
        { name: 'compliance', description: 'the HIPAA checks, for roles with audit: true or admin: true' },
        { name: 'admin', description: 'API keys, for roles with admin: true' },
        { name: 'operations', description: 'health, readiness, this document (metrics have a listener of their own)' },
      ],
    },
    // Each operation gets its id; the public ones say they need no key, and that ingress rules apply.
    transform: ({ schema, url, route }) => {
      const method = (Array.isArray(route.method) ? route.method[0] : route.method) as string;
      const path = openapiPath(url);
      if (method === 'HEAD' || (schema as { hide?: boolean } | undefined)?.hide) return { schema, url };
      const operationId = OPERATION_IDS[`${method} ${path}`];
      if (!operationId) throw new Error(`openapi: no operationId for ${method} ${path}; add one to OPERATION_IDS`);
      const out: Record<string, unknown> = { ...(schema ?? {}), operationId };
      if (PUBLIC.has(operationId)) {
        out.security = [];
        const responses = {
          200: { description: 'this document: OpenAPI 3.1', type: 'object' },
          ...((out.response ?? {}) as Record<string, unknown>),
        };
        out.response = {
          ...responses,
          403: {
            description: 'ingress_denied: the client address is not in network.ingress.allow (application/problem+json)',
            ...ref('Problem'),
          },
        };
      }
      return { schema: out as typeof schema, url };
    },
    transformObject: (documentObject) => {
      const doc = (documentObject as { openapiObject: Record<string, unknown> }).openapiObject;
      const { schemas, map } = collectionSchemas(collections);
      const components = (doc.components ?? {}) as { schemas?: Record<string, unknown> };
      // The generic record routes name the collections' schemas: any of them (the path's {c} says which).
      const refs = (kind: string): Record<string, unknown> => {
        const all = collections.map((c) => ({ $ref: `#/components/schemas/${pascal(c.name)}${kind}` }));
        return all.length === 1 ? (all[0] as Record<string, unknown>) : { anyOf: all };
      };
      if (collections.length) {
        const paths = doc.paths as Record<
          string,
          Record<string, { requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> } }>
        >;
        const body = (path: string, method: string) => paths[path]?.[method]?.requestBody?.content?.['application/json'];
        const create = body('/v1/collections/{c}/records', 'post');
        if (create) create.schema = { ...refs('Create'), description: create.schema?.description };
        const batch = body('/v1/collections/{c}/records:batch', 'post')?.schema as
          | { properties?: { records?: { items?: unknown } } }
          | undefined;
        if (batch?.properties?.records) batch.properties.records.items = refs('Create');
        const update = body('/v1/collections/{c}/records/{id}', 'patch');
        if (update) update.schema = { ...refs('Update'), description: update.schema?.description };
        const record = (components.schemas?.Record ?? {}) as { properties?: { fields?: Record<string, unknown> } };
        if (record.properties?.fields) record.properties.fields = { ...refs('Fields'), description: record.properties.fields.description };
      }
      const out = {
        ...doc,
        components: { ...components, schemas: { ...(components.schemas ?? {}), ...schemas } },
        'x-ward-collections': map,
      };
      return out as never;
    },
    // Shared schemas keep their $id as their component name.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  };
}
