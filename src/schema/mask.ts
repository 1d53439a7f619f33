/**
 * Masks: how a field is shown to someone who may know it exists but not read it in full.
 * Each mask keeps only what its name promises (the last four characters, the year, ...).
 */
import type { FieldValue } from './types.js';

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
  /** A date reduced to its year (HIPAA Safe Harbor). */
  year: (s: string) => s.slice(0, 4),
  /** A ZIP code reduced to its first three digits (HIPAA Safe Harbor). */
  zip3: (s: string) => `${s.slice(0, 3)}**`,
} as const satisfies Record<string, (s: string) => string>;

export type MaskName = keyof typeof MASKS;
export const MASK_NAMES = Object.keys(MASKS) as MaskName[];

export function applyMask(mask: MaskName, value: FieldValue): string {
  return MASKS[mask](String(value));
}
