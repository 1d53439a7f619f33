/**
 * One sync pass of a mapping: the source's schema checked for drift, its rows read after the
 * stored watermark in batches, each row's mapped fields (only those) transformed and written
 * through the vault as the mapping's role with its purpose (validated, encrypted, audited,
 * emitting events, as any write), upserted by the external id: a row whose mapped values did not
 * change is not written again, a deleted source row deletes its record. Per-record failures are
 * kept (the source's reference, field names and rule; never values) and not retried by themselves.
 */
import type { RequestContext } from '../access/actions.js';
import { detect } from '../detect/index.js';
import { isWardError, WardError } from '../errors.js';
import { Leader } from '../events/leader.js';
import { type Collection, validateRecord } from '../schema/collection.js';
import { applyMask } from '../schema/mask.js';
import type { FieldValue } from '../schema/types.js';
import * as store from '../store/sync.js';
import type { SyncPort, Vault } from '../vault/vault.js';
import { csvSource, ndjsonSource } from './files.js';
import { type FieldMapping, FREE_TEXT_TYPES, type Mapping } from './mapping.js';
import { postgresSource } from './postgres.js';
import { salesforceSource } from './salesforce.js';
import type { Source, SourceField, SourceRow } from './source.js';

export interface PassReport {
  mapping: string;
  collection: string;
  /** The mapping's state after the pass. */
  state: store.SyncState;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  /** Free-text values scanned for PHI, and how many held some (by type). */
  freeText: { scanned: number; withPhi: number; types: Record<string, number> };
  /** Source fields added (they never flow), and mapped fields removed or retyped (the mapping pauses). */
  drift: { added: string[]; removed: string[]; retyped: string[] } | null;
  /** Why the pass stopped early: paused, budget, authentication; absent when it read everything. */
  stopped?: string;
  ms: number;
}

export interface RunOptions {
  /** Rows per batch (one createMany each); default 500. */
  batch?: number;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: { mapping: string; read: number; done?: number | undefined; total?: number | undefined }) => void;
  /** Replaces the mapping's source (tests). */
  source?: Source;
  /** Makes the mapping's Salesforce source (sync/salesforce, through the vault's egress). */
  salesforce?: (m: Mapping, budget: { used: number; max: number }, onCall: () => void) => Source;
  /** Only these source references (a retry of failed rows). */
  only?: ReadonlySet<string>;
}

interface Prepared {
  row: SourceRow;
  input: Record<string, FieldValue | null>;
  external: Buffer;
  digest: Buffer;
}

const emptyReport = (m: Mapping, state: store.SyncState): PassReport => ({
  mapping: m.name,
  collection: m.collection,
  state,
  read: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  failed: 0,
  freeText: { scanned: 0, withPhi: 0, types: {} },
  drift: null,
  ms: 0,
});

export async function runPass(vault: Vault, m: Mapping, o: RunOptions = {}): Promise<PassReport> {
  const started = Date.now();
  const port = vault.syncPort();
  const c = vault.collection(m.collection);
  const saved = await store.ensureState(port.db, m.name, m.collection);
  if (saved.state === 'PAUSED') return { ...emptyReport(m, 'PAUSED'), stopped: `paused: ${saved.pausedReason ?? 'by an operator'}` };
  const today = new Date().toISOString().slice(0, 10);
  const budget = { used: saved.apiCallsDay === today ? saved.apiCalls : 0, max: m.maxDailyApiCalls };
  const source = o.source ?? openSource(vault, m, o, budget, () => void store.countApiCall(port.db, m.name).catch(() => {}));
  const report = emptyReport(m, saved.state === 'SCHEMA_CHANGED' ? 'SCHEMA_CHANGED' : 'IDLE');
  try {
    await store.setState(port.db, m.name, { state: 'POLLING' });
    const drift = await checkDrift(port, m, c, source, saved.schema, saved.state === 'SCHEMA_CHANGED');
    report.drift = drift.drift;
    if (drift.pause) {
      await store.setState(port.db, m.name, { state: 'PAUSED', pausedReason: drift.pause });
      await port.audit('sync.paused', c.name, `${m.name}: ${drift.pause}`);
      port.alert({ kind: 'sync_paused', mapping: m.name, reason: drift.pause });
      return { ...report, state: 'PAUSED', stopped: `paused: ${drift.pause}`, ms: Date.now() - started };
    }
    if (drift.schemaChanged) report.state = 'SCHEMA_CHANGED';
    // A first pass (nothing written yet) has nothing to look up: every row is new to it.
    const pass = new Pass(vault, port, m, c, report, !(await store.hasWritten(port.db, m.name)));
    let watermark = o.only ? undefined : saved.watermark;
    const batches = source.read(watermark, o.batch ?? 500)[Symbol.asyncIterator]();
    let pending: Promise<unknown> = Promise.resolve();
    let next = batches.next();
    for (;;) {
      const got = await next.catch(async (e) => {
        await pending.catch(() => {}); // the last batch's bookkeeping lands before the pass ends
        throw e;
      });
      if (got.done) break;
      const batch = got.value;
      // The next batch is read (parsed, for a file) while this one is written.
      next = batches.next();
      next.catch(() => {}); // its failure surfaces when it is awaited
      // An operator's pause stops the pass between batches.
      if ((await store.ensureState(port.db, m.name, m.collection)).state === 'PAUSED') {
        await pending.catch(() => {});
        await batches.return?.(undefined).catch(() => {});
        report.state = 'PAUSED';
        report.stopped = 'paused by an operator during the pass';
        break;
      }
      const rows = o.only ? batch.rows.filter((r) => o.only?.has(r.ref)) : batch.rows;
      let bookkeeping: Promise<void>;
      try {
        ({ bookkeeping } = await pass.batch(rows));
        await pending;
      } catch (e) {
        await pending.catch(() => {});
        await next.catch(() => {});
        await batches.return?.(undefined).catch(() => {});
        throw e;
      }
      const reached = batch.watermark;
      // The watermark moves once the batch's bookkeeping is written.
      pending = bookkeeping.then(() => (o.only ? undefined : store.setState(port.db, m.name, { watermark: reached })));
      pending.catch(() => {}); // awaited with the next batch, or after the last
      watermark = reached;
      o.onProgress?.({ mapping: m.name, read: report.read, done: batch.progress?.done, total: batch.progress?.total });
    }
    await pending;
    // A file is read whole on every pass: the next one starts at its top again.
    if (!o.only && (m.source.kind === 'csv' || m.source.kind === 'ndjson')) await store.setState(port.db, m.name, { watermark: null });
  } catch (e) {
    if (isWardError(e, 'source_auth_failed')) report.state = 'NEED_AUTHENTICATION';
    else if (isWardError(e, 'source_budget_exhausted')) report.stopped = 'the daily API budget is spent: the next pass resumes';
    else {
      await store.setState(port.db, m.name, { state: report.state === 'SCHEMA_CHANGED' ? 'SCHEMA_CHANGED' : 'IDLE' }).catch(() => {});
      throw e;
    }
    if (report.state === 'NEED_AUTHENTICATION') report.stopped = (e as WardError).message;
  } finally {
    await source.close().catch(() => {});
  }
  report.ms = Date.now() - started;
  // A pause that came while the pass ran stands.
  report.state = await store.finishPass(port.db, m.name, report.state, report);
  return report;
}

function openSource(vault: Vault, m: Mapping, o: RunOptions, budget: { used: number; max: number }, onCall: () => void): Source {
  const fields = m.fields.filter((f) => f.to).map((f) => f.source);
  switch (m.source.kind) {
    case 'csv':
      return csvSource(m.source.file);
    case 'ndjson':
      return ndjsonSource(m.source.file);
    case 'postgres':
      return postgresSource(m.source, fields, o.env ?? process.env);
    case 'salesforce':
      // Every call through the vault's egress: the instance host needs an agreement in force.
      return o.salesforce
        ? o.salesforce(m, budget, onCall)
        : salesforceSource({
            spec: m.source,
            objectName: m.name,
            fields,
            egress: vault.egress(),
            env: o.env ?? process.env,
            budget,
            onCall,
          });
  }
}

/**
 * The source's fields against the mapping and the schema last accepted: a mapped field that is
 * missing or retyped, or free text mapped without `freeText: allow`, pauses the mapping; a new
 * source field never flows and marks the schema changed (an audit event and an alert, once), until
 * `ward sync accept`.
 */
async function checkDrift(
  port: SyncPort,
  m: Mapping,
  c: Collection,
  source: Source,
  accepted: SourceField[] | null,
  /** The mapping says SCHEMA_CHANGED already: the change was announced once. */
  flagged: boolean,
): Promise<{ drift: PassReport['drift']; pause?: string; schemaChanged: boolean }> {
  const fields = await source.describe();
  if (!fields) return { drift: null, schemaChanged: false };
  const now = new Map(fields.map((f) => [f.name, f.type]));
  const mapped = m.fields.filter((f) => f.to);
  const removed = mapped.filter((f) => !now.has(f.source)).map((f) => f.source);
  const freeText = mapped.filter((f) => !f.freeText && FREE_TEXT_TYPES.has((now.get(f.source) ?? '').toLowerCase())).map((f) => f.source);
  const before = new Map((accepted ?? []).map((f) => [f.name, f.type]));
  const retyped = accepted
    ? mapped.filter((f) => before.has(f.source) && now.has(f.source) && before.get(f.source) !== now.get(f.source)).map((f) => f.source)
    : [];
  const added = accepted ? fields.filter((f) => !before.has(f.name)).map((f) => f.name) : [];
  if (!accepted) await store.setState(port.db, m.name, { schema: fields });
  const drift = { added, removed, retyped };
  if (removed.length) return { drift, pause: `mapped source field(s) ${removed.join(', ')} no longer in the source`, schemaChanged: false };
  if (retyped.length) return { drift, pause: `mapped source field(s) ${retyped.join(', ')} changed type`, schemaChanged: false };
  if (freeText.length)
    return {
      drift,
      pause: `source field(s) ${freeText.join(', ')} hold free text and are mapped without "freeText": "allow"`,
      schemaChanged: false,
    };
  if (added.length && !flagged) {
    await store.setState(port.db, m.name, { state: 'SCHEMA_CHANGED' });
    await port.audit(
      'sync.schema_changed',
      c.name,
      `${m.name}: ${added.length} new source field(s) (${added.join(', ')}); they do not flow`,
    );
    port.alert({ kind: 'sync_schema_changed', mapping: m.name, fields: added.join(',') });
  }
  return { drift, schemaChanged: added.length > 0 };
}

type Fail = (row: SourceRow, fields: string[], rule: string) => void;
type Written = { external: Buffer; recordId: string; digest: Buffer; sourceRef: string; deleted: boolean };

/** One pass's batches. */
class Pass {
  private readonly ctx: RequestContext;
  private readonly upsertTo: string;
  /** External ids this pass has handled, with the source row each came from. */
  private seen = new Map<string, string>();
  /** The batch before's external ids (with `seen`, the current batch's): two batches, bounded memory. */
  private previous = new Map<string, string>();
  /** When the pass began, by the database's clock: bookkeeping seen since then is this pass's. */
  private passStart: Date | undefined;
  private readonly fileSource: boolean;

  constructor(
    private readonly vault: Vault,
    private readonly port: SyncPort,
    private readonly m: Mapping,
    private readonly c: Collection,
    private readonly report: PassReport,
    /** Nothing written by this mapping before the pass: no row needs looking up. */
    private readonly first = false,
  ) {
    this.ctx = { principal: { id: `sync:${m.name}`, role: m.role }, purpose: m.purpose };
    this.upsertTo = m.fields.find((f) => f.source === m.upsertField)?.to as string;
    this.fileSource = m.source.kind === 'csv' || m.source.kind === 'ndjson';
  }

  /** Writes a batch's records; returns its bookkeeping, under way. */
  async batch(rows: readonly SourceRow[]): Promise<{ bookkeeping: Promise<void> }> {
    this.report.read += rows.length;
    // Duplicates within a pass: those of this batch and the one before are caught here; farther
    // apart, by the bookkeeping this pass wrote (so a file of any size is read in bounded memory).
    this.previous = this.seen;
    this.seen = new Map();
    this.passStart ??= (await this.port.db.query<{ now: Date }>('SELECT now() AS now'))[0]?.now ?? new Date();
    const errors: { sourceRef: string; fields: string[]; rule: string }[] = [];
    const fail = (row: SourceRow, fields: string[], rule: string) => {
      errors.push({ sourceRef: row.ref, fields, rule });
      this.report.failed++;
    };
    const prepared: Prepared[] = [];
    for (const row of rows) {
      if (row.unreadable) {
        fail(row, [], `unreadable: ${row.ref} ${row.unreadable}`);
        continue;
      }
      const p = this.prepare(row, fail);
      if (!p) continue;
      const key = p.external.toString('hex');
      // The same row again (changed while the pass ran, read by a later batch) is its newer version;
      // another row with the same external id is a duplicate.
      const before = this.seen.get(key) ?? this.previous.get(key);
      if (before !== undefined && (before !== row.ref || this.fileSource)) {
        fail(row, [this.m.upsertField], 'duplicate_external_id: another source row of this pass has the same external id');
        continue;
      }
      this.seen.set(key, row.ref);
      prepared.push(p);
    }
    const found = this.first
      ? []
      : await store.selectSynced(
          this.port.db,
          this.m.name,
          prepared.map((p) => p.external),
        );
    const synced = new Map(found.map((s) => [s.external.toString('hex'), s]));

    const written: Parameters<typeof store.upsertSynced>[2][number][] = [];
    const unchanged: { external: Buffer; sourceRef: string }[] = [];
    const creates: Prepared[] = [];
    for (const p of prepared) {
      const s = synced.get(p.external.toString('hex'));
      if (p.row.deleted) {
        if (s && !s.deleted) {
          const ok = await this.attempt(p.row, [], () => this.vault.delete(this.c.name, s.recordId, this.ctx), fail, true);
          if (ok) {
            this.report.deleted++;
            written.push({ external: p.external, recordId: s.recordId, digest: p.digest, sourceRef: p.row.ref, deleted: true });
          }
        } else this.report.unchanged++;
        continue;
      }
      if (s && !s.deleted && s.sourceRef !== p.row.ref && (!this.fileSource || this.seenThisPass(s))) {
        fail(p.row, [this.m.upsertField], `duplicate_external_id: source row ${s.sourceRef} has the same external id`);
        continue;
      }
      if (s && !s.deleted && s.digest.equals(p.digest)) {
        this.report.unchanged++;
        unchanged.push({ external: p.external, sourceRef: p.row.ref });
        continue;
      }
      if (s && !s.deleted) {
        const ok = await this.attempt(
          p.row,
          Object.keys(p.input),
          () => this.vault.update(this.c.name, s.recordId, p.input, this.ctx),
          fail,
          true,
        );
        if (ok === 'missing') fail(p.row, [], 'record_gone: its record was deleted or expired in Ward and is not brought back');
        else if (ok) {
          this.report.updated++;
          written.push({ external: p.external, recordId: s.recordId, digest: p.digest, sourceRef: p.row.ref, deleted: false });
        }
        continue;
      }
      creates.push(p);
    }
    written.push(...(await this.create(creates, fail)));
    // The batch's bookkeeping is written while the next batch is prepared and written (a pass cut
    // short before it is adopted by the next: see createOrAdopt).
    const bookkeeping = (async () => {
      await store.upsertSynced(this.port.db, this.m.name, written);
      await store.touchSynced(this.port.db, this.m.name, unchanged);
      await store.insertErrors(this.port.db, this.m.name, errors);
    })();
    bookkeeping.catch(() => {}); // awaited by the caller
    return { bookkeeping };
  }

  /** The row's mapped fields, transformed; undefined (and a failure kept) when it cannot flow. */
  private prepare(row: SourceRow, fail: (row: SourceRow, fields: string[], rule: string) => void): Prepared | undefined {
    const input: Record<string, FieldValue | null> = {};
    for (const f of this.m.fields) {
      if (!f.to) continue;
      const raw = Object.hasOwn(row.values, f.source) ? row.values[f.source] : undefined;
      input[f.to] = raw === undefined || raw === null || raw === '' ? null : this.transform(f, raw as FieldValue);
    }
    const external = input[this.upsertTo];
    if (external === null || external === undefined) {
      if (!row.deleted) {
        fail(row, [this.m.upsertField], 'missing_external_id: the upsert field is empty');
        return undefined;
      }
    }
    const field = this.c.fields.get(this.upsertTo);
    const parsed = field?.type.parse(external);
    const normalized = parsed?.ok && field ? field.type.normalize(parsed.value) : String(external);
    return { row, input, external: this.port.mac(this.c.name, `external/${this.m.name}`, normalized), digest: this.digestOf(input) };
  }

  /** Whether a row's bookkeeping was written by this pass. */
  private seenThisPass(s: store.SyncedRow): boolean {
    return this.passStart !== undefined && s.seenAt >= this.passStart;
  }

  /** A keyed MAC of mapped values (field order does not matter): equal values, equal digests. */
  private digestOf(input: Record<string, unknown>): Buffer {
    const sorted = Object.keys(input)
      .sort()
      .map((k) => [k, input[k]]);
    return this.port.mac(this.c.name, `digest/${this.m.name}`, JSON.stringify(sorted));
  }

  private transform(f: FieldMapping, raw: FieldValue): FieldValue {
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
    switch (f.transform) {
      case 'tokenize':
        // `stk_`: a sync token, never taken for one of Ward's own (`dtk_`, `tok_`).
        return `stk_${this.port.mac(this.c.name, `tokenize/${this.m.name}/${f.to}`, text).toString('base64url').slice(0, 24)}`;
      case 'hash':
        return this.port.mac(this.c.name, `hash/${this.m.name}/${f.to}`, text).toString('hex');
      case 'mask':
        return applyMask(f.mask as NonNullable<FieldMapping['mask']>, raw);
      default:
        if (f.freeText && typeof raw === 'string') this.scanFreeText(raw);
        return raw;
    }
  }

  private scanFreeText(text: string): void {
    const found = detect(text);
    const r = this.report.freeText;
    r.scanned++;
    if (!found.length) return;
    r.withPhi++;
    for (const t of new Set(found.map((x) => x.type))) r.types[t] = (r.types[t] ?? 0) + 1;
  }

  /**
   * Creates new rows: optimistically in one createMany (which validates every record); only a
   * batch it refuses is validated row by row here, its bad rows kept as failures and the rest
   * created; a batch that meets an existing record (a pass cut short after its creates) one by one.
   */
  private async create(creates: Prepared[], fail: Fail): Promise<Written[]> {
    let batch = creates.map((p) => ({
      p,
      record: Object.fromEntries(Object.entries(p.input).filter(([, v]) => v !== null)) as Record<string, FieldValue>,
    }));
    for (let attempt = 0; batch.length && attempt < 2; attempt++) {
      try {
        const { ids } = await this.vault.createMany(
          this.c.name,
          batch.map((v) => v.record),
          this.ctx,
        );
        this.report.created += ids.length;
        return batch.map((v, i) => ({
          external: v.p.external,
          recordId: ids[i] as string,
          digest: v.p.digest,
          sourceRef: v.p.row.ref,
          deleted: false,
        }));
      } catch (e) {
        if (isWardError(e, 'unique_violation')) break;
        if (!isWardError(e, 'validation_failed') || attempt > 0) throw e;
        batch = batch.filter((v) => {
          try {
            validateRecord(this.c, v.record);
            return true;
          } catch (err) {
            if (!isWardError(err)) throw err;
            fail(
              v.p.row,
              err.issues.map((i) => i.field),
              ruleOf(err),
            );
            return false;
          }
        });
      }
    }
    const out: Written[] = [];
    for (const v of batch) {
      const id = await this.createOrAdopt(v.p, v.record, fail);
      if (id) out.push({ external: v.p.external, recordId: id, digest: v.p.digest, sourceRef: v.p.row.ref, deleted: false });
    }
    return out;
  }

  private async createOrAdopt(
    p: Prepared,
    record: Record<string, FieldValue>,
    fail: (row: SourceRow, fields: string[], rule: string) => void,
  ): Promise<string | undefined> {
    try {
      const { id } = await this.vault.create(this.c.name, record, this.ctx);
      this.report.created++;
      return id;
    } catch (e) {
      if (!isWardError(e, 'unique_violation')) {
        if (!isWardError(e)) throw e;
        fail(
          p.row,
          e.issues.map((i) => i.field),
          ruleOf(e),
        );
        return undefined;
      }
    }
    // Another row of this pass wrote this external id (its bookkeeping is there by now): a duplicate.
    const [mine] = await store.selectSynced(this.port.db, this.m.name, [p.external]);
    if (mine && !mine.deleted && mine.sourceRef !== p.row.ref && (!this.fileSource || this.seenThisPass(mine))) {
      fail(p.row, [this.m.upsertField], `duplicate_external_id: source row ${mine.sourceRef} has the same external id`);
      return undefined;
    }
    const targets = Object.keys(p.input);
    const [found] = await this.vault.search(this.c.name, { [this.upsertTo]: record[this.upsertTo] }, { fields: targets }, this.ctx);
    if (!found) {
      fail(p.row, [], 'unique_violation: a unique field other than the external id holds this value in another record');
      return undefined;
    }
    // Written by a pass that stopped before its bookkeeping: adopted as it is when its values are the row's.
    if (this.digestOf(Object.fromEntries(targets.map((k) => [k, found.fields[k] ?? null]))).equals(p.digest)) {
      this.report.unchanged++;
      return found.id;
    }
    const ok = await this.attempt(
      p.row,
      Object.keys(p.input),
      () => this.vault.update(this.c.name, found.id, p.input, this.ctx),
      fail,
      false,
    );
    if (!ok) return undefined;
    this.report.updated++;
    return found.id;
  }

  /** Runs one write; a refusal of this row (not of the whole sync) is kept as its failure. `missing` when the record is gone. */
  private async attempt(
    row: SourceRow,
    fields: string[],
    write: () => Promise<unknown>,
    fail: (row: SourceRow, fields: string[], rule: string) => void,
    missingOk: boolean,
  ): Promise<boolean | 'missing'> {
    try {
      await write();
      return true;
    } catch (e) {
      if (!isWardError(e)) throw e;
      if (missingOk && (e.code === 'not_found' || e.code === 'record_expired')) return 'missing';
      if (['forbidden', 'purpose_required', 'purpose_not_permitted', 'audit_failed', 'database_error'].includes(e.code)) throw e;
      fail(row, e.issues.length ? e.issues.map((i) => i.field) : fields, ruleOf(e));
      return false;
    }
  }
}

/** A failure's rule: its code and the checks that failed, by field (validation messages name rules, never values). */
function ruleOf(e: WardError): string {
  return e.issues.length ? `${e.code}: ${e.issues.map((i) => `${i.field} ${i.reason}`).join('; ')}` : e.code;
}

/** The advisory lock one sync runner holds across processes and servers. */
export const SYNC_LOCK = 2002874993;

/** Runs `work` as the one active sync runner; refused while another process runs one. */
export async function runExclusive<T>(vault: Vault, work: () => Promise<T>): Promise<T> {
  const leader = new Leader(vault.syncPort().db, SYNC_LOCK);
  if (!(await leader.lead()))
    throw new WardError('invalid_request', 'a sync is running in another process (ward serve or ward sync run); run again when it ends');
  try {
    return await work();
  } finally {
    await leader.resign();
  }
}
