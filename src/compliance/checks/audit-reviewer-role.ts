/**
 * Information system activity review (45 CFR 164.308(a)(1)(ii)(D)): at least one role may read
 * the audit trail (roles.<name>.audit: true), so a reviewer needs no operator access to do it.
 */
import { alarm, type Check, ok } from '../types.js';

export const check: Check = {
  id: 'audit-reviewer-role',
  title: 'A role may read the audit trail',
  citations: ['164.308(a)(1)(ii)(D)'],
  severity: 'medium',
  needs: [],
  run({ config }) {
    const roles = Object.entries(config.roles)
      .filter(([, r]) => r.audit === true)
      .map(([name]) => name);
    if (!roles.length)
      return alarm('roles.*.audit: no role may read the audit trail; add a reviewer role with audit: true (the rule holds in both tiers)', {
        roles: 0,
      });
    return ok(`roles.*.audit: ${roles.length} role(s) may read the audit trail (${roles.join(', ')})`, { roles });
  },
};
