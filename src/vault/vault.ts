import { createHmac } from 'node:crypto';
/**
 * The vault: one facade over the services the CLI and HTTP layers call (records, tokens, the
 * audit trail, API keys, change events, keys). It exposes operations only: no database, keyring,
 * policy or audit log, so every PHI operation goes through the pipeline in vault/trail and
 * vault/records. Problems are reported by field name and rule, never by value.
 */
import { operatorContext, type RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import type { ExportedCheckpoint } from '../audit/checkpoint.js';
import type { AuditLog, LastFull } from '../audit/log.js';
import type { SealResult } from '../audit/seal.js';
import type { SigningKeyInfo } from '../audit/signing.js';
import type { VerifyReport } from '../audit/verify.js';
import type { SignedReport } from '../compliance/report.js';
import type { AttestationFact, DatabaseFacts, MasterFacts } from '../compliance/types.js';
import type { AuthLimits } from '../config/load.js';
import type { Keyring, KeyStatus } from '../crypto/keyring.js';
import { type FieldCrypto, fieldCrypto } from '../crypto/threads.js';
import { Egress, type EgressOptions } from '../egress/client.js';
import { type DrainSpec, drainTarget, LogDrain, LogDrains } from '../egress/drains.js';
import { WardError } from '../errors.js';
import type { BrokerAdapter } from '../events/relay.js';
import type { CompiledEvents } from '../events/topics.js';
import type { Collection } from '../schema/collection.js';
import type { FieldValue } from '../schema/types.js';
import type { AuditFilter, DisclosureFilter, StoredAuditEvent } from '../store/audit.js';
import type { Db, PoolStats } from '../store/db.js';
import { type AlertSettings, Alerts } from './alerts.js';
import { type ApiKeyInfo, ApiKeys } from './apikeys.js';
import { AuditReads, type LoginReport, type UpkeepHandlers } from './audit-reads.js';
import { type Agreement, type AgreementInput, Agreements } from './baa.js';
import { BreakGlass, type BreakGlassUse } from './break-glass.js';
import { Callers, type CreatedApiKey, type HttpCaller } from './callers.js';
import { RecordCodec } from './codec.js';
import { type AttestInput, Compliance, type GatherOptions } from './compliance.js';
import { type DeidReport, refreshDeidentified } from './deid.js';
import { type Certificate, destroySpace } from './destroy.js';
import { type ConsumerReport, type EventRead, type EventsOptions, EventsService } from './events.js';
import { LoginGuard } from './logins.js';
import { checkId, type ReadOptions, Records, type RecordView, type SearchOptions } from './records.js';
import { type Hold, type PurgeReport, Retention, type RetentionSettings } from './retention.js';
import { type MasterRotation, Rewrap, type RewrapOptions, type RewrapProgress, rotateMaster } from './rewrap.js';
import type { SubjectKeys } from './subjects.js';
import { Tokens } from './tokens.js';
import { type AuditObserver, AuditTrail, egressAudit } from './trail.js';

export type { LoginReport } from './audit-reads.js';
export { MAX_BATCH, MAX_SEARCH_LIMIT, type ReadOptions, type RecordView, type SearchOptions } from './records.js';

/** The local operator: the CLI and in-process library callers, who hold the master key. */
const OPERATOR = operatorContext();
/** Who sends Ward's own outbound requests, as the audit trail names it. */

/** What a vault is made of (see vault/open, which assembles it). */
/** See Vault.syncPort. */
export interface SyncPort {
  db: Db;
  mac(collection: string, label: string, value: string): Buffer;
  audit(action: string, collection: string | null, detail: string, outcome?: 'allowed' | 'failed' | 'denied'): Promise<void>;
  alert(detail: Record<string, string | number>): void;
}

const SYNC_CONTEXT: RequestContext = { principal: { id: 'ward:sync', role: 'system' } };

export interface VaultParts {
  db: Db;
  keyring: Keyring;
  collections: ReadonlyMap<string, Collection>;
  policy: Policy;
  auditLog: AuditLog;
  /** Log-in monitoring: failed authentications before a lockout, and its length. */
  authLimits: AuthLimits;
  events: CompiledEvents & EventsOptions;
  /** Where field crypto runs (see crypto/threads); default this thread. Closed with the vault. */
  crypto?: FieldCrypto;
  /** Outbound requests: private addresses allowed (nonproduction only), extra CA certificates (PEM). */
  egress?: { allowPrivate: boolean; ca?: string | undefined };
  /** Where alerts go (see vault/alerts); none when undefined. */
  alerts?: AlertSettings | undefined;
  /** The purge job (see vault/retention); default a 30-day archive grace, hourly, 500 per batch. */
  retention?: RetentionSettings;
  /** The space's name and tier (for a destruction certificate). */
  space?: { name: string; tier: string };
  /** The master key as start-up saw it (for the compliance checks). */
  master?: MasterFacts;
  /** Per-subject keys (see vault/subjects), when a collection names a subject field. */
  subjects?: SubjectKeys | undefined;
  /** Run last by close(): releases the master keys (a token session). */
  onClose?: () => Promise<void>;
}

export class Vault {
  private readonly db: Db;
  private readonly keyring: Keyring;
  private readonly collections: ReadonlyMap<string, Collection>;
  private readonly policy: Policy;
  private readonly codec: RecordCodec;
  private readonly trail: AuditTrail;
  private readonly records: Records;
  private readonly tokens: Tokens;
  private readonly audit: AuditReads;
  private readonly keys: ApiKeys;
  private readonly logins: LoginGuard;
  private readonly callers: Callers;
  private readonly agreements: Agreements;
  private readonly breakGlass: BreakGlass;
  private readonly retention: Retention;
  private readonly rewrap: Rewrap;
  private readonly auditLog: AuditLog;
  private readonly space: { name: string; tier: string };
  private readonly compliance: Compliance;
  /** The master key as start-up saw it; undefined for a vault built without open.ts (tests). */
  readonly master: MasterFacts | undefined;
  private readonly onClose: (() => Promise<void>) | undefined;
  readonly events: EventsService;

  constructor(parts: VaultParts) {
    const { db, keyring, collections, policy } = parts;
    this.db = db;
    this.keyring = keyring;
    this.collections = collections;
    this.policy = policy;
    this.codec = new RecordCodec(keyring, parts.crypto ?? fieldCrypto(), parts.subjects);
    this.trail = new AuditTrail(db, policy);
    this.events = new EventsService(
      db,
      policy,
      this.trail,
      parts.events,
      (w, body, headers) =>
        this.egress()
          .send({ url: w.url, body, headers, purpose: `webhook ${w.name}`, scope: 'phi' })
          .then((r) => r.status),
      // The broker receives tokens and record ids (references to PHI): it needs a phi agreement.
      {
        admit: (host, tls) => this.egress().admitConnection({ host, purpose: 'event broker', scope: 'phi', tls }),
        covers: (host) => this.egress().covers(host, 'phi'),
        identity: (hosts) => Egress.identity(hosts),
      },
    );
    this.records = new Records(db, keyring, this.codec, this.trail, this.events.writer, collections);
    this.tokens = new Tokens(db, policy, this.codec, this.trail, collections);
    this.audit = new AuditReads(db, policy, this.trail, parts.auditLog);
    this.keys = new ApiKeys(db, policy);
    this.logins = new LoginGuard(db, this.trail, parts.authLimits);
    this.agreements = new Agreements(db, policy, this.trail);
    this.egressSettings = parts.egress ?? { allowPrivate: false };
    this.alerts = new Alerts(parts.alerts, parts.events.space, () => this.egress());
    this.breakGlass = new BreakGlass(db, policy, this.trail, (a) => this.alerts.raise(a));
    this.callers = new Callers(policy, this.trail, this.keys, this.logins, this.breakGlass);
    this.rewrap = new Rewrap(db, keyring, this.codec, this.trail);
    this.auditLog = parts.auditLog;
    this.space = parts.space ?? { name: parts.events.space, tier: 'nonproduction' };
    this.onClose = parts.onClose;
    this.master = parts.master;
    this.compliance = new Compliance(db, policy, this.trail, keyring, parts.auditLog, this.space, [...collections.keys()]);
    this.retention = new Retention(
      db,
      this.trail,
      collections,
      parts.retention ?? { archiveGraceMs: 30 * 86_400_000, everyMs: 3_600_000, batch: 500 },
    );
    // A lockout starting is an alert: the client address or the key's prefix, the count, the end.
    this.logins.onLockoutStarted((l) =>
      this.alerts.raise({
        type: 'lockout',
        detail: {
          by: l.kind,
          subject: l.kind === 'key' ? `key:${l.subject}` : l.subject,
          failures: l.failures,
          until: l.until.toISOString(),
        },
      }),
    );
  }

  /** Alerts raised and not yet delivered (tests wait on this). */
  readonly alerts: Alerts;

  private readonly egressSettings: { allowPrivate: boolean; ca?: string | undefined };

  /**
   * The outbound client (see egress/client): HTTPS only, to hosts covered by an agreement in force,
   * never to a private or metadata address (unless this nonproduction space allows private ones),
   * every request audited as `egress`. `resolve` replaces the system resolver (tests).
   */
  egress(o: Pick<EgressOptions, 'resolve' | 'timeoutMs'> = {}): Egress {
    return new Egress({
      covering: (host, scope) => this.agreements.covering(host, scope),
      audit: egressAudit(this.trail),
      allowPrivate: this.egressSettings.allowPrivate,
      ...(this.egressSettings.ca ? { ca: this.egressSettings.ca } : {}),
      ...o,
    });
  }

  // --- serving ------------------------------------------------------------------------------

  /** Starts what a server needs: the API key cache and lockouts shared across processes (both through LISTEN/NOTIFY). */
  async startServing(): Promise<void> {
    await this.keys.startCache();
    await this.logins.start();
  }

  /** Who an HTTP request is and why it asks (see vault/callers); `keys` replaces the vault's own (tests). */
  authenticate(req: HttpCaller, keys: ApiKeys = this.keys): Promise<RequestContext> {
    return this.callers.authenticate(req, keys);
  }

  /** The requests per window a role's keys may make, if it is limited. */
  rateLimit(role: string): ReturnType<Policy['rateLimit']> {
    return this.policy.rateLimit(role);
  }

  /** Hears how many audit rows commit, each time some do (the metrics). Returns how to stop. */
  onAudit(observer: AuditObserver): () => void {
    return this.trail.onCommitted(observer);
  }

  /** Audits requests refused by the ingress allowlist: one row for `count` refusals from `client`. */
  recordIngressRefusals(client: string | null, count: number): Promise<void> {
    const ctx: RequestContext = { principal: { id: 'anonymous', role: 'none' }, ...(client ? { client } : {}) };
    return this.trail.write({
      ...this.trail.row(ctx, 'ingress', null, [], [], 'denied', 'ingress_denied'),
      detail: `${count} request(s) refused`,
    });
  }

  /** Whether the database answers (health checks). */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Connections the database pool may open, and its figures now. */
  get poolSize(): number {
    return this.db.size;
  }
  poolStats(): PoolStats {
    return this.db.stats();
  }

  /** Seals and verifies the audit log in the background, and relays change events (see EventsService.start). */
  async startBackground(
    o: { sealEveryMs: number | null; verifyEveryMs: number | null },
    on: UpkeepHandlers & Parameters<EventsService['start']>[0] & { retentionFailed?: (e: unknown) => void },
  ): Promise<void> {
    this.audit.startUpkeep(o.sealEveryMs, o.verifyEveryMs, on);
    await this.events.start(on);
    this.retention.start(on.retentionFailed ?? (() => {}));
  }

  /** Stops the background work; seals what the last requests wrote. */
  async stopBackground(): Promise<void> {
    await this.retention.stop();
    await this.events.stop();
    await this.audit.stopUpkeep();
  }

  // --- retention and legal holds (see vault/retention) ----------------------------------------

  /** One purge now (`ward retention run`); `dryRun` reports what would go. */
  runRetention(o: { dryRun?: boolean } = {}): Promise<PurgeReport> {
    return this.retention.run(o);
  }

  /** Puts an archived record back under a legal hold (operator only; audited). */
  restoreRecord(collection: string, id: string, reason: string, ctx: RequestContext = OPERATOR): Promise<Hold> {
    return this.retention.restore(collection, id, reason, ctx);
  }

  addHold(collection: string, id: string, reason: string, ctx: RequestContext = OPERATOR): Promise<Hold> {
    return this.retention.addHold(collection, id, reason, ctx);
  }

  holds(ctx: RequestContext = OPERATOR): Promise<Hold[]> {
    return this.retention.holds(ctx);
  }

  removeHold(id: string, ctx: RequestContext = OPERATOR): Promise<void> {
    return this.retention.removeHold(id, ctx);
  }

  // --- collections and records ---------------------------------------------------------------

  collection(name: string): Collection {
    return this.records.collection(name);
  }

  /** Every declared collection. */
  collectionList(): Collection[] {
    return [...this.collections.values()];
  }

  create(
    collection: string,
    input: unknown,
    ctx: RequestContext = OPERATOR,
  ): Promise<{ id: string; version: number; tokens: Record<string, string> }> {
    return this.records.create(collection, input, ctx);
  }

  /** Creates all records or none; a bad record is named by its position. */
  createMany(collection: string, inputs: unknown, ctx: RequestContext = OPERATOR): Promise<{ ids: string[] }> {
    return this.records.createMany(collection, inputs, ctx);
  }

  get(collection: string, id: string, options: ReadOptions = {}, ctx: RequestContext = OPERATOR): Promise<RecordView> {
    return this.records.get(collection, id, options, ctx);
  }

  /** Changes the given fields (null removes one); all fields are re-sealed under the active key. */
  update(collection: string, id: string, patch: unknown, ctx: RequestContext = OPERATOR): Promise<{ id: string; version: number }> {
    return this.records.update(collection, id, patch, ctx);
  }

  delete(collection: string, id: string, ctx: RequestContext = OPERATOR): Promise<void> {
    return this.records.delete(collection, id, ctx);
  }

  /** Equality search on searchable fields, through their blind indexes. */
  search(collection: string, where: unknown, options: SearchOptions = {}, ctx: RequestContext = OPERATOR): Promise<RecordView[]> {
    return this.records.search(collection, where, options, ctx);
  }

  // --- tokens -------------------------------------------------------------------------------

  /** The deterministic token a value would get, for joins across systems without PHI. */
  tokenize(collection: string, field: string, value: unknown): string {
    return this.tokens.tokenize(this.collection(collection), field, value);
  }

  /** Current values behind tokens; an unknown, malformed or forbidden token fails the whole call. */
  detokenize(tokens: unknown, ctx: RequestContext = OPERATOR): Promise<Record<string, FieldValue>> {
    return this.tokens.detokenize(tokens, ctx);
  }

  // --- the audit trail ----------------------------------------------------------------------

  /** Audit events, oldest first; for roles with `audit: true` and the operator. Reading is audited too. */
  auditEvents(filter: AuditFilter, ctx: RequestContext = OPERATOR): Promise<StoredAuditEvent[]> {
    return this.audit.events(filter, ctx);
  }

  /**
   * The accounting of disclosures of one record (45 CFR 164.528): who touched its PHI, when,
   * which fields, why, and with what outcome. For audit roles and the operator.
   */
  disclosures(recordId: string, filter: DisclosureFilter, ctx: RequestContext = OPERATOR): Promise<StoredAuditEvent[]> {
    return this.audit.disclosures(recordId, filter, ctx);
  }

  /** Failed authentications and lockouts since `since`, by client address and by API key (log-in monitoring). */
  loginReport(since: Date | undefined, ctx: RequestContext = OPERATOR): Promise<LoginReport> {
    return this.audit.logins(since, ctx);
  }

  /** Recomputes the sealed log and checks every checkpoint (and, given one, an exported checkpoint). */
  verifyAudit(since?: ExportedCheckpoint, ctx: RequestContext = OPERATOR): Promise<VerifyReport> {
    return this.audit.verify(since, ctx);
  }

  /**
   * An incremental verification (from where a sound one ended, a bounded stretch at a time), with
   * the newest full one: `ok` only when both are, so a failure a full verification found stands
   * until a later full verification passes.
   */
  verifyAuditIncremental(ctx: RequestContext = OPERATOR): Promise<VerifyReport & { lastFull: LastFull | null }> {
    return this.audit.verifyIncremental(ctx);
  }

  /** The newest signed checkpoint, for an auditor to keep. */
  auditCheckpoint(ctx: RequestContext = OPERATOR): Promise<ExportedCheckpoint | undefined> {
    return this.audit.checkpoint(ctx);
  }

  /** Seals new audit events now; `waitMs` waits that long for open transactions to finish. */
  sealAudit(waitMs = 0): Promise<SealResult> {
    return this.audit.seal(waitMs);
  }

  // --- compliance ---------------------------------------------------------------------------

  /**
   * The database's facts for the HIPAA checks (auditor, admin or operator; one audit row). With
   * `sample`, a nonproduction space's records are read as the operator (each read audited) and
   * their values run through the PHI detector.
   */
  complianceFacts(ctx: RequestContext = OPERATOR, o: Pick<GatherOptions, 'sample'> = {}): Promise<DatabaseFacts> {
    return this.compliance.gather(ctx, { sample: o.sample, read: (c, id) => this.get(c, id, {}, OPERATOR) });
  }

  /** Records an attestation of a control software cannot check (admin or operator; audited). */
  attest(input: AttestInput, ctx: RequestContext = OPERATOR): Promise<AttestationFact> {
    return this.compliance.attest(input, ctx);
  }

  /** Signs a report's bytes with the audit signing key at a fresh checkpoint. */
  signReport(bytes: Buffer): Promise<SignedReport> {
    return this.compliance.sign(bytes);
  }

  /** Checks a report against its signature, this database's signing keys and its sealed log. */
  verifyReport(bytes: Buffer, signature: string, source: string): Promise<{ ok: boolean; problem?: string; checkpoint?: number }> {
    return this.compliance.verifyReport(bytes, signature, source);
  }

  // --- keys ---------------------------------------------------------------------------------

  /** Each collection's data key versions and the records each protects; the audit signing keys' public halves. */
  async keyStatus(): Promise<{ collections: KeyStatus[]; auditSigning: SigningKeyInfo[] }> {
    return { collections: await this.keyring.status(), auditSigning: this.audit.signingKeys() };
  }

  /** Adds a data key version to a collection; new writes use it. Returns the new version. */
  rotateKey(collection: string): Promise<number> {
    return this.keyring.rotate(this.collection(collection).name);
  }

  /** Rebuilds the de-identified copy of every collection in the ward_deid schema (operator only; audited). */
  refreshDeidentified(ctx: RequestContext = OPERATOR): Promise<DeidReport[]> {
    return refreshDeidentified(this.trail, this.records, [...this.collections.values()], ctx);
  }

  /**
   * Destroys the space (operator only): every data and index key, so nothing encrypted can be
   * read again; returns the signed certificate. `confirm` must be the space's name.
   */
  async destroySpace(confirm: string, ctx: RequestContext = OPERATOR): Promise<Certificate> {
    if (confirm !== this.space.name)
      throw new WardError('invalid_request', '--confirm must repeat the space name exactly: destroying a space cannot be undone');
    await this.stopBackground();
    // Subject keys live in their own store: destroyed first (a failure after them leaves the
    // destruction to finish by running it again; one after the certificate would lose it).
    if (ctx.principal.operator) await this.codec.subjects?.destroyAll();
    return destroySpace(this.db, this.trail, this.auditLog, this.space, ctx);
  }

  /** Re-encrypts a collection's records to its active data key version, in batches, online (operator only). */
  rewrapKeys(collection: string, o: RewrapOptions = {}, ctx: RequestContext = OPERATOR): Promise<RewrapProgress> {
    return this.rewrap.run(this.collection(collection), ctx, o);
  }

  /**
   * Crypto-shreds the subject of a record: destroys the subject's key (so no copy of its records,
   * in a backup or a replica, can be read again) and deletes every record of the subject, audited
   * with their ids. Needs the `shred` action on the collection. Returns the records shredded.
   */
  async shredSubject(collection: string, recordId: string, ctx: RequestContext = OPERATOR): Promise<{ shredded: string[] }> {
    const c = this.collection(collection);
    let rid = '';
    const op = {
      ctx,
      action: 'shred' as const,
      collection: c,
      touched: [],
      row: () => {
        rid = checkId(recordId);
        return { recordIds: [], fields: [] };
      },
    };
    const shredded = await this.trail.operation(op, async (audit) => {
      const subjects = this.codec.subjects;
      if (!c.subject || !subjects)
        throw new WardError(
          'invalid_request',
          `${c.name} names no subject field (collections.${c.name}.subject): delete its records instead`,
        );
      return subjects.shred(c, rid, audit, this.trail);
    });
    return { shredded };
  }

  /** Destroys a data key version no record uses (operator only; audited). */
  retireKey(collection: string, version: number, o: { settleMs?: number } = {}, ctx: RequestContext = OPERATOR): Promise<void> {
    return this.rewrap.retire(this.collection(collection), version, ctx, o.settleMs);
  }

  /**
   * Rewraps every data, index and audit signing key under the current master key (keys), reading
   * what is not yet moved with keys.previous; resumable (operator only, database owner; audited).
   */
  rotateMaster(
    o: { batch?: number; onProgress?: (p: { done: number; total: number }) => void } = {},
    ctx: RequestContext = OPERATOR,
  ): Promise<MasterRotation> {
    return rotateMaster(this.db, this.keyring, this.auditLog.keys, this.trail, ctx, o);
  }

  /** Adds a version of the key that signs audit checkpoints. */
  rotateAuditSigningKey(): Promise<number> {
    return this.audit.rotateSigningKey();
  }

  /** Creates an API key for a role (operator and admin roles); the key itself is returned only here. */
  createApiKey(role: string, name: string, lifetimeMs?: number, ctx: RequestContext = OPERATOR): Promise<CreatedApiKey> {
    return this.callers.createKey(role, name, lifetimeMs, ctx);
  }

  /** Every API key (never a secret), for the operator and admin roles. */
  listApiKeys(ctx: RequestContext = OPERATOR): Promise<ApiKeyInfo[]> {
    return this.callers.listKeys(ctx);
  }

  /** Revokes an API key by id (or, for the operator, its prefix); effective on its next request. */
  /** A successor key for the same role; the old one ends after `overlapMs` (operator and admin roles; audited). */
  rotateApiKey(idOrPrefix: string, overlapMs: number, ctx: RequestContext = OPERATOR): ReturnType<Callers['rotateKey']> {
    return this.callers.rotateKey(idOrPrefix, overlapMs, ctx);
  }

  revokeApiKey(idOrPrefix: string, ctx: RequestContext = OPERATOR): Promise<void> {
    return this.callers.revokeKey(idOrPrefix, ctx);
  }

  // --- sync (Connect) -----------------------------------------------------------------------------

  /**
   * What the sync runner (sync/) needs below the facade: the database for its own tables, keyed
   * MACs under a collection's keys (external ids and digests of mapped values: never stored
   * values), an audit row for what it decides outside record writes, and alerts.
   */
  syncPort(): SyncPort {
    return {
      db: this.db,
      mac: (collection, label, value) =>
        createHmac('sha256', this.keyring.derivedKey(this.collection(collection).name, 'token', `sync/${label}`))
          .update(value, 'utf8')
          .digest(),
      audit: (action, collection, detail, outcome = 'allowed') =>
        this.trail.write({ ...this.trail.row(SYNC_CONTEXT, action, collection, [], [], outcome), detail }),
      alert: (detail) => this.alerts.raise({ type: 'sync', detail }),
    };
  }

  // --- Business Associate Agreements ----------------------------------------------------------

  /** Records a Business Associate Agreement (operator and admin roles; audited). */
  addAgreement(input: AgreementInput, ctx: RequestContext = OPERATOR): Promise<Agreement> {
    return this.agreements.add(input, ctx);
  }

  /** Every agreement with its status and days to expiry (operator and admin roles; audited). */
  listAgreements(ctx: RequestContext = OPERATOR): Promise<Agreement[]> {
    return this.agreements.list(ctx);
  }

  /**
   * Log drains for the configured `logging.drains`: each host must be covered by an agreement in
   * force for PHI, else `egress_denied` naming the drain (start-up refuses it). Every delivery
   * then goes through egress, checked and audited again.
   */
  async logDrains(specs: readonly DrainSpec[]): Promise<LogDrains> {
    const problems: string[] = [];
    for (const [i, d] of specs.entries()) {
      const { host } = drainTarget(d.url);
      if (!(await this.agreements.covering(host, 'phi')))
        problems.push(
          `logging.drains[${i}] (${d.name}): no Business Associate Agreement in force covers ${host} for PHI; ` +
            `record one (ward baa add --host ${host} --scope phi ...) or remove the drain`,
        );
    }
    if (problems.length) throw new WardError('egress_denied', `a log drain is not covered:\n  ${problems.join('\n  ')}`);
    return new LogDrains(specs.map((d) => new LogDrain(d, () => this.egress())));
  }

  /** Break-glass uses, newest first (`unreviewed`: those waiting for review); operator and audit roles; audited. */
  breakGlassUses(o: { unreviewed?: boolean; limit?: number } = {}, ctx: RequestContext = OPERATOR): Promise<BreakGlassUse[]> {
    return this.breakGlass.list(ctx, o);
  }

  /** Marks a break-glass use reviewed (not by who declared it); operator and audit roles; audited. */
  reviewBreakGlass(id: string, note: string | undefined, ctx: RequestContext = OPERATOR): Promise<BreakGlassUse> {
    return this.breakGlass.review(ctx, id, note);
  }

  /** Revokes an agreement: it covers nothing from now on (operator and admin roles; audited). */
  revokeAgreement(id: string, ctx: RequestContext = OPERATOR): Promise<void> {
    return this.agreements.revoke(id, ctx);
  }

  /** The agreement in force covering a host for a scope, if any (what egress checks). */
  agreementCovering(host: string, scope: 'phi' | 'no-phi'): Promise<Agreement | undefined> {
    return this.agreements.covering(host, scope);
  }

  /** Agreements in force that expire within 30 days. */
  agreementsExpiringSoon(): Promise<Agreement[]> {
    return this.agreements.expiringSoon();
  }

  // --- change events ------------------------------------------------------------------------

  /** Events of a topic after a position, for a role whose consumers name it (audited). */
  readEvents(topic: string, read: EventRead, ctx: RequestContext = OPERATOR): ReturnType<EventsService['read']> {
    return this.events.read(topic, read, ctx);
  }

  /** Field crypto jobs run on crypto threads so far (diagnostics). */
  get cryptoOffloaded(): number {
    return this.codec.crypto.offloaded;
  }

  /** Removes stale consumers (see EventsService.prune); for the operator and admin roles. */
  pruneConsumers(report: readonly ConsumerReport[], broker?: BrokerAdapter, ctx: RequestContext = OPERATOR): Promise<string[]> {
    return this.events.prune(report, ctx, broker);
  }

  async close(): Promise<void> {
    await this.events.stop();
    await this.logins.close();
    await this.keys.close();
    await this.codec.crypto.close();
    await this.db.close();
    await this.codec.subjects?.close();
    await this.onClose?.();
  }
}
