/**
 * Loads ward.yaml and the environment into one validated, resolved configuration.
 * Every error names the file, the setting's path and the fix, and is raised at start-up.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { WardError } from '../errors.js';
import {
  auditRetentionDays,
  type CollectionConfig,
  configSchema,
  type EventsConfig,
  fieldRules,
  intervalMs,
  type MasterConfig,
  type RawConfig,
  type RoleConfig,
  roleRules,
} from './schema.js';

/** Log-in monitoring: failures counted per client and per key; past `maxFailures` in `windowMs`, 429 for `lockoutMs`. */
export interface AuthLimits {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
}

/** A master key's settings (crypto/master-key takes them as they are). */
export interface MasterSettings {
  provider: MasterConfig['provider'];
  file?: string;
  pkcs11?: NonNullable<MasterConfig['pkcs11']>;
  aws_kms?: { key_id: string; region: string; endpoint?: string };
}

export type DatabaseSetting = { kind: 'url'; url: string; source: 'DATABASE_URL' | 'ward.yaml' } | { kind: 'embedded'; dir: string };

export interface WardConfig {
  /** Absolute path of the ward.yaml this came from. */
  file: string;
  space: RawConfig['space'];
  database: DatabaseSetting;
  keys: MasterSettings & { previous?: MasterSettings };
  collections: Record<string, CollectionConfig>;
  roles: Record<string, RoleConfig>;
  audit: { retentionDays: number; sealEveryMs: number | null; verifyEveryMs: number | null };
  auth: AuthLimits;
  /** Change events: topics, consumers, broker (see events/). */
  events: EventsConfig;
  /** Outbound requests: private addresses allowed (nonproduction only), extra CA file (absolute). */
  egress: { allow_private: boolean; ca_file?: string };
  /** Client addresses requests may come from (IP addresses and CIDR ranges); undefined: any. */
  ingressAllow: readonly string[] | undefined;
  /** Where alerts go, if anywhere: the URL and the environment variable holding the signing secret. */
  alerts: { url: string; secret_env: string } | undefined;
  /** Log drains (see egress/drains): each one's name, URL and delivery interval. */
  logging: { drains: { name: string; url: string; flushMs: number }[] };
  /** The purge job: archive grace, interval (null: off), batch size (see vault/retention). */
  retention: { archiveGraceMs: number; everyMs: number | null; batch: number };
  /** The subject key store (see vault/subjects), when a collection names a subject field. */
  subjectKeys: DatabaseSetting | undefined;
  /** The sync mapping files `ward serve` runs (absolute paths). */
  syncMappings: string[];
}

export const DEFAULT_CONFIG = 'ward.yaml';
export const DEFAULT_EMBEDDED_DIR = '.ward/pgdata';
export const DEFAULT_SUBJECT_KEYS_DIR = '.ward/subject-keys';

/** The config path from the flag, then WARD_CONFIG, then ./ward.yaml, relative to `cwd`. */
export function configPath(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env.WARD_CONFIG ?? DEFAULT_CONFIG);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): WardConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new WardError('config_invalid', `${file}: cannot read the file; create one with \`ward init\` or pass --config`);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): WardConfig {
  const raw = parseYaml(text, file);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configError(file, parsed.error.issues);
  const rules = Object.entries(parsed.data.collections).flatMap(([c, col]) =>
    Object.entries(col.fields).flatMap(([f, spec]) => fieldRules(spec).map((r) => `collections.${c}.fields.${f}.${r.key}: ${r.message}`)),
  );
  rules.push(...roleRules(parsed.data));
  rules.push(...masterRules(parsed.data.keys, 'keys'));
  rules.push(...subjectRules(parsed.data));
  if (parsed.data.keys.previous) rules.push(...masterRules(parsed.data.keys.previous, 'keys.previous'));
  if (rules.length) throw new WardError('config_invalid', `${file}:\n  ${rules.join('\n  ')}`);
  return resolveConfig(parsed.data, file, env);
}

/**
 * Where subject keys live when a collection names a subject: WARD_SUBJECT_KEYS_URL, else
 * subjects.keystore.url, else a PGlite directory (subjects.keystore.embedded, by default
 * .ward/subject-keys) beside an embedded database. A server database needs a server key store.
 */
function subjectKeystore(raw: RawConfig, database: DatabaseSetting, dir: string, env: NodeJS.ProcessEnv): DatabaseSetting | undefined {
  if (!Object.values(raw.collections).some((c) => c.subject)) return undefined;
  const url = env.WARD_SUBJECT_KEYS_URL?.trim();
  if (url) return { kind: 'url', url, source: 'DATABASE_URL' };
  if (raw.subjects.keystore.url) return { kind: 'url', url: raw.subjects.keystore.url, source: 'ward.yaml' };
  if (raw.subjects.keystore.embedded || database.kind === 'embedded')
    return { kind: 'embedded', dir: resolve(dir, raw.subjects.keystore.embedded ?? DEFAULT_SUBJECT_KEYS_DIR) };
  return undefined;
}

/** A subject field must be a declared, encrypted, required field. */
function subjectRules(raw: RawConfig): string[] {
  const out: string[] = [];
  for (const [name, c] of Object.entries(raw.collections)) {
    if (!c.subject) continue;
    const f = c.fields[c.subject];
    const at = `collections.${name}.subject`;
    if (!f) out.push(`${at}: names no field of ${name}; name the field that identifies the record's subject (e.g. mrn)`);
    else if (f.class === 'public') out.push(`${at}: names a public field; a subject field identifies a person and must be encrypted`);
    else if (!f.required) out.push(`${at}: ${c.subject} must be required (every record needs a subject to be shredded with)`);
  }
  return out;
}

/** What each master key provider needs beside its name. */
function masterRules(m: MasterConfig, path: string): string[] {
  if (m.provider === 'file' && !m.file) return [`${path}.file: is required when ${path}.provider is file: name the master key file`];
  if (m.provider === 'pkcs11' && !m.pkcs11)
    return [`${path}.pkcs11: is required when ${path}.provider is pkcs11: name the module, token, key label and pin_env`];
  if (m.provider === 'aws-kms' && !m.aws_kms)
    return [`${path}.aws_kms: is required when ${path}.provider is aws-kms: name key_id and region`];
  return [];
}

function parseYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const at = lineCounter.linePos(first.pos[0]);
    throw new WardError('config_invalid', `${file}:${at.line}:${at.col}: not valid YAML (${first.code}); fix the syntax there`);
  }
  return doc.toJS() ?? {};
}

function configError(file: string, issues: readonly z.core.$ZodIssue[]): WardError {
  const lines = issues.map((i) => {
    const path = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      const where = path ? `${path}.` : '';
      return i.keys.map((k) => `${where}${k}: unknown setting; remove it or check its spelling`).join('\n  ');
    }
    // a bad record key (a collection or field name) carries its own issue inside
    const inner = i.code === 'invalid_key' ? i.issues[0] : undefined;
    const message = inner ? inner.message : i.code === 'invalid_type' && i.input === undefined ? 'is required' : i.message;
    return `${path || '(top level)'}: ${message}`;
  });
  return new WardError('config_invalid', `${file}:\n  ${lines.join('\n  ')}`);
}

function resolveConfig(raw: RawConfig, file: string, env: NodeJS.ProcessEnv): WardConfig {
  const dir = dirname(file);
  const envUrl = env.DATABASE_URL?.trim();
  const database: DatabaseSetting = envUrl
    ? { kind: 'url', url: envUrl, source: 'DATABASE_URL' }
    : raw.database.url
      ? { kind: 'url', url: raw.database.url, source: 'ward.yaml' }
      : { kind: 'embedded', dir: resolve(dir, raw.database.embedded ?? DEFAULT_EMBEDDED_DIR) };
  const master = (m: MasterConfig): MasterSettings => {
    const out: MasterSettings = { provider: m.provider };
    if (m.file) out.file = resolve(dir, m.file);
    if (m.pkcs11) out.pkcs11 = { ...m.pkcs11, module: resolve(dir, m.pkcs11.module) };
    if (m.aws_kms)
      out.aws_kms = { key_id: m.aws_kms.key_id, region: m.aws_kms.region, ...(m.aws_kms.endpoint ? { endpoint: m.aws_kms.endpoint } : {}) };
    return out;
  };
  const keys: WardConfig['keys'] = master(raw.keys);
  if (raw.keys.previous) keys.previous = master(raw.keys.previous);
  const audit = {
    retentionDays: Math.round(auditRetentionDays(raw.audit.retention)),
    sealEveryMs: intervalMs(raw.audit.seal_every),
    verifyEveryMs: intervalMs(raw.audit.verify_every),
  };
  const auth = {
    maxFailures: raw.auth.max_failures,
    windowMs: intervalMs(raw.auth.failure_window) as number,
    lockoutMs: intervalMs(raw.auth.lockout) as number,
  };
  const egress: WardConfig['egress'] = { allow_private: raw.egress.allow_private };
  if (raw.egress.ca_file) egress.ca_file = resolve(dir, raw.egress.ca_file);
  return {
    subjectKeys: subjectKeystore(raw, database, dir, env),
    syncMappings: raw.sync.mappings.map((m) => resolve(dir, m)),
    file,
    space: raw.space,
    database,
    keys,
    collections: raw.collections,
    roles: raw.roles,
    audit,
    auth,
    events: raw.events,
    egress,
    ingressAllow: raw.network.ingress.allow,
    alerts: raw.alerts,
    retention: {
      archiveGraceMs: raw.retention.archive_grace === '0' ? 0 : (intervalMs(raw.retention.archive_grace) ?? 0),
      everyMs: intervalMs(raw.retention.every),
      batch: raw.retention.batch,
    },
    logging: { drains: raw.logging.drains.map((d) => ({ name: d.name, url: d.url, flushMs: intervalMs(d.flush_every) ?? 2000 })) },
  };
}
