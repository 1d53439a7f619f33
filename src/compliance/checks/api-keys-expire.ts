/** Every active API key expires, at most 400 days after it was made: no key outlives the person or service it was issued to. */
import { activeApiKeys, alarm, type Check, ok, skip } from '../types.js';

const DAY = 86_400_000;

/** A year, and a month's margin to renew: `ward apikey create --expires 1y` passes. */
export const MAX_KEY_LIFE_DAYS = 400;
/**
 * A key ending within this many days is on its way out: `ward apikey rotate` sets the old key's end
 * to the overlap (7 days by default), which may lie more than 400 days after an old key was made.
 */
const ENDING_DAYS = 30;

export const check: Check = {
  id: 'api-keys-expire',
  title: 'Every active API key expires within 400 days of its creation',
  citations: ['164.308(a)(3)(ii)(C)', '164.312(a)(2)(i)'],
  severity: 'high',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const active = activeApiKeys(database, now);
    if (!active.length) return skip('no active API key');
    const never = active.filter((k) => k.expiresAt === null).map((k) => k.id);
    const long = active
      .filter(
        (k) =>
          k.expiresAt !== null &&
          Date.parse(k.expiresAt) - Date.parse(k.createdAt) > MAX_KEY_LIFE_DAYS * DAY &&
          Date.parse(k.expiresAt) - now.getTime() > ENDING_DAYS * DAY,
      )
      .map((k) => k.id);
    const evidence = { active: active.length, neverExpire: never, tooLong: long, maxDays: MAX_KEY_LIFE_DAYS };
    if (never.length || long.length) {
      const what = [
        never.length ? `${never.length} never expire` : '',
        long.length ? `${long.length} live longer than ${MAX_KEY_LIFE_DAYS} days` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      return alarm(
        `of ${active.length} active API key(s), ${what} (${[...never, ...long].join(', ')}): issue each a successor with ` +
          '`ward apikey create --role <role> --name <name> --expires 1y`, then `ward apikey revoke <id>` the old one',
        evidence,
      );
    }
    return ok(`every one of ${active.length} active API key(s) expires within ${MAX_KEY_LIFE_DAYS} days of its creation`, evidence);
  },
};
