/**
 * Places among capitalized tokens: cities from the shipped list (ambiguous ones only with
 * context), "Town, ST", counties, and facility names ("St. Vincent Medical Center").
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
  'hospital hospitals clinic clinics infirmary hospice center centre pediatrics associates living health healthcare physicians practice sanatorium memorial ziekenhuis krankenhaus klinik klinikum care',
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
  } else if (stateAfter && !NOT_NAME.has(t.word) && !FACILITY_HEADS.has(t.word)) {
    // An unknown town written "Town, ST": take up to two joined words before the comma.
    const prev = toks[i - 1];
    const from = prev && joined(text, toks, i - 1) && !NOT_NAME.has(prev.word) && !prev.upper ? prev.start : t.start;
    if (text.charAt(t.end) === ',') out.add('LOCATION', from, t.end, 0.8);
  }
}

function facility(text: string, toks: Token[], i: number, out: Findings): void {
  const head = (toks[i] as Token).word;
  const need = HEAD_NEEDS.get(head);
  const before = toks[i - 1];
  if (need && !(before && joined(text, toks, i - 1) && need.test(before.word))) return;
  let from = i;
  // Walk back over joined words: "St. Vincent Medical Center", "Grady Memorial Hospital".
  while (from > 0 && i - from < 5) {
    const g = gap(text, toks, from - 1);
    if (g !== ' ' && g !== '. ' && g !== ' & ' && g !== ' of ') break;
    const p = toks[from - 1] as Token;
    if (p.upper || (NOT_NAME.has(p.word) && !GENERIC.has(p.word))) break;
    from--;
  }
  while (from < i && GENERIC.has((toks[from] as Token).word) && (toks[from] as Token).word !== 'st') from++;
  let distinctive = false;
  for (let k = from; k < i; k++) if (!GENERIC.has((toks[k] as Token).word)) distinctive = true;
  if (distinctive) out.add('FACILITY', (toks[from] as Token).start, (toks[i] as Token).end, 0.9);
}
