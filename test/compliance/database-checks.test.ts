import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { check as agreementsCurrent } from '../../src/compliance/checks/agreements-current.js';
import { check as apiKeysExpire } from '../../src/compliance/checks/api-keys-expire.js';
import { check as apiKeysExpiredRevoked } from '../../src/compliance/checks/api-keys-expired-revoked.js';
import { check as apiKeysNotShared, isGeneric } from '../../src/compliance/checks/api-keys-not-shared.js';
import { check as apiKeysUsedRecently } from '../../src/compliance/checks/api-keys-used-recently.js';
import { check as attestationsCurrent } from '../../src/compliance/checks/attestations-current.js';
import { check as auditCheckpointExported } from '../../src/compliance/checks/audit-checkpoint-exported.js';
import { check as auditCheckpointRecent } from '../../src/compliance/checks/audit-checkpoint-recent.js';
import { check as auditLogVerifies } from '../../src/compliance/checks/audit-log-verifies.js';
import { check as auditSigningKeyRotated } from '../../src/compliance/checks/audit-signing-key-rotated.js';
import { check as breakGlassReviewed } from '../../src/compliance/checks/break-glass-reviewed.js';
import { check as dataKeysRotated } from '../../src/compliance/checks/data-keys-rotated.js';
import { check as egressCovered } from '../../src/compliance/checks/egress-covered.js';
import { check as masterKeyRotated } from '../../src/compliance/checks/master-key-rotated.js';
import { check as nonproductionNoPhi } from '../../src/compliance/checks/nonproduction-no-phi.js';
import { DATABASE_CHECKS } from '../../src/compliance/checks/set-database.js';
import { CONTROLS, REQUIREMENTS } from '../../src/compliance/citations.js';
import { runCheck } from '../../src/compliance/run.js';
import type { AgreementFact, ApiKeyFact, AttestationFact, Check, DatabaseFacts, Facts } from '../../src/compliance/types.js';
import type { WardConfig } from '../../src/config/load.js';
import { config, database, daysAgo, daysAhead, facts, NOW } from './facts.js';

const CHECKS_DIR = new URL('../../src/compliance/checks/', import.meta.url);

/** Facts whose database inventory has `change` applied (and the rest of `more`). */
const db = (change: Partial<DatabaseFacts>, more: Partial<Facts> = {}): Facts => facts({ database: database(change), ...more });

const apiKey = (over: Partial<ApiKeyFact>): ApiKeyFact => ({
  id: 'k9',
  name: 'lab-service',
  role: 'clinician',
  createdAt: daysAgo(10),
  expiresAt: daysAhead(300),
  revokedAt: null,
  lastUsedAt: daysAgo(1),
  ...over,
});

const agreement = (over: Partial<AgreementFact>): AgreementFact => ({
  id: 'a1',
  name: 'Hooks vendor',
  hosts: ['hooks.example.com'],
  scope: 'phi',
  expires: '2028-01-31',
  status: 'active',
  ...over,
});

const attestation = (control: string, expiresAt: string | null = daysAhead(200)): AttestationFact => ({
  id: `t-${control}`,
  control,
  by: 'security-officer',
  at: daysAgo(5),
  expiresAt,
  evidenceSha256: 'cd'.repeat(32),
});

/** The production configuration with destinations added: webhook, drain and alerts URLs, a NATS url. */
function withDestinations(
  o: { webhooks?: string[]; drains?: string[]; alerts?: string; nats?: string },
  base: WardConfig = config(),
): WardConfig {
  return {
    ...base,
    events: {
      ...base.events,
      webhooks: (o.webhooks ?? []).map((url, i) => ({
        name: `hook_${i}`,
        topic: 'local-dev.patients.refs.v1',
        url,
        secret_env: 'HOOK_SECRET',
        max_attempts: 8,
        retry_after: '1s',
      })),
      broker: o.nats ? { nats: { url: o.nats } } : {},
    },
    logging: { drains: (o.drains ?? []).map((url, i) => ({ name: `drain_${i}`, url, flushMs: 2000 })) },
    alerts: o.alerts ? { url: o.alerts, secret_env: 'WARD_ALERT_SECRET' } : undefined,
  };
}

/** Runs `check` and asserts its status and citations; returns the finding. */
function expectFinding(check: Check, f: Facts, status: string, reason?: RegExp) {
  const finding = runCheck(check, f);
  expect(finding.status, finding.reason).toBe(status);
  if (reason) expect(finding.reason).toMatch(reason);
  expect(finding.citations).toEqual(check.citations);
  return finding;
}

describe('DATABASE_CHECKS', () => {
  it('every check has a unique id equal to its file name, exported as `check` from that file', async () => {
    const ids = DATABASE_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const files = new Set(readdirSync(CHECKS_DIR).filter((f) => f.endsWith('.ts')));
    for (const c of DATABASE_CHECKS) {
      expect(c.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(files.has(`${c.id}.ts`), c.id).toBe(true);
      const mod = (await import(new URL(`${c.id}.ts`, CHECKS_DIR).href)) as { check: Check };
      expect(mod.check).toBe(c);
    }
  });

  it('lists at least twelve checks', () => {
    expect(DATABASE_CHECKS.length).toBeGreaterThanOrEqual(12);
  });

  it.each(DATABASE_CHECKS.map((c) => [c.id, c] as const))(
    '%s cites known requirements, needs the database, and never refuses start-up',
    (_, c) => {
      expect(c.citations.length).toBeGreaterThan(0);
      for (const s of c.citations) expect(REQUIREMENTS[s], s).toBeDefined();
      expect(c.needs).toContain('database');
      expect(c.severity).not.toBe('fail');
      expect(['high', 'medium', 'low']).toContain(c.severity);
      expect(c.title.length).toBeGreaterThan(0);
    },
  );

  it.each(DATABASE_CHECKS.map((c) => [c.id, c] as const))('%s is skipped when the database was not gathered', (_, c) => {
    const f = facts();
    delete f.database;
    expect(runCheck(c, f).status).toBe('skip');
    // and its own guard says so, run directly
    expect(c.run(f)).toMatchObject({ status: 'skip', reason: 'needs the database' });
  });

  it('every check runs on the passing facts without an error', () => {
    for (const c of DATABASE_CHECKS) expect(runCheck(c, facts()).status, c.id).not.toBe('error');
  });
});

describe('data-keys-rotated', () => {
  it("passes while each collection's active data key is younger than 365 days", () => {
    const f = expectFinding(dataKeysRotated, facts(), 'ok', /younger than 365 days/);
    expect(f.evidence).toMatchObject({ collections: 1, oldestKeyDays: 30 });
  });

  it('alarms on a data key 365 days old or older, naming the collection and `ward keys rotate`', () => {
    const f = expectFinding(
      dataKeysRotated,
      db({
        keys: [
          { collection: 'patients', version: 1, createdAt: daysAgo(400) },
          { collection: 'claims', version: 3, createdAt: daysAgo(20) },
        ],
      }),
      'alarm',
      /1 collection\(s\).*\(patients\).*`ward keys rotate --all`/,
    );
    expect(f.evidence).toMatchObject({ stale: ['patients'], oldestKeyDays: 400 });
    expect(f.citations).toEqual(['164.312(a)(2)(iv)']);
  });

  it('is skipped when no collection has a data key', () => {
    expectFinding(dataKeysRotated, db({ keys: [] }), 'skip');
  });
});

describe('master-key-rotated', () => {
  it('passes with a completed master epoch younger than two years', () => {
    expectFinding(masterKeyRotated, facts(), 'ok', /epoch 2/);
  });

  it('alarms when the newest master rotation has not finished rewrapping', () => {
    expectFinding(
      masterKeyRotated,
      db({ masterEpoch: { epoch: 3, createdAt: daysAgo(1), completed: false } }),
      'alarm',
      /epoch 3 has not finished.*`ward keys rotate --master`/,
    );
  });

  it('alarms when the master key is two years old or older', () => {
    const f = expectFinding(
      masterKeyRotated,
      db({ masterEpoch: { epoch: 1, createdAt: daysAgo(800), completed: true } }),
      'alarm',
      /800 days old.*keys\.previous.*`ward keys rotate --master`/,
    );
    expect(f.citations).toEqual(['164.312(a)(2)(iv)']);
  });
});

describe('audit-signing-key-rotated', () => {
  it('passes with a signing key younger than two years', () => {
    expectFinding(auditSigningKeyRotated, facts(), 'ok', /version 1/);
  });

  it('alarms on a signing key two years old or older, naming `ward keys rotate --audit-signing`', () => {
    const f = expectFinding(
      auditSigningKeyRotated,
      db({ signingKey: { version: 4, createdAt: daysAgo(731) } }),
      'alarm',
      /version 4.*731 days.*`ward keys rotate --audit-signing`/,
    );
    expect(f.citations).toEqual(['164.312(c)(2)']);
  });
});

describe('audit-log-verifies', () => {
  const audit = database().audit;

  it('passes when the gathering verification and a full one within 7 days are ok', () => {
    const f = expectFinding(auditLogVerifies, facts(), 'ok', /verifies/);
    expect(f.citations).toEqual(['164.312(c)(1)', '164.312(c)(2)', '164.312(b)']);
    expect(f.evidence).toMatchObject({ lastFullAgeDays: 1, verifyEvery: '1d' });
  });

  it('alarms when the verification run while gathering fails, naming the problem', () => {
    const f = expectFinding(
      auditLogVerifies,
      db({ audit: { ...audit, verify: { ok: false, treeSize: 120, problem: 'checkpoint_forged seq 42' } } }),
      'alarm',
      /failed verification.*checkpoint_forged seq 42.*`ward audit verify`/,
    );
    expect(f.evidence).toMatchObject({ problem: 'checkpoint_forged seq 42', incrementalOk: false });
  });

  it('alarms when the newest full verification failed', () => {
    expectFinding(
      auditLogVerifies,
      db({ audit: { ...audit, lastFull: { at: daysAgo(1), ok: false, treeSize: 100 } } }),
      'alarm',
      /full verification.*failed.*`ward audit verify`/,
    );
  });

  it('alarms when the log was never fully verified', () => {
    expectFinding(auditLogVerifies, db({ audit: { ...audit, lastFull: null } }), 'alarm', /never been fully verified.*`ward audit verify`/);
  });

  it('alarms when the newest full verification is older than 7 days', () => {
    expectFinding(
      auditLogVerifies,
      db({ audit: { ...audit, lastFull: { at: daysAgo(10), ok: true, treeSize: 100 } } }),
      'alarm',
      /10 days old.*`ward audit verify`/,
    );
  });

  it('is skipped while the log holds no events', () => {
    expectFinding(auditLogVerifies, db({ audit: { checkpoint: null, unsealed: 0, lastFull: null, verify: null } }), 'skip');
  });
});

describe('audit-checkpoint-exported', () => {
  const audit = database().audit;

  it('rule: a checkpoint handed out within a week passes; none, or an older one, alarms naming the command', () => {
    const f = expectFinding(auditCheckpointExported, db({ audit: { ...audit, lastExportAt: daysAgo(2) } }), 'ok', /exported 2 day/);
    expect(f.citations).toEqual(['164.312(c)(1)', '164.312(b)']);
    expectFinding(
      auditCheckpointExported,
      db({ audit: { ...audit, lastExportAt: null } }),
      'alarm',
      /ever been exported.*ward audit checkpoint --export/,
    );
    expectFinding(auditCheckpointExported, db({ audit: { ...audit, lastExportAt: daysAgo(9) } }), 'alarm', /exported 9 days ago/);
  });

  it('skips before the first seal', () => {
    expectFinding(auditCheckpointExported, db({ audit: { ...audit, checkpoint: null } }), 'skip');
  });
});

describe('audit-checkpoint-recent', () => {
  const audit = database().audit;
  const stale = { treeSize: 120, sealedAt: daysAgo(3), rootHash: 'ab'.repeat(32) };

  it('passes with a checkpoint sealed within 24 hours and few events after it', () => {
    const f = expectFinding(auditCheckpointRecent, facts(), 'ok', /sealed to tree size 120/);
    expect(f.citations).toEqual(['164.312(b)']);
    expect(f.evidence).toMatchObject({ unsealed: 0, sealEvery: '10s' });
  });

  it('passes with an old checkpoint when no event waits after it (a quiet vault)', () => {
    expectFinding(auditCheckpointRecent, db({ audit: { ...audit, checkpoint: stale, unsealed: 0 } }), 'ok');
  });

  it('alarms when the checkpoint is older than 24 hours and events wait after it', () => {
    expectFinding(
      auditCheckpointRecent,
      db({ audit: { ...audit, checkpoint: stale, unsealed: 5 } }),
      'alarm',
      /72 hours old.*5 event\(s\).*`ward audit seal`/,
    );
  });

  it('alarms when 10,000 or more events wait, however fresh the checkpoint', () => {
    expectFinding(
      auditCheckpointRecent,
      db({ audit: { ...audit, unsealed: 12_000 } }),
      'alarm',
      /12000 audit events wait.*`ward audit seal`/,
    );
  });

  it('alarms when events wait and the log was never sealed', () => {
    expectFinding(auditCheckpointRecent, db({ audit: { ...audit, checkpoint: null, unsealed: 3 } }), 'alarm', /never been sealed/);
  });
});

describe('api-keys-expire', () => {
  it('passes when every active key expires within 400 days of its creation', () => {
    const f = expectFinding(apiKeysExpire, facts(), 'ok', /2 active API key/);
    expect(f.citations).toEqual(['164.308(a)(3)(ii)(C)', '164.312(a)(2)(i)']);
  });

  it('alarms on an active key that never expires, naming its id and `ward apikey create --expires`', () => {
    const f = expectFinding(
      apiKeysExpire,
      db({ apiKeys: [apiKey({ id: 'k-forever', expiresAt: null })] }),
      'alarm',
      /1 never expire \(k-forever\).*--expires 1y.*`ward apikey revoke <id>`/,
    );
    expect(f.evidence).toMatchObject({ neverExpire: ['k-forever'] });
  });

  it('alarms on an active key that lives longer than 400 days', () => {
    expectFinding(
      apiKeysExpire,
      db({ apiKeys: [apiKey({ id: 'k-long', createdAt: daysAgo(10), expiresAt: daysAhead(720) })] }),
      'alarm',
      /live longer than 400 days \(k-long\)/,
    );
  });

  it('passes for an old key being rotated out (ending within 30 days), and ignores revoked and expired keys', () => {
    expectFinding(
      apiKeysExpire,
      db({
        apiKeys: [
          apiKey({ id: 'k-rotating', createdAt: daysAgo(500), expiresAt: daysAhead(7) }),
          apiKey({ id: 'k-revoked', expiresAt: null, revokedAt: daysAgo(1) }),
          apiKey({ id: 'k-expired', createdAt: daysAgo(900), expiresAt: daysAgo(2) }),
        ],
      }),
      'ok',
    );
  });
});

describe('api-keys-used-recently', () => {
  it('passes when every active key was used within 90 days', () => {
    const f = expectFinding(apiKeysUsedRecently, facts(), 'ok');
    expect(f.citations).toEqual(['164.308(a)(3)(ii)(C)']);
  });

  it('passes for a new key not yet used', () => {
    expectFinding(apiKeysUsedRecently, db({ apiKeys: [apiKey({ lastUsedAt: null, createdAt: daysAgo(5) })] }), 'ok');
  });

  it('alarms on an active key unused for more than 90 days, or never used since it was made 90 days ago', () => {
    const f = expectFinding(
      apiKeysUsedRecently,
      db({
        apiKeys: [
          apiKey({ id: 'k-idle', createdAt: daysAgo(200), expiresAt: daysAhead(100), lastUsedAt: daysAgo(120) }),
          apiKey({ id: 'k-unused', createdAt: daysAgo(100), expiresAt: daysAhead(200), lastUsedAt: null }),
          apiKey({ id: 'k-gone', createdAt: daysAgo(200), expiresAt: daysAhead(100), lastUsedAt: null, revokedAt: daysAgo(3) }),
        ],
      }),
      'alarm',
      /2 active API key\(s\).*90 days \(k-idle, k-unused\).*`ward apikey revoke <id>`/,
    );
    expect(f.evidence).toMatchObject({ stale: ['k-idle', 'k-unused'], neverUsed: 1 });
  });
});

describe('api-keys-not-shared', () => {
  it('passes when each active key has its own, specific name', () => {
    const f = expectFinding(apiKeysNotShared, facts(), 'ok');
    expect(f.citations).toEqual(['164.312(a)(2)(i)', '164.312(d)']);
  });

  it('alarms when one name is used by keys of two roles (a rotated successor counts as the same name)', () => {
    const f = expectFinding(
      apiKeysNotShared,
      db({
        apiKeys: [
          apiKey({ id: 'k1', name: 'integration-engine', role: 'clinician' }),
          apiKey({ id: 'k2', name: 'Integration-Engine (rotated)', role: 'billing' }),
        ],
      }),
      'alarm',
      /1 name\(s\) used by keys of more than one role \(integration-engine\).*`ward apikey create/,
    );
    expect(f.evidence).toMatchObject({ sharedNames: ['integration-engine'] });
  });

  it('alarms on an active key with a generic name', () => {
    expectFinding(
      apiKeysNotShared,
      db({ apiKeys: [apiKey({ id: 'k-test', name: 'test-key-2' }), apiKey({ id: 'k-old', name: 'default', revokedAt: daysAgo(1) })] }),
      'alarm',
      /1 key\(s\) with a generic name \(k-test\)/,
    );
  });

  it('treats names made only of generic words and numbers as generic', () => {
    for (const n of ['default', 'test', 'shared', 'admin', 'key', 'api', 'temp', 'API_KEY', 'shared-admin 2', 'test1', 'default (rotated)'])
      expect(isGeneric(n), n).toBe(true);
    for (const n of ['ehr-service', 'billing-service', 'dr-lee', 'lab-interface-2', 'test-harness-ci']) expect(isGeneric(n), n).toBe(false);
  });
});

describe('api-keys-expired-revoked', () => {
  it('passes when no key is past its expiry unrevoked', () => {
    const f = expectFinding(apiKeysExpiredRevoked, facts(), 'ok');
    expect(f.citations).toEqual(['164.308(a)(3)(ii)(C)']);
  });

  it('reports (info) keys past their expiry but never revoked', () => {
    const f = expectFinding(
      apiKeysExpiredRevoked,
      db({ apiKeys: [apiKey({ id: 'k-lapsed', createdAt: daysAgo(100), expiresAt: daysAgo(10) }), apiKey({ id: 'k-live' })] }),
      'info',
      /1 API key\(s\) expired but were never revoked \(k-lapsed\).*`ward apikey revoke <id>`/,
    );
    expect(f.evidence).toMatchObject({ expiredNotRevoked: ['k-lapsed'] });
  });
});

describe('break-glass-reviewed', () => {
  it('passes when every break-glass use is reviewed', () => {
    const f = expectFinding(breakGlassReviewed, facts(), 'ok', /reviewed/);
    expect(f.citations).toEqual(['164.312(a)(2)(ii)', '164.308(a)(1)(ii)(D)']);
  });

  it('passes while the unreviewed uses are within 7 days', () => {
    expectFinding(
      breakGlassReviewed,
      db({ breakGlass: { uses: 3, unreviewed: 2, oldestUnreviewedAt: daysAgo(6) } }),
      'ok',
      /2 break-glass/,
    );
  });

  it('alarms on an unreviewed use older than 7 days, naming `ward audit break-glass review`', () => {
    const f = expectFinding(
      breakGlassReviewed,
      db({ breakGlass: { uses: 3, unreviewed: 2, oldestUnreviewedAt: daysAgo(9) } }),
      'alarm',
      /2 break-glass use\(s\).*9 days.*`ward audit break-glass review <id>`/,
    );
    expect(f.evidence).toMatchObject({ unreviewed: 2, oldestUnreviewedDays: 9 });
  });
});

describe('egress-covered', () => {
  const cfg = withDestinations({
    webhooks: ['https://hooks.example.com/ward'],
    drains: ['syslog+tls://logs.drain.example.net:6514'],
    alerts: 'https://pager.example.org/ward',
    nats: 'nats-1.example.io:4222, tls://nats-2.example.io:4222',
  });
  const covering = [
    agreement({ id: 'a-hooks', hosts: ['hooks.example.com'] }),
    agreement({ id: 'a-logs', hosts: ['*.example.net'] }),
    agreement({ id: 'a-pager', hosts: ['pager.example.org'], scope: 'no-phi' }),
    agreement({ id: 'a-nats', hosts: ['*.example.io'], status: 'expiring' }),
  ];

  it('is skipped when nothing is sent anywhere', () => {
    expectFinding(egressCovered, facts(), 'skip');
  });

  it('passes when every webhook, drain, alerts and broker host is covered by an agreement in force (wildcards too)', () => {
    const f = expectFinding(egressCovered, db({ agreements: covering }, { config: cfg }), 'ok', /5 destination/);
    expect(f.citations).toEqual(['164.308(b)(1)', '164.314(a)(1)']);
    expect(f.evidence).toMatchObject({
      hosts: ['hooks.example.com', 'logs.drain.example.net', 'pager.example.org', 'nats-1.example.io', 'nats-2.example.io'],
      uncovered: [],
    });
  });

  it('alarms listing the hosts no agreement in force covers, naming `ward baa add`', () => {
    const f = expectFinding(
      egressCovered,
      db({ agreements: [covering[1], covering[2]] as AgreementFact[] }, { config: cfg }),
      'alarm',
      /covers hooks\.example\.com, nats-1\.example\.io, nats-2\.example\.io:.*`ward baa add --host <host> --scope phi`/,
    );
    expect(f.evidence).toMatchObject({ uncovered: expect.arrayContaining(['events.webhooks[0] (hook_0): hooks.example.com']) });
  });

  it('does not count expired, revoked or no-phi agreements for PHI, nor a wildcard for its bare domain', () => {
    const only = (a: AgreementFact) => db({ agreements: [a] }, { config: withDestinations({ webhooks: ['https://example.com/hook'] }) });
    expectFinding(egressCovered, only(agreement({ hosts: ['example.com'], status: 'expired' })), 'alarm', /example\.com/);
    expectFinding(egressCovered, only(agreement({ hosts: ['example.com'], status: 'revoked' })), 'alarm');
    expectFinding(egressCovered, only(agreement({ hosts: ['example.com'], scope: 'no-phi' })), 'alarm');
    expectFinding(egressCovered, only(agreement({ hosts: ['*.example.com'] })), 'alarm');
    expectFinding(egressCovered, only(agreement({ hosts: ['example.com'] })), 'ok');
  });

  it("covers an AWS KMS master key's regional endpoint like any destination", () => {
    const base = config();
    const kms: WardConfig = { ...base, keys: { provider: 'aws-kms', aws_kms: { key_id: 'alias/ward', region: 'us-east-1' } } };
    expectFinding(egressCovered, db({ agreements: [] }, { config: kms }), 'alarm', /kms\.us-east-1\.amazonaws\.com/);
    expectFinding(egressCovered, db({ agreements: [agreement({ hosts: ['*.amazonaws.com'] })] }, { config: kms }), 'ok');
  });
});

describe('agreements-current', () => {
  const cfg = withDestinations({ webhooks: ['https://hooks.example.com/ward'] });
  // NOW is 2026-12-01: an agreement ending 2026-12-20 is expiring (19 days).
  const expiring = agreement({ id: 'a-old', expires: '2026-12-20', status: 'expiring' });

  it('passes when the agreements covering destinations end later than 30 days', () => {
    const f = expectFinding(agreementsCurrent, db({ agreements: [agreement({})] }, { config: cfg }), 'ok');
    expect(f.citations).toEqual(['164.314(a)(1)']);
  });

  it('alarms when a destination relies on an agreement ending within 30 days, naming `ward baa add`', () => {
    const f = expectFinding(
      agreementsCurrent,
      db({ agreements: [expiring] }, { config: cfg }),
      'alarm',
      /covering hooks\.example\.com end within 30 days \(the first in 19 days, 2026-12-20\).*`ward baa add`/,
    );
    expect(f.evidence).toMatchObject({ expiring: ['a-old (ends 2026-12-20)'], atRiskHosts: ['hooks.example.com'] });
  });

  it('passes when a renewed agreement, active, covers the destination too', () => {
    expectFinding(agreementsCurrent, db({ agreements: [expiring, agreement({ id: 'a-new' })] }, { config: cfg }), 'ok');
  });

  it('reports (info) agreements expired but not revoked', () => {
    expectFinding(
      agreementsCurrent,
      db({ agreements: [agreement({}), agreement({ id: 'a-dead', expires: '2026-01-01', status: 'expired' })] }, { config: cfg }),
      'info',
      /1 agreement\(s\) expired but were never revoked \(a-dead\).*`ward baa revoke <id>`/,
    );
  });

  it('is skipped with no destination and nothing expired', () => {
    expect(NOW.toISOString().slice(0, 10)).toBe('2026-12-01');
    expectFinding(agreementsCurrent, facts(), 'skip');
  });
});

describe('nonproduction-no-phi', () => {
  const nonprod = () => config((t) => t, 'nonproduction');

  it('passes in a nonproduction space when the sample holds no PHI', () => {
    const f = expectFinding(
      nonproductionNoPhi,
      db({ sample: { records: 50, values: 400, withPhi: 0, types: [] } }, { config: nonprod() }),
      'ok',
      /found nothing in 400/,
    );
    expect(f.citations).toEqual(['164.308(a)(1)(ii)(B)']);
  });

  it('alarms in a nonproduction space when the sample holds PHI, naming the types and never a value', () => {
    const f = expectFinding(
      nonproductionNoPhi,
      db({ sample: { records: 50, values: 400, withPhi: 7, types: ['us_ssn', 'phone', 'us_ssn'] } }, { config: nonprod() }),
      'alarm',
      /7 of 400 sampled value\(s\) in 50 record\(s\) look like PHI \(phone, us_ssn\).*synthetic or de-identified/,
    );
    expect(f.evidence).toEqual({ records: 50, values: 400, withPhi: 7, types: ['phone', 'us_ssn'] });
  });

  it('is skipped in production, and when there was nothing to sample', () => {
    expectFinding(nonproductionNoPhi, db({ sample: { records: 5, values: 40, withPhi: 3, types: ['phone'] } }), 'skip', /production/);
    expectFinding(nonproductionNoPhi, db({ sample: null }, { config: nonprod() }), 'skip');
  });
});

describe('attestations-current', () => {
  const n = Object.keys(CONTROLS).length;

  it('reports (info) the controls without an unexpired attestation, as progress and not an alarm', () => {
    const f = expectFinding(
      attestationsCurrent,
      db({ attestations: [attestation('risk-analysis'), attestation('documentation', daysAgo(1))] }),
      'info',
      new RegExp(`1 of ${n} controls are attested; ${n - 1} have no unexpired attestation.*documentation.*\`ward attest <control>\``),
    );
    expect(f.citations).toEqual(['164.316(b)(1)']);
    expect(f.evidence).toMatchObject({ attested: ['risk-analysis'], expired: ['documentation'] });
  });

  it('passes when every control has an unexpired attestation', () => {
    expectFinding(
      attestationsCurrent,
      db({ attestations: Object.keys(CONTROLS).map((c) => attestation(c, null)) }),
      'ok',
      new RegExp(`all ${n} controls`),
    );
  });
});
