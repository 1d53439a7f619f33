/**
 * The AWS SDK's way out: an HTTP handler (the Smithy `HttpHandler` an AWS SDK v3 client takes as
 * `requestHandler`) that sends every request through Ward's egress client, so a call to AWS is
 * held to the rules of any other outbound request (see client.ts): HTTPS with the certificate
 * verified, the host covered by an agreement in force for the scope given, its address allowed and
 * pinned, and the request audited (host, purpose, bytes, status; never a body or a header).
 *
 * The SDK signs the request (SigV4) before it reaches this handler; the handler sends it as
 * signed and changes nothing the signature covers. It refuses a Host header that names another
 * host than the URL (egress checks the URL's host: the request may not be routed by another
 * name), a body it cannot send as bytes (a stream), and a method egress does not send.
 */
import type { HttpHandler } from '@smithy/core/protocols';
import type { HttpHandlerOptions, HttpRequest, HttpResponse, QueryParameterBag } from '@smithy/types';
import { WardError } from '../errors.js';
import { type Egress, type EgressRequest, HOP_BY_HOP, type PayloadScope } from './client.js';

/** Headers about the connection, not the request: egress owns the connection, so they are not passed on (none is signed). */
const CONNECTION_HEADERS = new Set(HOP_BY_HOP);
const METHODS: readonly string[] = ['GET', 'POST', 'PUT'] satisfies readonly NonNullable<EgressRequest['method']>[];

/** RFC 3986 percent-encoding, as SigV4 canonicalizes query strings. */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: QueryParameterBag | undefined): string {
  const parts: string[] = [];
  for (const key of Object.keys(query ?? {}).sort()) {
    const value = query?.[key];
    if (value === null || value === undefined) parts.push(rfc3986(key));
    else for (const v of Array.isArray(value) ? value : [value]) parts.push(`${rfc3986(key)}=${rfc3986(v)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The URL a Smithy request addresses (credentials in it are kept, for egress to refuse). */
function urlOf(r: HttpRequest): string {
  const bracketed = r.hostname.includes(':') && !r.hostname.startsWith('[') ? `[${r.hostname}]` : r.hostname;
  const user = r.username || r.password ? `${rfc3986(r.username ?? '')}:${rfc3986(r.password ?? '')}@` : '';
  const path = r.path.startsWith('/') ? r.path : `/${r.path}`;
  return `${r.protocol.replace(/:?$/, ':')}//${user}${bracketed}${r.port ? `:${r.port}` : ''}${path}${queryString(r.query)}`;
}

/** Whether a Host header names the URL's host and port (the default port written or not). */
function sameHost(header: string, url: string): boolean {
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(header)) return false;
  try {
    const u = new URL(url);
    return new URL(`${u.protocol}//${header}`).host === u.host;
  } catch {
    return false;
  }
}

function bodyOf(body: unknown): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new WardError('egress_denied', 'the request was not sent: an AWS request body must be bytes or text, not a stream');
}

/**
 * An AWS SDK request handler over `egress`: each request is sent with `egress.send`, under
 * `purpose` (audited) and `scope` (which agreements may cover it). Redirects are not followed.
 */
export class EgressHttpHandler implements HttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(
    private readonly egress: Pick<Egress, 'send'>,
    private readonly purpose: string,
    private readonly scope: PayloadScope,
  ) {}

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    if (options.abortSignal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    const method = request.method.toUpperCase();
    if (!METHODS.includes(method))
      throw new WardError('egress_denied', `the request was not sent: egress sends ${METHODS.join(', ')} only`);
    const url = urlOf(request);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'host' && !sameHost(value, url))
        throw new WardError('egress_denied', 'the request was not sent: its Host header names another host than its URL');
      if (!CONNECTION_HEADERS.has(lower)) headers[lower] = value;
    }
    const body = bodyOf(request.body);
    const res = await this.egress.send({
      url,
      method: method as NonNullable<EgressRequest['method']>,
      headers,
      ...(body === undefined ? {} : { body }),
      purpose: this.purpose,
      scope: this.scope,
    });
    const answer: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers))
      if (value !== undefined) answer[name] = Array.isArray(value) ? value.join(', ') : value;
    return { response: { statusCode: res.status, headers: answer, body: res.body } };
  }

  /** Egress has no settings a client may change: nothing to update. */
  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  /** Egress holds no connection between requests: nothing to release. */
  destroy(): void {}
}
