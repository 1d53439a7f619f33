/**
 * Hygiene: keys past their expiry but never revoked. An expired key no longer authenticates, so
 * this is info, not an alarm: revoking records the end explicitly and keeps `ward apikey list` short.
 */
import { type Check, info, ok, skip } from '../types.js';

export const check: Check = {
  id: 'api-keys-expired-revoked',
  title: 'Expired API keys are revoked',
  citations: ['164.308(a)(3)(ii)(C)'],
  severity: 'low',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    if (!database.apiKeys.length) return skip('no API key');
    const lapsed = database.apiKeys.filter((k) => k.revokedAt === null && k.expiresAt !== null && Date.parse(k.expiresAt) <= now.getTime());
    const evidence = { keys: database.apiKeys.length, expiredNotRevoked: lapsed.map((k) => k.id) };
    if (lapsed.length)
      return info(
        `${lapsed.length} API key(s) expired but were never revoked (${lapsed.map((k) => k.id).join(', ')}): they no longer authenticate; revoke each with \`ward apikey revoke <id>\``,
        evidence,
      );
    return ok('every expired API key is revoked', evidence);
  },
};
