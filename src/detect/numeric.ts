/**
 * Digit-led identifiers: cards, SSNs, phones, ZIP codes, IPv4, street addresses, ages, numeric
 * dates, digit-led VINs. A candidate scan finds numbers where one could start; one anchored
 * pattern (a capture group per kind) says which it is; JS then checks it (Luhn, SSA ranges,
 * calendar, octets, context before and after).
 */
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { isCardNumber, isDate, isDni, isNhsNumber, isNir, isNonIdentifyingIpv4, isSsn, isVin } from './checks.js';
import { citiesStartingWith } from './dictionaries.js';
import { type Findings, MONTH, monthNumber, STATE_CODES, STATE_NAMES } from './patterns.js';

const SUFFIX =
  'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Loop|Pike|Plaza|Row|Alley' +
  // More USPS suffixes (plurals too) and British street words.
  '|Roads|Streets|Courts|Ways|Lakes?|Capes?|Ferry|Coves?|Track|Knolls?|Ridges?|Hills?|Mews|Cliffs?|Islands?|Gardens?|Heights|Groves?|Fields?|Views?|Valleys?|Villages?|Estates?|Brooks?|Crescent|Close|Croft|Brow|Rise|Green|Parade|Walk|Hollow|Meadows?|Mills?|Springs?|Stream|Summit|Forest|Haven|Harbou?rs?|Junction|Landing|Manor|Orchard|Park|Pass|Path|Point|Port|Shores?|Station|Trace|Vista|Creek|Crossing|Crest|Glen|Bend|Bluffs?|Branch|Burgs?|Camp|Canyon|Common|Corners?|Dale|Expressway|Falls|Flats|Fords?|Forges?|Forks?|Fort|Freeway|Gateway|Inlet|Isle|Keys?|Lights?|Locks?|Lodge|Mall|Motorway|Mount|Mountains?|Neck|Oval|Plains?|Ports|Prairie|Ranch|Rapids?|Rest|River|Run|Shoals?|Skyway|Spurs?|Squares|Stravenue|Tunnel|Turnpike|Underpass|Unions?|Ville|Wells?|Wharf|Yard|Gate';
const UNIT = String.raw`(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Rm|Room|Fl|Floor|Bldg|#)\.? ?#?[A-Z0-9][A-Za-z0-9-]*)?`;

// Each alternative is one capture group; the group that matched says what was found.
const ALTERNATIVES: [kind: Kind, source: string][] = [
  // First: log timestamps are the commonest candidate by far.
  ['ymd', String.raw`\d{4}(?<ys>[-/.])\d{1,2}\k<ys>\d{1,2}(?!\d|\.\d)`],
  // VINs that start with a digit (North America); those that start with a letter are tokens in words.ts.
  ['vin', String.raw`(?=\d*[A-HJ-NPR-Z])\d[A-HJ-NPR-Z0-9]{16}(?![A-Za-z0-9])`],
  // French NIR (INSEE number): sex, year, month, department (2A/2B: Corsica), commune, order, key.
  ['nir', String.raw`[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\dA-Za-z])`],
  ['card', String.raw`\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|3[47]\d{2}[ -]\d{6}[ -]\d{5}|\d{13,19}(?![\d-])`],
  ['ssn', String.raw`\d{3}-\d{2}-\d{4}(?![\d-])|\d{3} \d{2} \d{4}(?! ?\d)`],
  // International numbers ("+44 (0)20 7946 0958", "0049 30 12345678") and French national ones
  // ("06 12 34 56 78"); libphonenumber-js says whether the number exists.
  [
    'intl',
    String.raw`(?:\+|00)[1-9]\d{0,2}(?: ?\(0\))?(?:[ .\/-]?\d{1,5}){2,6}(?![\d-])|0[1-9](?:[ .]\d{2}){4}(?![\d-])|0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}(?![\d-])`,
  ],
  [
    'phone',
    String.raw`(?:\+?1[-. ])?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?: ?(?:x|ext\.?) ?\d{1,5})?(?![\d-])|\+\d{1,3}(?:[ -]\d{1,4}){2,5}(?![\d-])|\+\d{10,14}(?!\d)`,
  ],
  ['zip', String.raw`\d{5}-\d{4}(?![\d-])`],
  ['ipv4', String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\d|\.\d)`],
  [
    'address',
    String.raw`\d{1,6}[A-Z]? (?:[NSEW]\.? |(?:North|South|East|West) )?(?:(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?|\d+(?:st|nd|rd|th))\.? ){1,3}(?:${SUFFIX})\b\.?${UNIT}`,
  ],
  ['age', String.raw`\d{2,3}(?=[- ]?(?:years?|yrs?|y)[- ]?(?:old|o\b|\/o)| ?(?:yo|y\/o|y\.o\.)(?![A-Za-z]))`],
  ['mdy', String.raw`\d{1,2}(?<ms>[-/.])\d{1,2}\k<ms>\d{2,4}(?!\d|\.\d|[-/]\d)`],
  ['dmy', String.raw`\d{1,2}(?:st|nd|rd|th)?(?: of)?[ /-]${MONTH}\.?(?:,?[ /-]\d{4}(?!\d))?(?![A-Za-z])`],
  ['my', String.raw`\d{1,2}/\d{4}(?![\d/])`],
  ['md', String.raw`\d{1,2}/\d{1,2}(?![\d/]|\.\d)`],
  // "1012 AB Amsterdam": a Dutch postcode (never SA, SD or SS) before a place name.
  ['nlzip', String.raw`[1-9]\d{3} (?!SA|SD|SS)[A-Z]{2}(?= [A-Z][a-z])`],
  // Medicare Beneficiary Identifier: a fixed published 11-character shape (CMS), dashes optional.
  [
    'mbi',
    String.raw`[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}(?![A-Za-z0-9-])`,
  ],
  // Spanish DNI: eight digits and a check letter.
  ['dni', String.raw`\d{8}-?[A-HJ-NP-TV-Z](?![A-Za-z0-9])`],
  // The inward half of a UK ("SW1A 1AA") or Canadian ("K1A 0B1") postcode; the outward half is checked before it.
  ['postcode', String.raw`\d[A-Z\d][A-Z\d](?![A-Za-z0-9])`],
  ['zip5', String.raw`\d{5}(?![\d-])`],
  // Last: a number before a French street word or a month's first letters in another language
  // ("12 rue", "4 bis avenue", "15 de marzo", "3 maart"); the caller then runs the street and date rules.
  [
    'word',
    String.raw`\d{1,4}(?=(?: ?(?:bis|ter))?,? (?:de )?(?:rue|av|bou|bd|pla|che|all|imp|qua|rou|cou|squ|pas|jan|f[ée]|mar|maa|ab|apr|ma[iy]|mag|mei|ju|lu|gi|ge|ao|ag|au|se|ok|oc|ot|ou|no|d[eéi]))`,
  ],
];
type Kind =
  | 'word'
  | 'postcode'
  | 'mbi'
  | 'nir'
  | 'dni'
  | 'intl'
  | 'nlzip'
  | 'vin'
  | 'card'
  | 'ssn'
  | 'phone'
  | 'zip'
  | 'zip5'
  | 'ipv4'
  | 'address'
  | 'age'
  | 'ymd'
  | 'mdy'
  | 'dmy'
  | 'my'
  | 'md';

// Where a number could start an identifier, and with a shape one of the kinds needs. After a
// character that is not a word character . - / \ @ # (or after "(" / "+"): 13+ digits led by an
// issuer's 2-6 (not an epoch in ms), a day before "-Mar-", exactly 15 (a French NIR), exactly 5 digits, a separator and more digits after at most
// 4, a space then a capital or digit, "y" (94yo), an ordinal, a capital (VIN, "12B"). After a
// word and a separator ("patients.219-09-9999"): only the shape of a strongly structured kind
// (SSN, phone, card, ZIP+4, IPv4, VIN). Not a decimal ("12.4"), a count ("1532 ms") or a UUID
// group ("b-7866-8885").
const TAIL = String.raw`(?<=[2-6])\d{12}|\d{14}(?!\d)|\d{4}(?![\dA-Za-z])|\d{0,3}\.\d+\.|\d{0,3}-(?:\d[\d-]|[A-Z][a-z]{2}-\d)|\d{0,3}\/\d|\d{0,5} [A-Z0-9]|\d{0,2} [a-z]|\d{0,2}-?y|\d?(?:st|nd|rd|th)|\d*[A-Z]`;
const STRONG = String.raw`\d{2}-\d{2}-\d{4}(?![\dA-Za-z])|\d{2}[-.]\d{3}[-.]\d{4}(?![\dA-Za-z])|\d{3}-\d{4}-\d{4}-\d{4}|\d{4}-\d{4}(?![\dA-Za-z])|\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])|(?<=[2-6])\d{12}|\d*[A-HJ-NPR-Z]`;
const FREE = String.raw`(?:^|[^\w.\-/\\@#])`;
export const NUMBER_CANDIDATE = String.raw`(?:[(+]|\b)\d(?:(?<=${FREE}[(+]\d)|(?<=${FREE}\d)(?:${TAIL})|(?<=[A-Za-z][./-]\d)(?:${STRONG}))`;
const CANDIDATE_RE = new RegExp(NUMBER_CANDIDATE, 'g');

// Capture groups inside an alternative shift the numbering; map group index → kind once.
const GROUP_KIND: (Kind | undefined)[] = [];
const NUMERIC_RE = (() => {
  let group = 1;
  const parts = ALTERNATIVES.map(([kind, source]) => {
    GROUP_KIND[group] = kind;
    group += 1 + (source.match(/(?<!\\)\((?:(?!\?)|(?=\?<[A-Za-z]))/g)?.length ?? 0);
    return `(${source})`;
  });
  return new RegExp(parts.join('|'), 'y');
})();

const SEPARATORS = './-';
// Kinds too common in file names and paths ("backup-2023-11-14.sql") to report after a separator.
const SOFT_START = new Set<Kind>(['ymd', 'mdy', 'dmy', 'my', 'md', 'zip5', 'address', 'age']);
// A five-digit number is a ZIP code when a state comes just before it ("Quincy, MA 02169").
const STATE_BEFORE = new RegExp(String.raw`\b(?:${STATE_CODES}|${STATE_NAMES}),? $`);
// A date followed by a time with seconds is a log timestamp, not a fact about a person.
// A five-digit postcode also next to a town: "Dallas 75201", "10115 Berlin", "75001 Paris".
const WORD_BEFORE = /(?:^|[^A-Za-z])((?:[A-Z][a-z]+ )?[A-Z][a-z]+),? $/;
// The town ends the line or the address part: "10115 Berlin, Germany", not "12345 Paris office".
const WORD_AFTER = /^ (\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+)?)(?=$|[,.;)\n]| [\p{Lu}(|])/u;
// A town-shaped word after a postcode that follows a street line ("Kump 16a⏎23444 Frankfurt",
// "Calle Mayor 2, 24559 Torrevieja", "BP 5411 - 83754 Hyères"): a postcode whatever the town.
const STREET_BEFORE = /(?:\p{L}{2,}\.? \d{1,4}[a-z]?|\bs\/n\.?)(?:,? |\s*[-–|]\s*|\n)$/u;
// National numbers ("0113 039 0431", "06 12 34 56 78") are tried as these countries' numbers.
const NATIONAL = ['FR', 'GB', 'DE', 'IT', 'ES', 'NL'] as const;
const UK_OUTWARD = /(?:^|[^A-Za-z0-9])([A-Z]{1,2}\d[A-Z\d]? )$/;
const CA_OUTWARD = /(?:^|[^A-Za-z0-9])([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] )$/;
const NHS_BEFORE = /\bNHS\b[^\d]{0,20}$/;
const SECONDS_AFTER = /^(?:[T ]|:)\d{2}:\d{2}:\d{2}/;
// Month/day with no year is a date only after a word that introduces one ("on 6/2").
const MD_CUE =
  /\b(?:on|since|from|until|till|by|due|dated?|dob|seen|admitted|discharged|removed|scheduled|starting|effective|thru|through|before|after|of|for|visit|appt)\W{0,3}$/i;
// Words before a date in other languages too (German, French, Spanish, Italian, Dutch), and JSON keys.
const DATE_CUE =
  /(?:\b(?:on|since|from|dob|dated?|seen|admitted|am|vom|geb\.?|geboren|seit|le|du|el|del|il|op|nato|nata|né|née)|(?:birth_?|(?<![a-z]))date)["']?\W{0,3}$/i;
const VERSION_CUE = /(?:\bv|version|ver\.?|build|release|rev|\b(?:node|npm|pino|pg|typescript|vitest|kubernetes))\s*$/i;

/**
 * Finds digit-led identifiers in `text`; says whether a number stood before a word that may
 * make it a street line or a date in another language (the 'word' kind). One scan finds numbers that start a token (not inside
 * a word, a number, a path or an e-mail address) and whose shape allows one of the
 * alternatives; only there does the full pattern run, anchored.
 */
export function detectNumeric(text: string, out: Findings): boolean {
  let wordAfter = false;
  CANDIDATE_RE.lastIndex = 0;
  for (let c = CANDIDATE_RE.exec(text); c; c = CANDIDATE_RE.exec(text)) {
    NUMERIC_RE.lastIndex = c.index;
    let m = NUMERIC_RE.exec(text);
    if (!m && text.charAt(c.index) === '(') {
      // "(576.263.9577)": the number inside the parentheses.
      NUMERIC_RE.lastIndex = c.index + 1;
      m = NUMERIC_RE.exec(text);
      if (m) m.index = c.index + 1;
    }
    if (!m) continue;
    let g = 1;
    while (m[g] === undefined) g++;
    const kind = GROUP_KIND[g];
    if (kind === 'word') wordAfter = true;
    const afterSeparator = c.index > 0 && SEPARATORS.includes(text.charAt(c.index - 1));
    if (kind && !(afterSeparator && SOFT_START.has(kind))) check(kind, m[0], m.index, text, out);
    CANDIDATE_RE.lastIndex = Math.max(CANDIDATE_RE.lastIndex, m.index + m[0].length);
  }
  return wordAfter;
}

function check(kind: Kind, v: string, start: number, text: string, out: Findings): void {
  const end = start + v.length;
  switch (kind) {
    case 'vin':
      if (isVin(v)) out.add('VEHICLE', start, end, 0.95);
      return;
    case 'card':
      if (isCardNumber(v)) out.add('CARD', start, end, 0.95);
      return;
    case 'word': // reported to the caller by detectNumeric
      return;
    case 'mbi': // the pattern is the check
      out.add('HEALTH_PLAN', start, end, 0.9);
      return;
    case 'nir':
      if (isNir(v)) out.add('LICENSE', start, end, 0.9);
      return;
    case 'dni':
      if (isDni(v)) out.add('LICENSE', start, end, 0.85);
      return;
    case 'intl': {
      // The pattern may run on into a following number: drop trailing groups until it is valid.
      for (let s = v; /\d{4}/.test(s.replace(/\D/g, '')); s = s.replace(/[ ./-]?\d+$/, '')) {
        const n = s.replace(/^00/, '+').replace('(0)', '');
        // International numbers need no country; a national one is tried as each of NATIONAL's.
        if (n.startsWith('+') ? isValidPhoneNumber(n) : NATIONAL.some((country) => isValidPhoneNumber(n, country))) {
          out.add('PHONE', start, start + s.length, 0.9);
          return;
        }
        if (!/[ ./-]\d+$/.test(s)) break;
      }
      if (v.charAt(0) === '+')
        check('phone', v, start, text, out); // as before: any "+" number of 8+ digits
      else if (v.startsWith('00') && v.replace(/\D/g, '').length >= 11) out.add('PHONE', start, end, 0.8); // 0039 7733218481
      return;
    }
    case 'postcode': {
      const before = text.slice(Math.max(0, start - 6), start);
      // Inward half: a digit and two letters (generated data also has "79U").
      const outward = /^\d[A-Z\d][A-Z]$/.test(v)
        ? UK_OUTWARD.exec(before)?.[1]
        : /^\d[ABCEGHJ-NPRSTV-Z]\d$/.test(v)
          ? CA_OUTWARD.exec(before)?.[1]
          : undefined;
      if (outward) out.add('ZIP', start - outward.length, end, 0.85);
      return;
    }
    case 'nlzip':
      out.add('ZIP', start, end, 0.85);
      return;
    case 'ssn': {
      const d = v.replace(/\D/g, '');
      if (isSsn(d.slice(0, 3), d.slice(3, 5), d.slice(5))) out.add('SSN', start, end, 0.95);
      return;
    }
    case 'phone': {
      const d = v.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
      // An NHS number (3-3-4 digits) is the patient's record number in the NHS: MRN.
      if (isNhsNumber(d) && NHS_BEFORE.test(text.slice(Math.max(0, start - 24), start))) out.add('MRN', start, end, 0.95);
      else if (v.startsWith('+') && !v.startsWith('+1')) {
        if (d.length >= 8) out.add('PHONE', start, end, 0.85);
      } else if (d.length >= 10 && /^[2-9]\d{2}[2-9]/.test(d)) out.add('PHONE', start, end, 0.9);
      return;
    }
    case 'zip':
      out.add('ZIP', start, end, 0.9);
      return;
    case 'zip5':
      if (STATE_BEFORE.test(text.slice(Math.max(0, start - 16), start)) || townNextTo(text, start, end)) out.add('ZIP', start, end, 0.9);
      return;
    case 'ipv4': {
      const ok = v.split('.').every((o) => Number(o) <= 255 && !(o.length > 1 && o.startsWith('0')));
      if (ok && !isNonIdentifyingIpv4(v) && !VERSION_CUE.test(text.slice(Math.max(0, start - 12), start))) out.add('IP', start, end, 0.9);
      return;
    }
    case 'address':
      out.add('ADDRESS', start, end, 0.85);
      return;
    case 'age':
      if (Number(v) >= 90 && Number(v) <= 125) out.add('AGE', start, end, 0.9);
      return;
    default:
      checkDate(kind, v, start, end, text, out);
  }
}

function checkDate(kind: Kind, v: string, start: number, end: number, text: string, out: Findings): void {
  if (SECONDS_AFTER.test(text.slice(end, end + 9))) return; // a log timestamp
  const n = v.split(/[^0-9A-Za-z]+/);
  const num = (i: number) => Number(n[i]);
  let ok = false;
  let confidence = 0.9;
  if (kind === 'ymd')
    ok = isDate(num(0), num(1), num(2)) && !(v.includes('.') && VERSION_CUE.test(text.slice(Math.max(0, start - 12), start)));
  else if (kind === 'mdy') {
    const year = num(2);
    const dotted = v.includes('.');
    const short = dotted && (n[2]?.length ?? 0) < 4; // "16.9.25": a version unless a date cue comes before
    ok =
      (isDate(year, num(0), num(1)) || isDate(year, num(1), num(0))) &&
      (!short || DATE_CUE.test(text.slice(Math.max(0, start - 16), start)));
    ok &&= !VERSION_CUE.test(text.slice(Math.max(0, start - 12), start));
  } else if (kind === 'dmy') {
    const m = /^(\d{1,2})(?:st|nd|rd|th)?(?: of)?[ /-]([A-Za-z]+)/.exec(v);
    ok = !!m && isDate(2000, monthNumber(m[2] ?? ''), Number(m[1]));
  } else if (kind === 'my') ok = num(0) >= 1 && num(0) <= 12 && num(1) >= 1800 && num(1) <= 2199;
  else if (kind === 'md') {
    ok = isDate(2000, num(0), num(1)) && MD_CUE.test(text.slice(Math.max(0, start - 16), start));
    confidence = 0.7;
  }
  if (ok) out.add('DATE', start, end, confidence);
}

const isTown = (words: string): boolean => {
  const parts = words.toLowerCase().split(' ');
  return !!citiesStartingWith(parts[0] ?? '')?.some((c) => c.length === parts.length && c.every((w, i) => w === parts[i]));
};

/** A known town just before ("Dallas 75201") or just after ("10115 Berlin") a five-digit number. */
function townNextTo(text: string, start: number, end: number): boolean {
  const before = WORD_BEFORE.exec(text.slice(Math.max(0, start - 30), start))?.[1];
  if (before && (isTown(before) || isTown(before.replace(/^\S+ /, '')))) return true;
  const after = WORD_AFTER.exec(text.slice(end, end + 30))?.[1];
  if (after && STREET_BEFORE.test(text.slice(Math.max(0, start - 40), start))) return true;
  return !!after && (isTown(after) || isTown(after.replace(/ \S+$/, '')));
}
