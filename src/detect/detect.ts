/**
 * The detector: a prefilter rejects text no rule could report on (most log lines) in two
 * scans; otherwise each family of rules runs when the text could hold what it looks for (a
 * digit, a capital letter, an "@", "://"), and overlapping findings merge into one per span.
 */
import { detectContextNames, detectLabeled, LABEL_TRIGGER } from './context.js';
import { detectEmails, detectIpv6, detectMacs, detectUrls } from './net.js';
import { detectNumeric, NUMBER_CANDIDATE } from './numeric.js';
import { Findings } from './patterns.js';
import type { Finding, PhiType } from './types.js';
import { detectWords } from './words.js';

export interface DetectOptions {
  /** Findings below this confidence are dropped. Default 0.5. */
  minConfidence?: number;
  /** Only these types are reported. Default: all of PHI_TYPES. */
  types?: readonly PhiType[];
}

const DIGIT = /\d/;
// Title-case words, runs of capitals ("JOHN SMITH", "AUG 12") or a letter-led VIN; not a lone "GET".
const WORDS = /[A-Z][a-z]|[A-Z]{2,}[ ,.]+[A-Z0-9]|[A-Z][A-Z0-9]{16}/;
const NAME_CUE = /(?:[Nn]ame|NAME|[Pp]atient|PATIENT|[Pp]t|PT|[Ff]or|FOR|[Mm]rs?|MRS?|[Mm]s|MS|[Dd]r|DR)\.?["']?\s*[\s:=]|q=/;
const HEX_COLONS = /::|:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:|-[0-9A-Fa-f]{2}-[0-9A-Fa-f]{2}-/;
/**
 * The prefilter: what every rule needs before it can report anything (a number of a useful
 * shape, a capitalized word, "@", "://", "www.", hex groups with colons; or, case aside, a
 * label with a digit after it or a name cue). Text with none of it, most log lines among
 * them, is clean after these three scans. (A case-insensitive scan for the words is twice as
 * fast as spelling out their cases; words that may end a key get a scan of their own.)
 */
const TRIGGER = new RegExp([NUMBER_CANDIDATE, WORDS.source, '@', ':\\/\\/', 'www\\.', HEX_COLONS.source].join('|'));
const TRIGGER_WORDS = new RegExp(`\\b(?:${LABEL_TRIGGER}|(?:patient|pt|for|mrs?|ms|dr)\\.?["']?\\s*[\\s:=]|q=)`, 'i');
// Keys end in these words without a word boundary before them ("patient_name", "fullName").
const TRIGGER_KEY = /(?:name|patient)["']?\s*[\s:=]/i;

/** Every identifier found in `text`, sorted by position, overlaps merged. */
export function detect(text: string, options: DetectOptions = {}): Finding[] {
  if (!TRIGGER.test(text) && !TRIGGER_WORDS.test(text) && !TRIGGER_KEY.test(text)) return [];
  return runRules(text, options);
}

/** The rules without the prefilter: exported so tests can check the prefilter never hides a finding. */
export function runRules(text: string, options: DetectOptions = {}): Finding[] {
  const out = new Findings();
  const digit = DIGIT.test(text);
  if (digit) {
    detectNumeric(text, out);
    detectLabeled(text, out);
  }
  if (WORDS.test(text)) detectWords(text, digit, out);
  if (NAME_CUE.test(text)) detectContextNames(text, out);
  if (text.includes('@')) detectEmails(text, out);
  if (text.includes('://') || text.includes('www.')) detectUrls(text, out);
  if (digit && HEX_COLONS.test(text)) {
    detectIpv6(text, out);
    detectMacs(text, out);
  }
  if (!out.list.length) return out.list;
  return merge(out.list, options.minConfidence ?? 0.5, options.types);
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
