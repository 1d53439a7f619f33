/**
 * No field that holds PHI is declared `class: public`: public fields are stored as they are,
 * unencrypted, and travel in events and logs. A field is suspect by its type (name, ssn, mrn,
 * email, phone, zip, date) or by its name (first_name, dob, street, member_id, diagnosis, ...).
 */
import type { FieldConfig } from '../../config/schema.js';
import { alarm, type Check, ok } from '../types.js';

/** Field types whose values are identifiers (45 CFR 164.514(b)(2)(i)), whatever the field is called. */
const IDENTIFIER_TYPES = new Set(['name', 'ssn', 'mrn', 'email', 'phone', 'zip', 'date']);

/**
 * Field names that suggest PHI: a person's name, contact, address, birth date, an account or
 * record number, or clinical content.
 */
const IDENTIFIER_NAMES: readonly RegExp[] = [
  /^(?:(?:first|last|middle|full|given|family|maiden|legal|preferred|patient|member|guardian|contact|nick)_?)?name$/,
  /(?:^|_)(?:surname|forename|initials)(?:_|$)/,
  /(?:^|_)ssn(?:_|$)|social_?security/,
  /(?:^|_)(?:dob|birth_?date|date_of_birth|birthday|birth)(?:_|$)/,
  /e_?mail/,
  /phone|(?:^|_)(?:mobile|cell|fax)(?:_|$)/,
  /(?:^|_)(?:address|street|city|zip|zip_?code|postal_?code|post_?code)(?:_|$)/,
  /(?:^|_)mrn(?:_|$)|medical_?record/,
  /(?:^|_)(?:member|beneficiary|subscriber|policy|account|license|licence|passport|insurance|patient)_?(?:id|no|num|number)(?:_|$)/,
  /(?:^|_)(?:vin|plate|serial_?number|ip_?address|photo|fingerprint|biometric)(?:_|$)/,
  // Health information: clinical content is PHI too once it sits in a person's record.
  /(?:^|_)(?:diagnos[ie]s|notes?|medications?|prescriptions?|allerg(?:y|ies)|symptoms?|icd10)(?:_|$)/,
];

/** Whether a field's type or name says it holds PHI. */
export function suggestsPhi(name: string, f: Pick<FieldConfig, 'type'>): boolean {
  return IDENTIFIER_TYPES.has(f.type) || IDENTIFIER_NAMES.some((re) => re.test(name));
}

export const check: Check = {
  id: 'phi-fields-classified',
  title: 'No PHI field is declared public (stored unencrypted)',
  citations: ['164.312(a)(2)(iv)'],
  severity: 'high',
  needs: [],
  run({ config }) {
    const suspect: string[] = [];
    let publicFields = 0;
    for (const [c, col] of Object.entries(config.collections))
      for (const [name, f] of Object.entries(col.fields)) {
        if (f.class !== 'public') continue;
        publicFields++;
        if (suggestsPhi(name, f)) suspect.push(`${c}.${name}`);
      }
    if (suspect.length)
      return alarm(
        `collections.*.fields.*.class: ${suspect.length} public field(s) look like PHI (${suspect.join(', ')}) and are stored unencrypted; declare them class: identifier (or clinical)`,
        { fields: suspect, publicFields },
      );
    return ok(
      `collections.*.fields.*.class: no public field looks like PHI (${publicFields} public field(s); the rule holds in both tiers)`,
      { publicFields },
    );
  },
};
