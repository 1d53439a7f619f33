/**
 * A statistical tagger for person names, places and facilities that no rule or list catches:
 * averaged perceptrons over hashed features of each candidate word (its form, shape, affixes,
 * list membership, English or not, two words either side), decoded left to right with BIO tags
 * (an I- tag only continues its own type). Trained offline by scripts/detect/train-tagger.mjs; the weights (data/tagger.bin:
 * a float32 scale, then int8 weights, one row of LABELS per feature bucket) load once, on first use.
 */
import { readFileSync } from 'node:fs';
import { AMBIGUOUS, citiesStartingWith, isFirstName, isPlainListed, isSurname, NOT_NAME } from './dictionaries.js';
import { isEnglishWord } from './english.js';
import type { Findings } from './patterns.js';
import { REGION_AMBIGUOUS } from './places.js';
import type { PhiType } from './types.js';

export const LABELS = ['O', 'B-NAME', 'I-NAME', 'B-LOCATION', 'I-LOCATION', 'B-FACILITY', 'I-FACILITY'] as const;
const NL = LABELS.length;
/** log2 of the number of feature buckets. */
export const BITS = 16;
const MASK = (1 << BITS) - 1;

export interface Word {
  start: number;
  end: number;
  /** Lower case, without a trailing possessive. */
  lower: string;
  /** Starts with a capital letter. */
  cap: boolean;
  /** All capitals, more than one letter ("INFO", "ICU"). */
  caps: boolean;
  /** Hash of `lower`, computed when first needed. */
  h?: number;
  /** Hash of the shape, computed when first needed. */
  sh?: number;
  /** What the lists say of `lower` (see info()), looked up when first needed. */
  info?: Info;
  /** Its word cluster (see cluster()), looked up when first needed. */
  cl?: number;
}

const WORD_RE = /[\p{L}\p{N}][\p{L}\p{M}\p{N}'’-]*/gu;
const UPPER = /\p{Lu}/u;
const LETTER = /\p{L}/u;
const PARTICLE = new Set('van von der den de del della di da du dos das do la le ten ter bin ibn bint al el y zu'.split(' '));
const TITLE = new Set(
  'mr mrs ms miss mx dr prof doctor sr sra srta herr frau mme mlle madame monsieur mevrouw meneer dhr mevr señor señora sig signor signora dott dott.ssa'.split(
    ' ',
  ),
);
// Words that open a form field, a greeting or a sentence about a patient in other languages.
const FORM_WORDS = new Set(
  'paciente patiente patiënt paziente pat nombre naam nom nome name vorname nachname estimado estimada gentile caro cara lieber liebe sehr beste cher chère geachte dear querido querida'.split(
    ' ',
  ),
);
// Lower-case words after these are looked at too: "pt john doe", "find patient jan lý".
const CUE = new Set(
  'pt patient patients patiënt patiente paciente paziente named called name naam nom nombre nome for daughter son wife husband mother father brother sister friend nurse dr mr mrs ms'.split(
    ' ',
  ),
);
const PLACE_PREP = new Set('in from to near at visiting via'.split(' '));
const DIGIT = /\d/;
const FACILITY_WORD = new Set(
  'hospital hospitals clinic clinics center centre ctr med medical health healthcare infirmary hospice institute klinik klinikum hôpital hospital ospedale ziekenhuis practice associates university'.split(
    ' ',
  ),
);

/** The shape's code unit for text[k]: X, x, d, or the character itself. */
function shapeChar(text: string, k: number): number {
  const code = text.charCodeAt(k);
  if (code >= 65 && code <= 90) return 88;
  if (code >= 97 && code <= 122) return 120;
  if (code >= 48 && code <= 57) return 100;
  if (code < 128) return code;
  const ch = text.charAt(k);
  return UPPER.test(ch) ? 88 : LETTER.test(ch) ? 120 : code;
}

/** FNV-1a of the word's shape, computed without building the shape string. */
function shapeFnv(text: string, w: Word): number {
  if (w.sh !== undefined) return w.sh;
  let h = 0x811c9dc5;
  let a = -1; // the shape's last two code units
  let b = -1;
  let n = 0;
  for (let k = w.start; k < w.end; k++) {
    const c = shapeChar(text, k);
    if (n < 2 || a !== c || b !== c) {
      h = Math.imul(h ^ c, 0x01000193);
      b = a;
      a = c;
      n++;
    }
  }
  w.sh = h;
  return h;
}

const isApostrophe = (c: number): boolean => c === 39 || c === 0x2019;

/** Every word of `text` with what the features need. */
export function words(text: string): Word[] {
  const out: Word[] = [];
  WORD_RE.lastIndex = 0;
  for (let m = WORD_RE.exec(text); m; m = WORD_RE.exec(text)) {
    let raw = m[0];
    const last = raw.charCodeAt(raw.length - 1);
    if (last === 115 && raw.length > 1 && isApostrophe(raw.charCodeAt(raw.length - 2))) raw = raw.slice(0, -2);
    else if (isApostrophe(last) || last === 45) raw = raw.slice(0, -1);
    if (!raw) continue;
    const lower = raw.toLowerCase();
    const cap = lower.charAt(0) !== raw.charAt(0);
    out.push({ start: m.index, end: m.index + raw.length, lower, cap, caps: cap && raw.length > 1 && raw === raw.toUpperCase() });
  }
  return out;
}

/**
 * The words the tagger looks at: capitalized ones (not titles, not short all-capitals words such
 * as "MI", "IL"), lower-case names and places that are not English words, particles between
 * capitals ("de la Cruz").
 */
export function isCandidate(ws: Word[], i: number, prev: number): boolean {
  const w = ws[i] as Word;
  if (w.cap) {
    // All capitals: only a listed name or place of three letters or more that is no English word ("LONDON", "BIEBER").
    if (w.caps) return w.lower.length > 2 && (info(w).bits & (F | L | C | E | T | N)) !== 0 && (info(w).bits & (E | T | N)) === 0;
    const bits = info(w).bits;
    if (bits & (T | N)) return false;
    // A capitalized English word on its own ("Continue", "Seen") only when it is listed.
    if (!(bits & E) || ws[i - 1]?.cap || ws[i + 1]?.cap) return true;
    return (bits & (F | L | C)) !== 0;
  }
  if (PARTICLE.has(w.lower)) return !!ws[i + 1]?.cap || (PARTICLE.has(ws[i + 1]?.lower ?? '') && !!ws[i + 2]?.cap);
  // Lower case: after a name word or a cue ("pt john doe"), or a listed place after "in", "from".
  if (prev === 1 || prev === 2) return !NOT_NAME.has(w.lower) && !DIGIT.test(w.lower);
  const before = ws[i - 1]?.lower ?? '';
  if (CUE.has(before)) return !NOT_NAME.has(w.lower) && !DIGIT.test(w.lower);
  if (PLACE_PREP.has(before) && w.lower.length > 2 && isPlainListed(w.lower)) return true;
  // A listed name or place that is no English word ("justin", "london").
  if (w.lower.length < 3 || DIGIT.test(w.lower)) return false;
  const bits = info(w).bits;
  return (bits & (F | L | C)) !== 0 && (bits & (E | T | N)) === 0;
}

/** What the lists say of a lower-case word: its lex string, that string's hash, and its letters as bits. */
interface Info {
  lx: string;
  lxh: number;
  bits: number;
}
const F = 1;
const L = 2;
const C = 4;
const N = 8;
const T = 16;
const E = 32;

// Words recur: the lists' answers for each lower-case word the lists know, kept until there are
// too many. A word in no list (a rare name, an identifier) is not kept beyond the call that saw it.
const INFO = new Map<string, Info>();
const INFO_MAX = 50_000;

function info(w: Word): Info {
  if (w.info !== undefined) return w.info;
  const l = w.lower;
  let i = INFO.get(l);
  if (i === undefined) {
    let s = '';
    let bits = 0;
    if (isFirstName(l)) {
      s += 'F';
      bits |= F;
    }
    if (isSurname(l)) {
      s += 'L';
      bits |= L;
    }
    if (citiesStartingWith(l)) {
      s += 'C';
      bits |= C;
    }
    if (NOT_NAME.has(l)) {
      s += 'N';
      bits |= N;
    }
    if (AMBIGUOUS.has(l)) s += 'A';
    if (TITLE.has(l)) {
      s += 'T';
      bits |= T;
    }
    if (FACILITY_WORD.has(l)) s += 'H';
    if (PARTICLE.has(l)) s += 'P';
    if (isEnglishWord(l)) {
      s += 'E';
      bits |= E;
    }
    const lx = s || '0';
    i = { lx, lxh: fnv(lx), bits };
    if (s) {
      if (INFO.size >= INFO_MAX) INFO.clear();
      INFO.set(l, i);
    }
  }
  w.info = i;
  return i;
}

// Word clusters (data/clusters.txt, built by scripts/detect/build-clusters.mjs from GloVe
// vectors): words used in the same contexts share a fine cluster, fine clusters a coarse group.
// Loaded on first use: lower-case word -> fine cluster; each fine cluster's coarse group.
let clusters: { fine: Map<string, number>; coarse: Int16Array } | undefined;

function loadClusters(): { fine: Map<string, number>; coarse: Int16Array } {
  if (clusters === undefined) {
    const fine = new Map<string, number>();
    const lines = readFileSync(new URL('./data/clusters.txt', import.meta.url), 'utf8').split('\n');
    const coarse = new Int16Array(lines.length);
    for (const line of lines) {
      if (!line) continue;
      const parts = line.split(' ');
      const id = Number(parts[0]);
      coarse[id] = Number(parts[1]);
      for (let k = 2; k < parts.length; k++) fine.set(parts[k] as string, id);
    }
    clusters = { fine, coarse };
  }
  return clusters;
}

/** The word's fine cluster, or -1 when the clusters do not hold it. */
function cluster(w: Word | undefined): number {
  if (!w) return -2;
  if (w.cl === undefined) w.cl = loadClusters().fine.get(w.lower) ?? -1;
  return w.cl;
}
const coarseOf = (c: number): number => (c < 0 ? c : (loadClusters().coarse[c] as number));

function gapClass(text: string, from: number, to: number): string {
  if (to <= from) return '';
  const g = text.slice(from, Math.min(to, from + 8));
  if (g.includes('\n')) return 'n';
  if (/[.!?]\s/.test(g)) return '.';
  if (g.includes(',')) return ',';
  if (g.includes(':')) return ':';
  if (g.includes('(')) return '(';
  if (g === ' ') return 's';
  if (g.trim() === '.') return 'd';
  return 'o';
}

/** FNV-1a of s[from, to), continuing from `h`. */
function fnv(s: string, h = 0x811c9dc5, from = 0, to = s.length): number {
  for (let k = from; k < to; k++) h = Math.imul(h ^ s.charCodeAt(k), 0x01000193);
  return h;
}
/** Combines a feature's kind with one or two value hashes, without building strings. */
const mix = (kind: number, a: number, b = 0): number => {
  let h = Math.imul(kind ^ a, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca6b);
  return ((h ^ (h >>> 13)) >>> 0) & MASK;
};
const START = fnv('^');
const END = fnv('$');
const wordHash = (w: Word | undefined, none: number): number => {
  if (!w) return none;
  if (w.h === undefined) w.h = fnv(w.lower);
  return w.h;
};
const shapeHash = (text: string, w: Word | undefined, none: number): number => (w ? shapeFnv(text, w) : none);
const NO_LEX = fnv('-');
const lexHash = (w: Word | undefined): number => (w ? info(w).lxh : NO_LEX);

/**
 * How many of the features come first and say what the word is (its form, its lists), then
 * what its neighbours' lists say: training hides these at random so the tagger learns names it
 * has never seen from their context.
 */
export const IDENTITY = 4;
export const NEIGHBOUR_LISTS = 2;

/** The feature buckets of word i: kinds numbered in order, each mixed with its values' hashes. */
export function features(text: string, ws: Word[], i: number): number[] {
  const w = ws[i] as Word;
  const p = ws[i - 1];
  const pp = ws[i - 2];
  const n = ws[i + 1];
  const nn = ws[i + 2];
  const before = gapClass(text, p ? p.end : 0, w.start) || (i === 0 ? '^' : '');
  const after = gapClass(text, w.end, n ? n.start : text.length) || '$';
  const lx = lexHash(w);
  const nlx = lexHash(n);
  const sh = shapeHash(text, w, 0);
  const psh = shapeHash(text, p, START);
  const nsh = shapeHash(text, n, END);
  const wh = wordHash(w, 0);
  const pw = wordHash(p, START);
  const nw = wordHash(n, END);
  const len = w.lower.length;
  const f = [
    // What the word itself is (training hides these at random, see IDENTITY):
    mix(1, wh),
    mix(2, lx),
    mix(3, lx, sh),
    mix(4, nlx, lx),
    // What its neighbours' lists say (hidden at random too):
    mix(5, lexHash(p)),
    mix(6, nlx),
    // Shape, affixes and context:
    mix(7, 0),
    mix(8, sh),
    mix(9, fnv(w.lower, undefined, 0, Math.min(3, len))),
    mix(10, fnv(w.lower, undefined, Math.max(0, len - 3))),
    mix(11, fnv(w.lower, undefined, Math.max(0, len - 2))),
    mix(12, pw),
    mix(13, wordHash(pp, START)),
    mix(14, nw),
    mix(15, wordHash(nn, END)),
    mix(16, psh),
    mix(17, nsh),
    mix(18, fnv(before), fnv(after)),
    mix(19, psh, Math.imul(sh, 31) ^ nsh),
    mix(20, pw, sh),
    mix(21, nw, sh),
    mix(22, Math.min(w.end - w.start, 12), w.cap ? 1 : 2),
    // Word clusters: the word's, its neighbours', with case.
    mix(24, cluster(w) + 3),
    mix(25, coarseOf(cluster(w)) + 3, w.cap ? 1 : 2),
    mix(26, cluster(p) + 3),
    mix(27, cluster(n) + 3),
    mix(28, coarseOf(cluster(p)) + 3, coarseOf(cluster(n)) + 3),
  ];
  if (w.end - w.start === 1 && text.charAt(w.end) === '.') f.push(mix(23, 0));
  return f;
}

/** Scores of each label for the buckets `fs`. */
export function scores(weights: ArrayLike<number>, fs: number[], out: Float64Array): void {
  out.fill(0);
  for (const b of fs) {
    const row = b * NL;
    for (let k = 0; k < NL; k++) out[k] = (out[k] as number) + (weights[row + k] as number);
  }
}

/** BIO: an I- tag only continues its own type; otherwise it opens one. */
export function allowed(label: number, prev: number): boolean {
  if (label === 0 || label % 2 === 1) return true;
  return prev === label || prev === label - 1;
}

export interface Tagged {
  labels: number[];
  /** Per word: best label's score minus O's (0 for non-candidates). */
  margins: number[];
}

/** Greedy left-to-right decoding of all words; non-candidates are O. */
export function tag(text: string, ws: Word[], weights: ArrayLike<number>): Tagged {
  const labels: number[] = [];
  const margins: number[] = [];
  const s = new Float64Array(NL);
  let prev = 0;
  for (let i = 0; i < ws.length; i++) {
    if (!isCandidate(ws, i, prev)) {
      labels.push(0);
      margins.push(0);
      prev = 0;
      continue;
    }
    scores(weights, features(text, ws, i), s);
    let best = 0;
    for (let k = 1; k < NL; k++) if (allowed(k, prev) && (s[k] as number) > (s[best] as number)) best = k;
    labels.push(best);
    margins.push((s[best] as number) - (s[0] as number));
    prev = best;
  }
  return { labels, margins };
}

let model: { weights: Int8Array; scale: number } | undefined;

/**
 * The weights, read once. A missing or truncated file is a broken install (or a wrong
 * WARD_TAGGER_WEIGHTS): detection refuses to run on the rules alone, which would find fewer
 * names without saying so.
 */
function load(): { weights: Int8Array; scale: number } {
  if (model === undefined) {
    // WARD_TAGGER_WEIGHTS: other weights, for experiments that train on part of the tuning split.
    const file = process.env.WARD_TAGGER_WEIGHTS || new URL('./data/tagger.bin', import.meta.url);
    const buf = readFileSync(file);
    const expected = 4 + (1 << BITS) * LABELS.length;
    if (buf.length !== expected)
      throw new Error(`detect: tagger weights ${String(file)} hold ${buf.length} bytes, not ${expected}; run npm run train:detect`);
    model = { scale: buf.readFloatLE(0), weights: new Int8Array(buf.buffer, buf.byteOffset + 4, buf.length - 4) };
  }
  return model;
}

const TYPES: PhiType[] = ['NAME', 'LOCATION', 'FACILITY'];
// Words of one span: a space, an initial's ". ", a hyphen or apostrophe; not "(" or a line break.
const SPAN_GAP = /^(?:[ '’-]|\. | & )$/;
/** Margin (in training units) at which a span's confidence is 0.5; lower margins are dropped. */
const THRESHOLD = 1.5;
const LONE = 6;

function nameNeighbour(text: string, ws: Word[], k: number, other: number): boolean {
  const w = ws[k] as Word;
  const o = ws[other] as Word;
  const between = k < other ? text.slice(w.end, o.start) : text.slice(o.end, w.start);
  if (between !== ' ' || !w.cap || w.caps || w.end - w.start < 2 || DIGIT.test(w.lower)) return false;
  return (
    !NOT_NAME.has(w.lower) &&
    !TITLE.has(w.lower) &&
    !CUE.has(w.lower) &&
    !FORM_WORDS.has(w.lower) &&
    !isEnglishWord(w.lower) &&
    !AMBIGUOUS.has(w.lower)
  );
}

/**
 * Names, places and facilities the tagger finds in `text`: detectWords calls it when the text
 * holds a Title-case word, detect() when it holds only a cue and lower case ("pt john doe").
 */
export function detectTagged(text: string, out: Findings): void {
  const m = load();
  const ws = words(text);
  const { labels, margins } = tag(text, ws, m.weights);
  for (let i = 0; i < ws.length; i++) {
    const l = labels[i] as number;
    if (l === 0) continue;
    let j = i;
    let margin = margins[i] as number;
    while (
      j + 1 < ws.length &&
      labels[j + 1] === l + (l % 2) &&
      SPAN_GAP.test(text.slice((ws[j] as Word).end, (ws[j + 1] as Word).start))
    ) {
      j++;
      margin = Math.min(margin, margins[j] as number);
    }
    let type = TYPES[(l - 1) >> 1] as PhiType;
    // A state that is also a given name is a place only after a place word ("moved to Georgia");
    // otherwise it is the person ("Georgia called back").
    if (type === 'LOCATION' && i === j && REGION_AMBIGUOUS.has((ws[i] as Word).lower) && !PLACE_PREP.has(ws[i - 1]?.lower ?? ''))
      type = 'NAME';
    // A name takes in a capitalized word just before or after it that is no English word
    // ("Anneliese Vogt" where only "Vogt" scored).
    let from = i;
    if (type === 'NAME') {
      while (from > 0 && labels[from - 1] === 0 && nameNeighbour(text, ws, from - 1, from)) from--;
      while (j + 1 < ws.length && labels[j + 1] === 0 && nameNeighbour(text, ws, j + 1, j)) j++;
    }
    // One word in no list is the likeliest mistake ("Herren", "Atención"): it needs more.
    const lone = from === j && (info(ws[j] as Word).bits & (F | L | C)) === 0;
    const z = margin * m.scale - THRESHOLD - (lone ? LONE : 0);
    const confidence = 1 / (1 + Math.exp(-z));
    const start = (ws[from] as Word).start;
    const end = (ws[j] as Word).end;
    // Never a placeholder a scrubber wrote: "[LOCATION]".
    if (text.charAt(start - 1) === '[' && text.charAt(end) === ']') {
      i = j;
      continue;
    }
    if (confidence >= 0.5) out.add(type, (ws[from] as Word).start, (ws[j] as Word).end, 0.5 + 0.3 * confidence);
    i = j;
  }
}
