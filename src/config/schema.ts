/**
 * The shape of ward.yaml. Unknown settings are errors (data minimization starts with the
 * config); cross-field rules that zod cannot express per key live in `refineCollections`.
 */
import { z } from 'zod';
import { ACTIONS } from '../access/actions.js';
import { MASK_NAMES } from '../schema/mask.js';
import { FIELD_TYPE_NAMES } from '../schema/types.js';
import { isAddressOrRange } from '../util/address.js';
import { intervalMs } from '../util/duration.js';

const IDENT = /^[a-z][a-z0-9_]{0,62}$/;
const identMessage = 'must start with a lowercase letter and use only a-z, 0-9 and _ (at most 63 characters)';

const oneOf = (values: readonly string[]) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : `must be one of: ${values.join(', ')}`),
});

const DURATION = /^(\d{1,4})(d|w|m|y)$/;

export const fieldSchema = z.strictObject({
  type: z.enum(FIELD_TYPE_NAMES as [string, ...string[]], oneOf(FIELD_TYPE_NAMES)),
  class: z.enum(['identifier', 'clinical', 'public'], oneOf(['identifier', 'clinical', 'public'])),
  description: z.string().optional(),
  values: z.array(z.string().min(1)).min(1).optional(),
  required: z.boolean().optional(),
  search: z.enum(['exact'], oneOf(['exact'])).optional(),
  unique: z.boolean().optional(),
  token: z.enum(['random', 'deterministic'], oneOf(['random', 'deterministic'])).optional(),
  mask: z.enum(MASK_NAMES as [string, ...string[]], oneOf(MASK_NAMES)).optional(),
});

export const collectionSchema = z.strictObject({
  description: z.string().optional(),
  retention: z.string().regex(DURATION, 'must be a duration such as 90d, 12w, 18m or 7y').optional(),
  /** The field naming whose record this is (e.g. mrn): its records are sealed under a per-subject key (crypto-shredding). */
  subject: z.string().regex(IDENT, identMessage).optional(),
  fields: z.record(z.string().regex(IDENT, identMessage), fieldSchema).refine((f) => Object.keys(f).length > 0, {
    message: 'must declare at least one field',
  }),
});

const PURPOSE = /^[a-z][a-z0-9_-]{0,62}$/;

export const ruleSchema = z.strictObject({
  collections: z.array(z.string().regex(IDENT, identMessage)).min(1),
  actions: z.array(z.enum(ACTIONS, oneOf(ACTIONS))).min(1),
  /** `*` or a list of field names; default all fields. */
  fields: z.union([z.literal('*'), z.array(z.string().regex(IDENT, identMessage)).min(1)]).default('*'),
  purposes: z.array(z.string().regex(PURPOSE, 'must be a lowercase purpose name such as treatment')).min(1),
  /** field → mask shown to this role instead of the value */
  masks: z.record(z.string().regex(IDENT, identMessage), z.enum(MASK_NAMES as [string, ...string[]], oneOf(MASK_NAMES))).optional(),
  /** `deidentified`: no identifier fields but dates as years and ZIP codes as three digits. */
  view: z.enum(['full', 'deidentified'], oneOf(['full', 'deidentified'])).default('full'),
});

/** A duration such as 500ms, 10s, 5m, 2h or 1d. */
const SPAN = /^\d{1,7}(ms|s|m|h|d)$/;
const span = (what: string) => z.string().regex(SPAN, `must be a duration such as ${what}`);

/** Requests each API key of a role may make per window; more get 429 with Retry-After. */
export const rateLimitSchema = z.strictObject({
  requests: z.number().int().positive(),
  per: span('1s, 1m or 1h').refine((d) => !SPAN.test(d) || (intervalMs(d) ?? 0) >= 1000, 'must be at least 1s'),
});

/**
 * Break-glass (emergency access, 45 CFR 164.312(a)(2)(ii)): rules granted beyond `allow` to a
 * request that states its reason in `Ward-Break-Glass`. The first such request opens a use that
 * lasts `window`; past `max_unreviewed` uses of one key not yet reviewed, no new one opens.
 */
export const breakGlassSchema = z.strictObject({
  window: span('15m or 1h')
    .refine((d) => {
      const ms = intervalMs(d);
      return !SPAN.test(d) || (ms !== null && ms >= 60_000 && ms <= 86_400_000);
    }, 'must be from 1m to 24h')
    .default('1h'),
  max_unreviewed: z.number().int().min(1).max(100).default(3),
  allow: z.array(ruleSchema).min(1),
});

export const roleSchema = z.strictObject({
  description: z.string().optional(),
  rate_limit: rateLimitSchema.optional(),
  /** May read the audit trail. */
  audit: z.boolean().optional(),
  /** May manage API keys over HTTP (create, list, revoke). */
  admin: z.boolean().optional(),
  allow: z.array(ruleSchema).default([]),
  break_glass: breakGlassSchema.optional(),
});

/** Six years: HIPAA's retention period for required documentation (45 CFR 164.316(b)(2)). */
export const MIN_AUDIT_RETENTION_DAYS = 6 * 365;

export const auditSchema = z
  .strictObject({
    /** How long audit events are kept; at least six years. Ward itself never deletes them. */
    retention: z
      .string()
      .regex(DURATION, 'must be a duration such as 6y or 84m')
      .refine(
        (d) => !DURATION.test(d) || auditRetentionDays(d) >= MIN_AUDIT_RETENTION_DAYS, // a bad format is the regex's to report
        'must be at least 6y (HIPAA keeps audit records six years)',
      )
      .default('6y'),
    /** How often `ward serve` seals new audit events into the signed log: `10s`, `500ms`, `1m`, or `off`. */
    seal_every: z
      .string()
      .regex(/^(off|\d{1,7}(ms|s|m))$/, 'must be a duration such as 500ms, 10s or 1m, or off')
      .refine((d) => {
        const ms = intervalMs(d);
        return ms === null || (ms >= 100 && ms <= 3_600_000);
      }, 'must be from 100ms to 60m, or off')
      .default('10s'),
    /** How often `ward serve` verifies the whole sealed log in the background (one process at a time), or `off`. */
    verify_every: z
      .union([z.literal('off'), span('12h or 1d').refine((d) => !SPAN.test(d) || (intervalMs(d) ?? 0) >= 60_000, 'must be at least 1m')])
      .default('24h'),
  })
  .default({ retention: '6y', seal_every: '10s', verify_every: '24h' });

/**
 * Log-in monitoring (45 CFR 164.308(a)(5)(ii)(C)): failed authentications are counted per client
 * address (IPv6: per /64) and per API key; past `max_failures` within `failure_window`, that
 * client (or every failed attempt with that key) gets 429 for `lockout`.
 */
export const authSchema = z
  .strictObject({
    max_failures: z.number().int().min(1).max(100_000).default(20),
    failure_window: span('1m')
      .refine((d) => !SPAN.test(d) || (intervalMs(d) ?? 0) >= 1000, 'must be at least 1s')
      .default('1m'),
    lockout: span('5m')
      .refine((d) => !SPAN.test(d) || (intervalMs(d) ?? 0) >= 1000, 'must be at least 1s')
      .default('5m'),
  })
  .default({ max_failures: 20, failure_window: '1m', lockout: '5m' });

/** Actions a change event can carry. */
export const EVENT_ACTIONS = ['create', 'update', 'delete'] as const;

/**
 * A topic of change events (see events/topics for the rules start-up checks): its name,
 * `<space>.<domain>.<sensitivity>.v<n>`, what it carries, and how long the broker keeps it.
 */
export const topicSchema = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  collections: z.array(z.string().regex(IDENT, identMessage)).min(1),
  actions: z
    .array(z.enum(EVENT_ACTIONS, oneOf(EVENT_ACTIONS)))
    .min(1)
    .default([...EVENT_ACTIONS]),
  /** Fields whose deterministic tokens the events carry (join keys without PHI). */
  keys: z.array(z.string().regex(IDENT, identMessage)).default([]),
  /** Public fields whose values the events carry. */
  public: z.array(z.string().regex(IDENT, identMessage)).default([]),
  retention: span('7d or 12h').default('7d'),
  /** Keep only the newest event of each record (the broker's latest-per-subject compaction). */
  compact: z.boolean().default(false),
});

/** A declared consumer of topics: the role whose API keys read them over HTTP. */
export const consumerSchema = z.strictObject({
  name: z.string().regex(IDENT, identMessage),
  topics: z.array(z.string().min(1)).min(1),
  role: z.string().regex(IDENT, identMessage),
});

/** An HTTPS endpoint that receives a topic's events, signed (see events/webhooks). */
export const webhookSchema = z.strictObject({
  name: z.string().regex(IDENT, identMessage),
  topic: z.string().min(1),
  url: z.string().regex(/^https:\/\/[^\s]+$/, 'must be an https:// URL'),
  /** The environment variable holding the signing secret (never the secret itself). */
  secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be an environment variable name such as WARD_WEBHOOK_SECRET'),
  /** Attempts per event before it goes to the dead letters. */
  max_attempts: z.number().int().min(1).max(100).default(8),
  /** The first retry's wait; each next one doubles, up to 5 minutes. */
  retry_after: span('1s or 500ms').default('1s'),
});

const filePath = z.string().min(1);
export const natsSchema = z.strictObject({
  /** nats://host:port (or several, comma-separated); tls:// for TLS. */
  url: z.string().min(1),
  /** A NATS credentials file (JWT and nkey seed). */
  credentials: filePath.optional(),
  /** A file holding an nkey seed. */
  nkey: filePath.optional(),
  tls: z.strictObject({ ca: filePath.optional(), cert: filePath.optional(), key: filePath.optional() }).optional(),
});

export const eventsSchema = z
  .strictObject({
    topics: z.array(topicSchema).default([]),
    consumers: z.array(consumerSchema).default([]),
    webhooks: z.array(webhookSchema).default([]),
    broker: z.strictObject({ nats: natsSchema.optional() }).default({}),
    relay: z
      .strictObject({
        /** How long delivered events stay in the outbox (for HTTP readers) before they are removed. */
        grace: span('1h').default('1h'),
        /** The broker drops a second event with the same id within this window (JetStream duplicate_window). */
        dedupe_window: span('2m').default('2m'),
        /** Events per publish batch. */
        batch: z.number().int().min(1).max(10_000).default(1000),
      })
      .default({ grace: '1h', dedupe_window: '2m', batch: 1000 }),
  })
  .default({ topics: [], consumers: [], webhooks: [], broker: {}, relay: { grace: '1h', dedupe_window: '2m', batch: 1000 } });

/** An IP address or CIDR range (`10.0.0.0/8`, `2001:db8::/32`, `203.0.113.7`). */
const cidr = z.string().refine(isAddressOrRange, 'must be an IP address or CIDR range such as 10.0.0.0/8');

/** Where requests may come from: a request from outside `ingress.allow` is refused before authentication. */
export const networkSchema = z
  .strictObject({
    ingress: z.strictObject({ allow: z.array(cidr).min(1).optional() }).default({}),
  })
  .default({ ingress: {} });

/** Outbound requests (webhooks, drains, alerts): see egress/client. */
export const egressSchema = z
  .strictObject({
    /** Nonproduction only: let requests reach loopback and private addresses (a local receiver). */
    allow_private: z.boolean().default(false),
    /** A PEM file of CA certificates trusted besides the system's (a private PKI). */
    ca_file: z.string().min(1).optional(),
  })
  .default({ allow_private: false });

/**
 * Where Ward's JSON logs are shipped besides stdout: an HTTPS endpoint (NDJSON batches) or syslog
 * over TLS (RFC 5425). Start-up refuses a drain whose host no agreement in force covers for PHI.
 */
export const drainSchema = z.strictObject({
  name: z.string().regex(IDENT, identMessage),
  url: z.string().regex(/^(https|syslog\+tls):\/\/[^\s/?#]+(\/[^\s]*)?$/, 'must be an https:// or syslog+tls:// URL'),
  /** How often waiting lines are delivered. */
  flush_every: span('2s or 500ms')
    .refine((d) => {
      const ms = intervalMs(d);
      return !SPAN.test(d) || (ms !== null && ms >= 100 && ms <= 60_000);
    }, 'must be from 100ms to 1m')
    .default('2s'),
});

export const loggingSchema = z
  .strictObject({ drains: z.array(drainSchema).default([]) })
  .refine((l) => new Set(l.drains.map((d) => d.name)).size === l.drains.length, 'drains: each drain needs a name of its own')
  .default({ drains: [] });

/** Where alerts go (a lockout starting): an HTTPS endpoint, signed with the secret in `secret_env`. */
export const alertsSchema = z.strictObject({
  url: z.string().regex(/^https:\/\/[^\s]+$/, 'must be an https:// URL'),
  secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be an environment variable name such as WARD_ALERT_SECRET'),
});

/**
 * The purge job (see vault/retention): how long purged records stay restorable, how often
 * `ward serve` runs it, and how many records each batch moves.
 */
export const retentionSchema = z
  .strictObject({
    archive_grace: z.union([z.literal('0'), span('30d or 12h')]).default('30d'),
    every: z
      .union([z.literal('off'), span('1h or 10m').refine((d) => !SPAN.test(d) || (intervalMs(d) ?? 0) >= 10_000, 'must be at least 10s')])
      .default('1h'),
    batch: z.number().int().min(1).max(10_000).default(500),
  })
  .default({ archive_grace: '30d', every: '1h', batch: 500 });

const PROVIDERS = ['file', 'env', 'pkcs11', 'aws-kms'] as const;

/** A master key: a file or environment variable, a key inside a PKCS#11 token, or an AWS KMS key. */
const masterSchema = z.strictObject({
  provider: z.enum(PROVIDERS, oneOf(PROVIDERS)),
  file: z.string().min(1).optional(),
  pkcs11: z
    .strictObject({
      /** The token's PKCS#11 module (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so). */
      module: z.string().min(1),
      /** The token's label. */
      token: z.string().min(1),
      /** The label of the AES key inside the token. */
      key: z.string().min(1),
      /** The environment variable holding the user PIN (never the PIN itself). */
      pin_env: z
        .string()
        .regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable')
        .default('WARD_PKCS11_PIN'),
    })
    .optional(),
  aws_kms: z
    .strictObject({
      /** The KMS key's id or ARN (a symmetric encryption key). */
      key_id: z.string().min(1),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1'),
      /** Another KMS endpoint (a VPC endpoint, or a test server); https only. */
      endpoint: z.string().url().optional(),
    })
    .optional(),
});

export const configSchema = z.strictObject({
  space: z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
    tier: z.enum(['production', 'nonproduction'], oneOf(['production', 'nonproduction'])),
  }),
  database: z
    .strictObject({
      url: z.string().min(1).optional(),
      embedded: z.string().min(1).optional(),
    })
    .default({}),
  keys: masterSchema.extend({ previous: masterSchema.optional() }),
  collections: z.record(z.string().regex(IDENT, identMessage), collectionSchema),
  roles: z.record(z.string().regex(IDENT, identMessage), roleSchema).default({}),
  audit: auditSchema,
  auth: authSchema,
  events: eventsSchema,
  egress: egressSchema,
  network: networkSchema,
  alerts: alertsSchema.optional(),
  logging: loggingSchema,
  retention: retentionSchema,
  /** Connect: the mapping files `ward serve` runs on their polling intervals (see sync/). */
  sync: z.strictObject({ mappings: z.array(z.string().min(1)).default([]) }).default({ mappings: [] }),
  subjects: z
    .strictObject({
      /**
       * Where per-subject keys live: a database other than Ward's own (its backups must not hold
       * them). `url` (or WARD_SUBJECT_KEYS_URL) for PostgreSQL; `embedded` for a PGlite directory.
       */
      keystore: z.strictObject({ url: z.string().min(1).optional(), embedded: z.string().min(1).optional() }).default({}),
    })
    .default({ keystore: {} }),
});

export type FieldConfig = z.infer<typeof fieldSchema>;
export type MasterConfig = z.infer<typeof masterSchema>;
export type CollectionConfig = z.infer<typeof collectionSchema>;
export type RawConfig = z.infer<typeof configSchema>;
export type RoleConfig = z.infer<typeof roleSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type EventsConfig = z.infer<typeof eventsSchema>;
export type TopicConfig = z.infer<typeof topicSchema>;

/** Rules of a role that name collections or fields the config does not declare. */
export function roleRules(raw: RawConfig): string[] {
  const out: string[] = [];
  for (const [role, r] of Object.entries(raw.roles)) {
    if (role === 'operator') out.push('roles.operator: is reserved for the command line; choose another name');
    const rules = [
      ...r.allow.map((rule, i) => ({ rule, at: `roles.${role}.allow[${i}]` })),
      ...(r.break_glass?.allow ?? []).map((rule, i) => ({ rule, at: `roles.${role}.break_glass.allow[${i}]` })),
    ];
    for (const { rule, at } of rules) {
      for (const c of rule.collections) {
        const col = raw.collections[c];
        if (!col) {
          out.push(`${at}.collections: unknown collection ${c}; declare it under collections`);
          continue;
        }
        const named = [...(rule.fields === '*' ? [] : rule.fields), ...Object.keys(rule.masks ?? {})];
        for (const f of named) if (!col.fields[f]) out.push(`${at}: unknown field ${f} of collection ${c}`);
      }
    }
  }
  return out;
}

/** Rules between settings of one field; each issue carries a path and a fix. */
export function fieldRules(f: FieldConfig): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  if (f.type === 'enum' && !f.values) out.push({ key: 'values', message: 'is required for type enum: list the allowed values' });
  if (f.type !== 'enum' && f.values) out.push({ key: 'values', message: 'is only allowed with type enum: remove it' });
  if (f.search && f.class === 'clinical')
    out.push({ key: 'search', message: 'is not allowed on a clinical field: clinical data is never searchable' });
  if (f.unique && !f.search) out.push({ key: 'unique', message: 'needs search: exact on the same field' });
  if (f.token && f.class === 'public') out.push({ key: 'token', message: 'is only for identifier or clinical fields' });
  if (f.mask && f.class === 'public') out.push({ key: 'mask', message: 'is only for identifier or clinical fields' });
  return out;
}

export { intervalMs };

/** Retention in days from a duration such as `7y`; months are `monthDays` (default 30), years 365. */
export function retentionDays(duration: string, monthDays = 30): number {
  const m = DURATION.exec(duration);
  if (!m) throw new Error(`bad duration ${duration}`);
  return Number(m[1]) * { d: 1, w: 7, m: monthDays, y: 365 }[m[2] as 'd' | 'w' | 'm' | 'y'];
}

/** Audit retention in days; a month is a twelfth of a year here, so 72m is exactly 6y. */
export const auditRetentionDays = (duration: string): number => retentionDays(duration, 365 / 12);
