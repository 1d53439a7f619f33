/**
 * The evidence report: the checks' findings, each requirement with its checks and attestations,
 * the audit log's newest checkpoint and verification, the key and agreement inventories and the
 * lineage table, as one object that the JSON, OSCAL and HTML formats render. PHI-free by
 * construction: every string in it is a setting name, an id, a date, a count, a hash or a
 * sentence a check wrote from those.
 */
import type { Requirement, Safeguard } from './citations.js';
import type { CheckReport } from './run.js';
import type { AgreementFact, AttestationFact } from './types.js';

export interface RequirementStatus extends Requirement {
  /** The checks citing it (ids), and theirs statuses. */
  checks: { id: string; status: string }[];
  /** Unexpired attestations of controls covering it. */
  attestations: AttestationFact[];
  /** Met: every check citing it passed (ok, info, skip) and, where one is needed, an attestation is on record. */
  met: boolean;
  /** Since when it is met: the newest attestation's date, or the report's time for checks alone; null when not met. */
  since: string | null;
  weight: number;
}

export interface SafeguardProgress {
  safeguard: Safeguard;
  met: number;
  total: number;
  /** Weighted: the met requirements' weights over all requirements' weights, 0 to 1. */
  score: number;
}

export interface EvidenceReport {
  format: 'ward-evidence/v1';
  checks: CheckReport;
  requirements: RequirementStatus[];
  progress: { safeguards: SafeguardProgress[]; score: number };
  audit: {
    checkpoint: { treeSize: number; sealedAt: string; rootHash: string } | null;
    verify: { ok: boolean; treeSize: number; problem: string | null } | null;
    lastFull: { at: string; ok: boolean; treeSize: number } | null;
  };
  keys: { collection: string; version: number; createdAt: string }[];
  agreements: AgreementFact[];
  attestations: AttestationFact[];
  /** The data inventory (`ward lineage`) as a plain table, or null when it was not built. */
  lineage: { headers: string[]; rows: string[][] } | null;
}

/**
 * A report's detached signature (FILE.sig beside FILE): the report bytes' SHA-256, the audit
 * signing key's Ed25519 signature over it and the checkpoint it was made at (an exported
 * checkpoint, itself signed). `ward audit verify --report FILE` checks it.
 */
export interface SignedReport {
  format: 'ward-signed-report/v1';
  sha256: string;
  signature: { keyVersion: number; publicKey: string; value: string };
  checkpoint: ({ treeSize: number; rootHash: string; sealedAt: string } & Record<string, unknown>) | null;
}
