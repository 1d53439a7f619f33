/** Checks over the configuration alone (ward.yaml), in report order. */

import type { Check } from '../types.js';
import { check as auditRetention } from './audit-retention.js';
import { check as auditReviewerRole } from './audit-reviewer-role.js';
import { check as auditSealing } from './audit-sealing.js';
import { check as auditVerificationScheduled } from './audit-verification-scheduled.js';
import { check as collectionRetention } from './collection-retention.js';
import { check as deidentifiedView } from './deidentified-view.js';
import { check as emergencyAccess } from './emergency-access.js';
import { check as encryptionAtRestKeys } from './encryption-at-rest-keys.js';
import { check as ingressAllowlist } from './ingress-allowlist.js';
import { check as loginLockout } from './login-lockout.js';
import { check as minimumNecessary } from './minimum-necessary.js';
import { check as phiFieldsClassified } from './phi-fields-classified.js';
import { check as topicsPhiFree } from './topics-phi-free.js';

export const CONFIG_CHECKS: readonly Check[] = [
  // Encryption: what is stored encrypted, and who holds the key.
  phiFieldsClassified,
  encryptionAtRestKeys,
  // Access: minimum necessary, de-identification, emergency access, log-in monitoring.
  minimumNecessary,
  deidentifiedView,
  emergencyAccess,
  loginLockout,
  // Audit controls and integrity.
  auditRetention,
  auditSealing,
  auditVerificationScheduled,
  auditReviewerRole,
  // Transmission.
  topicsPhiFree,
  ingressAllowlist,
  // Retention of records.
  collectionRetention,
];
