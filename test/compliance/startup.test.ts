/**
 * Start-up and the report share one rule set: every production refusal is a `fail` check's
 * alarm, word for word, and a configuration start-up accepts has no `fail` alarm in the report.
 */
import { describe, expect, it } from 'vitest';
import { STARTUP_CHECKS } from '../../src/compliance/checks/index.js';
import { runChecks } from '../../src/compliance/run.js';
import { assertProductionSafe, assertSafeServing } from '../../src/compliance/startup.js';
import { currentAttestations, requirementStatuses } from '../../src/compliance/status.js';
import type { Facts } from '../../src/compliance/types.js';
import { isWardError } from '../../src/errors.js';
import { config, daysAgo, daysAhead, facts, NOW } from './facts.js';

/** The lines of each start-up stage's refusal: opening the vault (the key, the database), then serving. */
const refusal = (f: Facts): string[] => {
  const lines = (stage: () => void): string[] => {
    try {
      stage();
    } catch (e) {
      expect(isWardError(e, 'unsafe_production')).toBe(true);
      return (e as Error).message
        .split('\n')
        .slice(1)
        .map((l) => l.trim());
    }
    return [];
  };
  const { master, transport } = f;
  return [
    ...(master ? lines(() => assertProductionSafe(f.config, master, master.createdWithDevKey, f.now)) : []),
    ...(transport ? lines(() => assertSafeServing(f.config, transport, f.now)) : []),
  ];
};
const reportAlarms = (f: Facts): string[] =>
  runChecks(f, STARTUP_CHECKS)
    .findings.filter((x) => x.status === 'alarm')
    .map((x) => `${x.reason} [${x.id}]`);

describe('start-up and ward check agree', () => {
  const master = { source: '/k', dev: false, exposed: false, createdWithDevKey: false };
  const cases: [string, Facts][] = [
    ['a safe production space', facts()],
    ['a development key', facts({ master: { ...master, dev: true } })],
    ['a database made under a development key', facts({ master: { ...master, createdWithDevKey: true } })],
    ['a key file others can read', facts({ master: { ...master, exposed: true } })],
    ['the embedded database', facts({ config: { ...config(), database: { kind: 'embedded', dir: '/d', source: 'ward.yaml' } as never } })],
    [
      'a database URL without TLS',
      facts({ config: { ...config(), database: { kind: 'url', url: 'postgres://db/ward', source: 'DATABASE_URL' } } }),
    ],
    ['private egress', facts({ config: { ...config(), egress: { allow_private: true } } })],
    ['plain HTTP', facts({ transport: { tls: false, trustProxy: 0, inspector: false } })],
    ['the inspector', facts({ transport: { tls: true, trustProxy: 0, inspector: true } })],
    [
      'everything at once',
      facts({ master: { ...master, dev: true, exposed: true }, transport: { tls: false, trustProxy: 0, inspector: true } }),
    ],
  ];

  it.each(cases)('rule: the refusal to start lists exactly the report’s fail alarms: %s', (_name, f) => {
    expect(refusal(f)).toEqual(reportAlarms(f));
  });

  it('rule: a nonproduction space is never refused, and the report skips the production rules', () => {
    const f = facts({
      config: config(undefined, 'nonproduction'),
      master: { ...master, dev: true, exposed: true, createdWithDevKey: true },
    });
    expect(refusal(f)).toEqual([]);
    const statuses = runChecks(f, STARTUP_CHECKS).findings.map((x) => x.status);
    expect(statuses.filter((s) => s === 'alarm')).toEqual([]);
    expect(statuses.filter((s) => s === 'skip').length).toBeGreaterThanOrEqual(STARTUP_CHECKS.length - 1);
  });
});

describe('attestations in progress', () => {
  const a = (control: string, at: string, expiresAt: string | null) => ({
    id: `${control}-${at}`,
    control,
    by: 'Dana',
    at,
    expiresAt,
    evidenceSha256: '0'.repeat(64),
  });

  it('rule: an expired attestation counts as missing; the newest unexpired one per control counts', () => {
    const expired = a('risk-analysis', daysAgo(400), daysAgo(35));
    expect(currentAttestations([expired], NOW)).toEqual([]);
    const newer = a('risk-analysis', daysAgo(10), daysAhead(355));
    expect(currentAttestations([expired, newer, a('risk-analysis', daysAgo(20), null)], NOW)).toEqual([newer]);
    const checks = runChecks(facts());
    const [q] = requirementStatuses(checks, [expired], NOW).filter((r) => r.section === '164.308(a)(1)(ii)(A)');
    expect(q).toMatchObject({ met: false, since: null, attestations: [] });
    const [met] = requirementStatuses(checks, [expired, newer], NOW).filter((r) => r.section === '164.308(a)(1)(ii)(A)');
    expect(met).toMatchObject({ met: true, since: newer.at });
  });

  it('rule: a newer attestation supersedes an older one, so once the newer expires the control is missing', () => {
    const old = a('risk-analysis', daysAgo(300), null);
    const newer = a('risk-analysis', daysAgo(100), daysAgo(5));
    expect(currentAttestations([old, newer], NOW)).toEqual([]);
    expect(currentAttestations([old], NOW)).toEqual([old]);
  });

  it('rule: a requirement a check alarms on is not met, whatever is attested', () => {
    const f = facts({ master: { source: 'k', dev: true, exposed: false, createdWithDevKey: false } });
    const [q] = requirementStatuses(runChecks(f), [], NOW).filter((r) => r.section === '164.312(a)(2)(iv)');
    expect(q?.met).toBe(false);
    expect(q?.checks).toContainEqual({ id: 'master-key-production', status: 'alarm' });
  });
});

describe('each start-up check: one configuration that passes, one that alarms', () => {
  const master = { source: 'WARD_MASTER_KEY', dev: false, exposed: false, createdWithDevKey: false };
  const cases: [string, Partial<Facts>, string][] = [
    ['master-key-production', { master: { ...master, dev: true } }, '164.312(a)(2)(iv)'],
    ['database-production-key', { master: { ...master, createdWithDevKey: true } }, '164.312(a)(2)(iv)'],
    ['master-key-file-private', { master: { ...master, source: '/k', exposed: true } }, '164.312(a)(1)'],
    [
      'database-server',
      { config: { ...config(), database: { kind: 'embedded', dir: '/d', source: 'ward.yaml' } as never } },
      '164.308(a)(7)(ii)(A)',
    ],
    [
      'database-tls',
      { config: { ...config(), database: { kind: 'url', url: 'postgres://db/ward?sslmode=prefer', source: 'DATABASE_URL' } } },
      '164.312(e)(1)',
    ],
    ['egress-public-only', { config: { ...config(), egress: { allow_private: true } } }, '164.312(e)(1)'],
    ['ingress-tls', { transport: { tls: false, trustProxy: 0, inspector: false } }, '164.312(e)(2)(ii)'],
    ['no-debugger', { transport: { tls: true, trustProxy: 0, inspector: true } }, '164.312(a)(1)'],
  ];
  it.each(cases)(
    'rule: %s alarms with its citation and a reason naming the fix; passes on a safe production space',
    (id, change, citation) => {
      const check = STARTUP_CHECKS.find((c) => c.id === id);
      if (!check) throw new Error(`no check ${id}`);
      expect(check.severity).toBe('fail');
      expect(check.citations).toContain(citation);
      expect(runChecks(facts(), [check]).findings[0]?.status).toBe('ok');
      const bad = runChecks(facts(change), [check]).findings[0];
      expect(bad?.status).toBe('alarm');
      expect(bad?.reason).toMatch(/keys|database|egress|TLS|--tls-cert|inspector/);
    },
  );

  it('rule: without the database, whether its keys were made under a development key is unknown: skipped, never ok', () => {
    const check = STARTUP_CHECKS.find((c) => c.id === 'database-production-key');
    if (!check) throw new Error('no database-production-key');
    const f = facts({ master: { source: 'WARD_MASTER_KEY', dev: false, exposed: false } });
    expect(runChecks(f, [check]).findings[0]).toMatchObject({ status: 'skip', reason: expect.stringContaining('needs the database') });
  });

  it('rule: behind a named TLS-terminating proxy, plain HTTP to the proxy is accepted', () => {
    const check = STARTUP_CHECKS.find((c) => c.id === 'ingress-tls');
    if (!check) throw new Error('no ingress-tls');
    expect(runChecks(facts({ transport: { tls: false, trustProxy: 1, inspector: false } }), [check]).findings[0]).toMatchObject({
      status: 'ok',
      evidence: { trustedProxies: 1 },
    });
  });
});
