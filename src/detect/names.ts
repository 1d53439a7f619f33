/**
 * Person names among capitalized tokens: after a title ("Dr. Okafor") or a cue ("seen by",
 * "daughter", "Attending:"), first name + capitalized word from the shipped lists, initials
 * ("Anna S."), "Smith, John", and all-capitals pairs when both words are in the lists; and
 * lower-case given names in chat (informalNames).
 */
import { AMBIGUOUS, citiesStartingWith, isFirstName, isHandFirstName, isSurname, NOT_NAME } from './dictionaries.js';
import { isEnglishWord } from './english.js';
import type { Findings } from './patterns.js';
import { FACILITY_HEADS } from './places.js';
import { gap, isInitial, joined, nameJoined, type Token } from './tokens.js';

const TITLES = new Set([
  ...['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'doctor'],
  // German, French, Spanish, Italian, Dutch, Portuguese.
  ...['herr', 'frau', 'mme', 'mlle', 'madame', 'monsieur', 'sr', 'sra', 'srta', 'señor', 'señora', 'don', 'doña'],
  ...['sig', 'sig.ra', 'signor', 'signora', 'dott', 'dott.ssa', 'dhr', 'mevr', 'mevrouw', 'meneer', 'dra'],
]);
// Between a title and the name: ". ", " ", or particles that start the name ("Dr. van der Berg").
const TITLE_GAP = /^\.? ((?:(?:van|von|der|den|de|del|della|di|da|du|dos|das|la|le|ten|ter|bin|al|el) )*)$/;
// Words just before a name that say a person follows ("seen by", "daughter", "Attending:").
const PERSON_CUE =
  /(?:\b(?:patient|pt|seen by|referred by|referring|signed by|spoke (?:with|to)|discussed with|consulted|consult with|accompanied by|son|daughter|wife|husband|brother|sister|mother|father|mom|dad|grand(?:daughter|son|mother|father)|niece|nephew|aunt|uncle|cousin|partner|spouse|fianc[eé]e?|friend|neighbou?r|caregiver|guardian|proxy|contact|attending(?: physician)?|physician|resident|fellow|nurse|dear|sincerely|named|called|cc|attn|dictated by|reviewed by|verified by|staff member|interpreter|pcp|surgeon|therapist|pharmacist)|\bname)\W{0,3}$/i;
const nameWord = (t: Token | undefined) => !!t && !t.upper && !NOT_NAME.has(t.word) && t.end - t.start > 1;

/** Extends a name from token i over joined capitalized tokens and one middle or final initial. */
function extend(text: string, toks: Token[], i: number, max: number): number {
  let j = i;
  while (j - i < max - 1) {
    const n = toks[j + 1];
    if (joined(text, toks, j) && isInitial(text, n)) j++;
    else if (nameJoined(text, toks, j) && nameWord(n)) j++;
    else break;
  }
  return j;
}

function spanEnd(text: string, t: Token): number {
  return isInitial(text, t) ? t.end + 1 : t.end;
}

/** Names starting at token i; returns the index of the last token consumed (i when none). */
export function names(text: string, toks: Token[], i: number, out: Findings): number {
  const t = toks[i] as Token;
  const n = toks[i + 1];
  // Titles: "Dr. Okafor", "Mrs. Nguyen", "Mr. Abdullah Rahimi".
  const titled = TITLES.has(t.word) && TITLE_GAP.exec(gap(text, toks, i));
  if (titled && n && nameWord(n)) {
    const j = extend(text, toks, i + 1, 3);
    out.add('NAME', n.start - (titled[1]?.length ?? 0), spanEnd(text, toks[j] as Token), 0.95);
    return j;
  }
  if (TITLES.has(t.word)) return i;
  // An initial before a capitalized word: "J. Okonkwo", "A. M. Rahimi".
  // Not a unit ("mg/L. Continue"), and the word after is a surname or no English word.
  const initialOk =
    isInitial(text, t) && /^$|[\s(["':,]$/.test(text.charAt(t.start - 1)) && n && text.charAt(t.end + 1) === ' ' && n.start === t.end + 2;
  if (initialOk && (isInitial(text, n) || (nameWord(n) && (isSurname(n.word) || !isEnglishWord(n.word))))) {
    const j = extend(text, toks, i + 1, 3);
    const last = toks[j] as Token;
    if (!isInitial(text, last)) {
      out.add('NAME', t.start, spanEnd(text, last), 0.8);
      return j;
    }
  }
  if (t.upper) {
    // "JOHN SMITH", "SMITH, JOHN": only with both words in the dictionaries.
    if (n && joined(text, toks, i) && n.upper && !n.digit && isFirstName(t.word) && isSurname(n.word)) {
      out.add('NAME', t.start, n.end, 0.85);
      return i + 1;
    }
    if (n && gap(text, toks, i) === ', ' && n.upper && !n.digit && isSurname(t.word) && isFirstName(n.word)) {
      out.add('NAME', t.start, n.end, 0.85); // "SMITH, JOHN"
      return i + 1;
    }
    return i;
  }
  if (NOT_NAME.has(t.word)) return i;
  const cued = PERSON_CUE.test(text.slice(Math.max(0, t.start - 32), t.start));
  const first = isFirstName(t.word);
  // "Smith, John"
  if (isSurname(t.word) && n && gap(text, toks, i) === ', ' && nameWord(n) && isFirstName(n.word) && !AMBIGUOUS.has(n.word)) {
    out.add('NAME', t.start, n.end, 0.85);
    return i + 1;
  }
  if (cued) {
    const j = extend(text, toks, i, 3);
    out.add('NAME', t.start, spanEnd(text, toks[j] as Token), 0.85);
    return j;
  }
  if (!first) return i;
  if (n && joined(text, toks, i) && isInitial(text, n)) {
    // "Anna S." or "John Q. Public"
    const j = extend(text, toks, i, 3);
    out.add('NAME', t.start, spanEnd(text, toks[j] as Token), 0.85);
    return j;
  }
  if (n && joined(text, toks, i) && nameWord(n) && (!AMBIGUOUS.has(t.word) || isSurname(n.word)) && !FACILITY_HEADS.has(n.word)) {
    const j = extend(text, toks, i, 3);
    out.add('NAME', t.start, toks[j]?.end ?? n.end, 0.9);
    return j;
  }
  if (!AMBIGUOUS.has(t.word) && !citiesStartingWith(t.word)) out.add('NAME', t.start, t.end, 0.7);
  return i;
}

// Chat and social posts write names in lower case: "all are welcome, joe included", "hey snoop",
// "sam's coming tomorrow and steve and tanya". A lower-case given name is taken after a word
// that addresses or lists a person; one that is also an English word ("joe", "mike") only
// after a greeting or a request ("hey", "thanks", "tell", "ask") or next to another name.
// One scan finds the cues and the word after each (scanning every word costs far more).
const CUE_RE =
  /(?:(?<![\p{L}])(hey|hi|hiya|hello|yo|sup|thanks|thank you|thx|ty|tell|ask|asked|call|called|text|texted|love you|miss you|love|miss|congrats|congratulations|bye|dear|me and|and me|and|&|or|with|w\/|told|ping|cc|like|than|when|to|for|from|see|saw|met|meet|by|go|about|was|omg|birthday|blame)|(,))(?:,?[ \t]+|(?<=,))(\p{Ll}[\p{Ll}'’]{2,})/giu;
// Cues before a lower-case name that is also an English word: a greeting or a request.
const WORD_CUES = new Set(
  'hey hi hiya hello yo thanks thx ty tell ask call text texted congrats bye dear omg birthday'
    .split(' ')
    .concat(['thank you', 'love you', 'miss you', 'me and', 'and me']),
);
const LISTS = new Set(['and', '&', 'with', 'w/', ',']);
const AFTER_WORD = /^(?:[\p{L}\p{N}_@/-]|\.\p{L})/u;
const NEXT_IS_NAME = /^(?:['’]s)?\s+(?:and|&)\s+(\p{Ll}+)/u;
const POSSESSIVE = /^['’]s\b/u;
const POSSESSIVE_RE = /(?<![\p{L}\p{N}_@#/.'’-])(\p{Ll}{3,})['’]s\b/gu;
const SURNAME_AFTER = /^ (\p{Ll}[\p{Ll}'’-]{1,})(?![\p{L}\p{N}_@/-])/u;

/** The lower-case form of a word: the plain lower-case name it stands for, without a possessive. */
const bare = (w: string): string => w.replace(/['’]s?$/u, '');

function lowerName(w: string): 'plain' | 'word' | undefined {
  if (w.length < 3 || AMBIGUOUS.has(w) || NOT_NAME.has(w) || !isFirstName(w)) return undefined;
  if (!isEnglishWord(w)) return 'plain';
  return isHandFirstName(w) ? 'word' : undefined;
}

/** Adds the name at `start` (`w`, bare), with a lower-case surname after it ("justin bieber"). */
function addLower(text: string, start: number, w: string, kind: 'plain' | 'word', out: Findings): void {
  const last = bare(SURNAME_AFTER.exec(text.slice(start + w.length, start + w.length + 24))?.[1] ?? '');
  const sur = last && isSurname(last) && !NOT_NAME.has(last) && !isEnglishWord(last);
  out.add('NAME', start, start + w.length + (sur ? 1 + last.length : 0), kind === 'plain' ? 0.7 : 0.6);
}

/** Lower-case given names in informal text. */
export function informalNames(text: string, out: Findings): void {
  // Not JSON: its keys and values are context.ts's and keyed.ts's.
  if (text.includes('":')) return;
  CUE_RE.lastIndex = 0;
  for (let m = CUE_RE.exec(text); m; m = CUE_RE.exec(text)) {
    const raw = m[3] ?? '';
    const start = m.index + m[0].length - raw.length;
    CUE_RE.lastIndex = start; // the word may lead the next cue's match ("steve and tanya")
    const w = bare(raw);
    const kind = lowerName(w);
    const after = text.slice(start + w.length, start + w.length + 24);
    if (!kind || AFTER_WORD.test(text.slice(start + raw.length, start + raw.length + 2))) {
      CUE_RE.lastIndex = start + raw.length;
      continue;
    }
    const cue = (m[1] ?? m[2] ?? '').toLowerCase();
    const next = NEXT_IS_NAME.exec(after)?.[1];
    const pair = !!next && !!lowerName(next);
    const ok = kind === 'plain' || WORD_CUES.has(cue) || pair || (LISTS.has(cue) && POSSESSIVE.test(after));
    if (ok) addLower(text, start, w, kind, out);
    CUE_RE.lastIndex = start + raw.length;
  }
  // "sam's coming": a plain given name before a possessive, with no cue.
  if (!text.includes("'s") && !text.includes('’s')) return;
  POSSESSIVE_RE.lastIndex = 0;
  for (let m = POSSESSIVE_RE.exec(text); m; m = POSSESSIVE_RE.exec(text)) {
    const w = m[1] ?? '';
    if (lowerName(w) === 'plain') addLower(text, m.index, w, 'plain', out);
  }
}
