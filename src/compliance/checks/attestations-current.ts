/**
 * Progress on what software cannot check: which controls (citations' CONTROLS) have an unexpired
 * attestation (`ward attest`). A missing one is info, a step still to take, not an alarm; the
 * requirements it covers count as unmet in `ward compliance status` until it is recorded.
 */
import { CONTROLS } from '../citations.js';
import { type Check, currentAttestations, info, ok, skip } from '../types.js';

export const check: Check = {
  id: 'attestations-current',
  title: 'Every control software cannot check has an unexpired attestation',
  citations: ['164.316(b)(1)'],
  severity: 'low',
  needs: ['database'],
  run({ database, now }) {
    if (!database) return skip('needs the database');
    const current = currentAttestations(database.attestations, now);
    const attested = Object.keys(CONTROLS).filter((c) => current.some((a) => a.control === c));
    const missing = Object.keys(CONTROLS).filter((c) => !attested.includes(c));
    // Attested once, but the newest attestation has expired.
    const expired = [...new Set(database.attestations.map((a) => a.control))].filter((c) => missing.includes(c));
    const evidence = { controls: Object.keys(CONTROLS).length, attested, missing, expired };
    if (missing.length)
      return info(
        `${attested.length} of ${Object.keys(CONTROLS).length} controls are attested; ${missing.length} have no unexpired attestation (${missing.join(', ')}): record each with \`ward attest <control>\``,
        evidence,
      );
    return ok(`all ${attested.length} controls have an unexpired attestation`, evidence);
  },
};
