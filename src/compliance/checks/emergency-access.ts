/**
 * An emergency access procedure (45 CFR 164.312(a)(2)(ii)): at least one role may break glass,
 * gaining declared rules for a window of time, audited, alerted and reviewed afterwards.
 */
import { alarm, type Check, ok } from '../types.js';

export const check: Check = {
  id: 'emergency-access',
  title: 'A role may break glass in an emergency',
  citations: ['164.312(a)(2)(ii)'],
  severity: 'high',
  needs: [],
  run({ config }) {
    const roles = Object.entries(config.roles)
      .filter(([, r]) => r.break_glass)
      .map(([name]) => name);
    if (!roles.length)
      return alarm(
        'roles.*.break_glass: no role may break glass, so nobody can reach PHI beyond their usual rules in an emergency; add break_glass to the care team role that needs it (the rule holds in both tiers)',
        { roles: 0 },
      );
    return ok(`roles.*.break_glass: ${roles.length} role(s) may break glass (${roles.join(', ')})`, { roles });
  },
};
