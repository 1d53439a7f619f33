/**
 * `npm run eval:detect`: precision, recall and F1 per type on the labeled set, for Ward's
 * detector and for the npm package redact-pii, in the same run. Writes the results into
 * bench/detect-results.json and bench/RESULTS-detect.md.
 *
 * Scoring, the same for both: a gold span counts as found when predicted spans cover every
 * letter and digit of it (filler words such as "the", "of" and weekday names aside), so a
 * half-redacted name is a miss. A predicted span counts as correct when it overlaps a gold
 * span of any type (a wrong label still keeps the value out). Precision is per predicted type,
 * recall per gold type.
 *
 * The development set (test/fixtures/detect/devset/) is scored the same way per split and style,
 * plus PHI-free texts altered and non-PHI characters altered; see scoreDevset. `--misses` prints
 * the tuning split's misses and false alarms for the detector engineers (never the apart split).
 */
import { SyncRedactor } from 'redact-pii';
import { loadDevset, loadSplit } from './labeled.mjs';
import { SOFT, STRUCTURED, writeResults } from './report.mjs';

// WARD_DIST points the evaluation at another build of src/ (default: dist/ at the repository root).
const DIST = process.env.WARD_DIST
  ? new URL(`file://${process.env.WARD_DIST.replace(/\/?$/, '/')}`)
  : new URL('../../dist/', import.meta.url);
const { detect } = await import(new URL('detect/detect.js', DIST).href);

const FILLER = /^(?:the|of|and|on|at|in|a|monday|tuesday|wednesday|thursday|friday|saturday|sunday)$/i;

// redact-pii replaces values with these labels; its types, mapped to ours where one exists.
const RP_TYPES = {
  CREDIT_CARD_NUMBER: 'CARD',
  STREET_ADDRESS: 'ADDRESS',
  ZIPCODE: 'ZIP',
  PHONE_NUMBER: 'PHONE',
  IP_ADDRESS: 'IP',
  US_SOCIAL_SECURITY_NUMBER: 'SSN',
  EMAIL_ADDRESS: 'EMAIL',
  URL: 'URL',
  PERSON_NAME: 'NAME',
  DIGITS: 'DIGITS',
  USERNAME: 'CREDENTIALS',
  PASSWORD: 'CREDENTIALS',
  CREDENTIALS: 'CREDENTIALS',
};
const RP_LABEL = new RegExp(`(${Object.keys(RP_TYPES).join('|')})`);
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * redact-pii returns only the redacted text; its spans are recovered by aligning the output
 * with the input (each label stands for a non-empty stretch of the input).
 */
function redactPiiSpans(redactor, text) {
  const out = redactor.redact(text);
  if (out === text) return { spans: [], aligned: true };
  const parts = out.split(RP_LABEL);
  const labels = parts.filter((_, i) => i % 2 === 1);
  const source = parts.map((p, i) => (i % 2 === 1 ? '([\\s\\S]+?)' : escapeRegExp(p))).join('');
  const m = new RegExp(`^${source}$`, 'd').exec(text);
  if (!m) return { spans: [{ type: 'UNALIGNED', start: 0, end: text.length }], aligned: false };
  return { spans: labels.map((l, i) => ({ type: RP_TYPES[l], start: m.indices[i + 1][0], end: m.indices[i + 1][1] })), aligned: true };
}

function covered(gold, spans, text) {
  const words = [...text.slice(gold.start, gold.end).matchAll(/[A-Za-z0-9]+/g)];
  return words.every((w) => {
    if (FILLER.test(w[0])) return true;
    for (let i = gold.start + w.index; i < gold.start + w.index + w[0].length; i++)
      if (!spans.some((s) => s.start <= i && i < s.end)) return false;
    return true;
  });
}

const overlaps = (a, b) => a.start < b.end && b.start < a.end;

function score(examples, predict) {
  const byType = {};
  const row = (t) => {
    byType[t] ??= { gold: 0, found: 0, predicted: 0, correct: 0 };
    return byType[t];
  };
  let cleanLines = 0;
  let cleanAltered = 0;
  let unaligned = 0;
  for (const ex of examples) {
    const { spans, aligned = true } = predict(ex.text);
    if (!aligned) unaligned++;
    for (const g of ex.gold) {
      const r = row(g.type);
      r.gold++;
      if (covered(g, spans, ex.text)) r.found++;
    }
    for (const s of spans) {
      const r = row(s.type);
      r.predicted++;
      if (ex.gold.some((g) => overlaps(g, s))) r.correct++;
    }
    if (!ex.gold.length) {
      cleanLines++;
      if (spans.length) cleanAltered++;
    }
  }
  const sum = (types, k) => types.reduce((n, t) => n + (byType[t]?.[k] ?? 0), 0);
  const all = Object.keys(byType);
  const ratio = (a, b) => (b ? a / b : null);
  const metrics = {};
  for (const [t, r] of Object.entries(byType)) {
    const precision = ratio(r.correct, r.predicted);
    const recall = ratio(r.found, r.gold);
    const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
    metrics[t] = { ...r, precision, recall, f1 };
  }
  return {
    types: metrics,
    recallStructured: ratio(sum(STRUCTURED, 'found'), sum(STRUCTURED, 'gold')),
    recallSoft: ratio(sum(SOFT, 'found'), sum(SOFT, 'gold')),
    precision: ratio(sum(all, 'correct'), sum(all, 'predicted')),
    recall: ratio(sum(all, 'found'), sum(all, 'gold')),
    cleanLines,
    cleanAltered,
    cleanAlteredRate: ratio(cleanAltered, cleanLines),
    unaligned,
  };
}

const ALNUM = /[\p{L}\p{N}]/u;

/** Marks the characters of `text` that lie inside any of `spans`. */
function mask(text, spans) {
  const m = new Uint8Array(text.length);
  for (const s of spans) m.fill(1, s.start, s.end);
  return m;
}

/**
 * Scores devset examples: recall per gold type, precision per predicted type (a prediction
 * overlapping an OTHER span and no gold span is left out), PHI-free texts altered, and letters
 * and digits outside gold and OTHER spans that predictions cover.
 */
export function scoreDevset(examples, predict) {
  const types = {};
  const row = (t) => {
    types[t] ??= { gold: 0, found: 0, predicted: 0, correct: 0 };
    return types[t];
  };
  const c = { cleanTexts: 0, cleanAltered: 0, nonPhiChars: 0, nonPhiAltered: 0, unaligned: 0 };
  for (const ex of examples) {
    const { spans, aligned = true } = predict(ex.text);
    if (!aligned) c.unaligned++;
    for (const g of ex.gold) {
      const r = row(g.type);
      r.gold++;
      if (covered(g, spans, ex.text)) r.found++;
    }
    for (const s of spans) {
      const hit = ex.gold.some((g) => overlaps(g, s));
      if (!hit && ex.other.some((o) => overlaps(o, s))) continue;
      const r = row(s.type);
      r.predicted++;
      if (hit) r.correct++;
    }
    if (!ex.gold.length) {
      c.cleanTexts++;
      if (spans.length) c.cleanAltered++;
    }
    const phi = mask(ex.text, [...ex.gold, ...ex.other]);
    const pred = mask(ex.text, spans);
    for (let i = 0; i < ex.text.length; i++) {
      if (phi[i] || !ALNUM.test(ex.text[i])) continue;
      c.nonPhiChars++;
      if (pred[i]) c.nonPhiAltered++;
    }
  }
  return summarize(types, c);
}

const ratio = (a, b) => (b ? a / b : null);

function summarize(types, c) {
  const sum = (ts, k) => ts.reduce((n, t) => n + (types[t]?.[k] ?? 0), 0);
  const all = Object.keys(types);
  for (const r of Object.values(types)) {
    r.precision = ratio(r.correct, r.predicted);
    r.recall = ratio(r.found, r.gold);
  }
  return {
    types,
    recall: ratio(sum(all, 'found'), sum(all, 'gold')),
    recallPersonPlace: ratio(sum(['NAME', 'LOCATION'], 'found'), sum(['NAME', 'LOCATION'], 'gold')),
    precision: ratio(sum(all, 'correct'), sum(all, 'predicted')),
    ...c,
    cleanAlteredRate: ratio(c.cleanAltered, c.cleanTexts),
    nonPhiAlteredRate: ratio(c.nonPhiAltered, c.nonPhiChars),
  };
}

/** The analogues, on the apart split, of the outside corpora the issue names, with their targets. */
export const OUTSIDE = [
  { name: 'clinical questions', styles: ['clinical-query'], metric: 'recall', min: 0.9, guard: 'cleanAlteredRate', max: 0.05 },
  {
    name: 'multi-locale documents',
    styles: ['document-form', 'letter-email'],
    metric: 'recall',
    min: 0.85,
    guard: 'nonPhiAlteredRate',
    max: 0.01,
  },
  { name: 'social-media posts', styles: ['social'], metric: 'recallPersonPlace', min: 0.7 },
];

/** Scores one devset split per style and over its generated texts, for both detectors. */
function devsetSplit(examples, detectors) {
  const both = (exs) => ({
    texts: exs.length,
    spans: exs.reduce((n, e) => n + e.gold.length, 0),
    ...Object.fromEntries(Object.entries(detectors).map(([k, p]) => [k, scoreDevset(exs, p)])),
  });
  const styles = [...new Set(examples.map((e) => e.style))];
  const byStyle = Object.fromEntries(styles.map((s) => [s, both(examples.filter((e) => e.style === s))]));
  const outside = OUTSIDE.map((o) => ({ ...o, ...both(examples.filter((e) => o.styles.includes(e.style))) }));
  const locales = [...new Set(examples.map((e) => e.locale))].sort();
  return { generated: both(examples.filter((e) => e.source === 'generated')), byStyle, outside, locales };
}

export const TARGETS = { recallStructured: 0.98, recallSoft: 0.9, precision: 0.9, cleanAlteredRate: 0.02 };
export const meetsTargets = (s) =>
  s.recallStructured >= TARGETS.recallStructured &&
  s.recallSoft >= TARGETS.recallSoft &&
  s.precision >= TARGETS.precision &&
  s.cleanAlteredRate <= TARGETS.cleanAlteredRate;

export function evaluate() {
  const redactor = new SyncRedactor();
  const ward = (text) => ({ spans: detect(text) });
  const rp = (text) => redactPiiSpans(redactor, text);
  const splits = {};
  const scoreSplit = (examples) => ({
    lines: examples.length,
    spans: examples.reduce((n, e) => n + e.gold.length, 0),
    ward: score(examples, ward),
    redactPii: score(examples, rp),
  });
  const dev = loadSplit('dev');
  const holdout = loadSplit('holdout');
  splits.dev = scoreSplit(dev);
  splits.holdout = scoreSplit(holdout);
  splits.all = scoreSplit([...dev, ...holdout]);
  splits.stress = scoreSplit(loadSplit('stress'));
  return splits;
}

/** The development set's two splits, scored for Ward and redact-pii. */
export function evaluateDevset() {
  const redactor = new SyncRedactor();
  const detectors = { ward: (text) => ({ spans: detect(text) }), redactPii: (text) => redactPiiSpans(redactor, text) };
  return { tune: devsetSplit(loadDevset('tune'), detectors), apart: devsetSplit(loadDevset('apart'), detectors) };
}

/** Parses `--misses [--style S] [--type T] [--limit N] [--split tune]`. */
function missesArgs(argv) {
  const opt = (k) => {
    const i = argv.indexOf(`--${k}`);
    return i < 0 ? undefined : argv[i + 1];
  };
  return { split: opt('split') ?? 'tune', style: opt('style'), type: opt('type'), limit: Number(opt('limit') ?? 40) };
}

/** `text` around [start, end) with the span bracketed, on one line. */
function context(text, start, end, width = 60) {
  const a = Math.max(0, start - width);
  const b = Math.min(text.length, end + width);
  const flat = (s) => s.replace(/\n/g, '⏎');
  return `${a > 0 ? '…' : ''}${flat(text.slice(a, start))}[[${flat(text.slice(start, end))}]]${flat(text.slice(end, b))}${b < text.length ? '…' : ''}`;
}

/** Prints the tuning split's missed gold spans and false alarms of Ward's detector. */
function printMisses(argv) {
  const o = missesArgs(argv);
  if (o.split !== 'tune') {
    process.stderr.write('--misses prints the tune split only: the apart split is scored only as a whole\n');
    process.exitCode = 2;
    return;
  }
  const examples = loadDevset('tune').filter((e) => !o.style || e.style === o.style);
  const misses = [];
  const alarms = [];
  for (const ex of examples) {
    const spans = detect(ex.text);
    for (const g of ex.gold)
      if ((!o.type || g.type === o.type) && !covered(g, spans, ex.text))
        misses.push(`${ex.id}  ${g.type}  ${context(ex.text, g.start, g.end)}`);
    for (const s of spans)
      if ((!o.type || s.type === o.type) && ![...ex.gold, ...ex.other].some((g) => overlaps(g, s)))
        alarms.push(`${ex.id}  ${s.type}  ${context(ex.text, s.start, s.end)}`);
  }
  const out = [`# missed gold spans (${misses.length}, showing ${Math.min(o.limit, misses.length)})`, ...misses.slice(0, o.limit)];
  out.push(`# false alarms (${alarms.length}, showing ${Math.min(o.limit, alarms.length)})`, ...alarms.slice(0, o.limit));
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--misses')) printMisses(process.argv);
  else {
    const started = performance.now();
    const results = evaluate();
    const devset = evaluateDevset();
    const seconds = (performance.now() - started) / 1000;
    const text = writeResults({ eval: { date: new Date().toISOString(), seconds, targets: TARGETS, splits: results, devset } });
    process.stdout.write(`${text}\n`);
  }
}
