/**
 * The audit log verifies: the incremental verification run while gathering found it sound, and
 * the newest full verification (`ward audit verify`, or `ward serve` every audit.verify_every)
 * found it sound and is at most a week old.
 */
import { alarm, type Check, daysBetween, ok, skip } from '../types.js';

/** A week: the default audit.verify_every is a day, so a week without one means it is off or failing. */
export const MAX_VERIFY_AGE_DAYS = 7;

/** An interval setting as ward.yaml writes it (`24h`, `10s`, `500ms`), or `off`. */
export const interval = (ms: number | null): string => {
  if (ms === null) return 'off';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
};

export const check: Check = {
  id: 'audit-log-verifies',
  title: 'The audit log verifies, fully within the last week',
  citations: ['164.312(c)(1)', '164.312(c)(2)', '164.312(b)'],
  severity: 'high',
  needs: ['database'],
  run({ database, now, config }) {
    if (!database) return skip('needs the database');
    const { verify, lastFull, checkpoint, unsealed } = database.audit;
    const evidence = {
      incrementalOk: verify?.ok ?? null,
      incrementalTreeSize: verify?.treeSize ?? null,
      problem: verify?.problem ?? null,
      lastFullAt: lastFull?.at ?? null,
      lastFullOk: lastFull?.ok ?? null,
      lastFullTreeSize: lastFull?.treeSize ?? null,
      verifyEvery: interval(config.audit.verifyEveryMs),
    };
    // The problem is a kind and a sequence number (`checkpoint_forged seq 42`): never an event's content.
    if (verify && !verify.ok)
      return alarm(
        `the audit log failed verification up to tree size ${verify.treeSize} (${verify.problem ?? 'no problem named'}): ` +
          'run `ward audit verify` to name the first bad event and handle it as a security incident',
        evidence,
      );
    if (!lastFull) {
      if (!checkpoint && unsealed === 0) return skip('the audit log holds no events yet: nothing to verify');
      return alarm('the audit log has never been fully verified: run `ward audit verify` (and keep audit.verify_every on)', evidence);
    }
    if (!lastFull.ok)
      return alarm(
        `the newest full verification of the audit log (${lastFull.at.slice(0, 10)}, tree size ${lastFull.treeSize}) failed: ` +
          'run `ward audit verify` to name the first bad event and handle it as a security incident',
        evidence,
      );
    const age = daysBetween(lastFull.at, now);
    if (now.getTime() - Date.parse(lastFull.at) > MAX_VERIFY_AGE_DAYS * 86_400_000)
      return alarm(
        `the newest full verification of the audit log is ${age} days old: run \`ward audit verify\`, and keep audit.verify_every on for \`ward serve\``,
        { ...evidence, lastFullAgeDays: age },
      );
    return ok(`the audit log verifies: fully ${age} day(s) ago at tree size ${lastFull.treeSize}, and incrementally now`, {
      ...evidence,
      lastFullAgeDays: age,
    });
  },
};
