/**
 * API keys: `ward_<prefix>_<secret>`, 256 random bits of secret. The prefix identifies the key
 * (and is safe to show and log); only SHA-256 of the secret is stored and compared in
 * constant time. Expired and revoked keys fail like wrong ones.
 */
import { createHash } from 'node:crypto';
import type { Principal } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { constantTimeEqual, newRecordId } from '../crypto/derive.js';
import { randomView } from '../crypto/random.js';
import { WardError } from '../errors.js';
import * as store from '../store/apikeys.js';
import type { Db } from '../store/db.js';

const KEY_SHAPE = /^ward_([a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;
const DURATION = /^(\d{1,5})(h|d|w|y)$/;
/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const hash = (secret: string) => createHash('sha256').update(secret).digest();

/** Expiry from a duration such as `90d`, `12h`, `2w` or `1y`. */
export function expiryFrom(duration: string, now = Date.now()): Date {
  const m = DURATION.exec(duration);
  if (!m) throw new WardError('invalid_request', '--expires must be a duration such as 12h, 90d, 2w or 1y');
  const hours = { h: 1, d: 24, w: 168, y: 8760 }[m[2] as 'h' | 'd' | 'w' | 'y'];
  return new Date(now + Number(m[1]) * hours * 3_600_000);
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
});

export class ApiKeys {
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
  ) {}

  /** Creates a key for a role declared in ward.yaml; the key itself is returned only here. */
  async create(role: string, name: string, expiresAt: Date | null = null): Promise<{ id: string; key: string; prefix: string }> {
    if (!this.policy.hasRole(role))
      throw new WardError(
        'invalid_request',
        `unknown role ${role}; declare it under roles in ward.yaml (have: ${this.policy.roleNames().join(', ')})`,
      );
    if (!name.trim() || name.length > 200) throw new WardError('invalid_request', 'the key name must be 1 to 200 characters');
    const prefix = Array.from(randomView(10), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
    const secret = randomView(32).toString('base64url');
    const id = newRecordId();
    await store.insertApiKey(this.db, { id, name, role, prefix, secretHash: hash(secret), expiresAt });
    return { id, key: `ward_${prefix}_${secret}`, prefix };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await store.selectApiKeys(this.db)).map(info);
  }

  async revoke(idOrPrefix: string): Promise<void> {
    if (!(await store.revokeApiKey(this.db, idOrPrefix))) throw new WardError('not_found', 'no such active API key');
  }

  /**
   * The principal behind a bearer key. Every failure is the same `unauthenticated` error; the
   * returned `keyPrefix` (when the key was well formed) lets the caller audit the attempt.
   */
  async authenticate(key: string | undefined): Promise<Principal> {
    const m = key ? KEY_SHAPE.exec(key) : null;
    const row = m ? await store.selectApiKeyByPrefix(this.db, m[1] as string) : undefined;
    const ok =
      !!m &&
      !!row &&
      constantTimeEqual(row.secretHash, hash(m[2] as string)) &&
      !row.revokedAt &&
      (!row.expiresAt || row.expiresAt.getTime() > Date.now());
    if (!ok || !row) throw new WardError('unauthenticated');
    if (!this.policy.hasRole(row.role)) throw new WardError('unauthenticated', 'the role of this API key is no longer configured');
    const last = this.touched.get(row.id) ?? row.lastUsedAt?.getTime() ?? 0;
    if (Date.now() - last > TOUCH_EVERY_MS) {
      this.touched.set(row.id, Date.now());
      await store.touchApiKey(this.db, row.id);
    }
    return { id: `key:${row.prefix}`, role: row.role };
  }
}
