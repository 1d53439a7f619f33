/**
 * Start-up: load the master key, check production rules, connect, check or apply migrations,
 * open the keyring. Every misconfiguration fails here with a message that names the fix.
 */

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Policy } from '../access/policy.js';
import { AuditLog } from '../audit/log.js';
import { assertProductionSafe } from '../compliance/startup.js';
import type { WardConfig } from '../config/load.js';
import { retentionDays } from '../config/schema.js';
import { Keyring, spaceBinding } from '../crypto/keyring.js';
import { closeMasters, loadMasters, type Masters } from '../crypto/master-key.js';
import { MasterRing } from '../crypto/masters.js';
import { fieldCrypto } from '../crypto/threads.js';
import { EgressHttpHandler } from '../egress/aws-handler.js';
import { Egress } from '../egress/client.js';
import { WardError } from '../errors.js';
import { NatsBroker } from '../events/nats.js';
import { type CompiledEvents, compileEvents } from '../events/topics.js';
import { type Collection, compileCollection } from '../schema/collection.js';
import type { Db } from '../store/db.js';
import { destroyedAt } from '../store/destroy.js';
import { migrate, pending } from '../store/migrate.js';
import { pgDb } from '../store/pg.js';
import { pgliteDb } from '../store/pglite.js';
import { claimSpace } from '../store/space.js';
import { intervalMs } from '../util/duration.js';
import { Agreements } from './baa.js';
import type { EventsOptions } from './events.js';
import { SubjectKeys } from './subjects.js';
import { AuditTrail, asOwner, egressAudit } from './trail.js';
import { Vault } from './vault.js';

export interface OpenOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * `auto` applies pending migrations; `check` refuses to start when some are pending.
   * Default: `auto` on the embedded database, `check` on a server (run `ward migrate`).
   */
  migrations?: 'auto' | 'check';
  /** Use this database instead of the configured one (tests, embedding). */
  db?: Db;
  /** Connection pool size for a server database; default 10. */
  poolSize?: number;
  /** Threads for field crypto (AES-GCM, HMAC) besides the main thread; default 0 (all on the main thread). */
  cryptoThreads?: number;
  /** Use this database as the subject key store instead of the configured one (tests, embedding). */
  subjectKeys?: Db;
  /**
   * `ward check`: open a production space even when the start-up rules refuse it, to report
   * them (and the database's facts) rather than stop. Nothing serves from such a vault.
   */
  forChecks?: boolean;
}

/** Connects to the configured database without checking keys or migrations. */
export async function openDb(cfg: WardConfig, poolSize?: number): Promise<Db> {
  return cfg.database.kind === 'url' ? pgDb(cfg.database.url, poolSize === undefined ? {} : { max: poolSize }) : pgliteDb(cfg.database.dir);
}

export function compileCollections(cfg: WardConfig): Map<string, Collection> {
  return new Map(
    Object.entries(cfg.collections).map(([name, col]) => [
      name,
      compileCollection(name, col.fields, col.retention ? retentionDays(col.retention) : undefined, col.subject),
    ]),
  );
}

/**
 * The events section checked (see events/topics) and its options resolved: files named
 * relative to ward.yaml, the broker connected only when the relay starts.
 */
export function eventsOf(
  cfg: WardConfig,
  collections: ReadonlyMap<string, Collection>,
  env: NodeJS.ProcessEnv = process.env,
): CompiledEvents & EventsOptions {
  const compiled = compileEvents(cfg.events, cfg.space.name, collections, new Set(Object.keys(cfg.roles)), cfg.file);
  const nats = cfg.events.broker.nats;
  const dir = dirname(cfg.file);
  const file = (f: string | undefined) => (f ? resolve(dir, f) : undefined);
  const relay = cfg.events.relay;
  const webhooks = cfg.events.webhooks.map((w, i) => {
    const secret = signingSecret(cfg, env, `events.webhooks[${i}]`, w.secret_env);
    return {
      name: w.name,
      topic: w.topic,
      url: w.url,
      secret,
      maxAttempts: w.max_attempts,
      retryAfterMs: intervalMs(w.retry_after) ?? 1000,
    };
  });
  return {
    ...compiled,
    webhooks,
    space: cfg.space.name,
    graceMs: intervalMs(relay.grace) ?? 3_600_000,
    batch: relay.batch,
    broker: nats
      ? (gate) =>
          NatsBroker.connect(
            {
              url: nats.url,
              credentials: file(nats.credentials),
              nkey: file(nats.nkey),
              tls: nats.tls && { ca: file(nats.tls.ca), cert: file(nats.tls.cert), key: file(nats.tls.key) },
              dedupeWindowMs: intervalMs(relay.dedupe_window) ?? 120_000,
            },
            compiled.topics,
            gate,
          )
      : undefined,
  };
}

/**
 * Records this space in a database that has none yet; refuses one of another space or tier (a
 * production database restored where a nonproduction space runs, or the reverse).
 */
export async function assertSameSpace(db: Db, cfg: WardConfig): Promise<void> {
  const recorded = await claimSpace(db, cfg.space.name, cfg.space.tier);
  if (recorded.name === cfg.space.name && recorded.tier === cfg.space.tier) return;
  throw new WardError(
    'space_mismatch',
    `${cfg.file}: this database belongs to space ${recorded.name} (${recorded.tier}), not ${cfg.space.name} (${cfg.space.tier}); ` +
      'Ward does not serve one space from another’s database: move data out of production only as a de-identified export',
  );
}

/** A destroyed space is not served: opening its keyring would make new keys over unreadable data. */
async function assertNotDestroyed(db: Db): Promise<void> {
  const at = await destroyedAt(db);
  if (at)
    throw new WardError(
      'space_destroyed',
      `this space was destroyed on ${at.toISOString()} (ward destroy); its audit trail can still be checked: ward audit verify --certificate FILE`,
    );
}

/**
 * The database and its sealed audit log only, for checking a destroyed space's certificate: the
 * master key and the space are checked, no key is opened. The caller closes the database.
 */
export async function openAuditOnly(
  cfg: WardConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ db: Db; log: AuditLog; close: () => Promise<void> }> {
  const masters = await loadMasters(cfg.keys, env);
  const db = await openDb(cfg).catch(async (e) => {
    await closeMasters(masters);
    throw e;
  });
  const close = async () => {
    await closeMasters(masters);
    await db.close().catch(() => {});
  };
  try {
    attachMasters(db, cfg, masters);
    const ring = await MasterRing.open(db, masters);
    await assertSameSpace(db, cfg);
    return { db, log: await AuditLog.open(db, ring), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The agreements registry on the database alone, without the master key: the agreement a master
 * key held by KMS needs (its host) can be recorded before Ward can open any key. Changes are
 * audited as through the vault.
 */
export async function openAgreements(cfg: WardConfig): Promise<{ agreements: Agreements; close: () => Promise<void> }> {
  const db = await openDb(cfg);
  try {
    const todo = await pending(db);
    if (todo.length && db.kind !== 'pglite')
      throw new WardError('schema_outdated', `${todo.length} migration(s) pending (${todo.join(', ')}): run \`ward migrate\``);
    if (todo.length) await migrate(db);
    await assertSameSpace(db, cfg);
    await assertNotDestroyed(db);
    const policy = new Policy(cfg.roles);
    return { agreements: new Agreements(db, policy, new AuditTrail(db, policy)), close: () => db.close() };
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
}

/**
 * The first step of `ward keys rotate --master`: records the new master key (keys) as the next
 * epoch, once keys.previous is proved to be the one the database's keys are wrapped under now.
 * Needs the database owner's login. After it, a Ward configured with both keys opens as usual.
 */
export async function beginMasterRotation(cfg: WardConfig, env: NodeJS.ProcessEnv = process.env, given?: Db): Promise<void> {
  const masters = await loadMasters(cfg.keys, env);
  let db: Db | undefined;
  try {
    db = given ?? (await openDb(cfg));
    const todo = await pending(db);
    if (todo.length)
      throw new WardError('schema_outdated', `${todo.length} migration(s) pending (${todo.join(', ')}): run \`ward migrate\``);
    await assertSameSpace(db, cfg);
    await assertNotDestroyed(db);
    attachMasters(db, cfg, masters);
    const opened = db;
    await asOwner('rotating the master key', () => MasterRing.beginRotation(opened, masters));
  } finally {
    await closeMasters(masters);
    if (!given) await db?.close().catch(() => {});
  }
}

/**
 * The subject key store, when a collection names a subject field: another database than Ward's
 * (see vault/subjects). A server database needs a server key store named in the configuration.
 */
async function openSubjects(
  cfg: WardConfig,
  db: Db,
  keyring: Keyring,
  collections: ReadonlyMap<string, Collection>,
  given: Db | undefined,
): Promise<SubjectKeys | undefined> {
  const named = [...collections.values()].filter((c) => c.subject).map((c) => c.name);
  if (!named.length && !given) return undefined;
  const setting = cfg.subjectKeys;
  if (!given && !setting)
    throw new WardError(
      'config_invalid',
      `${cfg.file}:\n  subjects.keystore.url: ${named.join(', ')} name a subject field and the database is a server: ` +
        "name another database for subject keys (or set WARD_SUBJECT_KEYS_URL); a backup of Ward's own must not hold them",
    );
  const keystore =
    given ??
    (setting?.kind === 'url'
      ? // Ward's database password (WARD_DATABASE_PASSWORD_FILE) is never offered to another server.
        pgDb(setting.url, { max: Math.max(2, Math.ceil(db.size / 2)), passwordFile: '' })
      : await pgliteDb(setting?.kind === 'embedded' ? setting.dir : undefined));
  try {
    return await SubjectKeys.open(keystore, db, keyring, spaceBinding(cfg.space.name, cfg.space.tier));
  } catch (e) {
    if (!given) await keystore.close().catch(() => {});
    throw e;
  }
}

/**
 * Gives a master key held by a service (aws-kms) its way out before it is first used: egress over
 * this database's agreements (the KMS host needs one in force for PHI), each request audited.
 */
function attachMasters(db: Db, cfg: WardConfig, masters: Masters): void {
  if (!masters.current.attach && !masters.previous?.attach) return;
  const policy = new Policy(cfg.roles);
  const trail = new AuditTrail(db, policy);
  const agreements = new Agreements(db, policy, trail);
  const ca = caFile(cfg.egress.ca_file);
  const egress = new Egress({
    covering: (host, scope) => agreements.covering(host, scope),
    audit: egressAudit(trail),
    allowPrivate: cfg.egress.allow_private,
    ...(ca ? { ca } : {}),
  });
  masters.current.attach?.(new EgressHttpHandler(egress, 'master key', 'phi'));
  masters.previous?.attach?.(new EgressHttpHandler(egress, 'previous master key', 'phi'));
}

/** Where alerts go, with the signing secret from the environment (start-up refuses a missing one). */
function alertSettings(cfg: WardConfig, env: NodeJS.ProcessEnv): { url: string; secret: string } | undefined {
  if (!cfg.alerts) return undefined;
  return { url: cfg.alerts.url, secret: signingSecret(cfg, env, 'alerts', cfg.alerts.secret_env) };
}

/** A signing secret from the environment variable a setting at `path` names; start-up refuses a missing or short one. */
function signingSecret(cfg: WardConfig, env: NodeJS.ProcessEnv, path: string, variable: string): string {
  const secret = env[variable];
  if (secret && secret.length >= 16) return secret;
  throw new WardError(
    'config_invalid',
    `${cfg.file}:\n  ${path}.secret_env: the environment variable ${variable} must hold the signing secret (16 characters or more)`,
  );
}

/** The extra CA certificates egress trusts, read at start (a missing file is a configuration error). */
function caFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new WardError('config_invalid', `egress.ca_file: cannot read ${file}; name a PEM file of CA certificates`);
  }
}

export async function openVault(cfg: WardConfig, options: OpenOptions = {}): Promise<Vault> {
  const masters = await loadMasters(cfg.keys, options.env ?? process.env);
  let db: Db | undefined;
  try {
    if (!options.forChecks) assertProductionSafe(cfg, masters.current);
    const collections = compileCollections(cfg);
    const events = eventsOf(cfg, collections, options.env ?? process.env);
    db = options.db ?? (await openDb(cfg, options.poolSize));
    return await openOn(db, cfg, masters, collections, events, options);
  } catch (e) {
    await closeMasters(masters);
    if (db && !options.db) await db.close().catch(() => {});
    throw e;
  }
}

async function openOn(
  db: Db,
  cfg: WardConfig,
  masters: Masters,
  collections: Map<string, Collection>,
  events: CompiledEvents & EventsOptions,
  options: OpenOptions,
): Promise<Vault> {
  const mode = options.migrations ?? (db.kind === 'pglite' ? 'auto' : 'check');
  const todo = await pending(db);
  if (todo.length && mode === 'check')
    throw new WardError('schema_outdated', `${todo.length} migration(s) pending (${todo.join(', ')}): run \`ward migrate\``);
  if (todo.length) await migrate(db);
  attachMasters(db, cfg, masters);
  // The master key first (a production space refuses a database made under a development key),
  // then the space, then the keys, which are bound to it.
  const ring = await MasterRing.open(db, masters);
  if (!options.forChecks) assertProductionSafe(cfg, masters.current, ring.createdWithDevKey);
  await assertSameSpace(db, cfg);
  await assertNotDestroyed(db);
  const keyring = await Keyring.open(db, ring, [...collections.keys()], spaceBinding(cfg.space.name, cfg.space.tier));
  const auditLog = await AuditLog.open(db, ring);
  const subjects = await openSubjects(cfg, db, keyring, collections, options.subjectKeys);
  return new Vault({
    db,
    keyring,
    collections,
    policy: new Policy(cfg.roles),
    auditLog,
    authLimits: cfg.auth,
    events,
    crypto: fieldCrypto(options.cryptoThreads),
    egress: { allowPrivate: cfg.egress.allow_private, ca: caFile(cfg.egress.ca_file) },
    alerts: alertSettings(cfg, options.env ?? process.env),
    retention: cfg.retention,
    space: { name: cfg.space.name, tier: cfg.space.tier },
    master: {
      source: masters.current.source,
      dev: masters.current.dev,
      exposed: masters.current.exposed,
      createdWithDevKey: ring.createdWithDevKey,
    },
    subjects,
    onClose: () => closeMasters(masters),
  });
}
