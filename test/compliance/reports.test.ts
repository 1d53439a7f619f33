/**
 * The evidence report's OSCAL and HTML renderings: the OSCAL document validates against NIST's
 * assessment-results schema (vendored in test/fixtures/oscal/) and renders the same bytes for
 * the same report; the HTML page is self-contained, escapes what it shows, and its summary
 * renders in Chromium (required: CI installs it; CHROMIUM_PATH names another binary).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CONTROLS, EDITION, REQUIREMENTS, SAFEGUARDS, WEIGHTS } from '../../src/compliance/citations.js';
import { toHtml } from '../../src/compliance/html.js';
import { controlId, hashUuid, OSCAL_VERSION, sectionOf, toOscal } from '../../src/compliance/oscal.js';
import type { EvidenceReport, RequirementStatus, SafeguardProgress } from '../../src/compliance/report.js';
import type { Finding } from '../../src/compliance/run.js';
import { type AttestationFact, type Evidence, type Severity, STATUSES, type Status } from '../../src/compliance/types.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/oscal');
const SCHEMA_FILE = join(FIXTURES, 'oscal_assessment-results_schema.json');
const AT = '2026-12-01T12:00:00.000Z';
const HOSTILE = `Dr. O'Brien <img src="https://evil.example/x.png" onerror="alert(1)"> & "co"`;

// ---------------------------------------------------------------------------------------------
// A report built by hand: the findings a production space with one alarm and one error gives,
// three attestations, and the requirements and progress worked out as report.ts describes them.

const finding = (
  id: string,
  status: Status,
  citations: string[],
  reason: string,
  evidence: Evidence = {},
  severity: Severity = 'high',
): Finding => ({
  id,
  title: `Check ${id}`,
  severity,
  status,
  reason,
  evidence,
  citations,
});

const FINDINGS: Finding[] = [
  finding(
    'ingress-tls',
    'alarm',
    ['164.312(e)(1)', '164.312(e)(2)(ii)'],
    'refuses plain HTTP: pass --tls-cert and --tls-key, or --trust-proxy <address> of the TLS-terminating proxy in front of Ward',
    {},
    'fail',
  ),
  finding('database-tls', 'ok', ['164.312(e)(1)'], 'the database URL asks for sslmode=verify-full', { sslmode: 'verify-full' }, 'fail'),
  finding('audit-log-verifies', 'ok', ['164.312(b)', '164.312(c)(1)'], 'the audit log verifies to its newest checkpoint', {
    treeSize: 120,
    ok: true,
  }),
  finding('api-keys-expire', 'ok', ['164.312(a)(2)(i)', '164.312(d)'], 'every API key expires', {
    keys: ['ehr-service', 'billing-service'],
    expiring: 0,
  }),
  finding('break-glass-reviewed', 'info', ['164.312(a)(2)(ii)'], 'one break-glass use, reviewed', { uses: 1, oldest: null }),
  finding('nonproduction-no-phi', 'skip', ['164.514(b)(2)'], 'production space: PHI is expected', {}, 'medium'),
  finding('egress-covered', 'error', ['164.308(b)(1)', '164.314(a)(1)'], 'the check failed (TypeError)', {}, 'high'),
  finding(
    'odd-evidence',
    'ok',
    ['164.312(a)(1)'],
    '  a reason\nwith a line break  ',
    { '9 odd key!': '', list: [], 'multi\nline': 'a\nb' },
    'low',
  ),
];

const ATTESTATIONS: AttestationFact[] = [
  {
    id: 'att-1',
    control: 'risk-analysis',
    by: HOSTILE,
    at: '2026-11-20T09:30:00.000Z',
    expiresAt: '2027-11-20T09:30:00.000Z',
    evidenceSha256: 'cd'.repeat(32),
  },
  {
    id: 'att-2',
    control: 'security-official',
    by: 'Ann Lee',
    at: '2026-10-02T10:00:00.000Z',
    expiresAt: null,
    evidenceSha256: 'ef'.repeat(32),
  },
  { id: 'att-3', control: 'workforce-training', by: 'Ann Lee', at: '2026-09-15', expiresAt: '2027-09-15', evidenceSha256: '01'.repeat(32) },
];

const PASSING = new Set<string>(['ok', 'info', 'skip']);

function report(
  change: { findings?: Finding[]; attestations?: AttestationFact[]; lineage?: EvidenceReport['lineage']; space?: string } = {},
): EvidenceReport {
  const findings = change.findings ?? FINDINGS;
  const attestations = change.attestations ?? ATTESTATIONS;
  const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const f of findings) summary[f.status]++;
  const requirements: RequirementStatus[] = Object.values(REQUIREMENTS).map((q) => {
    const checks = findings.filter((f) => f.citations.includes(q.section)).map((f) => ({ id: f.id, status: f.status }));
    const atts = attestations.filter((a) => CONTROLS[a.control]?.covers.includes(q.section));
    const met = checks.every((c) => PASSING.has(c.status)) && (!q.attest || atts.length > 0);
    const newest = atts
      .map((a) => a.at)
      .sort()
      .at(-1);
    return { ...q, checks, attestations: atts, met, since: met ? (newest ?? AT) : null, weight: WEIGHTS[q.kind] };
  });
  const weigh = (rs: RequirementStatus[]) => {
    const all = rs.reduce((n, r) => n + r.weight, 0);
    return all ? rs.filter((r) => r.met).reduce((n, r) => n + r.weight, 0) / all : 0;
  };
  const safeguards: SafeguardProgress[] = SAFEGUARDS.map((s) => {
    const rs = requirements.filter((r) => r.safeguard === s);
    return { safeguard: s, met: rs.filter((r) => r.met).length, total: rs.length, score: weigh(rs) };
  });
  return {
    format: 'ward-evidence/v1',
    checks: {
      format: 'ward-checks/v1',
      edition: EDITION,
      space: { name: change.space ?? 'clinic-prod', tier: 'production' },
      at: AT,
      gathered: ['master', 'transport', 'database'],
      summary,
      findings,
    },
    requirements,
    progress: { safeguards, score: weigh(requirements) },
    audit: {
      checkpoint: { treeSize: 120, sealedAt: '2026-12-01T11:00:00.000Z', rootHash: 'ab'.repeat(32) },
      verify: { ok: true, treeSize: 120, problem: null },
      lastFull: { at: '2026-11-30T12:00:00.000Z', ok: true, treeSize: 118 },
    },
    keys: [{ collection: 'patients', version: 2, createdAt: '2026-11-01T12:00:00.000Z' }],
    agreements: [
      { id: 'baa-1', name: 'Mail provider', hosts: ['smtp.mail.example'], scope: 'phi', expires: '2027-06-30', status: 'active' },
      { id: 'baa-2', name: 'Old analytics', hosts: [], scope: 'no-phi', expires: '2026-01-31', status: 'expired' },
    ],
    attestations,
    lineage:
      change.lineage === undefined
        ? {
            headers: ['Collection', 'Field', 'Class'],
            rows: [
              ['patients', 'ssn', 'phi'],
              ['patients', '<a href="http://evil.example">x</a>', 'phi'],
            ],
          }
        : change.lineage,
  };
}

// ---------------------------------------------------------------------------------------------

function validator() {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return { schema, validate: ajv.compile(schema) };
}

const V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const uuidsIn = (doc: unknown): string[] =>
  [...JSON.stringify(doc).matchAll(/"(?:uuid|observation-uuid)":"([^"]*)"/g)].map((m) => m[1] as string);

describe('OSCAL assessment results', () => {
  const { schema, validate } = validator();
  const check = (doc: unknown) => {
    const ok = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(ok).toBe(true);
  };

  it('the vendored schema is the one its README names, byte for byte', () => {
    const readme = readFileSync(join(FIXTURES, 'README.md'), 'utf8');
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(readme).toContain(sha(SCHEMA_FILE));
    expect(readme).toContain(sha(join(FIXTURES, 'LICENSE.md')));
    expect(readFileSync(join(FIXTURES, 'LICENSE.md'), 'utf8')).toContain('public domain');
  });

  it('validates against the schema, with oscal-version the schema’s', () => {
    const doc = toOscal(report(), {});
    check(doc);
    expect(String(schema.$id)).toContain(`/oscal/${OSCAL_VERSION}/`);
    const ar = doc['assessment-results'];
    expect(ar.metadata['oscal-version']).toBe(OSCAL_VERSION);
    expect(ar.metadata.title).toBe('Ward HIPAA checks: clinic-prod');
    expect(ar.metadata['last-modified']).toBe(AT);
    // import-ap points at the back-matter resource standing for Ward's plan.
    expect(ar['import-ap'].href).toBe(`#${ar['back-matter'].resources[0]?.uuid}`);
  });

  it('one finding per requirement, satisfied or not, pointing at its observations', () => {
    const r = report();
    const result = toOscal(r)['assessment-results'].results[0];
    if (!result) throw new Error('no result');
    expect(result.start).toBe(AT);
    expect(result.end).toBe(AT);
    expect(result['reviewed-controls']['control-selections'][0]?.['include-controls']?.map((c) => c['control-id'])).toEqual(
      Object.keys(REQUIREMENTS).map(controlId),
    );
    const findings = result.findings ?? [];
    expect(findings).toHaveLength(Object.keys(REQUIREMENTS).length);
    const observations = new Map((result.observations ?? []).map((o) => [o.uuid, o]));
    expect(observations.size).toBe(FINDINGS.length + ATTESTATIONS.length);

    const failing = findings.find((f) => f.target['target-id'] === 'hipaa-164.312-e-1');
    expect(failing?.target).toEqual({
      type: 'objective-id',
      'target-id': 'hipaa-164.312-e-1',
      status: { state: 'not-satisfied', reason: 'fail' },
    });
    const related = (failing?.['related-observations'] ?? []).map((x) => observations.get(x['observation-uuid']));
    expect(related.map((o) => o?.props?.find((p) => p.name === 'check-id')?.value).sort()).toEqual(['database-tls', 'ingress-tls']);
    expect(related.every((o) => o?.methods.join() === 'TEST' && o.collected === AT)).toBe(true);
    expect(related.find((o) => o?.props?.some((p) => p.value === 'ingress-tls'))?.description).toMatch(/^refuses plain HTTP/);

    const passing = findings.find((f) => f.target['target-id'] === 'hipaa-164.312-b');
    expect(passing?.target.status.state).toBe('satisfied');
    // An attested requirement: its observation is an EXAMINE, with the evidence's hash.
    const attested = findings.find((f) => f.target['target-id'] === controlId('164.308(a)(1)(ii)(A)'));
    expect(attested?.target.status.state).toBe('satisfied');
    const exam = observations.get(attested?.['related-observations']?.[0]?.['observation-uuid'] ?? '');
    expect(exam?.methods).toEqual(['EXAMINE']);
    expect(exam?.['relevant-evidence']?.[0]?.props?.[0]).toMatchObject({ name: 'evidence-sha256', value: 'cd'.repeat(32) });
    expect(exam?.expires).toBe('2027-11-20T09:30:00.000Z');
    // Needs an attestation, has none: not satisfied, and says why.
    const unattested = findings.find((f) => f.target['target-id'] === controlId('164.316(a)'));
    expect(unattested?.target.status.state).toBe('not-satisfied');
    expect(unattested?.description).toContain('no unexpired attestation');
    // A check's evidence travels as properties.
    const db = [...observations.values()].find((o) => o.props?.some((p) => p.value === 'database-tls'));
    expect(db?.['relevant-evidence']?.[0]?.props).toEqual([
      { name: 'sslmode', ns: 'urn:ward:oscal', value: 'verify-full', class: 'evidence' },
    ]);
    // Satisfied findings are exactly the met requirements.
    const met = new Set(r.requirements.filter((q) => q.met).map((q) => controlId(q.section)));
    for (const f of findings) expect(f.target.status.state === 'satisfied').toBe(met.has(f.target['target-id']));
  });

  it('the same report renders the same bytes; UUIDs are v5-shaped, unique, and follow the content', () => {
    const a = JSON.stringify(toOscal(report()));
    // The same content with every object's keys in reverse order (a check's evidence keeps its own order: it is shown in it).
    const reordered = JSON.parse(JSON.stringify(report()), (k, v) =>
      k !== 'evidence' && v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as EvidenceReport;
    expect(JSON.stringify(toOscal(reordered))).toBe(a);
    expect(JSON.stringify(toOscal(report()))).toBe(a);
    const ids = uuidsIn(JSON.parse(a));
    expect(ids.length).toBeGreaterThan(40);
    for (const id of ids) expect(id).toMatch(V5);
    const own = [...JSON.stringify(JSON.parse(a)).matchAll(/"uuid":"([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(own).size).toBe(own.length);
    const other = toOscal(report({ space: 'clinic-prod-2' }));
    expect(other['assessment-results'].uuid).not.toBe(JSON.parse(a)['assessment-results'].uuid);
    expect(hashUuid('n', 's')).toBe(hashUuid('n', 's'));
    expect(hashUuid('n', 's')).toMatch(V5);
  });

  it('takes a UUID function', () => {
    let n = 0;
    const doc = toOscal(report(), { uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` });
    check(doc);
    expect(doc['assessment-results'].uuid).toMatch(/^00000000-0000-4000-8000-/);
  });

  it('an empty report is still a valid document', () => {
    const r = report({ findings: [], attestations: [], lineage: null });
    check(toOscal({ ...r, requirements: [], progress: { safeguards: [], score: 0 }, keys: [], agreements: [] }));
    check(toOscal(r));
  });

  it('control ids: a documented, reversible mapping of the CFR sections', () => {
    expect(controlId('164.312(e)(1)')).toBe('hipaa-164.312-e-1');
    expect(controlId('164.308(a)(1)(ii)(A)')).toBe('hipaa-164.308-a-1-ii-a');
    expect(controlId('164.312(b)')).toBe('hipaa-164.312-b');
    expect(controlId('164.502(b)')).toBe('hipaa-164.502-b');
    for (const s of Object.keys(REQUIREMENTS)) expect(sectionOf(controlId(s))).toBe(s);
    expect(new Set(Object.keys(REQUIREMENTS).map(controlId)).size).toBe(Object.keys(REQUIREMENTS).length);
    expect(sectionOf('ac-2')).toBeNull();
    expect(() => controlId('not a section')).toThrow(TypeError);
  });

  it('a document the schema refuses is refused (the validator is not vacuous)', () => {
    const doc = toOscal(report()) as unknown as {
      'assessment-results': { results: { findings: { target: { status: { state: string } } }[] }[] };
    };
    const f = doc['assessment-results'].results[0]?.findings[0];
    if (!f) throw new Error('no finding');
    f.target.status.state = 'passed';
    expect(validate(doc)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

/** Every tag's src/href/srcset/action/… that points off the page, and tags that load anything. */
function externalRefs(html: string): string[] {
  const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
  const bad: string[] = [];
  for (const t of tags) {
    if (/^<(script|link|img|iframe|object|embed|audio|video|source|base|form)\b/i.test(t)) bad.push(t);
    if (/\s(src|href|srcset|action|data|poster|background)\s*=/i.test(t)) bad.push(t);
    if (/url\(/i.test(t)) bad.push(t);
  }
  const style = html.match(/<style>([\s\S]*?)<\/style>/)?.[1] ?? '';
  if (/url\(|@import/i.test(style)) bad.push('style: url() or @import');
  return bad;
}

describe('HTML evidence page', () => {
  const html = toHtml(report());

  it('is one self-contained page: no scripts, stylesheets, images or links off it', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(externalRefs(html)).toEqual([]);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html.match(/<style>/g)).toHaveLength(1);
  });

  it('escapes every string it shows', () => {
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<a ');
    expect(html).toContain(
      'Dr. O&#39;Brien &lt;img src=&quot;https://evil.example/x.png&quot; onerror=&quot;alert(1)&quot;&gt; &amp; &quot;co&quot;',
    );
    expect(html).toContain('&lt;a href=&quot;http://evil.example&quot;&gt;x&lt;/a&gt;');
    expect(html).toContain('--trust-proxy &lt;address&gt;');
  });

  it('has the summary, the requirements by safeguard, the audit log and the inventories', () => {
    expect(html).toContain('<section id="summary">');
    expect(html).toContain('clinic-prod');
    expect(html).toContain(AT);
    expect(html).toContain(EDITION);
    for (const id of ['safeguard-administrative', 'safeguard-technical', 'audit', 'keys', 'agreements', 'lineage'])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain('164.312(e)(1) Transmission security');
    expect(html).toContain('ab'.repeat(32));
    expect(html).toContain('cd'.repeat(32));
    expect(html).toContain('Mail provider');
    expect(toHtml(report({ lineage: null }))).not.toContain('id="lineage"');
  });
});

// ---------------------------------------------------------------------------------------------

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('HTML evidence page in Chromium', () => {
  it('renders the summary with the counts, fetching nothing', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is required for this test and was not found at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`,
      );
    }
    const r = report();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    const dir = mkdtempSync(join(tmpdir(), 'ward-evidence-html-'));
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (q) => requests.push(q.url()));
      await page.setContent(toHtml(r), { waitUntil: 'load' });
      expect(await page.title()).toBe('HIPAA evidence: clinic-prod');

      const text = (await page.textContent('#summary')) ?? '';
      expect(text).toContain('clinic-prod');
      expect(text).toContain('production');
      expect(text).toContain(AT);
      for (const s of STATUSES) {
        const n = await page.textContent(`#summary .n[data-status="${s}"]`);
        expect(n, s).toBe(String(r.checks.summary[s]));
      }
      expect(text.replace(/\s+/g, ' ')).toContain(STATUSES.map((s) => `${s} ${r.checks.summary[s]}`).join(' '));
      expect(text).toContain(`${Math.round(r.progress.score * 1000) / 10}%`);

      // Nothing on the page is a script or loads anything, and nothing was fetched.
      expect(await page.locator('script, link, img, iframe, object, embed').count()).toBe(0);
      expect(requests).toEqual([]);
      // The hostile name shows as text.
      expect(await page.textContent('body')).toContain(HOSTILE);

      const file = join(dir, 'summary.png');
      const png = await page.locator('#summary').screenshot({ path: file });
      expect(statSync(file).size).toBe(png.length);
      const { width, height } = pngSize(png);
      expect(width).toBeGreaterThanOrEqual(500);
      expect(height).toBeGreaterThanOrEqual(200);
      expect(png.length).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
