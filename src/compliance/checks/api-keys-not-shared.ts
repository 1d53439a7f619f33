/**
 * API keys are personal or per service: no name is used by keys of two roles, and no active key
 * has a generic name (default, test, shared, admin...) that says nothing of who holds it.
 */
import { type ApiKeyFact, activeApiKeys, alarm, type Check, ok, skip } from '../types.js';

/** Words that name no person and no service; a name made only of these (and digits) is generic. */
const GENERIC = new Set([
  'admin',
  'api',
  'apikey',
  'app',
  'common',
  'default',
  'demo',
  'dev',
  'general',
  'key',
  'main',
  'master',
  'my',
  'new',
  'prod',
  'root',
  'secret',
  'service',
  'shared',
  'team',
  'temp',
  'test',
  'testing',
  'tmp',
  'token',
  'user',
  'ward',
]);

/** The name a key is known by: lowercase, without the ` (rotated)` that `ward apikey rotate` appends. */
export const baseName = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/\s*\(rotated\)$/, '');

/** Whether a name is made only of generic words and numbers (`test`, `api-key-2`, `shared_admin`). */
export function isGeneric(name: string): boolean {
  const words = baseName(name)
    .split(/[^a-z0-9]+/)
    .map((w) => w.replace(/\d+$/, ''))
    .filter(Boolean);
  return words.every((w) => GENERIC.has(w));
}

export const check: Check = {
  id: 'api-keys-not-shared',
  title: 'API keys are personal or per service: no generic names, no name across roles',
  citations: ['164.312(a)(2)(i)', '164.312(d)'],
  severity: 'medium',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const active = activeApiKeys(database, now);
    if (!active.length) return skip('no active API key');
    const roles = new Map<string, Set<string>>();
    for (const k of active) roles.set(baseName(k.name), (roles.get(baseName(k.name)) ?? new Set()).add(k.role));
    const shared = [...roles].filter(([, r]) => r.size > 1).map(([n]) => n);
    const generic: ApiKeyFact[] = active.filter((k) => isGeneric(k.name));
    const evidence = {
      active: active.length,
      sharedNames: shared,
      generic: generic.map((k) => k.id),
      genericNames: [...new Set(generic.map((k) => baseName(k.name)))],
    };
    if (shared.length || generic.length) {
      const what = [
        shared.length ? `${shared.length} name(s) used by keys of more than one role (${shared.join(', ')})` : '',
        generic.length ? `${generic.length} key(s) with a generic name (${generic.map((k) => k.id).join(', ')})` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      return alarm(
        `${what}: issue one key per person or service with \`ward apikey create --role <role> --name <who-holds-it>\`, then \`ward apikey revoke <id>\` the old ones`,
        evidence,
      );
    }
    return ok(`each of ${active.length} active API key(s) has its own name, used by one role`, evidence);
  },
};
