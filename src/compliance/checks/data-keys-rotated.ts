/** Every collection's active data key is younger than a year: `ward keys rotate` makes a new one. */
import { alarm, type Check, daysBetween, ok, skip } from '../types.js';

/** A data key's longest life: NIST SP 800-57's cryptoperiod for a symmetric data key is at most about a year or two. */
export const MAX_DATA_KEY_DAYS = 365;

export const check: Check = {
  id: 'data-keys-rotated',
  title: "Each collection's active data key is younger than a year",
  citations: ['164.312(a)(2)(iv)'],
  severity: 'medium',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    if (!database.keys.length) return skip('no collection has a data key yet');
    const aged = database.keys.map((k) => ({ ...k, age: daysBetween(k.createdAt, now) }));
    const old = aged.filter((k) => k.age >= MAX_DATA_KEY_DAYS).sort((a, b) => b.age - a.age);
    const oldest = Math.max(...aged.map((k) => k.age));
    const evidence = { collections: aged.length, oldestKeyDays: oldest, maxDays: MAX_DATA_KEY_DAYS };
    if (old.length) {
      const names = old.map((k) => k.collection);
      return alarm(
        `${old.length} collection(s) have an active data key ${MAX_DATA_KEY_DAYS} days old or older (${names.join(', ')}): ` +
          'run `ward keys rotate --all` (or `ward keys rotate <collection>`), then `ward keys rewrap --all`',
        { ...evidence, stale: names, staleVersions: old.map((k) => `${k.collection} v${k.version} (${k.age} days)`) },
      );
    }
    return ok(`every collection's active data key is younger than ${MAX_DATA_KEY_DAYS} days (the oldest is ${oldest} days old)`, evidence);
  },
};
