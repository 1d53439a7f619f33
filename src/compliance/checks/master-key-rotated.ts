/** The master key was rotated within two years, and its rotation finished (every key rewrapped under it). */
import { alarm, type Check, daysBetween, ok, skip } from '../types.js';

/** Two years: a key-encryption key wraps only keys, so it may live longer than the data keys (NIST SP 800-57). */
export const MAX_MASTER_KEY_DAYS = 730;

export const check: Check = {
  id: 'master-key-rotated',
  title: 'The master key was rotated within two years and the rotation finished',
  citations: ['164.312(a)(2)(iv)'],
  severity: 'low',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const e = database.masterEpoch;
    if (!e) return skip('the database records no master key yet');
    const age = daysBetween(e.createdAt, now);
    const evidence = { epoch: e.epoch, createdAt: e.createdAt, ageDays: age, completed: e.completed, maxDays: MAX_MASTER_KEY_DAYS };
    if (!e.completed)
      return alarm(
        `the rotation to master key epoch ${e.epoch} has not finished: run \`ward keys rotate --master\` again to rewrap the remaining keys (it resumes)`,
        evidence,
      );
    if (age >= MAX_MASTER_KEY_DAYS)
      return alarm(
        `the master key (epoch ${e.epoch}) is ${age} days old: put a new key under keys, the current one under keys.previous, and run \`ward keys rotate --master\``,
        evidence,
      );
    return ok(`the master key (epoch ${e.epoch}) is ${age} days old and every key is wrapped under it`, evidence);
  },
};
