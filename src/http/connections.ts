/**
 * Limits on slow and numerous clients, so that none can hold the server's sockets: headers and
 * body must arrive in time, idle keep-alive connections close, and connections are capped per
 * server and per client address. The server-wide cap leaves file descriptors for the database
 * pool, the audit sealer and everything else the process opens.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { BlockList, isIPv6, type Socket } from 'node:net';
import { ERROR_CODES } from '../errors.js';
import { clientKey } from '../util/address.js';

export interface ConnectionLimits {
  /** The request line and headers must arrive within this; else 408 and the connection closes. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this; else 408. */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request in flight closes after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no bytes either way for this long closes (a client that stops reading, say). */
  idleTimeoutMs: number;
  /** Open connections in all; more are closed as they arrive. */
  maxConnections: number;
  /** Open connections from one client address (an IPv6 client: its /64); trusted proxies are exempt. */
  maxConnectionsPerClient: number;
}

export const DEFAULT_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  /** At most this many per client, and at most a quarter of the server-wide cap. */
  maxConnectionsPerClient: 128,
} as const;

/**
 * File descriptors kept back from clients beyond the database pool: the sealer's and listener's
 * connections, the metrics listener (16 connections at most), files, threads.
 */
const RESERVED_FDS = 64;
const MAX_DEFAULT_CONNECTIONS = 4_096;

/** The soft limit on open files, where the system says (Linux); undefined elsewhere. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The default server-wide cap: what the open-file limit leaves after the pool and a reserve (at most 4,096). */
export function defaultMaxConnections(poolSize: number, fdLimit = openFileLimit()): number {
  if (fdLimit === undefined) return 1_024;
  return Math.max(16, Math.min(MAX_DEFAULT_CONNECTIONS, fdLimit - poolSize - RESERVED_FDS));
}

/** The limits in force: those given, the rest by default (per client: a quarter of the server-wide cap at most). */
export function limitsWith(poolSize: number, given: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const maxConnections = given.maxConnections ?? defaultMaxConnections(poolSize);
  const perClient = Math.max(1, Math.min(DEFAULT_LIMITS.maxConnectionsPerClient, Math.floor(maxConnections / 4)));
  return { ...DEFAULT_LIMITS, maxConnections, maxConnectionsPerClient: perClient, ...given };
}

/** A matcher for addresses or CIDR ranges (the trusted proxies). */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  if (!entries.length) return () => false;
  const list = new BlockList();
  for (const e of entries) {
    const [ip = '', bits] = e.split('/');
    const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return (address) => {
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    return v4 ? list.check(v4, 'ipv4') : list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  };
}

const BUSY_BODY = JSON.stringify({
  type: 'urn:ward:problem:too_many_connections',
  title: ERROR_CODES.too_many_connections.title,
  status: 503,
  code: 'too_many_connections',
  detail: 'this client address has too many open connections; close some, or retry',
  requestId: '',
});
const BUSY = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: application/problem+json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(BUSY_BODY)}\r\n\r\n${BUSY_BODY}`,
);

/**
 * Caps connections on `server`: in all (Node closes those over `maxConnections` as they arrive)
 * and per client address, counted when a connection opens and released when it closes. A
 * connection over its client's cap gets a 503 and is closed before any of its bytes are read.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, exempt: (address: string) => boolean): void {
  server.maxConnections = limits.maxConnections;
  const open = new Map<string, number>();
  // Before Node's own listener: a refused socket never reaches the HTTP parser.
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (!address || exempt(address)) return;
    const key = clientKey(address);
    const n = open.get(key) ?? 0;
    if (n >= limits.maxConnectionsPerClient) {
      socket.write(BUSY);
      socket.destroy();
      return;
    }
    open.set(key, n + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}

/** The Node server options that enforce the timeouts (checked every second, not Node's default 30). */
export function timeoutOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(limits.headersTimeoutMs / 4))),
  };
}
