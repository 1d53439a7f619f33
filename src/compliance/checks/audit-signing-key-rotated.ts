/** The Ed25519 key that signs audit checkpoints is younger than two years. */
import { alarm, type Check, daysBetween, ok, skip } from '../types.js';

/** Two years, as for the master key: a signing key signs checkpoints only, and its old versions stay to verify. */
export const MAX_SIGNING_KEY_DAYS = 730;

export const check: Check = {
  id: 'audit-signing-key-rotated',
  title: 'The audit signing key is younger than two years',
  citations: ['164.312(c)(2)'],
  severity: 'low',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const k = database.signingKey;
    if (!k) return skip('no audit signing key yet: the audit log has not been sealed');
    const age = daysBetween(k.createdAt, now);
    const evidence = { version: k.version, createdAt: k.createdAt, ageDays: age, maxDays: MAX_SIGNING_KEY_DAYS };
    if (age >= MAX_SIGNING_KEY_DAYS)
      return alarm(`the audit signing key (version ${k.version}) is ${age} days old: run \`ward keys rotate --audit-signing\``, evidence);
    return ok(`the audit signing key (version ${k.version}) is ${age} days old`, evidence);
  },
};
