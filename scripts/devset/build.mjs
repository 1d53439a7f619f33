/**
 * `npm run devset`: builds test/fixtures/detect/devset/{tune,apart}.jsonl from the templates in
 * templates/ (each template belongs to one split), faker-js values split by the value partition
 * (partition.mjs), and the WNUT-17 train (tune) and dev (apart) posts. Deterministic: each
 * template seeds faker from its own id, so the same sources give byte-identical files.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALES } from './locales.mjs';
import { render } from './render.mjs';
import { STYLES } from './templates/index.mjs';
import { slotsFor } from './values.mjs';
import { wnutExamples } from './wnut.mjs';

export const REPO = join(import.meta.dirname, '../..');
export const OUT = join(REPO, 'test/fixtures/detect/devset');
export const WNUT_DIR = join(REPO, '..', 'shared', 'corpora', 'wnut17');

const CORE = ['en-US', 'en-GB', 'de', 'fr', 'es', 'it', 'nl'];
/** Template groups: which locales a group of templates is rendered in. */
export const GROUPS = {
  en: ['en-US', 'en-GB'],
  us: ['en-US'],
  gb: ['en-GB'],
  ca: ['en-CA'],
  all: CORE,
  intl: CORE.slice(2),
  de: ['de'],
  fr: ['fr'],
  es: ['es'],
  it: ['it'],
  nl: ['nl'],
};

const seedOf = (s) => createHash('sha256').update(s).digest().readUInt32BE(0);

/** Every generated example of one split, in template order. */
function generated(split) {
  const out = [];
  for (const { style, repeat, [split]: groups } of STYLES) {
    for (const [group, templates] of Object.entries(groups)) {
      templates.forEach((template, i) => {
        const id = `${style}.${split}.${group}.${String(i + 1).padStart(2, '0')}`;
        for (const locale of GROUPS[group]) {
          const f = LOCALES[locale].faker;
          f.seed(seedOf(`${id}/${locale}`));
          const slots = slotsFor(locale, split, f);
          for (let k = 0; k < repeat; k++) {
            const { text, spans } = render(template, slots);
            out.push({ id: `${id}.${locale}.${k + 1}`, split, style, locale, source: 'generated', template: id, text, spans });
          }
        }
      });
    }
  }
  return out;
}

const line = ({ id, split, style, locale, source, template, text, spans }) =>
  JSON.stringify({ id, split, style, locale, source, template, text, spans: spans.map(({ type, start, end }) => ({ type, start, end })) });

/** Checks the span invariants: inside the text, sorted, non-overlapping, non-empty. */
function check(ex) {
  let end = 0;
  for (const s of ex.spans) {
    if (s.start < end || s.end <= s.start || s.end > ex.text.length) throw new Error(`bad span in ${ex.id}`);
    end = s.end;
  }
}

/**
 * The two files' contents: { tune, apart } as JSONL strings. `{ wnut: false }` leaves the WNUT-17
 * posts out (for a checkout without ../shared/corpora/wnut17: the generated part alone).
 */
export function buildDevset({ wnut: withWnut = true } = {}) {
  const files = {};
  for (const [split, wnut] of [
    ['tune', 'train'],
    ['apart', 'dev'],
  ]) {
    const examples = [...generated(split), ...(withWnut ? wnutExamples(WNUT_DIR, wnut, split) : [])];
    examples.forEach(check);
    files[split] = `${examples.map(line).join('\n')}\n`;
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = buildDevset();
  for (const [split, text] of Object.entries(files)) {
    writeFileSync(join(OUT, `${split}.jsonl`), text);
    process.stdout.write(`${split}.jsonl: ${text.split('\n').length - 1} examples\n`);
  }
}
