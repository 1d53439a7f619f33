/**
 * @ward-vault/sdk: a typed client for Ward, the self-hosted PHI vault.
 *
 *   const ward = createClient({ baseUrl: 'https://ward.internal:8443', apiKey, purpose: 'treatment' });
 *   const { id } = await ward.records.create('patients', { mrn: 'MRN-1', name: 'Ada Lovelace' });
 *
 * No logging: the SDK writes nothing anywhere; failures are WardErrors whose messages hold a code
 * and a fixed title only.
 */
export type { AuditFilter, EventReadOptions, PageFilter, ReadOptions, SearchOptions, WardClient } from './api.js';
export { type CallOptions, type ClientOptions, createClient, type PhiOptions } from './client.js';
export { type ErrorCode, type FieldIssue, isWardError, type ProblemCode, WardError } from './errors.js';
export type { Collections, components, operations, paths } from './schema.js';
export type { StreamOptions } from './sse.js';
export type { Fetch } from './transport.js';
export type * from './types.js';
