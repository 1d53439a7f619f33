/**
 * `ward check`, `ward attest`, `ward compliance status` and `ward audit verify --report` from the
 * command line, on the embedded database: the CI/CD gate's exit codes, signed reports, the
 * sampled scan of a nonproduction space, attestations and progress.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialized, json, ward } from '../cli/harness.js';
import { canaryPatient, newMasterKey } from '../helpers.js';
import { scratchDir } from '../scratch.js';

const findings = (r: { stdout: string }) =>
  Object.fromEntries(
    (
      JSON.parse(r.stdout) as { checks: { findings: { id: string; status: string; reason: string; citations: string[] }[] } }
    ).checks.findings.map((f) => [f.id, f]),
  );

describe('ward check', () => {
  it('rule: --fail-on high exits 1 on an insecure production configuration, naming each alarm with its citation', async () => {
    const dir = scratchDir('ward-check-insecure-');
    expect((await ward(dir, ['init'])).code).toBe(0);
    const file = join(dir, 'ward.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('tier: nonproduction', 'tier: production'));
    const r = await ward(dir, ['check', '--fail-on', 'high', '--no-database']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /ALARM\s+fail\s+master-key-production\s+164\.312\(a\)\(2\)\(iv\)\s+keys: the master key from .* is a development key/,
    );
    expect(r.stdout).toMatch(/ALARM\s+fail\s+database-server\s+164\.308\(a\)\(7\)\(ii\)\(A\)/);
    // The same configuration without the gate only reports.
    expect((await ward(dir, ['check', '--no-database'])).code).toBe(0);
    // Checking never creates the embedded database it would report on.
    const r2 = await ward(dir, ['check', '--format', 'json']);
    expect(JSON.parse(r2.stdout).checks.gathered).toEqual(['master']);
    expect(existsSync(join(dir, '.ward', 'pgdata'))).toBe(false);
  });

  it("rule: --fail-on high exits 0 on the example's production-ready variant (ward init --production)", async () => {
    const dir = scratchDir('ward-check-prod-');
    expect((await ward(dir, ['init', '--production'])).code).toBe(0);
    const r = await ward(dir, ['check', '--fail-on', 'high', '--no-database', '--format', 'json'], {
      env: { WARD_MASTER_KEY: newMasterKey() },
    });
    expect(r.code).toBe(0);
    const f = findings(r);
    for (const id of [
      'master-key-production',
      'database-server',
      'database-tls',
      'egress-public-only',
      'minimum-necessary',
      'ingress-allowlist',
    ])
      expect(f[id]?.status, id).toBe('ok');
    // Without a database the database checks say so rather than pass.
    expect(f['api-keys-expire']).toMatchObject({ status: 'skip', reason: 'needs the database' });
  });

  it('rejects an unknown format or threshold as a usage error', async () => {
    const dir = scratchDir('ward-check-usage-');
    expect((await ward(dir, ['check', '--format', 'pdf'])).stderr).toContain('--format: must be one of table, json, oscal, html');
    const r = await ward(dir, ['check', '--fail-on', 'urgent']);
    expect([r.code, r.stderr]).toEqual([2, 'ward: --fail-on: must be one of fail, high, medium, low\n']);
  });

  it('rule: a nonproduction space holding PHI alarms, naming the types found and never a value', async () => {
    const dir = await initialized('ward-check-sample-');
    const p = canaryPatient(7);
    json(await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify(p)]));
    const r = await ward(dir, ['check', '--format', 'json', '--fail-on', 'high']);
    expect(r.code).toBe(1);
    const f = findings(r)['nonproduction-no-phi'];
    expect(f?.status).toBe('alarm');
    expect(f?.citations).toContain('164.308(a)(1)(ii)(B)');
    for (const v of [p.name, p.ssn, p.email, p.mrn, p.phone, p.diagnosis]) expect(r.stdout).not.toContain(v);
  });

  it('rule: a report written with --out is signed; ward audit verify --report holds for it and fails once a byte changes', async () => {
    const dir = await initialized('ward-check-signed-');
    for (const format of ['json', 'html', 'oscal']) {
      const out = join(dir, `report.${format}`);
      const r = await ward(dir, ['check', '--format', format, '--out', out]);
      expect(r.stdout).toBe(`report (${format}) written to ${out}, signed in ${out}.sig\n`);
      const sig = JSON.parse(readFileSync(`${out}.sig`, 'utf8'));
      expect(sig).toMatchObject({ format: 'ward-signed-report/v1', checkpoint: { treeSize: expect.any(Number) } });
      const ok = await ward(dir, ['audit', 'verify', '--report', out]);
      expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/signature holds; made at checkpoint \d+, which this log extends/)]);
      const bytes = readFileSync(out);
      bytes[10] = bytes[10] === 0x41 ? 0x42 : 0x41;
      writeFileSync(out, bytes);
      const bad = await ward(dir, ['audit', 'verify', '--report', out]);
      expect([bad.code, bad.stdout]).toEqual([1, `report ${out}: the report was altered: its SHA-256 differs from the signed one\n`]);
    }
    const missing = await ward(dir, ['audit', 'verify', '--report', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--report: cannot read');
  });
});

describe('attestations and progress', () => {
  it('rule: ward attest records who, when, the evidence SHA-256 and the expiry, audited; status counts it', async () => {
    const dir = await initialized('ward-attest-');
    const evidence = join(dir, 'risk-analysis.pdf');
    writeFileSync(evidence, 'the risk analysis, signed');
    const before = json(await ward(dir, ['compliance', 'status', '--json']));
    const open = before.requirements.find((q: { section: string }) => q.section === '164.308(a)(1)(ii)(A)');
    expect(open).toMatchObject({ met: false, since: null, attest: true });

    const a = json(
      await ward(dir, ['attest', 'risk-analysis', '--by', 'Dana Official', '--evidence', evidence, '--expires', '1y', '--json']),
    );
    expect(a).toMatchObject({
      control: 'risk-analysis',
      by: 'Dana Official',
      evidenceSha256: createHash('sha256').update('the risk analysis, signed').digest('hex'),
    });
    expect(new Date(a.expiresAt).getTime() - new Date(a.at).getTime()).toBe(365 * 86_400_000);

    const after = json(await ward(dir, ['compliance', 'status', '--json']));
    const met = after.requirements.find((q: { section: string }) => q.section === '164.308(a)(1)(ii)(A)');
    expect(met).toMatchObject({ met: true, since: a.at });
    // The published weights: the score is the met requirements' weight over all requirements' weight.
    const reqs = after.requirements as { met: boolean; weight: number; kind: string; safeguard: string }[];
    for (const q of reqs) expect(q.weight).toBe(q.kind === 'required' ? 3 : 2);
    const sum = (qs: typeof reqs) => qs.reduce((n, q) => n + q.weight, 0);
    expect(after.progress.score).toBeCloseTo(sum(reqs.filter((q) => q.met)) / sum(reqs), 10);
    const administrative = after.progress.safeguards.find((s: { safeguard: string }) => s.safeguard === 'administrative');
    expect(administrative.met).toBe(reqs.filter((q) => q.safeguard === 'administrative' && q.met).length);

    const exported = await ward(dir, ['audit', 'export']);
    const events = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; recordIds: string[] });
    expect(events.find((e) => e.action === 'compliance.attest')).toMatchObject({ recordIds: [a.id] });

    const text = await ward(dir, ['compliance', 'status']);
    expect(text.stdout).toMatch(/^overall \d+% \(weights: required 3, addressable 2;/);
    expect(text.stdout).toMatch(/met\s+administrative\s+164\.308\(a\)\(1\)\(ii\)\(A\)\s+Risk analysis\s+attested:risk-analysis/);
  });

  it('refuses an unknown control, an unreadable evidence file and a bad expiry, naming the problem', async () => {
    const dir = await initialized('ward-attest-bad-');
    const evidence = join(dir, 'e.txt');
    writeFileSync(evidence, 'x');
    const unknown = await ward(dir, ['attest', 'vibes', '--by', 'A', '--evidence', evidence]);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('control must be one of: risk-analysis, risk-management')]);
    const missing = await ward(dir, ['attest', 'risk-analysis', '--by', 'A', '--evidence', join(dir, 'none')]);
    expect([missing.code, missing.stderr]).toEqual([2, 'ward: --evidence: cannot read the file named\n']);
    const expiry = await ward(dir, ['attest', 'risk-analysis', '--by', 'A', '--evidence', evidence, '--expires', 'soon']);
    expect([expiry.code, expiry.stderr]).toEqual([1, expect.stringContaining('--expires must be a duration such as 1y, 6m, 12w or 90d')]);
    rmSync(evidence);
  });
});
