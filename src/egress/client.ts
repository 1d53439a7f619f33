/**
 * The one way out: every outbound HTTP request Ward makes goes through `Egress.send`, which sends
 * it only if
 * - it is HTTPS, with the certificate verified and TLS 1.2 or later;
 * - its host is covered by a Business Associate Agreement in force whose scope fits the payload
 *   (PHI, or a reference to it such as a token, needs a `phi` agreement);
 * - the address the host resolves to is public (not loopback, private, link-local, CGNAT or
 *   multicast) unless a nonproduction space allows private addresses; a cloud metadata address is
 *   never allowed. The host is resolved once and the connection pinned to that address, so DNS
 *   rebinding cannot move it elsewhere.
 * A redirect is followed only to a URL that passes the same checks. Every request, sent or
 * refused, is reported to `audit` (destination host, purpose, bytes, status, outcome; never a
 * body); a refusal is `egress_denied`.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate, rootCertificates, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { WardError } from '../errors.js';
import { normalHost } from '../util/hosts.js';

export type PayloadScope = 'phi' | 'no-phi';

/** Headers about a connection, not a request: egress owns its connections, so adapters drop them. */
export const HOP_BY_HOP: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
];

export interface EgressRecord {
  /** The destination host (from configuration, never from a client), or null when the URL had none. */
  host: string | null;
  purpose: string;
  /** Bytes of the request body. */
  bytes: number;
  status: number | null;
  outcome: 'sent' | 'denied' | 'failed';
  /** Why it was refused or failed: not_https, not_covered, address_not_allowed, unresolvable, network_error. */
  reason: string | null;
  /** The agreement that covered it. */
  agreement: string | null;
}

export interface EgressOptions {
  /** The agreement in force covering a host for a scope (the vault's registry). */
  covering(host: string, scope: PayloadScope): Promise<{ id: string } | undefined>;
  /** Reports every request, sent or refused. If it throws, nothing is sent. */
  audit(record: EgressRecord): Promise<void>;
  /** Nonproduction spaces only: allow loopback and private addresses (a local receiver). */
  allowPrivate?: boolean;
  /** Extra CA certificates (PEM) trusted besides the system's: a private PKI. */
  ca?: string | readonly string[];
  /** Resolves a host name to its addresses (default: the system resolver). */
  resolve?: (host: string) => Promise<readonly { address: string; family: number }[]>;
  timeoutMs?: number;
}

export interface EgressRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Why Ward sends it (`webhook`, `log-drain`, `alert`): a name Ward chose, audited. */
  purpose: string;
  /** What the body holds: `phi` for PHI or references to it (tokens, record ids), else `no-phi`. */
  scope: PayloadScope;
  /** Redirects to follow for a GET, each checked like the first request (default 0: none); another method's 3xx is its answer. */
  maxRedirects?: number;
}

export interface EgressResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Addresses a request may not reach unless private ones are allowed. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');
/** Cloud metadata services: never reachable, whatever the space allows. */
const METADATA = new BlockList();
METADATA.addAddress('169.254.169.254', 'ipv4');
METADATA.addAddress('169.254.170.2', 'ipv4');
METADATA.addAddress('fd00:ec2::254', 'ipv6');

const family = (a: string) => (isIP(a) === 6 ? 'ipv6' : 'ipv4');

/**
 * The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d, ::ffff:xxxx:yyyy) stands for, so it
 * is judged as that address. (A ::ffff:0:0/96 rule in a BlockList would also match every plain
 * IPv4 address: Node compares IPv4 addresses with IPv4-mapped ranges.)
 */
function unmapped(address: string): string {
  const m = /^(?:0{0,4}:){0,5}:?ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!m || isIP(address) !== 6) return address;
  if (m[1]) return m[1];
  const hi = Number.parseInt(m[2] as string, 16);
  const lo = Number.parseInt(m[3] as string, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Why an address may not be reached, or undefined. */
export function addressRefusal(raw: string, allowPrivate: boolean): string | undefined {
  const address = unmapped(raw);
  const f = family(address);
  if (METADATA.check(address, f)) return 'metadata_address';
  if (!allowPrivate && PRIVATE.check(address, f)) return 'address_not_allowed';
  return undefined;
}

const MAX_ANSWER_BYTES = 1024 * 1024;
const denied = (why: string) => new WardError('egress_denied', `the request was not sent: ${why}`);

export class Egress {
  private readonly resolve: NonNullable<EgressOptions['resolve']>;
  private readonly ca: string[] | undefined;

  constructor(private readonly o: EgressOptions) {
    this.resolve = o.resolve ?? ((host) => lookup(host, { all: true, verbatim: true }));
    this.ca = o.ca ? [...rootCertificates, ...(typeof o.ca === 'string' ? [o.ca] : o.ca)] : undefined;
  }

  /** Sends the request if every rule allows it (see the module's comment); else throws `egress_denied`. */
  async send(r: EgressRequest): Promise<EgressResponse> {
    let url = r.url;
    for (let hop = 0; ; hop++) {
      const res = await this.once({ ...r, url });
      const location = res.headers.location;
      // A body is never sent again to another URL: only a GET follows a redirect.
      const follows = (r.method ?? 'POST') === 'GET' && hop < (r.maxRedirects ?? 0);
      if (res.status < 300 || res.status > 399 || typeof location !== 'string' || !follows) return res;
      url = new URL(location, url).toString();
    }
  }

  /**
   * The checks every way out shares: the host covered by an agreement in force for `scope`, its
   * addresses resolved once and all allowed. Returns the address to connect to (pinned) and the
   * agreement; a refusal is reported through `record` and thrown as `egress_denied`.
   */
  private async admit(
    hostname: string,
    scope: PayloadScope,
    record: (outcome: EgressRecord['outcome'], fields: Partial<EgressRecord>) => Promise<void>,
  ): Promise<{ host: string; pinned: { address: string; family: number }; agreement: { id: string } }> {
    const host = normalHost(hostname) ?? null;
    const refuse = async (reason: string, message: string): Promise<never> => {
      await record('denied', { host, reason });
      throw denied(message);
    };
    if (!host) return refuse('bad_url', 'the URL must name a host and carry no credentials');
    const agreement = await this.o.covering(host, scope);
    if (!agreement)
      return refuse(
        'not_covered',
        `no Business Associate Agreement in force covers this host for ${scope === 'phi' ? 'PHI' : 'this data'}`,
      );
    // Resolved once; every address must be allowed, and the connection goes to the first.
    let addresses: readonly { address: string; family: number }[];
    try {
      addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await this.resolve(host);
    } catch {
      addresses = [];
    }
    if (!addresses.length) return refuse('unresolvable', 'the host does not resolve');
    for (const a of addresses) {
      const why = addressRefusal(a.address, this.o.allowPrivate === true);
      if (why) return refuse(why, 'the host resolves to an address that may not be reached');
    }
    return { host, pinned: addresses[0] as { address: string; family: number }, agreement };
  }

  /** Whether an agreement in force still covers `host` for `scope` (a lasting connection checks again). */
  async covers(host: string, scope: PayloadScope): Promise<boolean> {
    const h = normalHost(host);
    return h !== undefined && (await this.o.covering(h, scope)) !== undefined;
  }

  /**
   * A TLS connection (TLS 1.2 or later, certificate verified against the host name) to `host:port`
   * for a stream Ward writes (a syslog drain), after the checks `send` makes; the connection goes
   * to the address checked. Audited when it opens (or is refused, or fails), not per write.
   */
  async connectTls(c: { host: string; port: number; purpose: string; scope: PayloadScope }): Promise<TLSSocket> {
    const record = (outcome: EgressRecord['outcome'], fields: Partial<EgressRecord>) =>
      this.o.audit({ host: null, purpose: c.purpose, bytes: 0, status: null, outcome, reason: null, agreement: null, ...fields });
    const { host, pinned, agreement } = await this.admit(c.host, c.scope, record);
    try {
      const socket = await new Promise<TLSSocket>((resolve, reject) => {
        const s = tlsConnect({
          host: pinned.address,
          port: c.port,
          servername: isIP(host) ? undefined : host,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ...(this.ca ? { ca: this.ca } : {}),
          timeout: this.o.timeoutMs ?? 10_000,
        });
        s.once('secureConnect', () => {
          s.setTimeout(0);
          resolve(s);
        });
        s.once('timeout', () => s.destroy(new Error('timeout')));
        s.once('error', reject);
      });
      await record('sent', { host, agreement: agreement.id });
      return socket;
    } catch {
      await record('failed', { host, reason: 'network_error', agreement: agreement.id });
      throw new WardError('egress_failed', 'the connection could not be made (connection, TLS or timeout)');
    }
  }

  /**
   * Admits a connection another library makes (the NATS client): the host covered for `scope`,
   * its address allowed, and TLS unless the address is private (and the space allows private
   * ones); audited either way. Returns the address to connect to, so the name is not resolved again.
   */
  async admitConnection(c: { host: string; purpose: string; scope: PayloadScope; tls: boolean }): Promise<{ address: string }> {
    const record = (outcome: EgressRecord['outcome'], fields: Partial<EgressRecord>) =>
      this.o.audit({ host: null, purpose: c.purpose, bytes: 0, status: null, outcome, reason: null, agreement: null, ...fields });
    const { host, pinned, agreement } = await this.admit(c.host, c.scope, record);
    if (!c.tls && addressRefusal(pinned.address, false) === undefined) {
      await record('denied', { host, reason: 'not_tls', agreement: agreement.id });
      throw denied('a connection to a public address must use TLS');
    }
    await record('sent', { host, agreement: agreement.id });
    return { address: pinned.address };
  }

  /**
   * A certificate check for a connection another library makes to admitted hosts: the
   * certificate must be valid for one of `hosts` (each covered by an agreement), whichever server
   * of a cluster answered.
   */
  static identity(hosts: readonly string[]): (servername: string, cert: unknown) => Error | undefined {
    return (_servername, cert) => {
      let first: Error | undefined;
      for (const h of hosts) {
        const e = checkServerIdentity(h, cert as PeerCertificate);
        if (!e) return undefined;
        first ??= e;
      }
      return first ?? new Error('no admitted host to check the certificate against');
    };
  }

  private async once(r: EgressRequest): Promise<EgressResponse> {
    const bytes = r.body === undefined ? 0 : typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.byteLength;
    const record = (outcome: EgressRecord['outcome'], fields: Partial<EgressRecord>) =>
      this.o.audit({ host: null, purpose: r.purpose, bytes, status: null, outcome, reason: null, agreement: null, ...fields });
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      await record('denied', { reason: 'bad_url' });
      throw denied('the URL is not valid');
    }
    if (url.protocol !== 'https:') {
      await record('denied', { host: normalHost(url.hostname) ?? null, reason: 'not_https' });
      throw denied('only HTTPS is allowed');
    }
    if (url.username || url.password) {
      await record('denied', { host: normalHost(url.hostname) ?? null, reason: 'bad_url' });
      throw denied('the URL must name a host and carry no credentials');
    }
    const { host, pinned, agreement } = await this.admit(url.hostname, r.scope, record);
    const agent = new Agent({
      connect: {
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        servername: isIP(host) ? undefined : host,
        ...(this.ca ? { ca: this.ca } : {}),
        // The connection goes to the address checked above, whatever the name resolves to now.
        lookup: ((_name: string, options: { all?: boolean | undefined }, done: (...args: unknown[]) => void) =>
          options?.all ? done(null, [pinned]) : done(null, pinned.address, pinned.family)) as never,
      },
    });
    try {
      const res = await request(url, {
        method: r.method ?? 'POST',
        headers: r.headers ?? {},
        body: r.body ?? null,
        dispatcher: agent,
        headersTimeout: this.o.timeoutMs ?? 10_000,
        bodyTimeout: this.o.timeoutMs ?? 10_000,
      });
      // An answer is read up to 1 MiB; past that the rest is dropped (Ward needs only the status and a little text).
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      const body = Buffer.concat(chunks);
      await record('sent', { host, status: res.statusCode, agreement: agreement.id });
      return { status: res.statusCode, headers: res.headers, body };
    } catch (e) {
      if (e instanceof WardError) throw e;
      await record('failed', { host, reason: 'network_error', agreement: agreement.id });
      // The cause (a TLS or socket error) may name the host or address: it is not passed on.
      throw new WardError('egress_failed', 'the request could not be completed (connection, TLS or timeout)');
    } finally {
      await agent.close().catch(() => {});
    }
  }
}
