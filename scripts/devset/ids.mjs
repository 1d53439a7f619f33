/**
 * Identifier generators with real check digits where the format has one (Luhn cards, VINs,
 * IBANs, NHS numbers, BSNs, INSEE numbers, DNIs), so a detector that validates checksums sees
 * valid values. Every function takes the seeded faker instance `f` as its source of randomness.
 */
const digits = (f, n) => f.string.numeric({ length: n, allowLeadingZeros: true });
const letters = (f, n, pool = 'ABCDEFGHJKLMNPRSTUVWXYZ') => Array.from({ length: n }, () => f.helpers.arrayElement([...pool])).join('');
const group = (s, sizes, sep) => {
  const out = [];
  let at = 0;
  for (const n of sizes) {
    out.push(s.slice(at, at + n));
    at += n;
  }
  return out.join(sep);
};

function luhnDigit(body) {
  let sum = 0;
  [...body].reverse().forEach((c, i) => {
    let d = Number(c);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  });
  return String((10 - (sum % 10)) % 10);
}

/** A 16-digit Visa or Mastercard number passing Luhn, grouped by 4 with spaces or dashes or not at all. */
export function card(f) {
  const body = f.helpers.arrayElement(['4', '51', '53', '55']) + digits(f, 15 - 1);
  const n = body.slice(0, 15) + luhnDigit(body.slice(0, 15));
  return f.helpers.arrayElement([group(n, [4, 4, 4, 4], ' '), group(n, [4, 4, 4, 4], '-'), n]);
}

const VIN_VAL = Object.fromEntries(
  [...'ABCDEFGHJKLMNPRSTUVWXYZ'].map((c, i) => [c, [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9][i]]),
);
const VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/** A 17-character VIN with a valid check digit in position 9. */
export function vin(f) {
  const pool = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';
  const chars = [...letters(f, 17, pool)];
  const sum = chars.reduce((s, c, i) => s + (/\d/.test(c) ? Number(c) : VIN_VAL[c]) * VIN_W[i], 0);
  chars[8] = sum % 11 === 10 ? 'X' : String(sum % 11);
  return chars.join('');
}

function mod97(s) {
  let r = 0;
  for (const c of s) r = (r * 10 + Number(c)) % 97;
  return r;
}

const IBAN_BODY = { DE: [18, 'n'], FR: [23, 'n'], ES: [20, 'n'], IT: [23, 'i'], NL: [14, 'b'], GB: [18, 'g'] };

/** A valid IBAN for a country, printed in groups of four or compact. */
export function iban(f, country) {
  const [len, kind] = IBAN_BODY[country];
  let bban;
  if (kind === 'b') bban = letters(f, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') + digits(f, len - 4);
  else if (kind === 'g') bban = letters(f, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') + digits(f, len - 4);
  else if (kind === 'i') bban = letters(f, 1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') + digits(f, len - 1);
  else bban = digits(f, len);
  const numeric = [...`${bban}${country}00`].map((c) => (/\d/.test(c) ? c : String(c.charCodeAt(0) - 55))).join('');
  const check = String(98 - mod97(numeric)).padStart(2, '0');
  const compact = `${country}${check}${bban}`;
  return f.datatype.boolean() ? compact.replace(/(.{4})(?=.)/g, '$1 ') : compact;
}

/** A US SSN outside the never-issued ranges, usually dashed. */
export function ssn(f) {
  const area = String(f.helpers.arrayElement([f.number.int({ min: 1, max: 665 }), f.number.int({ min: 667, max: 899 })])).padStart(3, '0');
  const s = `${area}${String(f.number.int({ min: 1, max: 99 })).padStart(2, '0')}${String(f.number.int({ min: 1, max: 9999 })).padStart(4, '0')}`;
  return f.number.int(9) < 7 ? group(s, [3, 2, 4], '-') : f.datatype.boolean() ? group(s, [3, 2, 4], ' ') : s;
}

/** A Medicare Beneficiary Identifier (11 characters, fixed letter/digit positions), often dashed 4-3-4. */
export function mbi(f) {
  const A = 'ACDEFGHJKMNPQRTUVWXY';
  const AN = `0123456789${A}`;
  const s = [
    f.number.int({ min: 1, max: 9 }),
    letters(f, 1, A),
    letters(f, 1, AN),
    digits(f, 1),
    letters(f, 1, A),
    letters(f, 1, AN),
    digits(f, 1),
    letters(f, 2, A),
    digits(f, 2),
  ].join('');
  return f.datatype.boolean() ? group(s, [4, 3, 4], '-') : s;
}

/** An NHS number: 10 digits with a mod-11 check digit, printed 3-3-4. */
export function nhs(f) {
  for (;;) {
    const d = digits(f, 9);
    const sum = [...d].reduce((s, c, i) => s + Number(c) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return group(`${d}${check === 11 ? 0 : check}`, [3, 3, 4], ' ');
  }
}

/** A Dutch BSN: 9 digits passing the 11-test. */
export function bsn(f) {
  for (;;) {
    const d = String(f.number.int({ min: 10000000, max: 99999999 })).padStart(8, '0');
    const sum = [...d].reduce((s, c, i) => s + Number(c) * (9 - i), 0);
    const last = sum % 11;
    if (last < 10) return `${d}${last}`;
  }
}

/** A French INSEE (social security) number with its two-digit key, spaced as on the carte Vitale. */
export function insee(f) {
  const parts = [
    f.helpers.arrayElement(['1', '2']),
    digits(f, 2),
    String(f.number.int({ min: 1, max: 12 })).padStart(2, '0'),
    String(f.number.int({ min: 1, max: 95 })).padStart(2, '0'),
    digits(f, 3),
    digits(f, 3),
  ];
  const key = String(97 - Number(BigInt(parts.join('')) % 97n)).padStart(2, '0');
  return f.datatype.boolean() ? [...parts, key].join(' ') : parts.join('') + key;
}

/** A Spanish DNI: 8 digits and the check letter. */
export function dni(f) {
  const n = f.number.int({ min: 1000000, max: 99999999 });
  return `${String(n).padStart(8, '0')}${'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}`;
}

/** An Italian codice fiscale in its letter/digit layout (check character not computed). */
export function codiceFiscale(f) {
  const L = 'ABCDEFGHILMNPRSTUVZ';
  return `${letters(f, 6, L)}${digits(f, 2)}${letters(f, 1, 'ABCDEHLMPRST')}${digits(f, 2)}${letters(f, 1, L)}${digits(f, 3)}${letters(f, 1, L)}`;
}

export { digits, group, letters };
