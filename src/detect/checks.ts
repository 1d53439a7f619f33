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

/** UK NHS number: ten digits, the last a mod-11 check digit (a remainder of 10 is never issued). */
export function isNhsNumber(digits: string): boolean {
  if (!/^\d{10}$/.test(digits) || /^(\d)\1+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (digits.charCodeAt(i) - 48) * (10 - i);
  const check = (11 - (sum % 11)) % 11;
  return check !== 10 && check === digits.charCodeAt(9) - 48;
}

/** French NIR (INSEE number), spaces aside: the last two digits are 97 minus the rest mod 97. */
export function isNir(s: string): boolean {
  const v = s.replace(/ /g, '');
  if (!/^[12]\d{4}(?:\d{2}|2[AB])\d{8}$/.test(v)) return false;
  const month = Number(v.slice(3, 5));
  if (!((month >= 1 && month <= 12) || month >= 20)) return false;
  // Corsica: 2A counts as 19, 2B as 18 in the key.
  const body = v.slice(0, 13).replace('2A', '19').replace('2B', '18');
  return 97 - Number(BigInt(body) % 97n) === Number(v.slice(13));
}

/** Spanish DNI (8 digits) or NIE (X, Y or Z and 7 digits): the letter is the number mod 23. */
export function isDni(s: string): boolean {
  const v = s.replace('-', '');
  const n = Number(v.slice(0, -1).replace(/^[XYZ]/, (c) => String('XYZ'.indexOf(c))));
  return /^(?:\d{8}|[XYZ]\d{7})[A-Z]$/.test(v) && 'TRWAGMYFPDXBNJZSQVHLCKE'.charAt(n % 23) === v.slice(-1);
}

/** Dutch BSN: nine digits passing the "11-proof" (weights 9..2, and -1 for the last). */
export function isBsn(s: string): boolean {
  const v = s.replace(/[ .]/g, '');
  if (!/^\d{9}$/.test(v)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (v.charCodeAt(i) - 48) * (9 - i);
  sum -= v.charCodeAt(8) - 48;
  return sum % 11 === 0 && sum !== 0;
}

const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

/** Italian codice fiscale (16 characters): the last letter is a check over the first fifteen. */
export function isCodiceFiscale(s: string): boolean {
  if (!/^[A-Z]{6}[0-9LMNP-V]{2}[A-EHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const c = s.charCodeAt(i);
    const k = c <= 57 ? c - 48 : c - 65; // digits count as the letter at the same index
    sum += i % 2 === 0 ? (CF_ODD[k] ?? 0) : k;
  }
  return String.fromCharCode(65 + (sum % 26)) === s.charAt(15);
}

/** UK National Insurance number: two prefix letters (never BG GB NK KN TN NT ZZ), six digits, A–D. QQ is HMRC's example prefix, kept. */
export function isNino(s: string): boolean {
  const v = s.replace(/ /g, '');
  return /^[A-Z]{2}\d{6}[A-D]$/.test(v) && !/^(?:BG|GB|NK|KN|TN|NT|ZZ)/.test(v);
}
