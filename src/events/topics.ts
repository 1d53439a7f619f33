/**
 * Topics of change events, compiled from ward.yaml with the rules start-up enforces: a name of
 * the form `<space>.<domain>.<sensitivity>.v<n>` that the PHI detector finds nothing in,
 * content that fits the sensitivity the name declares, key fields with deterministic tokens,
 * public values only of public fields, and consumers that name declared topics and roles. Each
 * topic gets a JSON Schema generated from its declaration; every event is checked against it
 * before it is written.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { EVENT_ACTIONS, EventsConfig, TopicConfig } from '../config/schema.js';
import { phiInName } from '../detect/index.js';
import { WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import { intervalMs } from '../util/duration.js';
import { normalHost } from '../util/hosts.js';

export type EventAction = (typeof EVENT_ACTIONS)[number];

/** What a topic's events may carry, least to most: ids and field names; public values; tokens of key fields. */
export const SENSITIVITIES = ['meta', 'public', 'refs'] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];

const SEGMENT = /^[a-z][a-z0-9-]{0,62}$/;
const SPACE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const VERSION = /^v[1-9][0-9]{0,3}$/;

/** The headers a published event carries besides its id (`Nats-Msg-Id`): names and values fixed per topic. */
export const eventHeaders = (topic: string): Record<string, string> => ({ 'Ward-Schema': `${topic}` });

export interface Topic {
  name: string;
  sensitivity: Sensitivity;
  collections: ReadonlySet<string>;
  actions: ReadonlySet<EventAction>;
  keys: readonly string[];
  public: readonly string[];
  retentionMs: number;
  compact: boolean;
  schema: Record<string, unknown>;
  validate: ValidateFunction;
}

export interface Consumer {
  name: string;
  topics: readonly string[];
  role: string;
}

const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const TOKEN_PATTERN = '^dtk_[A-Za-z0-9_-]{24}$';
const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';

/** What a value of a public field may look like in an event, by the field's type. */
function valueSchema(c: Collection, field: string): Record<string, unknown> {
  const f = c.fields.get(field);
  switch (f?.typeName) {
    case 'integer':
    case 'age':
      return { type: 'integer' };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    default:
      return { type: 'string', maxLength: 2000 };
  }
}

/** The JSON Schema of a topic's events, generated from its declaration. */
export function topicSchema(t: TopicConfig, space: string, collections: readonly Collection[]): Record<string, unknown> {
  const fieldNames = [...new Set(collections.flatMap((c) => [...c.fields.keys()]))].sort();
  const keyProps = Object.fromEntries(t.keys.map((k) => [k, { type: 'string', pattern: TOKEN_PATTERN }]));
  const publicProps = Object.fromEntries(
    t.public.map((p) => [p, { anyOf: [...collections.map((c) => valueSchema(c, p)), { type: 'null' }] }]),
  );
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `urn:ward:events:${t.name}`,
    title: `Change events of topic ${t.name}`,
    type: 'object',
    additionalProperties: false,
    required: ['id', 'topic', 'space', 'collection', 'recordId', 'version', 'action', 'fields', 'keys', 'public', 'at'],
    properties: {
      id: { type: 'string', pattern: UUID_PATTERN, description: 'the event id (UUIDv7), also the broker message id' },
      topic: { const: t.name },
      space: { const: space },
      collection: { enum: [...t.collections] },
      recordId: { type: 'string', pattern: UUID_PATTERN },
      version: { type: 'integer', minimum: 1, description: "the record's version after the change" },
      action: { enum: [...t.actions] },
      fields: {
        type: 'array',
        uniqueItems: true,
        items: { enum: fieldNames },
        description: 'names of the fields the change set or removed (never values)',
      },
      keys: {
        type: 'object',
        additionalProperties: false,
        properties: keyProps,
        description: 'deterministic tokens of the key fields the record holds',
      },
      public: { type: 'object', additionalProperties: false, properties: publicProps, description: 'values of public fields' },
      at: { type: 'string', pattern: TIME_PATTERN },
    },
  };
}

export interface CompiledEvents {
  topics: ReadonlyMap<string, Topic>;
  consumers: readonly Consumer[];
}

/**
 * Compiles and checks the events section; every problem is reported at once, by its path in
 * ward.yaml, naming the rule and the fix (a name the detector flags is not quoted).
 */
export function compileEvents(
  cfg: EventsConfig,
  space: string,
  collections: ReadonlyMap<string, Collection>,
  roles: ReadonlySet<string>,
  file = 'ward.yaml',
): CompiledEvents {
  const problems: string[] = [];
  const ajv = new Ajv({ allErrors: false, strict: true });
  const topics = new Map<string, Topic>();
  cfg.topics.forEach((t, i) => {
    const at = `events.topics[${i}]`;
    const before = problems.length;
    const phi = phiInName(t.name);
    if (phi) problems.push(`${at}.name: the PHI detector finds a ${phi} in it; a topic name must never carry PHI`);
    const parts = t.name.split('.');
    const [s, domain, sensitivity, version] = parts;
    if (parts.length !== 4 || !SPACE.test(s ?? '') || !SEGMENT.test(domain ?? '') || !VERSION.test(version ?? ''))
      problems.push(
        `${at}.name: must be <space>.<domain>.<sensitivity>.v<n> in lowercase letters, digits and dashes (e.g. ${space}.patients.refs.v1)`,
      );
    else if (s !== space) problems.push(`${at}.name: must start with this space's name, ${space}`);
    if (parts.length === 4 && !(SENSITIVITIES as readonly string[]).includes(sensitivity ?? ''))
      problems.push(`${at}.name: the sensitivity must be one of ${SENSITIVITIES.join(', ')}`);
    if (topics.has(t.name)) problems.push(`${at}.name: another topic has this name`);
    const sens = sensitivity as Sensitivity;
    if (t.keys.length && sens !== 'refs') problems.push(`${at}.keys: only a refs topic may carry tokens; name it ...refs.v<n>`);
    if (t.public.length && sens === 'meta') problems.push(`${at}.public: a meta topic carries no values; name it ...public.v<n>`);
    const cols: Collection[] = [];
    for (const name of t.collections) {
      const c = collections.get(name);
      if (!c) problems.push(`${at}.collections: unknown collection ${name}; declare it under collections`);
      else cols.push(c);
    }
    for (const c of cols) {
      for (const k of t.keys) {
        const f = c.fields.get(k);
        if (!f) problems.push(`${at}.keys: ${k} is not a field of collection ${c.name}`);
        else if (f.token !== 'deterministic')
          problems.push(`${at}.keys: field ${k} of ${c.name} has no deterministic token; declare token: deterministic on it`);
      }
      for (const p of t.public) {
        const f = c.fields.get(p);
        if (!f) problems.push(`${at}.public: ${p} is not a field of collection ${c.name}`);
        else if (f.class !== 'public')
          problems.push(
            `${at}.public: field ${p} of ${c.name} is an ${f.class} field; only public fields may travel as values (use keys for a token)`,
          );
      }
    }
    // The header names are Ward's own constants; their values carry the topic.
    for (const [h, v] of Object.entries(eventHeaders(t.name))) {
      const found = phiInName(v);
      if (found) problems.push(`${at}: header ${h} would carry a ${found}; rename the topic`);
    }
    if (problems.length > before) return;
    const schema = topicSchema(t, space, cols);
    topics.set(t.name, {
      name: t.name,
      sensitivity: sens,
      collections: new Set(t.collections),
      actions: new Set(t.actions),
      keys: t.keys,
      public: t.public,
      retentionMs: intervalMs(t.retention) ?? 0,
      compact: t.compact,
      schema,
      validate: ajv.compile(schema),
    });
  });
  const declared = new Set(cfg.topics.map((t) => t.name));
  const seen = new Set<string>();
  cfg.consumers.forEach((c, i) => {
    const at = `events.consumers[${i}]`;
    if (seen.has(c.name)) problems.push(`${at}.name: another consumer has this name`);
    const phi = phiInName(c.name);
    if (phi)
      problems.push(`${at}.name: the PHI detector finds a ${phi} in it; a consumer name (a broker consumer's name) must never carry PHI`);
    seen.add(c.name);
    if (!roles.has(c.role)) problems.push(`${at}.role: unknown role ${c.role}; declare it under roles`);
    c.topics.forEach((t, j) => {
      if (!declared.has(t)) problems.push(`${at}.topics[${j}]: not a topic declared under events.topics`);
    });
  });
  const hooks = new Set<string>();
  cfg.webhooks.forEach((w, i) => {
    const at = `events.webhooks[${i}]`;
    if (hooks.has(w.name)) problems.push(`${at}.name: another webhook has this name`);
    hooks.add(w.name);
    if (!declared.has(w.topic)) problems.push(`${at}.topic: not a topic declared under events.topics`);
    let host: string | undefined;
    try {
      const u = new URL(w.url);
      host = u.username || u.password ? undefined : normalHost(u.hostname);
    } catch {
      host = undefined;
    }
    if (!host) problems.push(`${at}.url: must be an https:// URL with a host name or address and no credentials`);
  });
  if (problems.length) throw new WardError('config_invalid', `${file}:\n  ${problems.join('\n  ')}`);
  return { topics, consumers: cfg.consumers };
}
