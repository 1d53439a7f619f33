/**
 * API keys: `ward_<prefix>_<secret>`, 256 random bits of secret. The prefix identifies the key
 * (and is safe to show and log); only SHA-256 of the secret is stored and compared in
 * constant time. Expired and revoked keys fail like wrong ones.
 *
 * A server caches the keys it has validated (see `startCache`): the row by prefix, never a
 * verdict. Each request still compares the secret's hash, checks expiry against the clock and
 * the role against the policy. A revocation in this process evicts the key at once; one in
 * any other process when its `NOTIFY ward_api_keys` arrives (milliseconds after the commit).
 */
import { hash as digest } from 'node:crypto';
import type { Principal } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { constantTimeEqual, newRecordId } from '../crypto/derive.js';
import { randomView } from '../crypto/random.js';
import { WardError } from '../errors.js';
import * as store from '../store/apikeys.js';
import type { Db, Queryable, Subscription } from '../store/db.js';
import { SharedReads } from '../util/coalesce.js';

const KEY_SHAPE = /^ward_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
/** A positive whole number of hours, days, weeks or years: a key that expires at once is refused. */
const DURATION = /^([1-9]\d{0,4})(h|d|w|y)$/;
/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_EVERY_MS = 60_000;
/**
 * A cached key this close to the end of its TTL is read again in the background while requests
 * go on using it: under steady use the key is renewed before it runs out, and requests never
 * wait for a read (before, every request in flight when it ran out read it, each on its own).
 */
const REFRESH_BEFORE_MS = 5_000;

export interface KeyCacheOptions {
  /** How long a cached key is trusted before it is read again, notification or not; default 30 s. */
  ttlMs?: number;
  /** Most keys held; the oldest goes first. Default 10,000. */
  maxEntries?: number;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** Active and expiring within EXPIRING_DAYS: rotate it (ward apikey rotate). */
  expiringSoon: boolean;
}

/** A key expiring within this many days is flagged in the listing. */
export const EXPIRING_DAYS = 14;

const hash = (secret: string) => digest('sha256', secret, 'buffer');

/** Control characters (NUL among them) and unpaired surrogates: PostgreSQL refuses some, and none belongs in a name. */
export const NOT_TEXT = /[\p{Cc}\p{Cs}]/u;

/** A refused key; `knownPrefix` when it named a key that exists (so the attempt can be counted against that key). */
export class AuthFailure extends WardError {
  constructor(
    readonly knownPrefix: string | undefined,
    message?: string,
  ) {
    super('unauthenticated', message);
  }
}

/** Milliseconds in a duration such as `90d`, `12h`, `2w` or `1y`. */
export function lifetimeMs(duration: string, flag = '--expires'): number {
  const m = DURATION.exec(duration);
  if (!m) throw new WardError('invalid_request', `${flag} must be a duration such as 12h, 90d, 2w or 1y`);
  const hours = { h: 1, d: 24, w: 168, y: 8760 }[m[2] as 'h' | 'd' | 'w' | 'y'];
  return Number(m[1]) * hours * 3_600_000;
}

/** Expiry from a duration such as `90d`, `12h`, `2w` or `1y`. */
export function expiryFrom(duration: string, now = Date.now()): Date {
  return new Date(now + lifetimeMs(duration));
}

const info = (r: store.ApiKeyRow): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  role: r.role,
  prefix: r.prefix,
  createdAt: r.createdAt.toISOString(),
  expiresAt: r.expiresAt?.toISOString() ?? null,
  revokedAt: r.revokedAt?.toISOString() ?? null,
  lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  expiringSoon:
    !r.revokedAt && !!r.expiresAt && r.expiresAt.getTime() > Date.now() && r.expiresAt.getTime() - Date.now() < EXPIRING_DAYS * 86_400_000,
});

export class ApiKeys {
  private readonly touched = new Map<string, number>();
  /** Validated, unrevoked rows by prefix, with the time each stops being trusted. */
  private readonly cache = new Map<string, { row: store.ApiKeyRow; until: number }>();
  private subscription: Subscription | undefined;
  /** The cache is read and filled only while its revocation channel is listened to. */
  private listening = false;
  /** Bumped by every eviction: a row read before one is not cached (it may predate a revocation). */
  private epoch = 0;
  private ttlMs = 30_000;
  private maxEntries = 10_000;
  /** Reads by prefix in flight: requests that need the same key share one. */
  private readonly reads = new SharedReads<string, { row: store.ApiKeyRow | undefined; epoch: number }>();

  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
  ) {}

  /**
   * Caches validated keys from now on (a server calls this; the CLI does not). Keys are
   * evicted on each revocation notice, after `ttlMs` anyway, and all at once when the
   * listening connection drops: caching then stays off until it listens again. Resolves once
   * the first attempt to listen has settled, either way.
   */
  startCache(options: KeyCacheOptions = {}): Promise<void> {
    this.ttlMs = options.ttlMs ?? this.ttlMs;
    this.maxEntries = options.maxEntries ?? this.maxEntries;
    if (this.subscription) return Promise.resolve();
    return new Promise((settled) => {
      this.subscription = this.db.listen(store.API_KEYS_CHANNEL, {
        message: (prefix) => this.evict(prefix),
        up: () => {
          this.epoch++;
          this.listening = true;
          settled();
        },
        down: () => {
          this.listening = false;
          this.evict();
          settled();
        },
      });
    });
  }

  /** True while keys are being cached (listening for revocations). */
  get caching(): boolean {
    return this.listening;
  }

  /** Stops caching and listening. */
  async close(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    this.listening = false;
    this.evict();
    await s?.close();
  }

  /** Creates a key for a role declared in ward.yaml (through `q`, a transaction); the key itself is returned only here. */
  async create(
    role: string,
    name: string,
    expiresAt: Date | null = null,
    q: Queryable = this.db,
  ): Promise<{ id: string; key: string; prefix: string }> {
    // The role named is not repeated: it is only what the caller typed.
    if (!this.policy.hasRole(role))
      throw new WardError(
        'invalid_request',
        `the role named is not declared under roles in ward.yaml (have: ${this.policy.roleNames().join(', ')})`,
      );
    if (!name.trim() || name.length > 200 || NOT_TEXT.test(name))
      throw new WardError('invalid_request', 'the key name must be 1 to 200 characters of text (no control characters)');
    const prefix = Array.from(randomView(10), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
    const secret = randomView(32).toString('base64url');
    const id = newRecordId();
    await store.insertApiKey(q, { id, name, role, prefix, secretHash: hash(secret), expiresAt });
    return { id, key: `ward_${prefix}_${secret}`, prefix };
  }

  /**
   * Rotates a key (through `q`, a transaction): a successor for the same role, with the old key's
   * lifetime if it had one, and the old key ending after `overlapMs` (or sooner if it already
   * would). Returns both; the successor's key itself only here.
   */
  async rotate(
    idOrPrefix: string,
    overlapMs: number,
    q: Queryable,
  ): Promise<{ old: ApiKeyInfo; successor: { id: string; key: string; prefix: string; expiresAt: Date | null } }> {
    const old = await store.expireBy(q, idOrPrefix, new Date(Date.now() + overlapMs));
    if (!old) throw new WardError('not_found', 'no such active API key');
    const lifetime = old.expiresAt ? old.expiresAt.getTime() - old.createdAt.getTime() : undefined;
    const expiresAt = lifetime === undefined ? null : new Date(Date.now() + lifetime);
    const name = old.name.endsWith(' (rotated)') ? old.name : `${old.name.slice(0, 190)} (rotated)`;
    const created = await this.create(old.role, name, expiresAt, q);
    this.evict(old.prefix);
    const ended = new Date(Math.min(old.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY, Date.now() + overlapMs));
    return { old: info({ ...old, expiresAt: ended }), successor: { ...created, expiresAt } };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await store.selectApiKeys(this.db)).map(info);
  }

  /**
   * Revokes a key (through `q`, a transaction) and returns its id; this cache drops it at once,
   * other processes' on the notification, which is sent when the revocation commits.
   */
  async revoke(idOrPrefix: string, q: Queryable = this.db): Promise<string> {
    const revoked = await store.revokeApiKey(q, idOrPrefix);
    if (!revoked) throw new WardError('not_found', 'no such active API key');
    this.evict(revoked.prefix);
    return revoked.id;
  }

  /**
   * The principal behind a bearer key. Every failure is the same `unauthenticated` error; the
   * returned `keyPrefix` (when the key was well formed) lets the caller audit the attempt.
   */
  async authenticate(key: string | undefined): Promise<Principal> {
    const m = key ? KEY_SHAPE.exec(key) : null;
    const prefix = m?.[1];
    const cached = prefix === undefined ? undefined : this.cached(prefix);
    const fetched = cached || prefix === undefined ? undefined : await this.read(prefix);
    const row = cached ?? fetched?.row;
    const ok =
      !!m &&
      !!row &&
      constantTimeEqual(row.secretHash, hash(m[2] as string)) &&
      !row.revokedAt &&
      (!row.expiresAt || row.expiresAt.getTime() > Date.now());
    if (!ok || !row) throw new AuthFailure(row?.prefix);
    if (!this.policy.hasRole(row.role)) throw new AuthFailure(row.prefix, 'the role of this API key is no longer configured');
    if (fetched) this.remember(row, fetched.epoch);
    const last = this.touched.get(row.id) ?? row.lastUsedAt?.getTime() ?? 0;
    if (Date.now() - last > TOUCH_EVERY_MS) {
      this.touched.set(row.id, Date.now());
      await store.touchApiKey(this.db, row.id);
    }
    return { id: `key:${row.prefix}`, role: row.role };
  }

  private cached(prefix: string): store.ApiKeyRow | undefined {
    if (!this.listening) return undefined;
    const entry = this.cache.get(prefix);
    const left = entry ? entry.until - Date.now() : 0;
    if (entry && left > 0) {
      if (left <= Math.min(REFRESH_BEFORE_MS, this.ttlMs / 2)) this.renew(prefix);
      return entry.row;
    }
    if (entry) this.cache.delete(prefix);
    return undefined;
  }

  /**
   * The key's row, in one read shared by every request that needs it while the read runs, with
   * the eviction epoch the read started in. An eviction drops the read from sharing, so a
   * request after a revocation notice never takes a row read before it.
   */
  private read(prefix: string): Promise<{ row: store.ApiKeyRow | undefined; epoch: number }> {
    return this.reads.run(prefix, async () => {
      const epoch = this.epoch;
      return { row: await store.selectApiKeyByPrefix(this.db, prefix), epoch };
    });
  }

  /**
   * Reads a cached key again in the background (any request naming its prefix starts this; each
   * still compares its secret). The cache keeps the new row unless an eviction happened since the
   * read started. A key found revoked, deleted or of a role no longer configured leaves the
   * cache; a failed read leaves the entry to run out.
   */
  private renew(prefix: string): void {
    if (this.reads.has(prefix)) return;
    this.read(prefix).then(
      ({ row, epoch }) => {
        if (row && !row.revokedAt && this.policy.hasRole(row.role)) this.remember(row, epoch);
        else this.cache.delete(prefix);
      },
      () => {},
    );
  }

  /** Caches a row read at `epoch`, unless an eviction (or a lost listener) happened since. */
  private remember(row: store.ApiKeyRow, epoch: number): void {
    if (!this.listening || epoch !== this.epoch || row.revokedAt) return;
    if (!this.cache.has(row.prefix) && this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(row.prefix, { row, until: Date.now() + this.ttlMs });
  }

  /** Drops one key, or every key when no (or an unrecognised) prefix is given. */
  private evict(prefix?: string): void {
    this.epoch++;
    const one = prefix && /^[a-z0-9]{10}$/.test(prefix) ? prefix : undefined;
    if (one) this.cache.delete(one);
    else this.cache.clear();
    this.reads.drop(one);
  }
}
