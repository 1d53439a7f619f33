/** A production space never runs under a development master key (the one `ward init` writes). */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'master-key-production',
  title: 'The master key is not a development key',
  citations: ['164.312(a)(2)(iv)'],
  severity: 'fail',
  needs: ['master'],
  run({ config, master }) {
    if (!master) return skip('needs the master key');
    if (config.space.tier !== 'production') return skip('nonproduction space: a development key is allowed');
    if (master.dev)
      return alarm(`keys: the master key from ${master.source} is a development key made by \`ward init\`; supply a production key`, {
        source: master.source,
      });
    return ok('the master key is a production key', { source: master.source });
  },
};
