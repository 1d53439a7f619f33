/** Every break-glass use (emergency access) is reviewed within a week of its declaration. */
import { alarm, type Check, daysBetween, ok, skip } from '../types.js';

/** A week: emergency access is reviewed while those involved still remember why. */
export const MAX_UNREVIEWED_DAYS = 7;

export const check: Check = {
  id: 'break-glass-reviewed',
  title: 'Break-glass uses are reviewed within a week',
  citations: ['164.312(a)(2)(ii)', '164.308(a)(1)(ii)(D)'],
  severity: 'high',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const { uses, unreviewed, oldestUnreviewedAt } = database.breakGlass;
    const age = oldestUnreviewedAt === null ? null : daysBetween(oldestUnreviewedAt, now);
    const evidence = { uses, unreviewed, oldestUnreviewedAt, oldestUnreviewedDays: age, maxDays: MAX_UNREVIEWED_DAYS };
    if (oldestUnreviewedAt !== null && now.getTime() - Date.parse(oldestUnreviewedAt) > MAX_UNREVIEWED_DAYS * 86_400_000)
      return alarm(
        `${unreviewed} break-glass use(s) wait for review, the oldest for ${age} days: list them with \`ward audit break-glass --unreviewed\` and review each with \`ward audit break-glass review <id>\``,
        evidence,
      );
    if (unreviewed > 0)
      return ok(`${unreviewed} break-glass use(s) wait for review, all declared within the last ${MAX_UNREVIEWED_DAYS} days`, evidence);
    return ok(uses ? `all ${uses} break-glass use(s) are reviewed` : 'break-glass access has not been used', evidence);
  },
};
