/**
 * Authentication: `Authorization: Bearer <api key>` on every route not marked public. Every
 * failure is the same 401 and writes an audit event first (fail-closed: if that write fails,
 * the answer is 503 audit_failed). The key itself is never logged or stored.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../access/actions.js';
import { isWardError } from '../errors.js';
import type { ApiKeys } from '../vault/apikeys.js';
import { auditRow, record } from '../vault/audit.js';
import type { Vault } from '../vault/vault.js';
import { purposeOf } from './context.js';

/** The key's public prefix, when the presented key is well formed: the audit trail's actor. */
const KEY_PREFIX = /^ward_([a-z0-9]{10})_[A-Za-z0-9_-]{43}$/;

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  return m?.[1];
}

/** Who a failed attempt claimed to be, without repeating anything secret. */
function claimed(key: string | undefined): Principal {
  const prefix = key ? KEY_PREFIX.exec(key)?.[1] : undefined;
  return { id: prefix ? `key:${prefix}` : 'anonymous', role: 'none' };
}

export interface AuthDeps {
  vault: Vault;
  apiKeys: ApiKeys;
  onFailure?: () => void;
}

/** An onRequest hook: sets `request.ward`, or throws `unauthenticated` after auditing the attempt. */
export function authenticate({ vault, apiKeys, onFailure }: AuthDeps) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.is404 || request.routeOptions.config.public) return;
    const key = bearer(request);
    const base = { requestId: request.id, client: request.ip };
    let principal: Principal;
    try {
      principal = await apiKeys.authenticate(key);
    } catch (e) {
      if (!isWardError(e, 'unauthenticated')) throw e;
      onFailure?.();
      await record(
        vault.db,
        auditRow({ principal: claimed(key), ...base }, 'authenticate', null, [], [], 'unauthenticated', 'unauthenticated'),
      );
      throw e;
    }
    request.ward = { principal, purpose: purposeOf(request), ...base };
  };
}
