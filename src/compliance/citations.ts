/**
 * The HIPAA requirements Ward reports on: 45 CFR Part 164 as amended by the Omnibus Final Rule
 * (78 FR 5566, January 25, 2013), the edition in force. Each has its section, the title the rule
 * gives it, whether the rule makes it required or addressable (a standard with no separate
 * implementation specifications is required), its safeguard, and how it is covered: by checks
 * (automated, `checks/`), by an attestation a person records (`ward attest`), or by both.
 *
 * Progress (`ward compliance status`) weighs each requirement: required 3, addressable 2. A
 * requirement counts as met when every check citing it passes (ok, info, or skip as not
 * applicable) and, where it needs one, an unexpired attestation is on record.
 */
export const EDITION = '45 CFR Part 164, 2013 Omnibus Final Rule (78 FR 5566)';

export type Safeguard = 'administrative' | 'physical' | 'technical' | 'organizational' | 'documentation';
export const SAFEGUARDS: readonly Safeguard[] = ['administrative', 'physical', 'technical', 'organizational', 'documentation'];

export interface Requirement {
  /** The section and implementation specification: `164.312(a)(2)(iv)`. */
  section: string;
  title: string;
  kind: 'required' | 'addressable';
  safeguard: Safeguard;
  /** Covered by an attestation a person records (alone, or beside checks). */
  attest: boolean;
}

/** The published weights of `ward compliance status`. */
export const WEIGHTS: Readonly<Record<Requirement['kind'], number>> = { required: 3, addressable: 2 };

const r = (section: string, title: string, kind: Requirement['kind'], safeguard: Safeguard, attest = false): Requirement => ({
  section,
  title,
  kind,
  safeguard,
  attest,
});

/** Keyed by section. */
export const REQUIREMENTS: Readonly<Record<string, Requirement>> = Object.fromEntries(
  [
    // Administrative safeguards (164.308) and the Privacy Rule's minimum necessary and de-identification.
    r('164.308(a)(1)(ii)(A)', 'Risk analysis', 'required', 'administrative', true),
    r('164.308(a)(1)(ii)(B)', 'Risk management', 'required', 'administrative', true),
    r('164.308(a)(1)(ii)(D)', 'Information system activity review', 'required', 'administrative'),
    r('164.308(a)(2)', 'Assigned security responsibility', 'required', 'administrative', true),
    r('164.308(a)(3)(ii)(C)', 'Termination procedures', 'addressable', 'administrative'),
    r('164.308(a)(4)(ii)(B)', 'Access authorization', 'addressable', 'administrative'),
    r('164.308(a)(5)(i)', 'Security awareness and training', 'required', 'administrative', true),
    r('164.308(a)(5)(ii)(C)', 'Log-in monitoring', 'addressable', 'administrative'),
    r('164.308(a)(6)(ii)', 'Response and reporting', 'required', 'administrative', true),
    r('164.308(a)(7)(i)', 'Contingency plan', 'required', 'administrative', true),
    r('164.308(a)(7)(ii)(A)', 'Data backup plan', 'required', 'administrative'),
    r('164.308(b)(1)', 'Business associate contracts and other arrangements', 'required', 'administrative', true),
    r('164.502(b)', 'Minimum necessary', 'required', 'administrative'),
    r('164.514(b)(2)', 'De-identification: safe harbor', 'required', 'administrative'),
    r('164.530(a)(1)', 'Personnel designations: privacy official', 'required', 'administrative', true),
    // Physical safeguards (164.310): the platform's; attested.
    r('164.310(a)(1)', 'Facility access controls', 'required', 'physical', true),
    r('164.310(d)(1)', 'Device and media controls', 'required', 'physical', true),
    // Technical safeguards (164.312).
    r('164.312(a)(1)', 'Access control', 'required', 'technical'),
    r('164.312(a)(2)(i)', 'Unique user identification', 'required', 'technical'),
    r('164.312(a)(2)(ii)', 'Emergency access procedure', 'required', 'technical'),
    r('164.312(a)(2)(iv)', 'Encryption and decryption', 'addressable', 'technical'),
    r('164.312(b)', 'Audit controls', 'required', 'technical'),
    r('164.312(c)(1)', 'Integrity', 'required', 'technical'),
    r('164.312(c)(2)', 'Mechanism to authenticate electronic protected health information', 'addressable', 'technical'),
    r('164.312(d)', 'Person or entity authentication', 'required', 'technical'),
    r('164.312(e)(1)', 'Transmission security', 'required', 'technical'),
    r('164.312(e)(2)(ii)', 'Encryption (transmission)', 'addressable', 'technical'),
    // Organizational requirements (164.314).
    r('164.314(a)(1)', 'Business associate contracts or other arrangements', 'required', 'organizational'),
    // Policies, procedures and documentation (164.316).
    r('164.316(a)', 'Policies and procedures', 'required', 'documentation', true),
    r('164.316(b)(1)', 'Documentation', 'required', 'documentation', true),
    r('164.316(b)(2)(i)', 'Time limit (six years)', 'required', 'documentation'),
  ].map((x) => [x.section, x]),
);

/**
 * Controls software cannot check: what `ward attest <control-id>` records, each with the
 * requirements it covers.
 */
export const CONTROLS: Readonly<Record<string, { title: string; covers: readonly string[] }>> = {
  'risk-analysis': { title: 'Risk analysis performed and documented', covers: ['164.308(a)(1)(ii)(A)'] },
  'risk-management': { title: 'Risk management plan in place', covers: ['164.308(a)(1)(ii)(B)'] },
  'security-official': { title: 'A named security official', covers: ['164.308(a)(2)'] },
  'privacy-official': { title: 'A named privacy official', covers: ['164.530(a)(1)'] },
  'workforce-training': { title: 'Workforce security awareness training', covers: ['164.308(a)(5)(i)'] },
  'incident-response': { title: 'Incident response plan', covers: ['164.308(a)(6)(ii)'] },
  'contingency-plan': { title: 'Contingency plan (backup, disaster recovery, emergency mode)', covers: ['164.308(a)(7)(i)'] },
  'baa-signed': { title: 'Business associate agreements signed outside Ward', covers: ['164.308(b)(1)'] },
  'facility-access': { title: 'Facility access controls of the hosting platform', covers: ['164.310(a)(1)'] },
  'device-media': { title: 'Device and media controls of the hosting platform', covers: ['164.310(d)(1)'] },
  'policies-procedures': { title: 'Security policies and procedures', covers: ['164.316(a)'] },
  documentation: { title: 'Documentation kept and reviewed', covers: ['164.316(b)(1)'] },
};

/** The requirement's citation as printed: "45 CFR 164.312(e)(1) Transmission security (required)". */
export const cite = (section: string): string => {
  const q = REQUIREMENTS[section];
  return q ? `45 CFR ${q.section} ${q.title} (${q.kind})` : `45 CFR ${section}`;
};
