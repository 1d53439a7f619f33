/** A production space never sends to loopback or private addresses. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'egress-public-only',
  title: 'Outbound requests never reach loopback or private addresses',
  citations: ['164.312(e)(1)'],
  severity: 'fail',
  needs: [],
  run({ config }) {
    if (config.space.tier !== 'production') return skip('nonproduction space: a local receiver is allowed');
    if (config.egress.allow_private)
      return alarm('egress.allow_private: a production space never sends to loopback or private addresses; remove it');
    return ok('outbound requests reach public addresses only');
  },
};
