/** No active API key has gone unused for 90 days: a key nobody uses is a credential nobody watches. */
import { activeApiKeys, alarm, type Check, ok, skip } from '../types.js';

/** A quarter: a service calls daily, a person at least monthly; a key idle this long belongs to someone gone. */
export const MAX_IDLE_DAYS = 90;
const MAX_IDLE = MAX_IDLE_DAYS * 86_400_000;

export const check: Check = {
  id: 'api-keys-used-recently',
  title: 'No active API key has gone unused for 90 days',
  citations: ['164.308(a)(3)(ii)(C)'],
  severity: 'medium',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const active = activeApiKeys(database, now);
    if (!active.length) return skip('no active API key');
    // A new key has had no time to be used: only keys older than the limit count.
    const stale = active.filter(
      (k) =>
        now.getTime() - Date.parse(k.createdAt) > MAX_IDLE &&
        (k.lastUsedAt === null || now.getTime() - Date.parse(k.lastUsedAt) > MAX_IDLE),
    );
    const evidence = {
      active: active.length,
      stale: stale.map((k) => k.id),
      neverUsed: stale.filter((k) => k.lastUsedAt === null).length,
      maxIdleDays: MAX_IDLE_DAYS,
    };
    if (stale.length)
      return alarm(
        `${stale.length} active API key(s) have not been used for more than ${MAX_IDLE_DAYS} days (${stale.map((k) => k.id).join(', ')}): ` +
          'revoke each with `ward apikey revoke <id>`',
        evidence,
      );
    return ok(`every one of ${active.length} active API key(s) was used within ${MAX_IDLE_DAYS} days, or is newer than that`, evidence);
  },
};
