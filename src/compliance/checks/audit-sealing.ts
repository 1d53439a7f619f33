/**
 * ward serve seals new audit events into the signed, hash-chained log (audit.seal_every): the
 * trail then shows any change or removal (45 CFR 164.312(b), 164.312(c)(1)).
 */
import { alarm, type Check, ok } from '../types.js';

export const check: Check = {
  id: 'audit-sealing',
  title: 'Audit events are sealed into the signed log',
  citations: ['164.312(b)', '164.312(c)(1)'],
  severity: 'high',
  needs: [],
  run({ config }) {
    const ms = config.audit.sealEveryMs;
    if (ms === null)
      return alarm(
        'audit.seal_every: sealing is off, so changes to the audit trail would go unseen; set it to a duration such as 10s (the rule holds in both tiers)',
        { sealEveryMs: null },
      );
    return ok(`audit.seal_every: new audit events are sealed every ${ms} ms`, { sealEveryMs: ms });
  },
};
