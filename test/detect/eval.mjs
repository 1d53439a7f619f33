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
 */
import { SyncRedactor } from 'redact-pii';
import { loadSplit } from './labeled.mjs';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = evaluate();
  const text = writeResults({ eval: { date: new Date().toISOString(), targets: TARGETS, splits: results } });
  process.stdout.write(`${text}\n`);
}
