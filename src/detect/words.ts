/**
 * Capitalized-word identifiers: person names (names.ts), places and facilities (places.ts),
 * dates led by a month name, and VINs that start with a letter. One pass collects the
 * capitalized tokens; each rule looks at a token, its neighbours and the text just before it.
 */
import { isDate, isVin } from './checks.js';
import { isEponym } from './eponyms.js';
import { detectFacilities } from './facilities.js';
import { detectKeyed, detectLabeledPhones, detectStreetLines } from './keyed.js';
import { informalNames, names } from './names.js';
import { Findings, MONTH, monthNumber } from './patterns.js';
import { places, regions } from './places.js';
import { detectTagged } from './tagger.js';
import { type Token, tokens } from './tokens.js';

const MONTH_DATE_RE = new RegExp(
  String.raw`(${MONTH})\.?(?:,? (\d{1,2})(?:st|nd|rd|th)?(?![\d:])(?:,? (\d{4})(?!\d))?|,? (?:of )?(\d{4})(?!\d))`,
  'y',
);
const MONTHS = new Set(
  'jan january feb february mar march apr april may jun june jul july aug august sep sept september oct october nov november dec december'.split(
    ' ',
  ),
);
const TIME_AFTER = /^,? \d{1,2}:\d{2}:\d{2}/;
const TRAILING_INITIAL = /^ [A-Z]{1,2}\.?(?![\p{L}\d])/u;

/** A date led by the month token `t`: "April 2, 2023", "Jan 17th", "June 2018"; not a syslog "Nov 14 10:17:01". */
function monthDate(text: string, t: Token, out: Findings): void {
  MONTH_DATE_RE.lastIndex = t.start;
  const m = MONTH_DATE_RE.exec(text);
  if (!m) return;
  const end = t.start + m[0].length;
  if (TIME_AFTER.test(text.slice(end, end + 12))) return;
  const month = monthNumber(m[1] ?? '');
  const day = m[2] === undefined ? 1 : Number(m[2]);
  const year = Number(m[3] ?? m[4] ?? 2000);
  if (isDate(year, month, day)) out.add('DATE', t.start, end, m[1] === 'May' && !m[3] && !m[4] ? 0.6 : 0.9);
}

/**
 * Names, cities, facilities, month-led dates and letter-led VINs among the capitalized tokens
 * of `text`; `digits` says whether the text holds a digit at all.
 */
export function detectWords(text: string, digits: boolean, out: Findings): void {
  const toks = tokens(text);
  const found = new Findings();
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Token;
    if (t.digit) {
      if (t.end - t.start === 17 && isVin(text.slice(t.start, t.end))) out.add('VEHICLE', t.start, t.end, 0.95);
      continue;
    }
    if (digits && MONTHS.has(t.word)) monthDate(text, t, out);
    const next = names(text, toks, i, found);
    places(text, toks, i, found);
    if (next > i) i = next;
  }
  // The tagger and keyed values need a Title-case word ("Anneliese", not "GET" or "reqId").
  const titleCase = toks.some((t) => !t.upper);
  if (titleCase) detectTagged(text, found);
  detectFacilities(text, found);
  regions(text, found);
  informalNames(text, found);
  if (digits) {
    detectLabeledPhones(text, found);
    detectStreetLines(text, found);
  }
  if (titleCase && (text.includes('=') || text.includes(':'))) detectKeyed(text, found);
  // Names and places that name a disease or a score ("Parkinson's disease", "Framingham Risk Score") are not PHI.
  for (const f of found.list) {
    if (isEponym(text, f.start, f.end)) continue;
    // A name covers a trailing initial: "Okonkwo J", "Smith JA".
    const end = f.type === 'NAME' ? f.end + (TRAILING_INITIAL.exec(text.slice(f.end, f.end + 5))?.[0].length ?? 0) : f.end;
    out.add(f.type, f.start, end, f.confidence);
  }
}
