/** A production process runs no debugger: an inspector port would open its memory, PHI and keys included. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'no-debugger',
  title: 'No debugger is attached to a production process',
  citations: ['164.312(a)(1)'],
  severity: 'fail',
  needs: ['transport'],
  run({ config, transport }) {
    if (!transport) return skip('needs a running server (ward serve)');
    if (config.space.tier !== 'production') return skip('nonproduction space');
    if (transport.inspector) return alarm('refuses to run with the Node inspector (--inspect): start without it');
    return ok('the Node inspector is off');
  },
};
