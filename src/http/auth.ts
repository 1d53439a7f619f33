/**
 * Authentication: `Authorization: Bearer <api key>` on every route not marked public, through the
 * vault (which audits every refusal and counts failures towards a lockout). A locked-out client
 * gets 429 with Retry-After. The key itself is never logged or stored.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isWardError } from '../errors.js';
import type { ApiKeys } from '../vault/apikeys.js';
import type { Vault } from '../vault/vault.js';
import { clientAddress } from './context.js';

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
  return m?.[1];
}

/** The Ward-Purpose header as sent (checked against the declared purposes by the vault); repeated, it is no purpose name. */
function statedPurpose(request: FastifyRequest): string | undefined {
  const raw = request.headers['ward-purpose'];
  if (raw === undefined || raw === '') return undefined;
  return typeof raw === 'string' ? raw : '(repeated)';
}

/** The Ward-Break-Glass header: absent, the reason as sent, or, repeated, none the vault accepts. */
function breakGlassReason(request: FastifyRequest): string | undefined {
  const raw = request.headers['ward-break-glass'];
  return raw === undefined ? undefined : typeof raw === 'string' ? raw : '';
}

export interface AuthDeps {
  vault: Vault;
  /** Where keys are checked; default the vault's own. */
  apiKeys?: ApiKeys | undefined;
  onFailure?: () => void;
}

/** An onRequest hook: sets `request.ward`, or throws after the vault has audited the refusal. */
export function authenticate({ vault, apiKeys, onFailure }: AuthDeps) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.is404 || request.routeOptions.config.public) return;
    const caller = {
      key: bearer(request),
      purpose: statedPurpose(request),
      breakGlass: breakGlassReason(request),
      // Only an address goes to the audit trail (a trusted proxy could pass on any text, or an
      // IPv6 zone such as %name): else the socket's, the proxy's own.
      client: clientAddress(request),
      requestId: request.id,
    };
    try {
      request.ward = await vault.authenticate(caller, apiKeys);
    } catch (e) {
      if (isWardError(e, 'unauthenticated') || isWardError(e, 'too_many_failures')) onFailure?.();
      const wait = (e as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof wait === 'number') reply.header('retry-after', String(wait));
      throw e;
    }
  };
}
