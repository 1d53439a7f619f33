/** The audit log is sealed: a signed checkpoint from the last day, and few events waiting after it. */
import { alarm, type Check, daysBetween, info, ok, skip } from '../types.js';
import { interval } from './audit-log-verifies.js';

/** A day: `ward serve` seals every audit.seal_every (10s by default), so a day-old checkpoint with events after it means sealing stopped. */
export const MAX_CHECKPOINT_AGE_DAYS = 1;
/**
 * One sealing round takes up to 10,000 events (audit/seal's DEFAULT_BATCH): more than one full
 * round waiting means the sealer is stopped or falling behind, and those events are not yet
 * protected by a signature.
 */
export const MAX_UNSEALED = 10_000;

export const check: Check = {
  id: 'audit-checkpoint-recent',
  title: 'The audit log was sealed into a signed checkpoint within the last day',
  citations: ['164.312(b)'],
  severity: 'medium',
  needs: ['database'],
  run({ database, now, config }) {
    if (!database) return skip('needs the database');
    const { checkpoint, unsealed } = database.audit;
    const sealEvery = interval(config.audit.sealEveryMs);
    if (!checkpoint) {
      if (unsealed === 0) return info('the audit log holds no events yet: nothing to seal', { unsealed, sealEvery });
      return alarm(
        `the audit log has never been sealed and ${unsealed} event(s) wait: run \`ward audit seal\` and keep audit.seal_every on`,
        {
          unsealed,
          sealEvery,
        },
      );
    }
    // Hours, not whole days: "within the last 24 hours".
    const hours = Math.floor((now.getTime() - Date.parse(checkpoint.sealedAt)) / 3_600_000);
    const evidence = {
      treeSize: checkpoint.treeSize,
      sealedAt: checkpoint.sealedAt,
      ageHours: hours,
      unsealed,
      maxUnsealed: MAX_UNSEALED,
      sealEvery,
    };
    if (unsealed >= MAX_UNSEALED)
      return alarm(
        `${unsealed} audit events wait after the newest checkpoint (more than one sealing round of ${MAX_UNSEALED}): run \`ward audit seal\` and check that \`ward serve\`'s sealer runs`,
        evidence,
      );
    // No events after the checkpoint: a quiet vault has nothing new to seal, however old the checkpoint.
    if (unsealed > 0 && daysBetween(checkpoint.sealedAt, now) >= MAX_CHECKPOINT_AGE_DAYS)
      return alarm(
        `the newest audit checkpoint is ${hours} hours old and ${unsealed} event(s) wait after it: run \`ward audit seal\` and keep audit.seal_every on`,
        evidence,
      );
    return ok(
      `the audit log is sealed to tree size ${checkpoint.treeSize} (${hours} hours ago) with ${unsealed} event(s) waiting`,
      evidence,
    );
  },
};
