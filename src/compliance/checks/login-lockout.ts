/**
 * Log-in monitoring (45 CFR 164.308(a)(5)(ii)(C)): failed authentications are counted and lock
 * the client (or key) out. The lockout is always on in Ward; this checks it bites: at most 100
 * failures within a window of at least a minute, and a lockout of at least a minute.
 */
import { alarm, type Check, ok } from '../types.js';

export const MAX_FAILURES = 100;
const MINUTE = 60_000;

export const check: Check = {
  id: 'login-lockout',
  title: 'Repeated failed logins lock the client out',
  citations: ['164.308(a)(5)(ii)(C)'],
  severity: 'medium',
  needs: [],
  run({ config }) {
    const { maxFailures, windowMs, lockoutMs } = config.auth;
    const evidence = { maxFailures, windowSeconds: Math.round(windowMs / 1000), lockoutSeconds: Math.round(lockoutMs / 1000) };
    const fixes: string[] = [];
    if (maxFailures > MAX_FAILURES) fixes.push(`auth.max_failures: set it to ${MAX_FAILURES} or fewer`);
    if (windowMs < MINUTE) fixes.push('auth.failure_window: set it to 1m or longer');
    if (lockoutMs < MINUTE) fixes.push('auth.lockout: set it to 1m or longer');
    if (fixes.length) return alarm(`failed logins lock out too late or too briefly (in both tiers): ${fixes.join('; ')}`, evidence);
    return ok(
      `auth: ${maxFailures} failed login(s) within ${evidence.windowSeconds}s lock the client out for ${evidence.lockoutSeconds}s`,
      evidence,
    );
  },
};
