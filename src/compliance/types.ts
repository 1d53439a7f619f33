/**
 * HIPAA checks: what one check is, what it is run on, and what it returns. A check is a pure
 * function of the facts gathered beforehand (the configuration, the master key, the transport
 * of a running server, the database's inventories), so the same check gives the same answer in
 * `ward check`, in `GET /v1/compliance/checks` and at start-up. The status vocabulary is
 * Powerpipe's: ok, alarm, skip, info, error.
 */
import type { WardConfig } from '../config/load.js';

export type Status = 'ok' | 'alarm' | 'skip' | 'info' | 'error';
export const STATUSES: readonly Status[] = ['ok', 'alarm', 'skip', 'info', 'error'];

/**
 * How much an alarm matters. `fail`: start-up refuses to run while the check alarms (the
 * production safety rules); then high, medium, low.
 */
export type Severity = 'fail' | 'high' | 'medium' | 'low';
export const SEVERITIES: readonly Severity[] = ['fail', 'high', 'medium', 'low'];
/** True when `s` is at or above `threshold` (fail > high > medium > low). */
export const atLeast = (s: Severity, threshold: Severity): boolean => SEVERITIES.indexOf(s) <= SEVERITIES.indexOf(threshold);

/** What a check needs gathered before it can run; without it the check is skipped. */
export type Need = 'master' | 'transport' | 'database';

/** Evidence: PHI-free facts a reviewer can check (counts, names of settings, dates, ids). */
export type Evidence = Record<string, string | number | boolean | null | readonly string[]>;

export interface Result {
  status: Status;
  /** One sentence, PHI-free: what was found, and for an alarm what to change. */
  reason: string;
  evidence?: Evidence | undefined;
}

export interface Check {
  /** Stable, kebab-case: `database-tls`. */
  id: string;
  title: string;
  /** Keys of REQUIREMENTS (citations.ts): the HIPAA sections this check gives evidence for. */
  citations: readonly string[];
  severity: Severity;
  needs: readonly Need[];
  run(facts: Facts): Result;
}

/** The master key in use, as start-up sees it. */
export interface MasterFacts {
  source: string;
  dev: boolean;
  /** The key file can be read by other users. */
  exposed: boolean;
  /** The database's keys were first made under a development master key; undefined when the database was not opened. */
  createdWithDevKey?: boolean | undefined;
}

/** A running server's transport, as `ward serve` starts it. */
export interface TransportFacts {
  /** Serves HTTPS itself. */
  tls: boolean;
  /** Addresses of TLS-terminating proxies it trusts. */
  trustProxy: number;
  /** Runs with the Node inspector. */
  inspector: boolean;
}

export interface ApiKeyFact {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AgreementFact {
  id: string;
  name: string;
  hosts: readonly string[];
  scope: 'phi' | 'no-phi';
  expires: string;
  status: 'active' | 'expiring' | 'expired' | 'revoked';
}

export interface AttestationFact {
  id: string;
  control: string;
  by: string;
  at: string;
  expiresAt: string | null;
  evidenceSha256: string;
}

/** What the database holds that the checks read: inventories, no record content. */
export interface DatabaseFacts {
  /** Each collection's active data key: its version and when it was made. */
  keys: { collection: string; version: number; createdAt: string }[];
  /** The newest master key epoch: when it was made, whether every key is rewrapped under it. */
  masterEpoch: { epoch: number; createdAt: string; completed: boolean } | null;
  /** The newest audit signing key. */
  signingKey: { version: number; createdAt: string } | null;
  apiKeys: ApiKeyFact[];
  agreements: AgreementFact[];
  audit: {
    /** The newest signed checkpoint. */
    checkpoint: { treeSize: number; sealedAt: string; rootHash: string } | null;
    /** Events written after it. */
    unsealed: number;
    /** The newest full verification recorded. */
    lastFull: { at: string; ok: boolean; treeSize: number } | null;
    /** An incremental verification run while gathering: from the last verified checkpoint to the newest. */
    verify: { ok: boolean; treeSize: number; problem: string | null } | null;
    /** When a signed checkpoint was last handed out (`ward audit checkpoint`, `GET /v1/audit/checkpoint`; audited as audit.checkpoint). */
    lastExportAt?: string | null;
  };
  breakGlass: { uses: number; unreviewed: number; oldestUnreviewedAt: string | null };
  attestations: AttestationFact[];
  /**
   * Nonproduction spaces: a sample of records' field values run through the PHI detector.
   * Null in production (PHI is expected there) or when there is nothing to sample.
   */
  sample: { records: number; values: number; withPhi: number; types: string[] } | null;
}

export interface Facts {
  now: Date;
  config: WardConfig;
  master?: MasterFacts;
  transport?: TransportFacts;
  database?: DatabaseFacts;
}

export const ok = (reason: string, evidence?: Evidence): Result => ({ status: 'ok', reason, evidence });
export const alarm = (reason: string, evidence?: Evidence): Result => ({ status: 'alarm', reason, evidence });
export const skip = (reason: string, evidence?: Evidence): Result => ({ status: 'skip', reason, evidence });
export const info = (reason: string, evidence?: Evidence): Result => ({ status: 'info', reason, evidence });

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: Date | string, to: Date | string): number =>
  Math.floor((new Date(to).getTime() - new Date(from).getTime()) / 86_400_000);

/** API keys that still authenticate at `now`: not revoked, not past their expiry. */
export const activeApiKeys = (database: DatabaseFacts, now: Date): ApiKeyFact[] =>
  database.apiKeys.filter((k) => k.revokedAt === null && (k.expiresAt === null || Date.parse(k.expiresAt) > now.getTime()));

/**
 * Attestations in force at `now`: the newest per control (a newer one supersedes an older one),
 * unless that newest one has expired (then the control counts as missing).
 */
export function currentAttestations(all: readonly AttestationFact[], now: Date): AttestationFact[] {
  const newest = new Map<string, AttestationFact>();
  for (const a of all) {
    const seen = newest.get(a.control);
    if (!seen || seen.at < a.at) newest.set(a.control, a);
  }
  return [...newest.values()].filter((a) => a.expiresAt === null || new Date(a.expiresAt) > now);
}
