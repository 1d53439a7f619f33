/**
 * JSON schemas of the v1 contract: Fastify validates requests with them, serializes responses
 * through them (a property not listed is never sent) and @fastify/swagger turns them into the
 * OpenAPI document. Record fields are checked by the vault against ward.yaml, not here.
 */
import { ERROR_CODES } from '../errors.js';
import { MAX_BATCH, MAX_SEARCH_LIMIT } from '../vault/vault.js';

const str = { type: 'string' } as const;
const fieldValue = { type: ['string', 'number', 'boolean'] } as const;
const fieldList = { type: 'string', pattern: '^[A-Za-z0-9_,]{1,2000}$', description: 'comma-separated field names' } as const;

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details; `code` comes from a closed list and no field ever holds a submitted value',
  properties: {
    type: str,
    title: str,
    status: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(ERROR_CODES) },
    detail: str,
    requestId: str,
    issues: { type: 'array', items: { type: 'object', properties: { field: str, reason: str } } },
  },
  required: ['type', 'title', 'status', 'code', 'detail', 'requestId'],
} as const;

const RECORD_DATE = 'an ISO 8601 date-time; in a de-identified view only its year (YYYY), as for date fields';

export const recordSchema = {
  $id: 'Record',
  type: 'object',
  properties: {
    id: {
      type: 'string',
      description: 'the record id (a UUID); in a de-identified view a keyed pseudonym (psn_...) instead, stable per record',
    },
    version: { type: 'integer' },
    fields: { type: 'object', additionalProperties: fieldValue, description: 'only the fields the role may see, masked as its grant says' },
    createdAt: { type: 'string', description: RECORD_DATE },
    updatedAt: { type: 'string', description: RECORD_DATE },
    expiresAt: { type: ['string', 'null'], description: `${RECORD_DATE}; null when the collection keeps records without limit` },
  },
  required: ['id', 'version', 'fields', 'createdAt', 'updatedAt'],
} as const;

export const auditEventSchema = {
  $id: 'AuditEvent',
  type: 'object',
  properties: {
    seq: str,
    at: { type: 'string', format: 'date-time' },
    actor: str,
    role: { type: ['string', 'null'] },
    action: str,
    collection: { type: ['string', 'null'] },
    recordIds: { type: 'array', items: str },
    fields: { type: 'array', items: str },
    purpose: { type: ['string', 'null'] },
    outcome: { type: 'string', enum: ['allowed', 'denied', 'not_found', 'expired', 'failed', 'unauthenticated'] },
    reason: { type: ['string', 'null'] },
    requestId: { type: ['string', 'null'] },
    client: { type: ['string', 'null'] },
    detail: { type: ['string', 'null'], description: "figures Ward computed, on few events (a lockout's counts)" },
  },
  required: ['seq', 'at', 'actor', 'action', 'recordIds', 'fields', 'outcome'],
} as const;

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  description: 'an API key as listed: never the key itself',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: str,
    role: str,
    prefix: str,
    createdAt: str,
    expiresAt: { type: ['string', 'null'] },
    revokedAt: { type: ['string', 'null'] },
    lastUsedAt: { type: ['string', 'null'] },
    expiringSoon: { type: 'boolean', description: 'active and ending within 14 days: rotate it' },
  },
  required: ['id', 'name', 'role', 'prefix', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt', 'expiringSoon'],
} as const;

export const SHARED_SCHEMAS = [problemSchema, recordSchema, auditEventSchema, apiKeySchema];

const ref = (id: string) => ({ $ref: `${id}#` });

/** The problem responses every protected route may give. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries([401, 403, ...statuses].map((s) => [s, { description: 'a problem (application/problem+json)', ...ref('Problem') }]));

export const collectionParams = {
  type: 'object',
  properties: { c: { type: 'string', description: 'collection name from ward.yaml' } },
  required: ['c'],
} as const;

export const recordParams = {
  type: 'object',
  properties: { c: collectionParams.properties.c, id: { type: 'string', format: 'uuid' } },
  required: ['c', 'id'],
} as const;

export const recordInput = {
  type: 'object',
  description: "the record's fields as declared in ward.yaml; unknown fields are refused",
  additionalProperties: true,
} as const;

export const batchInput = {
  type: 'object',
  properties: { records: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: recordInput } },
  required: ['records'],
  additionalProperties: false,
} as const;

export const readQuery = {
  type: 'object',
  properties: {
    fields: fieldList,
    masked: { type: 'string', enum: ['true', 'false'], description: 'show fields that declare a mask masked' },
  },
  additionalProperties: false,
} as const;

export const searchInput = {
  type: 'object',
  properties: {
    where: { type: 'object', minProperties: 1, additionalProperties: fieldValue, description: 'equalities on searchable fields, ANDed' },
    fields: { type: 'array', items: str, maxItems: 200 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_SEARCH_LIMIT, default: 100 },
    masked: { type: 'boolean' },
  },
  required: ['where'],
  additionalProperties: false,
} as const;

export const detokenizeInput = {
  type: 'object',
  properties: { tokens: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: str } },
  required: ['tokens'],
  additionalProperties: false,
} as const;

export const auditQuery = {
  type: 'object',
  properties: {
    recordId: { type: 'string', format: 'uuid' },
    actor: { type: 'string', pattern: '^[A-Za-z0-9:._@-]{1,200}$' },
    since: { type: 'string', format: 'date-time' },
    until: { type: 'string', format: 'date-time' },
    after: { type: 'string', pattern: '^[0-9]{1,18}$', description: 'the `next` value of the previous page' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'events per page, 1 to 1000 (default 100)' },
  },
  additionalProperties: false,
} as const;

export const disclosureQuery = {
  type: 'object',
  properties: {
    since: auditQuery.properties.since,
    until: auditQuery.properties.until,
    after: auditQuery.properties.after,
    limit: auditQuery.properties.limit,
  },
  additionalProperties: false,
} as const;

export const subjectParams = {
  type: 'object',
  properties: { recordId: { type: 'string', format: 'uuid' } },
  required: ['recordId'],
} as const;

export const apiKeyInput = {
  type: 'object',
  properties: {
    role: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'a role declared in ward.yaml' },
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'what the key is for, e.g. the calling service' },
    expires: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,4}[hdwy]$',
      description: 'expire after this long: 12h, 90d, 2w, 1y (default never)',
    },
  },
  required: ['role', 'name'],
  additionalProperties: false,
} as const;

export const apiKeyParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
} as const;

const nullableStr = { type: ['string', 'null'] } as const;
const nullableInt = { type: ['integer', 'null'] } as const;

export const verifyReportSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean', description: 'true when the events and checkpoints checked are sound and the newest full verification was too' },
    from: { type: 'integer', description: 'the checkpoint (tree size) this verification started from; 0 for a full one' },
    complete: { type: 'boolean', description: 'false when it stopped short of the newest checkpoint: call again to go on' },
    treeSize: { type: 'integer', description: 'the tree size checked up to' },
    rootHash: { ...nullableStr, description: 'base64 root of the newest checkpoint' },
    checkpoints: { type: 'integer' },
    unsealed: { type: 'integer', description: 'events written since the newest checkpoint (sealed at the next round)' },
    problem: {
      type: ['object', 'null'],
      properties: {
        kind: str,
        seq: { ...nullableStr, description: 'sequence number of the first bad event, when one can be named' },
        treeSize: { ...nullableInt, description: 'the checkpoint concerned, by tree size' },
        message: str,
      },
    },
  },
  required: ['ok', 'from', 'complete', 'treeSize', 'checkpoints', 'unsealed', 'problem'],
} as const;

export const incrementalReportSchema = {
  ...verifyReportSchema,
  properties: {
    ...verifyReportSchema.properties,
    lastFull: {
      type: ['object', 'null'],
      description: 'the newest full verification: when, its outcome, how far it checked',
      properties: { at: str, ok: { type: 'boolean' }, treeSize: { type: 'integer' } },
    },
  },
  required: [...verifyReportSchema.required, 'lastFull'],
} as const;

export const checkpointSchema = {
  type: 'object',
  description: 'a signed checkpoint (tree head): keep it, and later prove the log still extends it with `ward audit verify --since`',
  properties: {
    format: str,
    origin: str,
    treeSize: { type: 'integer' },
    previousSize: { type: 'integer', description: 'tree size of the checkpoint before this one (0 for the first)' },
    rootHash: str,
    sealedAt: str,
    keyVersion: { type: 'integer' },
    publicKey: { type: 'string', description: 'base64 Ed25519 public key' },
    signature: { type: 'string', description: 'base64 Ed25519 signature over the checkpoint note' },
  },
  required: ['format', 'origin', 'treeSize', 'previousSize', 'rootHash', 'sealedAt', 'keyVersion', 'publicKey', 'signature'],
} as const;

export { ref };
