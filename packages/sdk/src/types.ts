/**
 * The SDK's public types, drawn from the generated schema: answers as the server sends them
 * (its response schemas leave properties optional; the server always sends them, so they are
 * `Required` here), and records typed per collection through a `Collections` map.
 */
import type { components, operations } from './schema.js';

type Schemas = components['schemas'];

/** The JSON body of an operation's success answer (200 or 201). */
export type Answer<Op extends keyof operations> = operations[Op]['responses'] extends infer R
  ? R extends { 200: { content: { 'application/json': infer T } } }
    ? T
    : R extends { 201: { content: { 'application/json': infer T } } }
      ? T
      : never
  : never;

/** The JSON body an operation takes. */
export type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer T } };
}
  ? T
  : never;

/** What each collection entry of a `Collections` map holds (generated from x-ward-collections). */
export interface CollectionTypes {
  create: object;
  update: object;
  fields: object;
}

/** A `Collections` map: collection name → its types. */
export type CollectionMap<C> = { [K in keyof C]: CollectionTypes };

/** Flattens an intersection for readable hovers. */
type Flat<T> = { [K in keyof T]: T[K] } & {};

/** A record as read: its id, version and the fields the caller's grant shows (`F`: the collection's Fields). */
export type WardRecord<F extends object> = Flat<Omit<Schemas['Record'], 'fields'> & { fields: F }>;

export type Created = Required<Answer<'createRecord'>>;
export type Updated = Required<Answer<'updateRecord'>>;
/** Detokenized values, by token. */
export type DetokenizedValues = Required<Answer<'detokenize'>>['values'];
/** A value a search may match: the field's stored type. */
export type SearchValue = string | number | boolean;

export type AuditEvent = Schemas['AuditEvent'];
/** A page of the audit trail; pass `next` as `after` for the following page (null: the last page). */
export type AuditPage = Flat<Required<Answer<'listAuditEvents'>>>;
export type VerifyReport = Answer<'verifyAuditLog'>;
export type Checkpoint = Answer<'getAuditCheckpoint'>;
export type BreakGlassUse = Required<NonNullable<Answer<'listBreakGlassUses'>['uses']>[number]>;

export type ComplianceFinding = Required<NonNullable<Answer<'runComplianceChecks'>['findings']>[number]>;
export type ComplianceReport = Flat<Omit<Required<Answer<'runComplianceChecks'>>, 'findings'> & { findings: ComplianceFinding[] }>;

export type ApiKey = Schemas['ApiKey'];
/** A new API key: `key` is in this answer only. */
export type CreatedApiKey = Required<Answer<'createApiKey'>>;
export type RotatedApiKey = Required<Answer<'rotateApiKey'>>;
export type ApiKeyInput = Body<'createApiKey'>;
export type Agreement = Required<Answer<'addAgreement'>>;
export type AgreementInput = Body<'addAgreement'>;

/**
 * One change event (its topic's JSON Schema, GET /v1/events/schemas, has the details): ids, the
 * version, names of the fields that changed, deterministic tokens of key fields and values of
 * public fields; never a value of an identifier or clinical field. `seq` is its position.
 */
export interface WardEvent {
  seq: number;
  id: string;
  topic: string;
  space: string;
  collection: string;
  recordId: string;
  version: number;
  action: string;
  fields: string[];
  keys: Record<string, string>;
  public: Record<string, unknown>;
  at: string;
  [extra: string]: unknown;
}

/** A page of a topic: pass `next` as `after` for the following one. */
export interface EventPage {
  events: WardEvent[];
  next: number;
}

/** Liveness or readiness. */
export type Status = Required<Answer<'getHealth'>>;
