/**
 * Masks: how a field is shown to someone who may know it exists but not read it in full.
 * Each mask keeps only what its name promises (the last four characters, the year, ...). The
 * Safe Harbor ones (year, zip3, age: 45 CFR 164.514(b)(2)(i)(B), (C)) also fold what the rule
 * folds: years that reveal an age over 89, and ZIP areas of 20,000 people or fewer.
 */
import type { FieldValue } from './types.js';

/** Safe Harbor's category for ages over 89 and every date element that reveals one. */
export const AGE_90_OR_OLDER = '90 or older';

/**
 * Three-digit ZIP prefixes whose areas held 20,000 people or fewer in the 2000 Census, as HHS's
 * de-identification guidance lists them: shown as 000.
 */
export const SPARSE_ZIP3 = new Set([
  '036',
  '059',
  '063',
  '102',
  '203',
  '556',
  '692',
  '790',
  '821',
  '823',
  '830',
  '831',
  '878',
  '879',
  '884',
  '890',
  '893',
]);

/** A year that could be the birth year of someone 90 or older today (the current year less 90, or earlier). */
const revealsAge90 = (year: number, now = new Date()) => now.getUTCFullYear() - year >= 90;

export const MASKS = {
  /** Everything hidden. */
  full: () => '****',
  /** Last four digits or characters kept: `***-**-6789`. */
  last4: (s: string) => {
    const d = s.replace(/\D/g, '');
    const tail = (d.length >= 4 ? d : s).slice(-4);
    return /^\d{3}-\d{2}-\d{4}$/.test(s) ? `***-**-${tail}` : `****${tail}`;
  },
  /** First letter of each word: `A. L.`. */
  initials: (s: string) =>
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => `${w[0]?.toUpperCase() ?? ''}.`)
      .join(' '),
  /** Mailbox hidden, domain kept: `a***@example.org`. */
  email: (s: string) => {
    const at = s.lastIndexOf('@');
    return at < 1 ? '****' : `${s[0]}***@${s.slice(at + 1)}`;
  },
  /** A date reduced to its year; a year that could reveal an age over 89 becomes `90 or older` (Safe Harbor). */
  year: (s: string) => (revealsAge90(Number(s.slice(0, 4))) ? AGE_90_OR_OLDER : s.slice(0, 4)),
  /** A ZIP code reduced to its first three digits, `000` for the sparsely peopled areas (Safe Harbor). */
  zip3: (s: string) => `${SPARSE_ZIP3.has(s.slice(0, 3)) ? '000' : s.slice(0, 3)}**`,
  /** An age as it is, or `90 or older` above 89 (Safe Harbor). */
  age: (s: string) => (Number(s) > 89 ? AGE_90_OR_OLDER : s),
} as const satisfies Record<string, (s: string) => string>;

export type MaskName = keyof typeof MASKS;
export const MASK_NAMES = Object.keys(MASKS) as MaskName[];

export function applyMask(mask: MaskName, value: FieldValue): string {
  return MASKS[mask](String(value));
}
