/**
 * Progress: each requirement with the checks citing it and the attestations covering it, met or
 * not, since when; per safeguard and overall, weighted as citations.ts publishes (required 3,
 * addressable 2). An expired attestation counts as missing.
 */
import { CONTROLS, REQUIREMENTS, SAFEGUARDS, WEIGHTS } from './citations.js';
import type { EvidenceReport, RequirementStatus, SafeguardProgress } from './report.js';
import type { CheckReport } from './run.js';
import { type AttestationFact, currentAttestations, type DatabaseFacts } from './types.js';

export { currentAttestations };

const PASSING = new Set(['ok', 'info', 'skip']);

export function requirementStatuses(checks: CheckReport, attestations: readonly AttestationFact[], now: Date): RequirementStatus[] {
  const current = currentAttestations(attestations, now);
  return Object.values(REQUIREMENTS).map((q) => {
    const cited = checks.findings.filter((f) => f.citations.includes(q.section)).map((f) => ({ id: f.id, status: f.status }));
    const covering = current.filter((a) => CONTROLS[a.control]?.covers.includes(q.section));
    const checksPass = cited.every((c) => PASSING.has(c.status));
    // Covered at all: by a check that ran (not only skipped), or by an attestation.
    const ran = cited.some((c) => c.status !== 'skip');
    const met = checksPass && (q.attest ? covering.length > 0 : ran);
    const newest = covering
      .map((a) => a.at)
      .sort()
      .at(-1);
    return {
      ...q,
      checks: cited,
      attestations: covering,
      met,
      since: met ? (newest ?? checks.at) : null,
      weight: WEIGHTS[q.kind],
    };
  });
}

export function progress(reqs: readonly RequirementStatus[]): EvidenceReport['progress'] {
  const score = (rs: readonly RequirementStatus[]) => {
    const total = rs.reduce((n, r) => n + r.weight, 0);
    return total ? rs.reduce((n, r) => n + (r.met ? r.weight : 0), 0) / total : 0;
  };
  const safeguards: SafeguardProgress[] = SAFEGUARDS.map((s) => {
    const rs = reqs.filter((r) => r.safeguard === s);
    return { safeguard: s, met: rs.filter((r) => r.met).length, total: rs.length, score: score(rs) };
  });
  return { safeguards, score: score(reqs) };
}

/** The evidence report from the checks' report, the database's facts (when gathered) and the lineage table. */
export function evidenceReport(
  checks: CheckReport,
  database: DatabaseFacts | undefined,
  lineage: EvidenceReport['lineage'] = null,
): EvidenceReport {
  const now = new Date(checks.at);
  const requirements = requirementStatuses(checks, database?.attestations ?? [], now);
  return {
    format: 'ward-evidence/v1',
    checks,
    requirements,
    progress: progress(requirements),
    audit: {
      checkpoint: database?.audit.checkpoint ?? null,
      verify: database?.audit.verify ?? null,
      lastFull: database?.audit.lastFull ?? null,
    },
    keys: database?.keys ?? [],
    agreements: database?.agreements ?? [],
    attestations: database?.attestations ?? [],
    lineage,
  };
}
