/**
 * Sync mappings: a file in the shape of Heroku Connect's export (`version`, `connection`,
 * `mappings[]` with `object_name` and `config`), with Ward's additions where Connect leaves room:
 * per mapping `collection`, `purpose`, `role` and `source`, and under each field `to`,
 * `transform` and `freeText`. A source field without `to` never flows (an allowlist); free text
 * flows only when allowed, and is scanned for PHI on the way. Every rule is checked at load, and
 * an error names the file, the path in it and the fix.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { WardConfig } from '../config/load.js';
import { WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import { MASK_NAMES, type MaskName } from '../schema/mask.js';

export const TRANSFORMS = ['encrypt', 'tokenize', 'hash', 'mask', 'drop'] as const;
export type Transform = (typeof TRANSFORMS)[number];

/** Source field types that hold free text (Salesforce `textarea`, a PostgreSQL `text` column...). */
export const FREE_TEXT_TYPES = new Set(['textarea', 'longtextarea', 'richtextarea', 'text', 'html', 'json', 'jsonb', 'xml']);

export interface FieldMapping {
  /** The source field's name. */
  source: string;
  /** The Ward field it flows into; undefined: it never flows. */
  to: string | undefined;
  transform: Transform;
  /** Free text allowed to flow (each value is scanned for PHI, the result recorded). */
  freeText: boolean;
  /** With `transform: mask`: the mask applied before the value flows. */
  mask: MaskName | undefined;
}

export type SourceSpec =
  | {
      kind: 'salesforce';
      /** The org's instance, e.g. https://example.my.salesforce.com (an agreement must cover its host). */
      instanceUrl: string;
      /** Where OAuth tokens come from; default the instance. */
      loginUrl: string;
      auth:
        | { flow: 'jwt'; clientId: string; username: string; privateKeyFile: string }
        | { flow: 'client_credentials'; clientId: string; clientSecretEnv: string };
      apiVersion: string;
    }
  | {
      kind: 'postgres';
      urlEnv: string;
      table: string;
      updatedAt: string;
      primaryKey: string;
      /** A boolean column marking a row deleted (a soft delete): its record is deleted. */
      deleted: string | undefined;
    }
  | { kind: 'csv' | 'ndjson'; file: string };

export interface Mapping {
  /** The mapping's name: its object name (unique in the file). */
  name: string;
  /** The file it came from, for messages. */
  file: string;
  collection: string;
  purpose: string;
  /** The role whose rules the sync's writes are held to (as an API key of that role would be). */
  role: string;
  source: SourceSpec;
  /** The source field whose value is the external id; it flows into a unique, searchable field. */
  upsertField: string;
  fields: FieldMapping[];
  pollingSeconds: number;
  maxDailyApiCalls: number;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const IDENT = /^[a-z][a-z0-9_]{0,62}$/;

const fieldSchema = z
  .strictObject({
    to: z.string().regex(IDENT, 'must name a field of the collection').optional(),
    transform: z.enum(TRANSFORMS, { message: `must be one of ${TRANSFORMS.join(', ')}` }).optional(),
    freeText: z.literal('allow', { message: 'the only value is allow' }).optional(),
    mask: z.enum(MASK_NAMES as [MaskName, ...MaskName[]], { message: `must be one of ${MASK_NAMES.join(', ')}` }).optional(),
  })
  .default({});

const sourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('salesforce'),
    instance_url: z.string().url().startsWith('https://', 'must be an https:// URL'),
    login_url: z.string().url().startsWith('https://', 'must be an https:// URL').optional(),
    api_version: z
      .string()
      .regex(/^\d{2}\.0$/, 'must be an API version such as 60.0')
      .default('60.0'),
    auth: z.discriminatedUnion('flow', [
      z.strictObject({
        flow: z.literal('jwt'),
        client_id: z.string().min(1),
        username: z.string().min(1),
        private_key_file: z.string().min(1),
      }),
      z.strictObject({
        flow: z.literal('client_credentials'),
        client_id: z.string().min(1),
        client_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable'),
      }),
    ]),
  }),
  z.strictObject({
    kind: z.literal('postgres'),
    url_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable holding the connection URL'),
    table: z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/, 'must be a table name, optionally schema-qualified'),
    updated_at: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a column name'),
    primary_key: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a column name'),
    deleted: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a boolean column name')
      .optional(),
  }),
  z.strictObject({ kind: z.literal('csv'), file: z.string().min(1) }),
  z.strictObject({ kind: z.literal('ndjson'), file: z.string().min(1) }),
]);

const mappingSchema = z.object({
  object_name: z.string().regex(NAME, 'must be an object name such as Contact or Patient__c'),
  collection: z.string().regex(IDENT, 'must name a collection of ward.yaml'),
  purpose: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be a purpose of use such as treatment'),
  role: z.string().regex(IDENT, 'must name a role of ward.yaml'),
  source: sourceSchema,
  config: z.object({
    access: z.enum(['read_only', 'read_write']).default('read_only'),
    upsert_field: z.string().regex(NAME, 'must name a source field'),
    sf_polling_seconds: z.number().int().min(10).max(86_400).default(600),
    sf_max_daily_api_calls: z.number().int().min(1).default(30_000),
    fields: z.record(z.string().regex(NAME, 'must be a source field name'), fieldSchema),
  }),
});

const fileSchema = z.object({
  version: z.literal(1, { message: 'must be 1 (the Heroku Connect export format)' }),
  connection: z.record(z.string(), z.unknown()).optional(),
  mappings: z.array(mappingSchema).min(1, 'must hold at least one mapping'),
});

type RawMapping = z.infer<typeof mappingSchema>;

/** Reads and checks a mapping file against the configuration; throws `config_invalid` naming every problem. */
export function loadMappings(file: string, cfg: WardConfig, collections: ReadonlyMap<string, Collection>): Mapping[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new WardError('config_invalid', `${file}: cannot read the mapping file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WardError('config_invalid', `${file}: not valid JSON; a mapping file is JSON in the shape of a Heroku Connect export`);
  }
  return parseMappings(raw, file, cfg, collections);
}

export function parseMappings(raw: unknown, file: string, cfg: WardConfig, collections: ReadonlyMap<string, Collection>): Mapping[] {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const path = i.path.map(String).join('.') || '(top level)';
      const message = i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message;
      return `${path}: ${message}`;
    });
    throw new WardError('config_invalid', `${file}:\n  ${lines.join('\n  ')}`);
  }
  const problems: string[] = [];
  const out: Mapping[] = [];
  const names = new Set<string>();
  for (const [i, m] of parsed.data.mappings.entries()) {
    const at = `mappings.${i}`;
    if (names.has(m.object_name)) problems.push(`${at}.object_name: ${m.object_name} is mapped twice; map each object once`);
    names.add(m.object_name);
    const mapping = check(m, at, file, cfg, collections, problems);
    if (mapping) out.push(mapping);
  }
  if (problems.length) throw new WardError('config_invalid', `${file}:\n  ${problems.join('\n  ')}`);
  return out;
}

/** Field types a token, a hash or a masked value (strings of their own shape) may be written to. */
const TEXTUAL = new Set(['string', 'text']);

function check(
  m: RawMapping,
  at: string,
  file: string,
  cfg: WardConfig,
  collections: ReadonlyMap<string, Collection>,
  problems: string[],
): Mapping | undefined {
  if (m.config.access === 'read_write')
    problems.push(`${at}.config.access: read_write (write-back to the source) is not supported yet; use read_only`);
  const c = collections.get(m.collection);
  if (!c) {
    problems.push(`${at}.collection: ${m.collection} is not a collection of ward.yaml; name one it declares`);
    return undefined;
  }
  if (!cfg.roles[m.role])
    problems.push(`${at}.role: ${m.role} is not a role of ward.yaml; declare one granted create and update on ${c.name}`);
  const fields: FieldMapping[] = [];
  const targets = new Map<string, string>();
  for (const [source, spec] of Object.entries(m.config.fields)) {
    const path = `${at}.config.fields.${source}`;
    const transform = spec.transform ?? 'encrypt';
    const to = transform === 'drop' ? undefined : spec.to;
    if (transform === 'drop' && spec.to) problems.push(`${path}.to: a dropped field flows nowhere; remove to or the drop`);
    if (spec.transform && spec.transform !== 'drop' && !spec.to) problems.push(`${path}.to: is required with transform ${spec.transform}`);
    if (spec.mask && transform !== 'mask') problems.push(`${path}.mask: only applies with transform mask`);
    if (to !== undefined) {
      const f = c.fields.get(to);
      if (!f) problems.push(`${path}.to: ${to} is not a field of ${c.name}; name one it declares`);
      else {
        const other = targets.get(to);
        if (other) problems.push(`${path}.to: ${to} is already the target of ${other}; map one source field to each Ward field`);
        targets.set(to, source);
        if ((transform === 'tokenize' || transform === 'hash' || transform === 'mask') && !TEXTUAL.has(f.typeName))
          problems.push(`${path}.transform: ${transform} writes a string; ${c.name}.${to} is ${f.typeName}: map it to a string field`);
        if (transform === 'mask' && !spec.mask && !f.mask)
          problems.push(`${path}.mask: name the mask (${MASK_NAMES.join(', ')}); ${c.name}.${to} declares none`);
        if (f.typeName === 'text' && spec.freeText !== 'allow')
          problems.push(
            `${path}.freeText: ${c.name}.${to} holds free text, which may carry incidental PHI: exclude the field, or set "freeText": "allow" (every value is then scanned and the result recorded)`,
          );
      }
    }
    fields.push({
      source,
      to,
      transform,
      freeText: spec.freeText === 'allow',
      mask: spec.mask ?? (to ? c.fields.get(to)?.mask : undefined),
    });
  }
  const upsert = fields.find((f) => f.source === m.config.upsert_field);
  const path = `${at}.config.upsert_field`;
  if (!upsert?.to) problems.push(`${path}: ${m.config.upsert_field} must be a mapped field (with to) of this mapping`);
  else {
    const f = c.fields.get(upsert.to);
    if (f && !(f.unique && f.searchable))
      problems.push(
        `${path}: it flows into ${c.name}.${upsert.to}, which must be unique and searchable (unique: true, search: exact) to upsert by`,
      );
    if (upsert.transform === 'mask') problems.push(`${path}: a masked value cannot identify a record; use encrypt, hash or tokenize`);
  }
  for (const f of c.fields.values())
    if (f.required && !targets.has(f.name))
      problems.push(`${at}.config.fields: ${c.name}.${f.name} is required and no source field flows into it; map one`);
  return {
    name: m.object_name,
    file,
    collection: c.name,
    purpose: m.purpose,
    role: m.role,
    source: sourceOf(m.source, file),
    upsertField: m.config.upsert_field,
    fields,
    pollingSeconds: m.config.sf_polling_seconds,
    maxDailyApiCalls: m.config.sf_max_daily_api_calls,
  };
}

function sourceOf(s: RawMapping['source'], file: string): SourceSpec {
  const dir = dirname(file);
  switch (s.kind) {
    case 'salesforce':
      return {
        kind: 'salesforce',
        instanceUrl: s.instance_url.replace(/\/+$/, ''),
        loginUrl: (s.login_url ?? s.instance_url).replace(/\/+$/, ''),
        apiVersion: s.api_version,
        auth:
          s.auth.flow === 'jwt'
            ? { flow: 'jwt', clientId: s.auth.client_id, username: s.auth.username, privateKeyFile: resolve(dir, s.auth.private_key_file) }
            : { flow: 'client_credentials', clientId: s.auth.client_id, clientSecretEnv: s.auth.client_secret_env },
      };
    case 'postgres':
      return {
        kind: 'postgres',
        urlEnv: s.url_env,
        table: s.table,
        updatedAt: s.updated_at,
        primaryKey: s.primary_key,
        deleted: s.deleted,
      };
    default:
      return { kind: s.kind, file: resolve(dir, s.file) };
  }
}
