/** The audit trail is kept at least six years (45 CFR 164.316(b)(2)(i)); Ward itself never deletes it. */
import { MIN_AUDIT_RETENTION_DAYS } from '../../config/schema.js';
import { alarm, type Check, ok } from '../types.js';

export const check: Check = {
  id: 'audit-retention',
  title: 'Audit records are kept at least six years',
  citations: ['164.316(b)(2)(i)', '164.312(b)'],
  severity: 'high',
  needs: [],
  run({ config }) {
    const days = config.audit.retentionDays;
    const evidence = { retentionDays: days, minimumDays: MIN_AUDIT_RETENTION_DAYS };
    if (days < MIN_AUDIT_RETENTION_DAYS)
      return alarm(`audit.retention: audit records are kept ${days} day(s), less than six years; set it to 6y or longer`, evidence);
    return ok(`audit.retention: audit records are kept ${days} days (at least six years)`, evidence);
  },
};
