/**
 * jsforce's way out: a jsforce `Transport` that sends every request through Ward's egress client,
 * so a call to Salesforce (the OAuth token, a query, a describe) is held to the rules of any other
 * outbound request (see client.ts): HTTPS with the certificate verified, the host covered by an
 * agreement in force for the scope given, its address allowed and pinned, and the request audited
 * (host, purpose, bytes, status; never a body or a header).
 *
 * jsforce 3 sends everything through one method, `Transport.httpRequest`: its `Connection` (the
 * REST calls, through `HttpApi`) and its `OAuth2` (the token endpoint) each hold a transport in
 * `_transport`. `routeThroughEgress` replaces both with this one; the default transport's own
 * HTTP client (node-fetch, in jsforce/lib/request) is then never reached: this transport does not
 * call it, and `getRequestStreamCreator`, the only way to it, throws. jsforce's retries (which live
 * in that client) are therefore gone too: a failed request is the caller's to retry.
 *
 * A request egress cannot send (PATCH, DELETE, a stream or form body) is refused with
 * `egress_denied`; nothing is sent.
 */
import { PassThrough } from 'node:stream';
import type { Connection } from 'jsforce/lib/connection.js';
import { Transport } from 'jsforce/lib/transport.js';
import type { HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce/lib/types/common.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import { WardError } from '../errors.js';
import { type Egress, type EgressRequest, HOP_BY_HOP, type PayloadScope } from './client.js';

/** Headers about the connection, not the request: egress owns the connection (and sets the host and length). */
const CONNECTION_HEADERS = new Set([...HOP_BY_HOP, 'host', 'content-length']);
const METHODS: readonly string[] = ['GET', 'POST', 'PUT'] satisfies readonly NonNullable<EgressRequest['method']>[];

/** What a request is, for `before`: its method and absolute URL (never its headers or body). */
export interface OutboundCall {
  method: string;
  url: string;
}

export interface EgressTransportOptions {
  /** Why Ward sends it: audited with each request. */
  purpose: string;
  /** The scope a request to `url` needs (the token endpoint's body holds no PHI; a query's answer does). */
  scope: (call: OutboundCall) => PayloadScope;
  /** Called before each request is handed to egress; throwing stops it (a budget spent). */
  before?: (call: OutboundCall) => void;
}

function bodyOf(body: HttpRequest['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) return body.toString();
  throw new WardError('egress_denied', 'the request was not sent: a Salesforce request body must be text or bytes, not a stream or form');
}

/** A jsforce transport over `egress`: each request is sent with `egress.send`, redirects not followed. */
export class EgressTransport extends Transport {
  constructor(
    private readonly egress: Pick<Egress, 'send'>,
    private readonly o: EgressTransportOptions,
  ) {
    super();
  }

  override httpRequest(req: HttpRequest, _options?: HttpRequestOptions): StreamPromise<HttpResponse> {
    return StreamPromise.create(() => {
      // jsforce pipes a request stream into its own; the answer is written to it once complete.
      const stream = new PassThrough();
      const promise = this.send(req).then(
        (res) => {
          stream.end(res.body);
          return res;
        },
        (e: unknown) => {
          stream.end();
          throw e;
        },
      );
      return { stream, promise };
    });
  }

  /** The default transport's own HTTP client: never used through this transport. */
  override getRequestStreamCreator(): never {
    throw new WardError('egress_denied', 'the request was not sent: jsforce may send only through Ward egress');
  }

  private async send(req: HttpRequest): Promise<HttpResponse> {
    const method = String(req.method).toUpperCase();
    if (!METHODS.includes(method))
      throw new WardError('egress_denied', `the request was not sent: egress sends ${METHODS.join(', ')} only`);
    const call = { method, url: req.url };
    const body = bodyOf(req.body);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      const lower = name.toLowerCase();
      if (!CONNECTION_HEADERS.has(lower) && typeof value === 'string') headers[lower] = value;
    }
    this.o.before?.(call);
    const res = await this.egress.send({
      url: req.url,
      method: method as NonNullable<EgressRequest['method']>,
      headers,
      ...(body === undefined ? {} : { body }),
      purpose: this.o.purpose,
      scope: this.o.scope(call),
    });
    const answer: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers))
      if (value !== undefined) answer[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    return { statusCode: res.status, headers: answer, body: res.body.toString('utf8') };
  }
}

/**
 * Makes `conn` send through `transport` only: its REST calls and its OAuth2 token requests.
 * Returns a check to run before each use, which throws if jsforce has put another transport back.
 */
export function routeThroughEgress(conn: Connection, transport: EgressTransport): () => void {
  conn._transport = transport;
  conn.oauth2._transport = transport;
  return () => {
    if (conn._transport !== transport || conn.oauth2._transport !== transport)
      throw new WardError('egress_denied', 'the request was not sent: the Salesforce client is no longer routed through Ward egress');
  };
}
