/** Checks over the database's inventories (keys, API keys, agreements, the audit log, break-glass uses), in report order. */
import type { Check } from '../types.js';
import { check as agreementsCurrent } from './agreements-current.js';
import { check as apiKeysExpire } from './api-keys-expire.js';
import { check as apiKeysExpiredRevoked } from './api-keys-expired-revoked.js';
import { check as apiKeysNotShared } from './api-keys-not-shared.js';
import { check as apiKeysUsedRecently } from './api-keys-used-recently.js';
import { check as attestationsCurrent } from './attestations-current.js';
import { check as auditCheckpointExported } from './audit-checkpoint-exported.js';
import { check as auditCheckpointRecent } from './audit-checkpoint-recent.js';
import { check as auditLogVerifies } from './audit-log-verifies.js';
import { check as auditSigningKeyRotated } from './audit-signing-key-rotated.js';
import { check as breakGlassReviewed } from './break-glass-reviewed.js';
import { check as dataKeysRotated } from './data-keys-rotated.js';
import { check as egressCovered } from './egress-covered.js';
import { check as masterKeyRotated } from './master-key-rotated.js';
import { check as nonproductionNoPhi } from './nonproduction-no-phi.js';

export const DATABASE_CHECKS: readonly Check[] = [
  // Where PHI may go, and what a nonproduction space holds.
  egressCovered,
  agreementsCurrent,
  nonproductionNoPhi,
  // The audit log: intact, sealed, its signing key current; emergency access reviewed.
  auditLogVerifies,
  auditCheckpointRecent,
  auditCheckpointExported,
  breakGlassReviewed,
  auditSigningKeyRotated,
  // Who can get in: API keys.
  apiKeysExpire,
  apiKeysNotShared,
  apiKeysUsedRecently,
  apiKeysExpiredRevoked,
  // Encryption keys.
  dataKeysRotated,
  masterKeyRotated,
  // What people attest.
  attestationsCurrent,
];
