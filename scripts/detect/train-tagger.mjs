/**
 * `npm run train:detect`: trains the name/place/facility tagger (src/detect/tagger.ts) and writes
 * its weights to src/detect/data/tagger.bin. Runs after a build and uses the compiled
 * features themselves. Four averaged perceptrons (each over its own shuffle of the texts, eight
 * epochs, with each generated text also learned four more times under made-up names, and half of
 * the words' own-form features hidden) are averaged and quantized to int8. Deterministic: fixed
 * seeds, fixed epochs, no clock; the same inputs give the same bytes. Reads only the tuning split of the development set
 * (test/fixtures/detect/devset/tune.jsonl: generated texts in seven locales and the WNUT-17
 * train posts, CC BY 4.0), never the held-apart split.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allowed, BITS, features, IDENTITY, isCandidate, LABELS, NEIGHBOUR_LISTS, words } from '../../dist/detect/tagger.js';
import { rng } from '../lib/rng.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EPOCHS = 8;
const SEED = 17;
const MODELS = 4;
// The share of training words whose own form is hidden from the model, so it learns from
// context, shape and lists, and generalizes to names it has never seen.
const DROP = 0.5;
const NL = LABELS.length;
const TARGET = { NAME: 1, LOCATION: 3, FACILITY: 5 };
// Inside these spans a word's tag is not learned from (a city inside an address).
const SKIP = new Set(['ADDRESS']);

function tune(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((d) => d.split === 'tune');
}

/** Word-level gold labels: index into LABELS, or -1 where nothing is learned. */
function gold(doc, ws) {
  return ws.map((w) => {
    const s = doc.spans.find((sp) => sp.start <= w.start && w.end <= sp.end);
    if (!s) return 0;
    if (SKIP.has(s.type)) return -1;
    const b = TARGET[s.type];
    if (b === undefined) return 0;
    const first = !ws.some((v) => v.start >= s.start && v.start < w.start && v !== w);
    return first ? b : b + 1;
  });
}

// Each generated text is also learned AUGMENT more times with its names replaced by made-up
// ones (syllables, in the original's case), so the context teaches more than the names do.
const AUGMENT = 4;
const SYLLABLES =
  'ka lo mi ra ten vel dor sa ni ko ber an ul is mar tho zen pa ri che lu go fa na ste vik hal dre mo sen ja qui wen or yas bel'.split(' ');

function madeUp(rand, like) {
  let w = '';
  const n = 2 + Math.floor(rand() * 2);
  for (let k = 0; k < n; k++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
  if (like === like.toUpperCase()) return w.toUpperCase();
  if (like[0] === like[0].toLowerCase()) return w;
  return w[0].toUpperCase() + w.slice(1);
}

function augment(doc, rand) {
  let text = '';
  let pos = 0;
  const spans = [];
  for (const s of [...doc.spans].sort((a, b) => a.start - b.start)) {
    if (s.start < pos) continue;
    text += doc.text.slice(pos, s.start);
    let value = doc.text.slice(s.start, s.end);
    if (s.type === 'NAME') value = value.replace(/[\p{L}'’]{2,}/gu, (w) => (PARTICLES.has(w) ? w : madeUp(rand, w)));
    spans.push({ type: s.type, start: text.length, end: text.length + value.length });
    text += value;
    pos = s.end;
  }
  return { ...doc, text: text + doc.text.slice(pos), spans };
}
const PARTICLES = new Set('van von der den de del della di da du dos das la le ten ter bin al el y'.split(' '));

/** Word-level training texts: each generated text also under AUGMENT sets of made-up names. */
function prepare(examples) {
  const augmentRand = rng(SEED + 1);
  return examples
    .flatMap((d) => (d.style === 'social' ? [d] : [d, ...Array.from({ length: AUGMENT }, () => augment(d, augmentRand))]))
    .map((d) => {
      const ws = words(d.text);
      return { text: d.text, ws, gold: gold(d, ws), social: d.style === 'social' };
    });
}

const size = (1 << BITS) * NL;
const s = new Float64Array(NL);

/** One averaged perceptron trained in the order one seed shuffles the texts into. */
function train(docs, seed) {
  const w = new Float64Array(size);
  const u = new Float64Array(size); // sum of (step × update), for averaging
  let step = 1;
  const rand = rng(seed);
  const order = docs.map((_, i) => i);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const di of order) {
      const { text, ws, gold: g, social } = docs[di];
      let prev = 0;
      for (let i = 0; i < ws.length; i++) {
        if (!isCandidate(ws, i, prev)) {
          prev = 0;
          continue;
        }
        let fs = features(text, ws, i);
        const hideSelf = rand() < DROP && !social;
        const hideNeighbours = rand() < DROP && !social;
        if (hideSelf || hideNeighbours)
          fs = fs.filter((_, k) => (k >= IDENTITY || !hideSelf) && (k < IDENTITY || k >= IDENTITY + NEIGHBOUR_LISTS || !hideNeighbours));
        s.fill(0);
        for (const b of fs) for (let k = 0; k < NL; k++) s[k] += w[b * NL + k];
        let best = 0;
        for (let k = 1; k < NL; k++) if (allowed(k, prev) && s[k] > s[best]) best = k;
        let truth = g[i];
        // After a miss, the rest of the name opens it: the decoder cannot continue what it did not start.
        if (truth > 0 && !allowed(truth, prev)) truth -= 1;
        if (truth >= 0 && truth !== best) {
          for (const b of fs) {
            w[b * NL + truth] += 1;
            u[b * NL + truth] += step;
            w[b * NL + best] -= 1;
            u[b * NL + best] -= step;
          }
        }
        step++;
        prev = best;
      }
    }
  }
  for (let k = 0; k < size; k++) w[k] -= u[k] / step;
  return w;
}

/**
 * The weights file's bytes for `examples` (development-set objects: text, style, spans): several
 * perceptrons, each over its own order of the texts, averaged (steadier than one), then
 * quantized. Exported for experiments that train on part of the tuning split.
 */
export function trainWeights(examples) {
  const docs = prepare(examples);
  const avg = new Float64Array(size);
  for (let m = 0; m < MODELS; m++) {
    const w = train(docs, SEED + 101 * m);
    for (let k = 0; k < size; k++) avg[k] += w[k] / MODELS;
  }
  let max = 0;
  for (let k = 0; k < size; k++) max = Math.max(max, Math.abs(avg[k]));
  const scale = max / 127;
  const out = Buffer.alloc(4 + size);
  out.writeFloatLE(scale, 0);
  for (let k = 0; k < size; k++) out.writeInt8(Math.round(avg[k] / scale), 4 + k);
  return { bytes: out, texts: docs.length, words: docs.reduce((a, d) => a + d.ws.length, 0) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const { bytes, texts, words: n } = trainWeights(tune(path.join(root, 'test', 'fixtures', 'detect', 'devset', 'tune.jsonl')));
  writeFileSync(path.join(root, 'src', 'detect', 'data', 'tagger.bin'), bytes);
  process.stdout.write(
    `tagger: ${texts} texts, ${n} words, ${EPOCHS} epochs × ${MODELS} models, ${Math.round(performance.now() - t0)} ms\n`,
  );
}
