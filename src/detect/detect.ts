/**
 * The detector: a prefilter rejects text no rule could report on (most log lines) in two
 * scans; otherwise each family of rules runs when the text could hold what it looks for (a
 * digit, a capital letter, an "@", "://"), and overlapping findings merge into one per span.
 */

import { detectAddresses } from './addresses.js';
import { detectContextNames, detectLabeled, LABEL_TRIGGER } from './context.js';
import { detectDates } from './dates.js';
import { detectFacilities } from './facilities.js';
import { detectIds, IDS_HOOK } from './ids.js';
import { informalNames } from './names.js';
import { DOMAIN_TRIGGER, detectDomains, detectEmails, detectIpv6, detectMacs, detectUrls } from './net.js';
import { detectNumeric, NUMBER_CANDIDATE } from './numeric.js';
import { Findings } from './patterns.js';
import { detectTagged } from './tagger.js';
import type { Finding, PhiType } from './types.js';
import { detectWords } from './words.js';

export interface DetectOptions {
  /** Findings below this confidence are dropped. Default 0.5. */
  minConfidence?: number;
  /** Only these types are reported. Default: all of PHI_TYPES. */
  types?: readonly PhiType[];
}

const DIGIT = /\d/;
// Title-case words ("März" too), runs of capitals ("JOHN SMITH", "AUG 12") or a letter-led VIN; not a lone "GET".
const WORDS = /[A-Z][a-zß-ÿ]|[A-Z]{2,}[ ,.]+[A-Z0-9]|[A-Z][A-Z0-9]{16}/;
const NAME_CUE = /(?:[Nn]ame|NAME|[Pp]atient|PATIENT|[Pp]t|PT|[Ff]or|FOR|[Aa]bout|[Mm]rs?|MRS?|[Mm]s|MS|[Dd]r|DR)\.?["']?\s*[\s:=]|q=/;
const HEX_COLONS = /::|:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:|-[0-9A-Fa-f]{2}-[0-9A-Fa-f]{2}-/;
/**
 * The prefilter: what every rule needs before it can report anything (a number of a useful
 * shape, a capitalized word, "@", "://", "www.", hex groups with colons; or, case aside, a
 * label with a digit after it or a name cue). Text with none of it, most log lines among
 * them, is clean after these three scans. (A case-insensitive scan for the words is twice as
 * fast as spelling out their cases; words that may end a key get a scan of their own.)
 */
const TRIGGER = new RegExp([NUMBER_CANDIDATE, WORDS.source, '@', ':\\/\\/', 'www\\.', HEX_COLONS.source, DOMAIN_TRIGGER].join('|'));
const TRIGGER_WORDS = new RegExp(`\\b(?:${LABEL_TRIGGER}|(?:patient|pt|for|about|mrs?|ms|dr)\\.?["']?\\s*[\\s:=]|q=)`, 'i');
/**
 * What street lines outside the US and dates in other languages hold, loosely, when no number
 * leads them: a capitalized word before a number ("Hauptstraße 12", "Via Roma 10", "Apt. 595",
 * "3. März 2021", "Mar 3 '21"). One scan, led by a capital, finds these and the letter-led IDs'
 * shape (a group); log lines rarely hold either. Number-led forms ("12 rue", "3 maart") are
 * reported by detectNumeric's candidate scan.
 */
const STRUCTURED_HOOK = new RegExp(String.raw`[A-Z](?:(${IDS_HOOK})|[a-zß-ÿ]+\.? #?\d)`, 'g');
// Keys end in these words without a word boundary before them ("patient_name", "fullName").
const TRIGGER_KEY = /(?:name|patient)["']?\s*[\s:=]/i;

/**
 * Text in lower case alone passes the prefilter with a possessive ("sam's coming"): two cheap
 * substring scans, as log lines rarely hold one.
 */
const possessive = (text: string): boolean => text.includes("'s ") || text.includes('’s ');
/** Past the prefilter, lower-case text reaches informalNames with a possessive or a word it takes a name after. */
const lowerHint = (text: string): boolean => possessive(text) || text.includes(' and ') || text.includes(' with ');
// A run of three capitals: an acronym that may name a facility.
const ACRONYM_HINT = /[A-Z]{3}/;

/** Every identifier found in `text`, sorted by position, overlaps merged. */
export function detect(text: string, options: DetectOptions = {}): Finding[] {
  // WORDS is one of TRIGGER's alternatives and, alone, cheaper: most lines that pass have one.
  const words = WORDS.test(text);
  if (!words && !TRIGGER.test(text) && !TRIGGER_WORDS.test(text) && !TRIGGER_KEY.test(text))
    return possessive(text) ? rules(text, options, false) : [];
  return rules(text, options, words);
}

/** The rules without the prefilter: exported so tests can check the prefilter never hides a finding. */
export function runRules(text: string, options: DetectOptions = {}): Finding[] {
  return rules(text, options, WORDS.test(text));
}

function rules(text: string, options: DetectOptions, words: boolean): Finding[] {
  const out = new Findings();
  const digit = DIGIT.test(text);
  if (digit) {
    const wordAfterNumber = detectNumeric(text, out);
    detectLabeled(text, out);
    structured(text, wordAfterNumber, out);
  }
  const cue = NAME_CUE.test(text);
  if (words) detectWords(text, digit, out);
  else {
    if (cue) detectTagged(text, out); // lower case only: "pt john doe"
    // Lower-case chat ("sam's coming with steve"), acronyms ("transferred to UPMC"): the parts
    // of detectWords that need no Title-case word.
    if (lowerHint(text)) informalNames(text, out);
    if (ACRONYM_HINT.test(text)) detectFacilities(text, out);
  }
  if (cue) detectContextNames(text, out);
  if (text.includes('@')) detectEmails(text, out);
  if (text.includes('://') || text.includes('www.')) detectUrls(text, out);
  detectDomains(text, out);
  if (digit && HEX_COLONS.test(text)) {
    detectIpv6(text, out);
    detectMacs(text, out);
  }
  if (!out.list.length) return out.list;
  return merge(out.list, options.minConfidence ?? 0.5, options.types);
}

function structured(text: string, wordAfterNumber: boolean, out: Findings): void {
  let ids = false;
  let other = wordAfterNumber;
  STRUCTURED_HOOK.lastIndex = 0;
  for (let m = STRUCTURED_HOOK.exec(text); m && !(ids && other); m = STRUCTURED_HOOK.exec(text)) {
    if (m[1] !== undefined) {
      ids = true;
      if (m[0][1] === 'P' && m[0][2] === ' ') other = true; // "BP 5104": a French post-office box
    } else other = true;
  }
  if (ids) detectIds(text, out);
  if (other) {
    detectAddresses(text, out);
    detectDates(text, out);
  }
}

/** Unions overlapping findings; the most confident one names the type of the union. */
function merge(list: Finding[], min: number, types: readonly PhiType[] | undefined): Finding[] {
  const kept = list.filter((f) => f.confidence >= min && (!types || types.includes(f.type)));
  kept.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const f of kept) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      if (f.confidence > last.confidence) {
        last.type = f.type;
        last.confidence = f.confidence;
      }
      last.end = Math.max(last.end, f.end);
    } else out.push({ ...f });
  }
  return out;
}
