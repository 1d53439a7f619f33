/**
 * Collections compiled from ward.yaml: typed fields with a class, and the validation of a
 * submitted record against them. Unknown fields are rejected (data minimization); issues name
 * the field and the rule, never the value.
 */
import { type FieldIssue, WardError } from '../errors.js';
import type { MaskName } from './mask.js';
import { type FieldType, type FieldTypeName, type FieldValue, fieldType } from './types.js';

export type FieldClass = 'identifier' | 'clinical' | 'public';

/** A field as declared in ward.yaml (structurally the config's field settings). */
export interface FieldSpec {
  type: string;
  class: string;
  values?: string[] | undefined;
  required?: boolean | undefined;
  search?: string | undefined;
  unique?: boolean | undefined;
  token?: string | undefined;
  mask?: string | undefined;
}

export interface Field {
  name: string;
  typeName: FieldTypeName;
  type: FieldType;
  class: FieldClass;
  required: boolean;
  searchable: boolean;
  unique: boolean;
  token: 'random' | 'deterministic' | undefined;
  mask: MaskName | undefined;
  /** Identifier and clinical fields are encrypted; public ones are stored as they are. */
  encrypted: boolean;
  /** An enum field's values. */
  values?: readonly string[] | undefined;
}

export interface Collection {
  name: string;
  fields: ReadonlyMap<string, Field>;
  /** Days a record is kept after it is created; undefined keeps it until deleted. */
  retentionDays: number | undefined;
  /** The field naming the record's subject: its records are sealed under a per-subject key. */
  subject?: Field | undefined;
}

export function compileCollection(
  name: string,
  specs: Record<string, FieldSpec>,
  retentionDays: number | undefined,
  subject?: string,
): Collection {
  const fields = new Map<string, Field>();
  for (const [fieldName, s] of Object.entries(specs)) {
    fields.set(fieldName, {
      name: fieldName,
      typeName: s.type as FieldTypeName,
      type: fieldType(s.type as FieldTypeName, s.values),
      class: s.class as FieldClass,
      required: s.required ?? false,
      searchable: s.search === 'exact',
      unique: s.unique ?? false,
      token: s.token as Field['token'],
      mask: s.mask as MaskName | undefined,
      encrypted: s.class !== 'public',
      values: s.values,
    });
  }
  return { name, fields, retentionDays, subject: subject === undefined ? undefined : fields.get(subject) };
}

/** A field's value as JSON Schema (for the OpenAPI document and the SDK's types): its JSON type, and what a client can check before sending. */
export function fieldSchema(f: Field): Record<string, unknown> {
  const description = `${f.typeName}, ${f.class}${f.class === 'public' ? '' : ' (encrypted)'}`;
  switch (f.typeName) {
    case 'integer':
    case 'age':
      return { type: 'integer', description };
    case 'number':
      return { type: 'number', description };
    case 'boolean':
      return { type: 'boolean', description };
    case 'enum':
      return { type: 'string', enum: [...(f.values ?? [])], description };
    case 'date':
      return { type: 'string', format: 'date', description };
    default:
      return { type: 'string', description };
  }
}

/**
 * A record's fields as JSON Schema: on create, the declared fields with the required ones
 * required; on update, any of them, `null` removing one. Unknown fields are refused either way.
 */
export function recordInputSchema(c: Collection, mode: 'create' | 'update'): Record<string, unknown> {
  const properties = Object.fromEntries(
    [...c.fields.values()].map((f) => {
      const s = fieldSchema(f);
      if (mode !== 'update' || f.required) return [f.name, s];
      // null removes the field (an enum lists it among its values too, or validators refuse it)
      return [f.name, { ...s, type: [s.type, 'null'], ...(Array.isArray(s.enum) ? { enum: [...s.enum, null] } : {}) }];
    }),
  );
  const required = mode === 'create' ? [...c.fields.values()].filter((f) => f.required).map((f) => f.name) : [];
  return {
    type: 'object',
    description: `a record of collection ${c.name} (${mode === 'create' ? 'create' : 'update: the fields to change, null removes one'})`,
    additionalProperties: false,
    properties,
    ...(required.length ? { required } : {}),
  };
}

export type RecordValues = Map<string, FieldValue>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks a submitted record. With `partial`, missing required fields are allowed and `null`
 * removes a field (the merged result is checked again for required fields by the caller).
 */
export function validateRecord(
  c: Collection,
  input: unknown,
  mode: 'full' | 'partial' = 'full',
): { values: RecordValues; removed: string[] } {
  if (!isPlainObject(input)) throw new WardError('validation_failed', 'the record must be a JSON object of fields');
  const issues: FieldIssue[] = [];
  const values: RecordValues = new Map();
  const removed: string[] = [];
  for (const [i, key] of Object.keys(input).entries()) {
    const field = c.fields.get(key);
    if (!field) {
      issues.push({ field: keyAt(i), reason: `is not a field of collection ${c.name}` });
      continue;
    }
    const raw = input[key];
    if (raw === null || raw === undefined) {
      if (mode === 'partial') removed.push(key);
      continue;
    }
    const r = field.type.parse(raw);
    if (r.ok) values.set(key, r.value);
    else issues.push({ field: key, reason: r.reason });
  }
  if (mode === 'full') issues.push(...missingRequired(c, values));
  if (issues.length) throw validationError(issues);
  return { values, removed };
}

export function missingRequired(c: Collection, values: RecordValues): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const f of c.fields.values()) if (f.required && !values.has(f.name)) out.push({ field: f.name, reason: 'is required' });
  return out;
}

export function validationError(issues: FieldIssue[]): WardError {
  const summary = issues.map((i) => `${i.field}: ${i.reason}`).join('; ');
  return new WardError('validation_failed', `invalid record: ${summary}`, issues);
}

/**
 * Where an undeclared key sits, for errors: its position, never its text (a name-shaped string a
 * client sent may be PHI; errors quote only names ward.yaml declares).
 */
export const keyAt = (index: number) => `(key ${index + 1})`;

/** Undeclared names an error lists at most (the rest are counted). */
const MAX_LISTED = 10;

/** Refuses names `c` does not declare, each located by `where(i)` (its position in the request), never quoted. */
export function assertKnownFields(c: Collection, names: readonly string[], where: (index: number) => string): void {
  const unknown: number[] = [];
  for (const [i, n] of names.entries()) if (!c.fields.has(n)) unknown.push(i);
  if (!unknown.length) return;
  const listed = unknown.slice(0, MAX_LISTED).map(where);
  const more = unknown.length > MAX_LISTED ? ` and ${unknown.length - MAX_LISTED} more` : '';
  throw new WardError(
    'unknown_field',
    `${listed.join(', ')}${more}: not a field of collection ${c.name}`,
    listed.map((field) => ({ field, reason: `is not a field of collection ${c.name}` })),
  );
}

/** Resolves requested field names, rejecting unknown ones by their position. */
export function selectFields(c: Collection, names: readonly string[] | undefined): Field[] {
  if (!names) return [...c.fields.values()];
  assertKnownFields(c, names, (i) => `fields[${i}]`);
  return names.map((n) => c.fields.get(n) as Field);
}
