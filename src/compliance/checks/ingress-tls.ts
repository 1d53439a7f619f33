/** A production server serves HTTPS itself or sits behind a named TLS-terminating proxy. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'ingress-tls',
  title: 'Requests reach Ward over TLS',
  citations: ['164.312(e)(1)', '164.312(e)(2)(ii)'],
  severity: 'fail',
  needs: ['transport'],
  run({ config, transport }) {
    if (!transport) return skip('needs a running server (ward serve)');
    if (config.space.tier !== 'production') return skip('nonproduction space: plain HTTP is allowed');
    if (transport.tls) return ok('ward serve serves HTTPS itself', { tls: true });
    if (transport.trustProxy > 0)
      return ok('ward serve sits behind a named TLS-terminating proxy', { trustedProxies: transport.trustProxy });
    return alarm(
      'refuses plain HTTP: pass --tls-cert and --tls-key, or --trust-proxy <address> of the TLS-terminating proxy in front of Ward',
    );
  },
};
