/** The client's surface, one method per operation of the API (packages/sdk/openapi.json names them). */
import type { CallOptions, PhiOptions } from './client.js';
import type { StreamOptions } from './sse.js';
import type {
  Agreement,
  AgreementInput,
  ApiKey,
  ApiKeyInput,
  AuditPage,
  BreakGlassUse,
  Checkpoint,
  CollectionMap,
  ComplianceReport,
  Created,
  CreatedApiKey,
  DetokenizedValues,
  EventPage,
  RotatedApiKey,
  SearchValue,
  Status,
  Updated,
  VerifyReport,
  WardEvent,
  WardRecord,
} from './types.js';

/** Options of a read: which fields (default all the grant shows) and whether masked. */
export interface ReadOptions<F> extends PhiOptions {
  fields?: readonly (keyof F & string)[] | undefined;
  /** Show fields that declare a mask masked; default false. */
  masked?: boolean | undefined;
}

export interface SearchOptions<F> extends ReadOptions<F> {
  /** At most this many records, 1 to 1000; default 100. */
  limit?: number | undefined;
}

/** A page of the audit trail: events after `after` (a page's `next`), at most `limit` (1 to 1000, default 100). */
export interface PageFilter extends CallOptions {
  since?: Date | string | undefined;
  until?: Date | string | undefined;
  after?: string | undefined;
  limit?: number | undefined;
}

export interface AuditFilter extends PageFilter {
  recordId?: string | undefined;
  /** `key:<prefix>`, or `anonymous`. */
  actor?: string | undefined;
}

export interface EventReadOptions extends CallOptions {
  /** The position to read after: 0 (default) or a page's `next`. */
  after?: number | undefined;
  /** Events per page, 1 to 1000; default 100. */
  limit?: number | undefined;
  /** Seconds to wait for an event when there is none yet (long poll), 0 to 30; default 0. */
  wait?: number | undefined;
}

/** A collection's name, its create input, update patch and readable fields. */
type Name<C> = keyof C & string;
type Create<C, K extends keyof C> = C[K] extends { create: infer T } ? T : never;
type Update<C, K extends keyof C> = C[K] extends { update: infer T } ? T : never;
type Fields<C, K extends keyof C> = C[K] extends { fields: infer T extends object } ? T : never;
/** A search's equalities: searchable fields of the collection (ward.yaml `search: exact`) and values. */
type Where<F> = { [P in keyof F]?: SearchValue };

export interface WardClient<C extends CollectionMap<C>> {
  records: {
    /** Creates a record; answers its id, version 1 and the tokens of its tokenized fields. */
    create<K extends Name<C>>(collection: K, input: Create<C, K>, options?: PhiOptions): Promise<Created>;
    /** Creates records, all of them or none; answers their ids in order. */
    batch<K extends Name<C>>(collection: K, inputs: readonly Create<C, K>[], options?: PhiOptions): Promise<string[]>;
    /** Reads a record: the fields the role may see, masked as its grant says. */
    get<K extends Name<C>>(collection: K, id: string, options?: ReadOptions<Fields<C, K>>): Promise<WardRecord<Fields<C, K>>>;
    /** Changes some fields (null removes one); answers the new version. */
    update<K extends Name<C>>(collection: K, id: string, patch: Update<C, K>, options?: PhiOptions): Promise<Updated>;
    delete<K extends Name<C>>(collection: K, id: string, options?: PhiOptions): Promise<void>;
    /** Equality search on searchable fields (blind indexes), ANDed. */
    search<K extends Name<C>>(
      collection: K,
      where: Where<Fields<C, K>>,
      options?: SearchOptions<Fields<C, K>>,
    ): Promise<WardRecord<Fields<C, K>>[]>;
    /** Crypto-shreds the subject of a record (roles granted `shred`); answers the ids of every record shredded. */
    shredSubject<K extends Name<C>>(collection: K, recordId: string, options?: PhiOptions): Promise<string[]>;
  };
  /** The current values behind tokens (all of them, or an error). */
  detokenize(tokens: readonly string[], options?: PhiOptions): Promise<DetokenizedValues>;
  audit: {
    /** Audit events, oldest first (roles with `audit: true`). */
    events(filter?: AuditFilter): Promise<AuditPage>;
    /** The accounting of disclosures of one record (45 CFR 164.528). */
    disclosures(recordId: string, filter?: PageFilter): Promise<AuditPage>;
    /** Verifies the sealed log incrementally; `complete: false` means call again. At most 6 calls a minute. */
    verify(options?: CallOptions): Promise<VerifyReport>;
    /** The newest signed checkpoint (404 `not_found` before the first seal). */
    checkpoint(options?: CallOptions): Promise<Checkpoint>;
    /** Break-glass uses, newest first. */
    breakGlassUses(filter?: CallOptions & { unreviewed?: boolean | undefined; limit?: number | undefined }): Promise<BreakGlassUse[]>;
    /** Marks a break-glass use reviewed (by someone other than who declared it). */
    reviewBreakGlass(id: string, note?: string, options?: CallOptions): Promise<BreakGlassUse>;
  };
  /** The same as `audit.verify`. */
  verify(options?: CallOptions): Promise<VerifyReport>;
  events: {
    /** A page of a topic's events after a position, oldest first. */
    read(topic: string, options?: EventReadOptions): Promise<EventPage>;
    /**
     * A topic's events as they commit, over Server-Sent Events: `for await (const e of
     * client.events.stream(topic, { after }))`. Reconnects by itself, resuming after the last
     * event; ends when `signal` aborts; throws a WardError on a refusal (401, 403, 404).
     */
    stream(topic: string, options?: StreamOptions): AsyncGenerator<WardEvent, void, undefined>;
    /** Each readable topic's JSON Schema. */
    schemas(options?: CallOptions): Promise<Record<string, Record<string, unknown>>>;
  };
  compliance: {
    /** Runs the HIPAA checks (roles with `audit: true` or `admin: true`). */
    checks(options?: CallOptions): Promise<ComplianceReport>;
  };
  admin: {
    apiKeys: {
      /** Creates a key for a role; `key` is in this answer only. */
      create(input: ApiKeyInput, options?: CallOptions): Promise<CreatedApiKey>;
      list(options?: CallOptions): Promise<ApiKey[]>;
      /** A successor key for the same role; the old one ends after `overlap` (default 7d). */
      rotate(id: string, options?: CallOptions & { overlap?: string | undefined }): Promise<RotatedApiKey>;
      /** Revokes a key, effective on its next request. */
      revoke(id: string, options?: CallOptions): Promise<void>;
    };
    agreements: {
      /** Records a Business Associate Agreement. */
      add(input: AgreementInput, options?: CallOptions): Promise<Agreement>;
      list(options?: CallOptions): Promise<Agreement[]>;
      revoke(id: string, options?: CallOptions): Promise<void>;
    };
  };
  /** Liveness (no key needed). */
  health(options?: CallOptions): Promise<Status>;
  /** Readiness: throws WardError `database_error` (503) when the database does not answer. */
  ready(options?: CallOptions): Promise<Status>;
  /** The server's OpenAPI document (what `npm run sdk:generate -- --from` reads). */
  openapi(options?: CallOptions): Promise<Record<string, unknown>>;
}
