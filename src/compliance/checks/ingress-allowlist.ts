/** A production space takes requests only from listed addresses (network.ingress.allow). */
import { alarm, type Check, info, ok } from '../types.js';

export const check: Check = {
  id: 'ingress-allowlist',
  title: 'Requests are taken only from listed addresses',
  citations: ['164.312(e)(1)'],
  severity: 'low',
  needs: [],
  run({ config }) {
    const allow = config.ingressAllow;
    if (allow)
      return ok(`network.ingress.allow: requests are taken from ${allow.length} listed address range(s)`, { ranges: allow.length });
    const reason = 'network.ingress.allow: requests are taken from any address; list the addresses and CIDR ranges clients come from';
    return config.space.tier === 'production' ? alarm(reason, { ranges: 0 }) : info(`nonproduction space: ${reason}`, { ranges: 0 });
  },
};
