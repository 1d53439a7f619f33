/**
 * The ingress allowlist (`network.ingress.allow`): a request from an address outside the ranges
 * is refused with 403 `ingress_denied` before authentication, judged on the real client address
 * (a forwarded one only from a `--trust-proxy` range). Refusals are audited in aggregate, one row
 * per address per minute with its count, so a flood cannot spend the audit trail.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardError } from '../errors.js';
import { clientKey } from '../util/address.js';
import { addressMatcher } from './connections.js';
import { clientAddress } from './context.js';

const FLUSH_MS = 60_000;
const MAX_ADDRESSES = 1_000;

/** Installs the allowlist on `app` (nothing when `allow` is undefined); `record` audits each address's refusals. */
export function ingressAllowlist(
  app: FastifyInstance,
  allow: readonly string[] | undefined,
  record: (client: string | null, count: number) => Promise<void>,
): void {
  if (!allow) return;
  const allowed = addressMatcher(allow);
  const refused = new Map<string, number>();
  const flush = async () => {
    const batch = [...refused];
    refused.clear();
    for (const [client, n] of batch) await record(client === '' ? null : client, n).catch(() => {});
  };
  const timer = setInterval(() => void flush(), FLUSH_MS);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await flush();
  });
  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    const client = clientAddress(request);
    if (client && allowed(client)) return done();
    // Counted per address (IPv6 per /64), at most MAX_ADDRESSES a minute; the rest in one count with no address.
    const key = client === null ? '' : clientKey(client);
    const slot = refused.has(key) || refused.size < MAX_ADDRESSES ? key : '';
    refused.set(slot, (refused.get(slot) ?? 0) + 1);
    done(new WardError('ingress_denied', 'requests from this address are not accepted (network.ingress.allow)'));
  });
}
