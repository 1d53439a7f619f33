/**
 * ward serve verifies the whole sealed audit log in the background (audit.verify_every), at least
 * weekly, so tampering is found without anyone asking (45 CFR 164.312(c)(2)).
 */
import { alarm, type Check, ok } from '../types.js';

export const MAX_VERIFY_DAYS = 7;
const DAY = 86_400_000;

export const check: Check = {
  id: 'audit-verification-scheduled',
  title: 'The audit log is verified in the background at least weekly',
  citations: ['164.312(c)(2)'],
  severity: 'medium',
  needs: [],
  run({ config }) {
    const ms = config.audit.verifyEveryMs;
    if (ms === null)
      return alarm('audit.verify_every: background verification is off; set it to a duration such as 24h (at most 7d)', {
        verifyEveryMs: null,
      });
    const evidence = { verifyEveryHours: Math.round((ms / 3_600_000) * 100) / 100, maxDays: MAX_VERIFY_DAYS };
    if (ms > MAX_VERIFY_DAYS * DAY)
      return alarm(
        `audit.verify_every: the log is verified every ${evidence.verifyEveryHours}h, less often than weekly; set it to 7d or less`,
        evidence,
      );
    return ok(`audit.verify_every: the whole audit log is verified every ${evidence.verifyEveryHours}h`, evidence);
  },
};
