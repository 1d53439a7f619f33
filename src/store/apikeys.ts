/** SQL for API keys. Only a hash of each key's secret is stored. */
import { asBuffer, type Queryable, statement } from './db.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: string;
  prefix: string;
  secretHash: Buffer;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const toRow = (r: Record<string, unknown>): ApiKeyRow => ({
  id: r.id as string,
  name: r.name as string,
  role: r.role as string,
  prefix: r.prefix as string,
  secretHash: asBuffer(r.secret_hash),
  createdAt: r.created_at as Date,
  expiresAt: (r.expires_at as Date | null) ?? null,
  revokedAt: (r.revoked_at as Date | null) ?? null,
  lastUsedAt: (r.last_used_at as Date | null) ?? null,
});

const BY_PREFIX = statement('ward_api_key_by_prefix', 'SELECT * FROM ward_api_keys WHERE prefix = $1');
const TOUCH = statement('ward_api_key_touch', 'UPDATE ward_api_keys SET last_used_at = now() WHERE id = $1');

export async function insertApiKey(
  q: Queryable,
  k: { id: string; name: string; role: string; prefix: string; secretHash: Buffer; expiresAt: Date | null },
): Promise<void> {
  await q.query('INSERT INTO ward_api_keys (id, name, role, prefix, secret_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    k.id,
    k.name,
    k.role,
    k.prefix,
    k.secretHash,
    k.expiresAt,
  ]);
}

export async function selectApiKeyByPrefix(q: Queryable, prefix: string): Promise<ApiKeyRow | undefined> {
  const [row] = await q.query(BY_PREFIX, [prefix]);
  return row && toRow(row);
}

export async function selectApiKeys(q: Queryable): Promise<ApiKeyRow[]> {
  return (await q.query('SELECT * FROM ward_api_keys ORDER BY created_at, id')).map(toRow);
}

export async function touchApiKey(q: Queryable, id: string): Promise<void> {
  await q.query(TOUCH, [id]);
}

/** Revocations are announced on this channel, the key's prefix as payload, when they commit. */
export const API_KEYS_CHANNEL = 'ward_api_keys';

/**
 * Revokes a key by id or prefix and returns its id and prefix; undefined when there is no such
 * unrevoked key. The same statement sends `NOTIFY ward_api_keys, '<prefix>'`, delivered to
 * every listener when it commits, so servers (in any process) drop the key from their caches.
 */
export async function revokeApiKey(q: Queryable, idOrPrefix: string): Promise<{ id: string; prefix: string } | undefined> {
  const rows = await q.query(
    `WITH revoked AS (
       UPDATE ward_api_keys SET revoked_at = now()
       WHERE (id::text = $1 OR prefix = $1) AND revoked_at IS NULL RETURNING id, prefix
     )
     SELECT id::text AS id, prefix, pg_notify('${API_KEYS_CHANNEL}', prefix) FROM revoked`,
    [idOrPrefix],
  );
  const r = rows[0];
  return r && { id: r.id as string, prefix: r.prefix as string };
}

/**
 * Ends an active key at `until` at the latest (an earlier expiry stays) and returns it as it was;
 * undefined when there is no such active key. The change notifies every server's cache (trigger).
 */
export async function expireBy(q: Queryable, idOrPrefix: string, until: Date): Promise<ApiKeyRow | undefined> {
  const rows = await q.query(
    `WITH before AS (SELECT * FROM ward_api_keys WHERE (id::text = $1 OR prefix = $1) AND revoked_at IS NULL
                      AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE),
     u AS (UPDATE ward_api_keys k SET expires_at = LEAST(coalesce(k.expires_at, $2), $2) FROM before WHERE k.id = before.id)
     SELECT * FROM before`,
    [idOrPrefix, until],
  );
  return rows[0] && toRow(rows[0]);
}
