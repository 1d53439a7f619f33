/**
 * Places among capitalized tokens: cities from the shipped list (ambiguous ones only with
 * context), "Town, ST", counties, facility names ("St. Vincent Medical Center"), and US states
 * and countries (regions).
 */
import { AMBIGUOUS, citiesStartingWith, isFirstName, isHandCity, NOT_NAME } from './dictionaries.js';
import { isEnglishWord } from './english.js';
import { type Findings, STATE_CODES, STATE_NAMES } from './patterns.js';
import { gap, joined, type Token } from './tokens.js';

const words = (text: string): Set<string> => new Set(text.split(/\s+/).filter(Boolean));

const PLACE_CUE = /\b(?:in|from|near|to|at|of|lives in|born in|moved to|resident of|visiting|traveled to)\s$/;
const STATE_AFTER = new RegExp(`^,? (?:${STATE_CODES}|${STATE_NAMES})(?![A-Za-z])`);
/** The last word of a facility name. */
export const FACILITY_HEADS = words(
  'hospital hospitals clinic clinics infirmary hospice center centre pediatrics associates living health healthcare physicians practice sanatorium memorial ziekenhuis krankenhaus klinik klinikum care regional surgery',
);
// Words that make up facility names but say nothing about which one ("Medical Center").
const GENERIC = words(`
  medical health center centre general memorial regional community family home care senior assisted living
  rehabilitation rehab university the st saint hospital clinic urgent primary surgical surgery cancer heart
  children children's womens women's cardiology neurology oncology pediatric pediatrics orthopedic behavioral
  mental dialysis imaging nursing treatment group and of a at in to from patient seen transferred
`);
// Heads that name a facility only after one of these words ("Medical Center", "Senior Living").
const HEAD_NEEDS = new Map([
  [
    'center',
    /^(?:medical|health|cancer|surgical|surgery|rehabilitation|rehab|care|dialysis|trauma|heart|wellness|birth|imaging|nursing|treatment|behavioral|eye|kidney|children's)$/,
  ],
  ['centre', /^(?:medical|health|cancer|care)$/],
  ['associates', /^(?:medical|health|neurology|cardiology|pediatric|orthopedic|surgical|family|women's|oncology|dermatology|urology|gi)$/],
  ['living', /^(?:senior|assisted)$/],
  ['health', /^(?:home|community|behavioral|mental|baptist|methodist|adventist|memorial|regional)$/],
  ['practice', /^(?:family|medical|group)$/],
  ['care', /^(?:urgent|primary|immediate|express)$/],
]);
// A British GP practice is a "surgery" ("Fairview Surgery"); a specialty before it is not one ("Cardiac Surgery").
const NOT_BEFORE_SURGERY =
  /^(?:cardiac|cardiothoracic|thoracic|vascular|plastic|oral|dental|bariatric|orthopaedic|orthopedic|spine|spinal|colorectal|hand|eye|day|minor|major|robotic|laparoscopic|elective|emergency|trauma|transplant|breast|hernia|cataract|bypass|brain|heart|knee|hip|back|cosmetic|reconstructive|pediatric|paediatric|neonatal|fetal|general|same|prior|previous|recent|further|urgent|open|keyhole|weight|loss|eye|foot|ent|gi|after|before|for|post|pre|no|had|needs|scheduled|of)$/;

/** Cities, towns, counties and facilities starting or ending at token i. */
export function places(text: string, toks: Token[], i: number, out: Findings): void {
  const t = toks[i] as Token;
  if (t.upper) return;
  city(text, toks, i, out);
  if (FACILITY_HEADS.has(t.word)) facility(text, toks, i, out);
  const n = toks[i + 1];
  if (n && n.word === 'county' && joined(text, toks, i)) out.add('LOCATION', t.start, n.end, 0.85);
}

function city(text: string, toks: Token[], i: number, out: Findings): void {
  const t = toks[i] as Token;
  const candidates = citiesStartingWith(t.word);
  let end = -1;
  let words = 0;
  for (const parts of candidates ?? []) {
    let ok = true;
    for (let k = 1; k < parts.length && ok; k++) {
      const tk = toks[i + k];
      ok = !!tk && tk.word === parts[k] && /^\.? $/.test(gap(text, toks, i + k - 1));
    }
    if (ok) {
      end = (toks[i + parts.length - 1] as Token).end;
      words = parts.length;
      break;
    }
  }
  const stateAfter = STATE_AFTER.test(text.slice(end < 0 ? t.end : end, (end < 0 ? t.end : end) + 20));
  if (end >= 0) {
    // One word alone only from the hand-written list: the long generated one holds words of
    // many languages ("Caro", "Nombre") and waits for context (or the tagger).
    // Several words alone when one is no English word ("Walnut Creek" waits for context).
    const parts = text
      .slice(t.start, end)
      .toLowerCase()
      .split(/[\s.]+/);
    const plain =
      words > 1
        ? isHandCity(parts.join(' ')) || !parts.every((w) => isEnglishWord(w))
        : !AMBIGUOUS.has(t.word) && !isFirstName(t.word) && isHandCity(t.word);
    if (plain || stateAfter || PLACE_CUE.test(text.slice(Math.max(0, t.start - 16), t.start)))
      out.add('LOCATION', t.start, end, stateAfter ? 0.9 : 0.8);
    if (stateAfter) addState(text, end, true, out);
  } else if (stateAfter && !NOT_NAME.has(t.word) && !FACILITY_HEADS.has(t.word)) {
    // An unknown town written "Town, ST": take up to two joined words before the comma.
    const prev = toks[i - 1];
    const from = prev && joined(text, toks, i - 1) && !NOT_NAME.has(prev.word) && !prev.upper ? prev.start : t.start;
    if (text.charAt(t.end) === ',') {
      out.add('LOCATION', from, t.end, 0.8);
      addState(text, t.end, false, out);
    }
  }
}

function facility(text: string, toks: Token[], i: number, out: Findings): void {
  const head = (toks[i] as Token).word;
  const need = HEAD_NEEDS.get(head);
  const before = toks[i - 1];
  if (need && !(before && joined(text, toks, i - 1) && need.test(before.word))) return;
  if (head === 'surgery' && !(before && joined(text, toks, i - 1) && !before.upper && !NOT_BEFORE_SURGERY.test(before.word))) return;
  let from = i;
  // Walk back over joined words: "St. Vincent Medical Center", "Grady Memorial Hospital".
  while (from > 0 && i - from < 5) {
    const g = gap(text, toks, from - 1);
    // "St. Agnes's Hospital": a possessive after a saint's name.
    if (
      g !== ' ' &&
      g !== '. ' &&
      g !== ' & ' &&
      g !== ' of ' &&
      !((g === "'s " || g === '’s ') && from - 2 >= 0 && /^st$|^saint$/.test((toks[from - 2] as Token).word))
    )
      break;
    const p = toks[from - 1] as Token;
    if (p.upper || (NOT_NAME.has(p.word) && !GENERIC.has(p.word))) break;
    from--;
  }
  while (from < i && GENERIC.has((toks[from] as Token).word) && (toks[from] as Token).word !== 'st') from++;
  let distinctive = false;
  for (let k = from; k < i; k++) if (!GENERIC.has((toks[k] as Token).word)) distinctive = true;
  if (distinctive) out.add('FACILITY', (toks[from] as Token).start, (toks[i] as Token).end, 0.9);
}

// US states and countries (English and the devset's other languages) are places: Ward masks
// them too (Safe Harbor permits keeping them, it does not require it). Names that are also
// given names or common words wait for a place cue or an address around them.
const COUNTRIES = `USA|U\\.S\\.A\\.|U\\.S\\.|United States(?: of America)?|America|Canada|Mexico|México|Brazil|Brasil|Argentina|Chile|Colombia|Peru|Perú|
  Venezuela|Ecuador|Bolivia|Cuba|Haiti|Jamaica|Puerto Rico|Guatemala|Honduras|El Salvador|Nicaragua|Dominican Republic|
  Spain|España|Espagne|Spanien|Spagna|Spanje|France|Frankreich|Francia|Frankrijk|Germany|Deutschland|Allemagne|Alemania|
  Germania|Duitsland|Italy|Italia|Italie|Italien|Italië|Netherlands|Nederland|Niederlande|Pays-Bas|Países Bajos|Paesi Bassi|
  Holland|Belgium|Belgique|België|Belgien|Bélgica|Belgio|Switzerland|Schweiz|Suisse|Svizzera|Suiza|Austria|Österreich|Autriche|
  Portugal|Poland|Polska|Polen|Pologne|Polonia|Türkiye|Greece|Sweden|Norway|Denmark|Finland|Russia|Ukraine|Romania|Hungary|
  England|Scotland|Wales|Northern Ireland|Ireland|UK|United Kingdom|Great Britain|Britain|Royaume-Uni|Reino Unido|Regno Unito|
  Vereinigtes Königreich|Verenigd Koninkrijk|Großbritannien|India|Pakistan|Bangladesh|China|Japan|South Korea|Korea|Vietnam|
  Philippines|Indonesia|Thailand|Malaysia|Australia|New Zealand|Nigeria|Ghana|Kenya|South Africa|Ethiopia|Somalia|Egypt|
  Morocco|Algeria|Iran|Iraq|Syria|Afghanistan|Lebanon|Saudi Arabia|Europe|Africa|Asia`;
// Also given names, words or other places: a place only with a cue ("moved to Georgia") or an address.
export const REGION_AMBIGUOUS: ReadonlySet<string> = new Set([
  'georgia',
  'washington',
  'virginia',
  'indiana',
  'jordan',
  'chad',
  'turkey',
  'israel',
  'america',
]);
// Cities by the names people call them in posts and chat ("back in NYC", "Vegas for the weekend").
const CITY_NICKNAMES = 'NYC|Philly|Vegas|NOLA|SoCal|NorCal|Bay Area';
const REGION_NAMES = `${STATE_NAMES}|Jordan|Chad|Turkey|Israel|${COUNTRIES.replace(/\s+/g, '')}`;
// Also in capitals ("Toronto, Ontario, CANADA", "FROM TEXAS"): the same names upper-cased.
const REGION_RE = new RegExp(
  `(?<![\\p{L}\\p{N}'’.-])(?:${REGION_NAMES}|${REGION_NAMES.toUpperCase()}|${CITY_NICKNAMES})(?![\\p{L}\\p{N}'’-])`,
  'gu',
);
const REGION_CUE =
  /(?:\b(?:in|from|to|near|of|visiting|visited|across|throughout|outside|leaving|left|back|lives|living|moved|born|raised|based|nach|aus|in|en|de|à|au|aux|a|da|di|naar|uit|van)\s|,\s)$/i;
const ZIP_AFTER = /^,? \d{5}(?:-\d{4})?(?!\d)/;
// A state code in an address line: "Springfield, IL 62704", "Dayton OH 45402", after a known city.
const STATE_CODE_ZIP = new RegExp(`(?<![\\p{L}\\p{N}])(${STATE_CODES})(?= \\d{5}(?:-\\d{4})?(?!\\d))`, 'gu');
// Capitalized words just before a state code and zip (the town): "Fort Collins CO 80521".
const TOWN_BEFORE = /(?:^|[\n,;:|]\s*|\s{2,})((?:\p{Lu}[\p{Ll}'’.-]+ ){0,2}\p{Lu}[\p{Ll}'’.-]+),? $/u;

/** US states, countries, and state codes in address lines; and the town before "ST 12345". */
export function regions(text: string, out: Findings): void {
  REGION_RE.lastIndex = 0;
  for (let m = REGION_RE.exec(text); m; m = REGION_RE.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    if (REGION_AMBIGUOUS.has(m[0].toLowerCase())) {
      const before = text.slice(Math.max(0, start - 12), start);
      const cued = REGION_CUE.test(before) && !/\b(?:dr|mr|mrs|ms)\.?\s$/i.test(before);
      if (!cued && !ZIP_AFTER.test(text.slice(end, end + 12))) continue;
    }
    out.add('LOCATION', start, end, 0.8);
  }
  STATE_CODE_ZIP.lastIndex = 0;
  for (let m = STATE_CODE_ZIP.exec(text); m; m = STATE_CODE_ZIP.exec(text)) {
    out.add('LOCATION', m.index, m.index + m[0].length, 0.85);
    const town = TOWN_BEFORE.exec(text.slice(Math.max(0, m.index - 40), m.index));
    const name = town?.[1];
    if (!town || !name || name.split(' ').some((w) => NOT_NAME.has(w.toLowerCase().replace(/[.'’]/g, '')))) continue;
    const from = m.index - town[0].length + town[0].indexOf(name);
    out.add('LOCATION', from, from + name.length, 0.8);
  }
}

/** The state after a known city or "Town," ("Dayton, OH", "Springfield, Illinois"). */
function addState(text: string, from: number, knownCity: boolean, out: Findings): void {
  const m = STATE_AFTER.exec(text.slice(from, from + 20));
  if (!m) return;
  const code = m[0].replace(/^,? /, '');
  // "Jones, MD" and "Smith, PA" are credentials, not states, unless a city or a zip says otherwise.
  if (!knownCity && (code === 'MD' || code === 'PA') && !ZIP_AFTER.test(text.slice(from + m[0].length, from + m[0].length + 12))) return;
  out.add('LOCATION', from + m[0].length - code.length, from + m[0].length, 0.85);
}
