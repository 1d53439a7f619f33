/**
 * The evidence report as an OSCAL assessment-results document (JSON), for GRC tools that read
 * OSCAL: one result whose reviewed controls are the HIPAA requirements, one observation per
 * check (method TEST) and per attestation (method EXAMINE), and one finding per requirement,
 * satisfied or not, pointing at the observations behind it. Valid against NIST's OSCAL
 * assessment-results JSON schema of OSCAL_VERSION (vendored for the tests in test/fixtures/oscal/).
 *
 * HIPAA has no OSCAL catalog of its own, so each section gets a control id by one documented,
 * reversible rule (controlId, sectionOf). The UUIDs are derived from the report's content
 * (SHA-256, shaped as version-5 UUIDs), so the same report renders the same bytes.
 */
import { createHash } from 'node:crypto';
import { CONTROLS } from './citations.js';
import type { EvidenceReport, RequirementStatus } from './report.js';
import type { Finding } from './run.js';
import { type AttestationFact, type Evidence, STATUSES } from './types.js';

/** The OSCAL release whose assessment-results schema the output follows. */
export const OSCAL_VERSION = '1.0.6';
/** The namespace of Ward's own property names. */
export const WARD_NS = 'urn:ward:oscal';

// ---------------------------------------------------------------------------------------------
// Control ids.

const SECTION = /^(\d+\.\d+)((?:\([0-9A-Za-z]+\))*)$/;
const CONTROL_ID = /^hipaa-(\d+\.\d+)((?:-[0-9a-z]+)*)$/;

/**
 * The OSCAL control id of a requirement's section: `hipaa-`, the part and section, then each
 * paragraph designation after a hyphen, lower-cased. `164.312(e)(1)` → `hipaa-164.312-e-1`,
 * `164.308(a)(1)(ii)(A)` → `hipaa-164.308-a-1-ii-a`. Nothing is lost: the CFR's paragraph levels
 * go (a), (1), (i), (A) by depth, so the case of each designation follows from its place
 * (sectionOf undoes it).
 */
export function controlId(section: string): string {
  const m = SECTION.exec(section);
  if (!m) throw new TypeError(`not a CFR section: ${section}`);
  const paragraphs = (m[2] ?? '').match(/[0-9A-Za-z]+/g) ?? [];
  return ['hipaa', m[1], ...paragraphs.map((p) => p.toLowerCase())].join('-');
}

/** The section of a control id made by controlId, or null when it is not one. */
export function sectionOf(id: string): string | null {
  const m = CONTROL_ID.exec(id);
  if (!m) return null;
  const paragraphs = (m[2] ?? '').split('-').slice(1);
  // Depth 4 of a CFR paragraph is a capital letter: (A).
  return `${m[1]}${paragraphs.map((p, i) => `(${i === 3 ? p.toUpperCase() : p})`).join('')}`;
}

// ---------------------------------------------------------------------------------------------
// UUIDs.

/** JSON with object keys sorted: the same content gives the same text whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * A UUID from SHA-256 of `namespace` and `seed`, with the version nibble 5 and the RFC 4122
 * variant bits (the shape OSCAL's UUID pattern asks for); the same inputs give the same UUID.
 */
export function hashUuid(namespace: string, seed: string): string {
  const b = createHash('sha256').update(namespace).update('\n').update(seed).digest();
  b[6] = ((b[6] as number) & 0x0f) | 0x50;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const x = b.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// The document's shape (the parts Ward writes).

export interface OscalProp {
  name: string;
  ns?: string;
  value: string;
  class?: string;
}

export interface OscalObservation {
  uuid: string;
  title: string;
  description: string;
  props?: OscalProp[];
  methods: ('TEST' | 'EXAMINE')[];
  'relevant-evidence'?: { description: string; props?: OscalProp[] }[];
  collected: string;
  expires?: string;
}

export interface OscalFinding {
  uuid: string;
  title: string;
  description: string;
  props?: OscalProp[];
  target: {
    type: 'objective-id';
    'target-id': string;
    status: { state: 'satisfied' | 'not-satisfied'; reason: 'pass' | 'fail' };
  };
  'related-observations'?: { 'observation-uuid': string }[];
}

export interface OscalAssessmentResults {
  'assessment-results': {
    uuid: string;
    metadata: { title: string; 'last-modified': string; version: string; 'oscal-version': string; props?: OscalProp[] };
    'import-ap': { href: string; remarks?: string };
    results: {
      uuid: string;
      title: string;
      description: string;
      start: string;
      end: string;
      props?: OscalProp[];
      'reviewed-controls': {
        'control-selections': { 'include-controls'?: { 'control-id': string }[]; remarks?: string }[];
      };
      observations?: OscalObservation[];
      findings?: OscalFinding[];
    }[];
    'back-matter': { resources: { uuid: string; title: string; citation: { text: string }; remarks: string }[] };
  };
}

// ---------------------------------------------------------------------------------------------
// Values as OSCAL's datatypes take them.

/** One line, trimmed (OSCAL's string datatype: no line breaks, no space at either end, not empty). */
const line = (s: string, empty = 'none'): string => s.replace(/\s+/g, ' ').trim() || empty;
/** A token (property names): a letter or underscore, then letters, digits, '.', '-', '_'. */
const token = (s: string): string => {
  const t = s.replace(/[^\p{L}\p{N}._-]+/gu, '-');
  return /^[\p{L}_]/u.test(t) ? t : `_${t}`;
};
/** A date-time with a time zone; undefined for what is not a date. */
const dateTime = (s: string | null | undefined): string | undefined => {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
};
const evidenceValue = (v: Evidence[string]): string => {
  if (v === null) return 'none';
  if (Array.isArray(v)) return line(v.join(', '));
  return line(String(v), '(empty)');
};
const prop = (name: string, value: string, cls?: string): OscalProp => ({
  name: token(name),
  ns: WARD_NS,
  value: line(value),
  ...(cls ? { class: cls } : {}),
});
/** The array, or nothing when it is empty (OSCAL's arrays hold at least one item). */
const some = <T>(xs: T[]): T[] | undefined => (xs.length ? xs : undefined);
const pct = (score: number): string => `${Math.round(score * 1000) / 10}%`;

const PASSING = new Set(['ok', 'info', 'skip']);

// ---------------------------------------------------------------------------------------------

function checkObservation(f: Finding, uuid: string, collected: string): OscalObservation {
  const evidence = Object.entries(f.evidence).map(([k, v]) => prop(k, evidenceValue(v), 'evidence'));
  const props = [prop('check-id', f.id), prop('status', f.status), prop('severity', f.severity)];
  const obs: OscalObservation = {
    uuid,
    title: line(f.title),
    description: line(f.reason),
    props,
    methods: ['TEST'],
    collected,
  };
  if (evidence.length)
    obs['relevant-evidence'] = [{ description: `What check ${f.id} read (PHI-free: settings, counts, dates, ids).`, props: evidence }];
  return obs;
}

function attestationObservation(a: AttestationFact, uuid: string, collected: string): OscalObservation {
  const control = CONTROLS[a.control];
  const expires = dateTime(a.expiresAt);
  const obs: OscalObservation = {
    uuid,
    title: line(`Attestation: ${control?.title ?? a.control}`),
    description: line(`${a.by} attested control ${a.control} on ${a.at}${a.expiresAt ? `, until ${a.expiresAt}` : ', with no expiry'}.`),
    props: [
      prop('attestation-id', a.id),
      prop('control', a.control),
      prop('attested-by', a.by),
      prop('attested-at', a.at),
      ...(a.expiresAt ? [prop('expires-at', a.expiresAt)] : []),
    ],
    methods: ['EXAMINE'],
    'relevant-evidence': [
      {
        description: 'The evidence document recorded with the attestation, by its SHA-256.',
        props: [prop('evidence-sha256', a.evidenceSha256, 'SHA-256')],
      },
    ],
    collected,
  };
  if (expires) obs.expires = expires;
  return obs;
}

function findingDescription(r: RequirementStatus): string {
  const head = `45 CFR ${r.section} ${r.title} (${r.kind})`;
  if (r.met) {
    const how = [r.checks.length ? 'every check citing it passed' : '', r.attest ? 'an unexpired attestation is on record' : ''].filter(
      Boolean,
    );
    return line(`${head}: met${r.since ? ` since ${r.since}` : ''}${how.length ? `; ${how.join(' and ')}` : ''}.`);
  }
  const why: string[] = [];
  const failing = r.checks.filter((c) => !PASSING.has(c.status));
  if (failing.length) why.push(`checks not passing: ${failing.map((c) => `${c.id} (${c.status})`).join(', ')}`);
  if (r.attest && !r.attestations.length) why.push('no unexpired attestation is on record');
  return line(`${head}: not met${why.length ? `; ${why.join('; ')}` : ''}.`);
}

/** The report as an OSCAL assessment-results document. */
export function toOscal(report: EvidenceReport, o: { uuid?: (seed: string) => string } = {}): OscalAssessmentResults {
  const digest = createHash('sha256').update(canonical(report)).digest('hex');
  const uuid = o.uuid ?? ((seed: string) => hashUuid(digest, seed));
  const { checks } = report;
  const at = dateTime(checks.at);
  if (!at) throw new TypeError(`the report's time is not a date: ${checks.at}`);

  // Observations: one per check's finding, one per attestation.
  const byCheck = new Map<string, string>();
  const observations: OscalObservation[] = [];
  for (const f of checks.findings) {
    if (byCheck.has(f.id)) continue;
    const id = uuid(`observation/check/${f.id}`);
    byCheck.set(f.id, id);
    observations.push(checkObservation(f, id, at));
  }
  const byAttestation = new Map<string, string>();
  const attestations = [...report.attestations, ...report.requirements.flatMap((r) => r.attestations)];
  for (const a of attestations) {
    if (byAttestation.has(a.id)) continue;
    const id = uuid(`observation/attestation/${a.id}`);
    byAttestation.set(a.id, id);
    observations.push(attestationObservation(a, id, at));
  }

  // Findings: one per requirement.
  const findings: OscalFinding[] = report.requirements.map((r) => {
    const related = [...r.checks.map((c) => byCheck.get(c.id)), ...r.attestations.map((a) => byAttestation.get(a.id))].filter(
      (x): x is string => x !== undefined,
    );
    const finding: OscalFinding = {
      uuid: uuid(`finding/${r.section}`),
      title: line(`${r.section} ${r.title}`),
      description: findingDescription(r),
      props: [
        prop('section', r.section),
        prop('kind', r.kind),
        prop('safeguard', r.safeguard),
        prop('weight', String(r.weight)),
        ...(r.since ? [prop('met-since', r.since)] : []),
      ],
      target: {
        type: 'objective-id',
        'target-id': controlId(r.section),
        status: { state: r.met ? 'satisfied' : 'not-satisfied', reason: r.met ? 'pass' : 'fail' },
      },
    };
    const rel = some([...new Set(related)].map((id) => ({ 'observation-uuid': id })));
    if (rel) finding['related-observations'] = rel;
    return finding;
  });

  const counts = STATUSES.map((s) => `${s} ${checks.summary[s] ?? 0}`).join(', ');
  const controls = some(report.requirements.map((r) => ({ 'control-id': controlId(r.section) })));
  const { audit } = report;
  const resultProps = [
    prop('space', checks.space.name),
    prop('tier', checks.space.tier),
    prop('report-format', report.format),
    prop('score', pct(report.progress.score)),
    ...report.progress.safeguards.map((s) => prop(`score-${s.safeguard}`, `${s.met} of ${s.total} met, ${pct(s.score)}`)),
    prop('gathered', checks.gathered.join(', ')),
    ...(audit.checkpoint
      ? [
          prop('audit-checkpoint-tree-size', String(audit.checkpoint.treeSize)),
          prop('audit-checkpoint-root-hash', audit.checkpoint.rootHash),
          prop('audit-checkpoint-sealed-at', audit.checkpoint.sealedAt),
        ]
      : []),
    ...(audit.verify
      ? [
          prop(
            'audit-verify',
            audit.verify.ok ? `ok at tree size ${audit.verify.treeSize}` : `failed: ${audit.verify.problem ?? 'unknown'}`,
          ),
        ]
      : []),
  ];

  const plan = uuid('back-matter/assessment-plan');
  const observationsOut = some(observations);
  const findingsOut = some(findings);
  return {
    'assessment-results': {
      uuid: uuid('assessment-results'),
      metadata: {
        title: line(`Ward HIPAA checks: ${checks.space.name}`),
        'last-modified': at,
        // Each run of the checks is a new version of the space's results.
        version: at,
        'oscal-version': OSCAL_VERSION,
        props: [prop('edition', checks.edition)],
      },
      'import-ap': {
        href: `#${plan}`,
        remarks: 'The assessment plan is Ward itself: its checks and attestable controls, described in the back matter.',
      },
      results: [
        {
          uuid: uuid('result'),
          title: line(`Ward HIPAA checks: ${checks.space.name} (${checks.space.tier})`),
          description: line(
            `${checks.edition}. ${checks.findings.length} checks (${counts}); ${report.requirements.filter((r) => r.met).length} of ${report.requirements.length} requirements met, weighted score ${pct(report.progress.score)}.`,
          ),
          start: at,
          end: at,
          props: resultProps,
          'reviewed-controls': {
            'control-selections': [controls ? { 'include-controls': controls } : { remarks: 'No requirements were reviewed.' }],
          },
          ...(observationsOut ? { observations: observationsOut } : {}),
          ...(findingsOut ? { findings: findingsOut } : {}),
        },
      ],
      'back-matter': {
        resources: [
          {
            uuid: plan,
            title: 'Ward HIPAA checks and attestable controls',
            citation: { text: checks.edition },
            remarks:
              'Control ids are the CFR sections as hipaa-<part.section>-<paragraph>-...: 164.312(e)(1) is hipaa-164.312-e-1. Automated checks are observations by TEST, attestations recorded with ward attest by EXAMINE.',
          },
        ],
      },
    },
  };
}
