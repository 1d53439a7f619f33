/**
 * Every collection says how long its records are kept (collections.<name>.retention), so the
 * purge job removes what is no longer needed instead of keeping PHI for ever.
 */
import { alarm, type Check, ok } from '../types.js';

export const check: Check = {
  id: 'collection-retention',
  title: 'Every collection sets a retention period',
  citations: ['164.316(b)(2)(i)'],
  severity: 'medium',
  needs: [],
  run({ config }) {
    const all = Object.entries(config.collections);
    const missing = all.filter(([, c]) => !c.retention).map(([name]) => name);
    if (missing.length)
      return alarm(
        `collections.*.retention: ${missing.length} collection(s) keep records for ever (${missing.join(', ')}); set retention on each, such as 7y (the rule holds in both tiers)`,
        { collections: missing, total: all.length },
      );
    return ok(`collections.*.retention: all ${all.length} collection(s) set a retention period`, { total: all.length });
  },
};
