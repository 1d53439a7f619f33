/**
 * Facts for check tests: the example configuration (nonproduction, as `ward init` writes it) or
 * its production variant, a master key, a transport and a database inventory that pass every
 * check; each test changes one thing to make one check alarm.
 */

import type { DatabaseFacts, Facts } from '../../src/compliance/types.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig, type WardConfig } from '../../src/config/load.js';

export const NOW = new Date('2026-12-01T12:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000).toISOString();
const daysAhead = (n: number) => new Date(NOW.getTime() + n * 86_400_000).toISOString();

/** The example ward.yaml with `edit` applied to its text; production with a TLS database URL. */
export function config(edit: (text: string) => string = (t) => t, tier: 'production' | 'nonproduction' = 'production'): WardConfig {
  let text = edit(EXAMPLE_CONFIG);
  if (tier === 'production') text = text.replace('tier: nonproduction', 'tier: production');
  return parseConfig(text, '/virtual/ward.yaml', { DATABASE_URL: 'postgres://ward@db.internal/ward?sslmode=verify-full' });
}

export function database(change: Partial<DatabaseFacts> = {}): DatabaseFacts {
  return {
    keys: [{ collection: 'patients', version: 2, createdAt: daysAgo(30) }],
    masterEpoch: { epoch: 2, createdAt: daysAgo(60), completed: true },
    signingKey: { version: 1, createdAt: daysAgo(90) },
    apiKeys: [
      {
        id: 'k1',
        name: 'ehr-service',
        role: 'clinician',
        createdAt: daysAgo(10),
        expiresAt: daysAhead(80),
        revokedAt: null,
        lastUsedAt: daysAgo(1),
      },
      {
        id: 'k2',
        name: 'billing-service',
        role: 'billing',
        createdAt: daysAgo(10),
        expiresAt: daysAhead(80),
        revokedAt: null,
        lastUsedAt: daysAgo(2),
      },
    ],
    agreements: [],
    audit: {
      checkpoint: { treeSize: 120, sealedAt: daysAgo(0), rootHash: 'ab'.repeat(32) },
      unsealed: 0,
      lastFull: { at: daysAgo(1), ok: true, treeSize: 118 },
      verify: { ok: true, treeSize: 120, problem: null },
    },
    breakGlass: { uses: 1, unreviewed: 0, oldestUnreviewedAt: null },
    attestations: [],
    sample: null,
    ...change,
  };
}

/** Facts for a production space that passes every check of high severity and above: a production key, HTTPS, the database above. */
export function facts(change: Partial<Facts> = {}): Facts {
  return {
    now: NOW,
    config: config(),
    master: { source: 'WARD_MASTER_KEY', dev: false, exposed: false, createdWithDevKey: false },
    transport: { tls: true, trustProxy: 0, inspector: false },
    database: database(),
    ...change,
  };
}

export { daysAgo, daysAhead };
