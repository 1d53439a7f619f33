/**
 * In production the master key, which wraps every collection's data keys, is held by a KMS or an
 * HSM (keys.provider aws-kms or pkcs11), never as key bytes on the host (a file or an environment
 * variable) where a copy of the disk or the environment carries it away.
 */
import { alarm, type Check, ok, skip } from '../types.js';

const HELD_OUTSIDE = new Set(['aws-kms', 'pkcs11']);

export const check: Check = {
  id: 'encryption-at-rest-keys',
  title: 'The master key is held by a KMS or an HSM',
  citations: ['164.312(a)(2)(iv)'],
  severity: 'low',
  needs: [],
  run({ config }) {
    const provider = config.keys.provider;
    if (HELD_OUTSIDE.has(provider)) return ok(`keys.provider: the master key is held by ${provider}`, { provider });
    if (config.space.tier !== 'production')
      return skip(`nonproduction space: keys.provider ${provider} is allowed (production should use aws-kms or pkcs11)`, { provider });
    return alarm(
      `keys.provider: the master key is held as bytes on the host (${provider}); set keys.provider to aws-kms or pkcs11 so a KMS or HSM holds it`,
      { provider },
    );
  },
};
