/** A master key kept in a file is readable by its owner only. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'master-key-file-private',
  title: 'The master key file is readable by its owner only',
  citations: ['164.312(a)(1)', '164.312(a)(2)(iv)'],
  severity: 'fail',
  needs: ['master'],
  run({ config, master }) {
    if (!master) return skip('needs the master key');
    if (config.space.tier !== 'production') return skip('nonproduction space');
    if (master.exposed)
      return alarm(`keys.file: ${master.source} can be read by other users; run chmod 600 on it`, { source: master.source });
    return ok(
      config.keys.provider === 'file' ? 'the key file is readable by its owner only' : `the master key is held by ${config.keys.provider}`,
      {
        provider: config.keys.provider,
      },
    );
  },
};
