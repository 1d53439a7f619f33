/**
 * Running checks: each against the facts, skipped when a fact it needs was not gathered, an
 * exception turned into `error` (a check that throws never stops the others), and the summary
 * a CI gate reads.
 */
import { WardError } from '../errors.js';
import { ALL_CHECKS, STARTUP_CHECKS } from './checks/index.js';
import { cite, EDITION } from './citations.js';
import { atLeast, type Check, type Evidence, type Facts, type Need, type Severity, STATUSES, type Status } from './types.js';

export interface Finding {
  id: string;
  title: string;
  severity: Severity;
  status: Status;
  reason: string;
  evidence: Evidence;
  /** Sections (keys of REQUIREMENTS). */
  citations: readonly string[];
}

export interface CheckReport {
  format: 'ward-checks/v1';
  edition: string;
  space: { name: string; tier: string };
  at: string;
  /** What was gathered: the checks needing anything else were skipped. */
  gathered: Need[];
  summary: Record<Status, number>;
  findings: Finding[];
}

const NEEDS: Record<Need, string> = {
  master: 'the master key',
  transport: 'a running server (ward serve)',
  database: 'the database',
};

/** One check's finding; never throws. */
export function runCheck(check: Check, facts: Facts): Finding {
  const base = { id: check.id, title: check.title, severity: check.severity, citations: check.citations };
  const missing = check.needs.find((n) => facts[n] === undefined);
  if (missing) return { ...base, status: 'skip', reason: `needs ${NEEDS[missing]}`, evidence: {} };
  try {
    const r = check.run(facts);
    return { ...base, status: r.status, reason: r.reason, evidence: r.evidence ?? {} };
  } catch (e) {
    // The message of a check's own error is Ward's (never a value); anything else is named by its type only.
    const why = e instanceof WardError ? e.message : `the check failed (${e instanceof Error ? e.name : typeof e})`;
    return { ...base, status: 'error', reason: why, evidence: {} };
  }
}

export function runChecks(facts: Facts, checks: readonly Check[] = ALL_CHECKS): CheckReport {
  const findings = checks.map((c) => runCheck(c, facts));
  const summary = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const f of findings) summary[f.status]++;
  const gathered = (['master', 'transport', 'database'] as const).filter((n) => facts[n] !== undefined);
  return {
    format: 'ward-checks/v1',
    edition: EDITION,
    space: { name: facts.config.space.name, tier: facts.config.space.tier },
    at: facts.now.toISOString(),
    gathered,
    summary,
    findings,
  };
}

/** The findings that fail a gate at `threshold`: alarms (and errors, which prove nothing) at or above it. */
export const failing = (report: CheckReport, threshold: Severity): Finding[] =>
  report.findings.filter((f) => (f.status === 'alarm' || f.status === 'error') && atLeast(f.severity, threshold));

/**
 * Start-up: the `fail` checks that can run on what start-up knows; throws `unsafe_production`
 * listing every alarm (with its check id, as `ward check` reports it).
 */
export function assertStartupChecks(facts: Facts, checks: readonly Check[] = STARTUP_CHECKS): void {
  const alarms = checks.map((c) => runCheck(c, facts)).filter((f) => f.status === 'alarm' || f.status === 'error');
  if (!alarms.length) return;
  const { config } = facts;
  throw new WardError(
    'unsafe_production',
    `${config.file}: space ${config.space.name} is production and refuses to start:\n  ${alarms.map((f) => `${f.reason} [${f.id}]`).join('\n  ')}`,
  );
}

export { cite };
