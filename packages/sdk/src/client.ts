/**
 * `createClient`: Ward's API as typed methods over openapi-fetch. Every method answers the
 * server's JSON or throws a WardError; records are typed per collection through the generated
 * `Collections` map (or a team's own, generated from its server: see the README).
 */
import createFetchClient from 'openapi-fetch';
import type { WardClient } from './api.js';
import { errorFromResponse, networkError, WardError } from './errors.js';
import type { Collections, paths } from './schema.js';
import { eventStream, type StreamOptions } from './sse.js';
import { type Fetch, retrying } from './transport.js';
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
  Status,
  Updated,
  VerifyReport,
} from './types.js';

export interface ClientOptions {
  /** The Ward server's URL, e.g. `https://ward.internal:8443`. */
  baseUrl: string;
  /** An API key (`ward_...`), sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Default purpose of use (`Ward-Purpose`) for record and detokenize calls; a call's own `purpose` wins. Default none. */
  purpose?: string | undefined;
  /**
   * Default break-glass reason (`Ward-Break-Glass`, 20 to 500 characters) for record and
   * detokenize calls: every such call then declares emergency access, audited and alerted.
   * Default none; prefer a call's own `breakGlass`.
   */
  breakGlass?: string | undefined;
  /** The fetch to call (a proxy agent's, a test's); default the global fetch. */
  fetch?: Fetch | undefined;
  /** Extra tries of an idempotent call (GET, DELETE) answered 503, or of a read whose connection failed; default 2. */
  retries?: number | undefined;
}

/** Options of every call. */
export interface CallOptions {
  /** Aborts the call (it then rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
}

/** Options of calls that touch PHI (records, detokenize). */
export interface PhiOptions extends CallOptions {
  /** Purpose of use for this call; default the client's. */
  purpose?: string | undefined;
  /** Break-glass reason for this call; default the client's. */
  breakGlass?: string | undefined;
}

const noSignal = (o?: CallOptions) => (o?.signal ? { signal: o.signal } : {});

/** Awaits an openapi-fetch call: its data, or a WardError (a problem, no answer, an unreadable answer). */
async function run<R extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<R>,
  o?: CallOptions,
): Promise<NonNullable<R['data']>> {
  let r: R;
  try {
    r = await call;
  } catch (e) {
    if (o?.signal?.aborted) throw o.signal.reason;
    if (e instanceof SyntaxError) throw new WardError({ code: 'unexpected_response', status: 0, title: 'The answer is not valid JSON' });
    throw networkError(e);
  }
  if (!r.response.ok) throw errorFromResponse(r.response, r.error);
  return r.data as NonNullable<R['data']>;
}

/** A date-time filter as the API takes it. */
const instant = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString());

function checkOptions(o: ClientOptions): void {
  if (typeof o?.baseUrl !== 'string' || !/^https?:\/\/[^/]/.test(o.baseUrl))
    throw new TypeError('createClient: baseUrl must be an http(s) URL');
  if (typeof o.apiKey !== 'string' || !o.apiKey) throw new TypeError('createClient: apiKey is required');
  const r = o.retries;
  if (r !== undefined && !(Number.isInteger(r) && r >= 0 && r <= 10))
    throw new TypeError('createClient: retries must be an integer from 0 to 10');
}

/**
 * A client for one Ward server and API key. `C` is the server's collections (default: those
 * of packages/sdk/openapi.json, Ward's example); pass your generated `Collections` for yours.
 */
export function createClient<C extends CollectionMap<C> = Collections>(options: ClientOptions): WardClient<C> {
  checkOptions(options);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetch: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
  const authorization = `Bearer ${options.apiKey}`;
  const api = createFetchClient<paths>({ baseUrl, fetch: retrying(fetch, options.retries ?? 2), headers: { authorization } });
  const phi = (o?: PhiOptions) => {
    const purpose = o?.purpose ?? options.purpose;
    const breakGlass = o?.breakGlass ?? options.breakGlass;
    return {
      ...(purpose === undefined ? {} : { 'ward-purpose': purpose }),
      ...(breakGlass === undefined ? {} : { 'ward-break-glass': breakGlass }),
    };
  };
  const record = (c: string, id: string) => ({ c, id });

  const verify = async (o?: CallOptions): Promise<VerifyReport> => run(api.GET('/v1/audit/verify', noSignal(o)), o);
  const page = (f: {
    after?: string | undefined;
    limit?: number | undefined;
    since?: Date | string | undefined;
    until?: Date | string | undefined;
  }) => ({
    ...(f.after === undefined ? {} : { after: f.after }),
    ...(f.limit === undefined ? {} : { limit: String(f.limit) }),
    ...(f.since === undefined ? {} : { since: instant(f.since) }),
    ...(f.until === undefined ? {} : { until: instant(f.until) }),
  });

  return {
    records: {
      create: async (c, input, o) =>
        (await run(
          api.POST('/v1/collections/{c}/records', {
            params: { path: { c }, header: phi(o) },
            // The document's bodies are Ward's example collections; `C` holds the caller's.
            body: input as never,
            ...noSignal(o),
          }),
          o,
        )) as Created,
      batch: async (c, inputs, o) =>
        (
          await run(
            api.POST('/v1/collections/{c}/records:batch', {
              params: { path: { c }, header: phi(o) },
              body: { records: inputs as never },
              ...noSignal(o),
            }),
            o,
          )
        ).ids as string[],
      get: async (c, id, o) =>
        (await run(
          api.GET('/v1/collections/{c}/records/{id}', {
            params: {
              path: record(c, id),
              header: phi(o),
              query: {
                ...(o?.fields ? { fields: o.fields.join(',') } : {}),
                ...(o?.masked === undefined ? {} : { masked: o.masked ? 'true' : 'false' }),
              },
            },
            ...noSignal(o),
          }),
          o,
        )) as never,
      update: async (c, id, patch, o) =>
        (await run(
          api.PATCH('/v1/collections/{c}/records/{id}', {
            params: { path: record(c, id), header: phi(o) },
            body: patch as never,
            ...noSignal(o),
          }),
          o,
        )) as Updated,
      delete: async (c, id, o) => {
        await run(api.DELETE('/v1/collections/{c}/records/{id}', { params: { path: record(c, id), header: phi(o) }, ...noSignal(o) }), o);
      },
      search: async (c, where, o) =>
        (
          await run(
            api.POST('/v1/collections/{c}/search', {
              params: { path: { c }, header: phi(o) },
              body: {
                where: where as Record<string, string | number | boolean>,
                ...(o?.fields ? { fields: [...o.fields] } : {}),
                ...(o?.limit === undefined ? {} : { limit: o.limit }),
                ...(o?.masked === undefined ? {} : { masked: o.masked }),
              },
              ...noSignal(o),
            }),
            o,
          )
        ).records as never,
      shredSubject: async (c, recordId, o) =>
        (
          await run(
            api.POST('/v1/collections/{c}/subjects/shred', {
              params: { path: { c }, header: phi(o) },
              body: { recordId },
              ...noSignal(o),
            }),
            o,
          )
        ).shredded as string[],
    },

    detokenize: async (tokens, o) =>
      (await run(api.POST('/v1/detokenize', { params: { header: phi(o) }, body: { tokens: [...tokens] }, ...noSignal(o) }), o))
        .values as DetokenizedValues,

    audit: {
      events: async (f = {}) =>
        (await run(
          api.GET('/v1/audit/events', {
            params: {
              query: {
                ...page(f),
                ...(f.recordId === undefined ? {} : { recordId: f.recordId }),
                ...(f.actor === undefined ? {} : { actor: f.actor }),
              },
            },
            ...noSignal(f),
          }),
          f,
        )) as AuditPage,
      disclosures: async (recordId, f = {}) =>
        (await run(
          api.GET('/v1/audit/subjects/{recordId}/disclosures', { params: { path: { recordId }, query: page(f) }, ...noSignal(f) }),
          f,
        )) as AuditPage,
      verify,
      checkpoint: async (o) => (await run(api.GET('/v1/audit/checkpoint', noSignal(o)), o)) as Checkpoint,
      breakGlassUses: async (f = {}) =>
        (
          await run(
            api.GET('/v1/audit/break-glass', {
              params: {
                query: {
                  ...(f.unreviewed === undefined ? {} : { unreviewed: f.unreviewed ? 'true' : 'false' }),
                  ...(f.limit === undefined ? {} : { limit: String(f.limit) }),
                },
              },
              ...noSignal(f),
            }),
            f,
          )
        ).uses as BreakGlassUse[],
      reviewBreakGlass: async (id, note, o) =>
        (await run(
          api.POST('/v1/audit/break-glass/{id}/review', {
            params: { path: { id } },
            body: note === undefined ? {} : { note },
            ...noSignal(o),
          }),
          o,
        )) as BreakGlassUse,
    },
    verify,

    events: {
      read: async (topic, o = {}) =>
        (await run(
          api.GET('/v1/events/{topic}', {
            params: {
              path: { topic },
              query: {
                ...(o.after === undefined ? {} : { after: String(o.after) }),
                ...(o.limit === undefined ? {} : { limit: String(o.limit) }),
                ...(o.wait === undefined ? {} : { wait: String(o.wait) }),
              },
            },
            ...noSignal(o),
          }),
          o,
        )) as EventPage,
      stream: (topic: string, o?: StreamOptions) =>
        eventStream(fetch, `${baseUrl}/v1/events/${encodeURIComponent(topic)}/stream`, { authorization }, o),
      schemas: async (o) => (await run(api.GET('/v1/events/schemas', noSignal(o)), o)).topics as Record<string, Record<string, unknown>>,
    },

    compliance: {
      checks: async (o) => (await run(api.GET('/v1/compliance/checks', noSignal(o)), o)) as ComplianceReport,
    },

    admin: {
      apiKeys: {
        create: async (input: ApiKeyInput, o) =>
          (await run(api.POST('/v1/admin/api-keys', { body: input, ...noSignal(o) }), o)) as CreatedApiKey,
        list: async (o) => (await run(api.GET('/v1/admin/api-keys', noSignal(o)), o)).keys as ApiKey[],
        rotate: async (id, r = {}) =>
          (await run(
            api.POST('/v1/admin/api-keys/{id}/rotate', {
              params: { path: { id } },
              body: r.overlap === undefined ? {} : { overlap: r.overlap },
              ...noSignal(r),
            }),
            r,
          )) as RotatedApiKey,
        revoke: async (id, o) => {
          await run(api.DELETE('/v1/admin/api-keys/{id}', { params: { path: { id } }, ...noSignal(o) }), o);
        },
      },
      agreements: {
        add: async (input: AgreementInput, o) => (await run(api.POST('/v1/admin/baa', { body: input, ...noSignal(o) }), o)) as Agreement,
        list: async (o) => (await run(api.GET('/v1/admin/baa', noSignal(o)), o)).agreements as Agreement[],
        revoke: async (id, o) => {
          await run(api.DELETE('/v1/admin/baa/{id}', { params: { path: { id } }, ...noSignal(o) }), o);
        },
      },
    },

    health: async (o) => (await run(api.GET('/healthz', noSignal(o)), o)) as Status,
    ready: async (o) => (await run(api.GET('/readyz', noSignal(o)), o)) as Status,
    openapi: async (o) => (await run(api.GET('/openapi.json', noSignal(o)), o)) as Record<string, unknown>,
  };
}
