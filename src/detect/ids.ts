/**
 * Letter-led identifiers with a published shape and, where one exists, a check: IBANs (mod 97,
 * via ibantools), UK National Insurance numbers, Italian codici fiscali, Spanish NIEs, and
 * member IDs with a letter prefix ("XEH123456789") when insurance is the topic.
 */
import { isValidIBAN } from 'ibantools';
import { isCodiceFiscale, isDni, isNino } from './checks.js';
import type { Findings } from './patterns.js';

/** What every one of these holds after its first capital: a capital and two digits, or six digits. */
export const IDS_HOOK = String.raw`[A-Z] ?\d\d|-?\d{6}`;

// One scan; the group that matched says which kind.
const ID_RE = new RegExp(
  [
    String.raw`\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b`, // IBAN
    String.raw`\b([A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D])\b`, // NINO
    String.raw`\b([A-Z]{6}[0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z])\b`, // codice fiscale
    String.raw`\b([XYZ]-?\d{7}-?[A-Z])\b`, // NIE
    String.raw`\b([A-Z]{1,3}\d{6,12})\b`, // a member ID with a letter prefix
  ].join('|'),
  'g',
);
// Member IDs need the topic within the 60 characters before: insurance words or a payer's name.
const PLAN_BEFORE =
  /\b(?:insurance|insurer|insured|member|subscriber|policy|plan|payer|coverage|medicare|medicaid|beneficiary|group|BCBS|Blue Cross|Blue Shield|Aetna|Cigna|Humana|United ?Healthcare|UHC|Kaiser|Anthem|Tricare|Versicherten|assurance|mutuelle|seguro)/i;

const NINO_BEFORE = /\b(?:NINO|NI|national insurance)\b/i;

/** Letter-led identifiers: IBAN → ACCOUNT, NINO/codice fiscale/NIE → LICENSE, member IDs → HEALTH_PLAN. */
export function detectIds(text: string, out: Findings): void {
  ID_RE.lastIndex = 0;
  for (let m = ID_RE.exec(text); m; m = ID_RE.exec(text)) {
    const start = m.index;
    if (m[1] !== undefined) {
      // Trailing groups may belong to the next word: drop them until the checksum holds.
      for (let v = m[1]; v.length >= 15; v = v.replace(/ ?[A-Z0-9]{1,4}$/, '')) {
        if (isValidIBAN(v.replace(/ /g, ''))) {
          out.add('ACCOUNT', start, start + v.length, 0.95);
          break;
        }
      }
    } else if (m[2] !== undefined) {
      // Unspaced ("QQ123456C") only after a cue: the bare shape is common in order numbers.
      const cued = m[2].includes(' ') || NINO_BEFORE.test(text.slice(Math.max(0, start - 30), start));
      if (cued && isNino(m[2])) out.add('LICENSE', start, start + m[2].length, 0.85);
    } else if (m[3] !== undefined) {
      if (isCodiceFiscale(m[3])) out.add('LICENSE', start, start + m[3].length, 0.9);
    } else if (m[4] !== undefined) {
      if (isDni(m[4].replace('-', ''))) out.add('LICENSE', start, start + m[4].length, 0.85);
    } else if (m[5] !== undefined) {
      if (PLAN_BEFORE.test(text.slice(Math.max(0, start - 60), start))) out.add('HEALTH_PLAN', start, start + m[5].length, 0.8);
    }
  }
}
