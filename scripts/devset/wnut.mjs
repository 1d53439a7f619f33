/**
 * WNUT-17 (CC BY 4.0) posts as devset examples: tokens joined into plain text, person spans as
 * NAME, location spans as LOCATION, and group/corporation/product/creative-work as OTHER (never
 * counted for recall; predictions on them are neither correct nor false alarms).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const TYPES = { person: 'NAME', location: 'LOCATION' };
const NO_SPACE_BEFORE = /^(?:[.,!?;:%)\]}…]+|'s|'re|'ve|'m|'ll|'d|n't|'S|N'T)$/;
const NO_SPACE_AFTER = /^[([{$]$/;

/** Reads a CoNLL file into posts of [token, tag] pairs. */
function posts(file) {
  return readFileSync(file, 'utf8')
    .split(/\n\s*\n/)
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => l.split('\t')),
    )
    .filter((p) => p.length);
}

/** Joins one post's tokens into text and turns its BIO tags into spans on that text. */
export function detokenize(tokens) {
  let text = '';
  const spans = [];
  let open = null;
  tokens.forEach(([tok, tag = 'O'], i) => {
    const prev = tokens[i - 1]?.[0];
    if (i > 0 && !NO_SPACE_BEFORE.test(tok) && !NO_SPACE_AFTER.test(prev)) text += ' ';
    const start = text.length;
    text += tok;
    const [bio, kind] = tag.split('-');
    if (bio === 'B' || (bio === 'I' && !open)) {
      open = { type: TYPES[kind] ?? 'OTHER', start, end: text.length };
      spans.push(open);
    } else if (bio === 'I') open.end = text.length;
    else open = null;
  });
  return { text, spans };
}

/** The examples of one WNUT split ('train' or 'dev') from the corpus folder. */
export function wnutExamples(dir, name, split) {
  return posts(join(dir, `${name}.conll`)).map((tokens, i) => ({
    id: `wnut17-${name}-${String(i).padStart(4, '0')}`,
    split,
    style: 'social',
    locale: 'en',
    source: `wnut17-${name}`,
    template: null,
    ...detokenize(tokens),
  }));
}
