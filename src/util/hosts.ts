/**
 * Host names as agreements name them: a DNS name in lowercase (`api.example.com`), a wildcard
 * for its subdomains (`*.example.com`, not the domain itself), or an IP address literal.
 */
import { isIP } from 'node:net';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)+${LABEL}$`);

/** The host in the form agreements store, or undefined when it is not a host name or address. */
export function normalHost(text: string): string | undefined {
  const h = text.trim().toLowerCase().replace(/\.$/, '');
  if (h.length > 253) return undefined;
  if (isIP(h.replace(/^\[(.*)\]$/, '$1'))) return h.replace(/^\[(.*)\]$/, '$1');
  return DNS_NAME.test(h) ? h : undefined;
}

/** Whether `host` (normalized) is named by `pattern`: the same name, or a subdomain of a wildcard's domain. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}
