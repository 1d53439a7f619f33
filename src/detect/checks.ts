/** Checksums and validity rules that separate real identifiers from look-alike digit strings. */

/** Luhn (mod 10) check over the digits of `s`, ignoring spaces and dashes. */
export function luhn(s: string): boolean {
  let sum = 0;
  let double = false;
  let count = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
    count++;
  }
  return count > 0 && sum % 10 === 0;
}

/** Card numbers: 13–19 digits, a known issuer prefix, and a valid Luhn digit. */
export function isCardNumber(s: string): boolean {
  const digits = s.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  if (!/^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6(?:011|5|4[4-9]|22)|35)/.test(digits)) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return luhn(digits);
}

// VIN transliteration (ISO 3779): I, O and Q never appear.
const VIN_VALUES: Record<string, number> = {
  A: 1,
  B: 2,
  C: 3,
  D: 4,
  E: 5,
  F: 6,
  G: 7,
  H: 8,
  J: 1,
  K: 2,
  L: 3,
  M: 4,
  N: 5,
  P: 7,
  R: 9,
  S: 2,
  T: 3,
  U: 4,
  V: 5,
  W: 6,
  X: 7,
  Y: 8,
  Z: 9,
};
const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/** A 17-character North American VIN whose 9th character is its check digit. */
export function isVin(s: string): boolean {
  if (s.length !== 17) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = s.charAt(i);
    const v = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : VIN_VALUES[c];
    if (v === undefined) return false;
    sum += v * (VIN_WEIGHTS[i] ?? 0);
  }
  const r = sum % 11;
  return s.charAt(8) === (r === 10 ? 'X' : String(r));
}

/** SSNs as the SSA issues them: no 000, 666 or 9xx area, no 00 group, no 0000 serial. */
export function isSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area.charAt(0) !== '9' && group !== '00' && serial !== '0000';
}

/** A calendar date that exists (years 1800–2199; two-digit years are accepted as they are). */
export function isDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  if (year >= 100 && (year < 1800 || year > 2199)) return false;
  const days = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= (days[month - 1] ?? 0);
}

/** IPv4 addresses that identify nothing: unspecified, loopback, broadcast. */
export function isNonIdentifyingIpv4(s: string): boolean {
  return s === '0.0.0.0' || s.startsWith('127.') || s === '255.255.255.255';
}
