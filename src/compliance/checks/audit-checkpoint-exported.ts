/**
 * A signed checkpoint was handed out within the last week: kept outside the database (by an
 * auditor, in another account), it proves later that the log was not rewritten before it.
 */
import { alarm, type Check, daysBetween, ok, skip } from '../types.js';

/** A week: a rewrite of the log can go unnoticed back to the newest checkpoint kept outside. */
export const MAX_EXPORT_AGE_DAYS = 7;

export const check: Check = {
  id: 'audit-checkpoint-exported',
  title: 'A signed checkpoint of the audit log was exported within the last week',
  citations: ['164.312(c)(1)', '164.312(b)'],
  severity: 'medium',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const { checkpoint, lastExportAt } = database.audit;
    if (!checkpoint) return skip('the audit log has not been sealed yet: there is no checkpoint to export');
    const fix =
      'run `ward audit checkpoint --export --out FILE` and keep FILE outside this database (ward audit verify --since FILE proves the log extends it)';
    if (!lastExportAt) return alarm(`no signed checkpoint has ever been exported: ${fix}`, { treeSize: checkpoint.treeSize });
    const days = daysBetween(lastExportAt, now);
    const evidence = { lastExportAt, ageDays: days, maxAgeDays: MAX_EXPORT_AGE_DAYS };
    if (days > MAX_EXPORT_AGE_DAYS) return alarm(`the last checkpoint was exported ${days} days ago: ${fix}`, evidence);
    return ok(`a signed checkpoint was exported ${days} day(s) ago`, evidence);
  },
};
