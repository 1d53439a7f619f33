/**
 * The labeled set in test/fixtures/detect/: one example per line, PHI marked ⟦TYPE:text⟧.
 * Returns each line's plain text and its gold spans.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '../fixtures/detect');
const MARK = /⟦([A-Z_]+):([^⟧]*)⟧/g;

/** Parses one annotated line into { text, gold: [{type, start, end}] }. */
export function parseLine(line) {
  const gold = [];
  let text = '';
  let at = 0;
  for (const m of line.matchAll(MARK)) {
    text += line.slice(at, m.index);
    gold.push({ type: m[1], start: text.length, end: text.length + m[2].length });
    text += m[2];
    at = m.index + m[0].length;
  }
  return { text: text + line.slice(at), gold };
}

/** Every example of one split ('dev' or 'holdout'), tagged with its file (notes, logs, ...). */
export function loadSplit(split) {
  const dir = join(FIXTURES, split);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'))
        .map((l) => ({ split, file: file.replace(/\.txt$/, ''), ...parseLine(l) })),
    );
}

const DEVSET = join(FIXTURES, 'devset');

/**
 * The development set (test/fixtures/detect/devset/, built by `npm run devset`): one JSON object
 * per line with its text and gold spans; `gold` holds the PHI spans, `other` the neutral OTHER
 * spans (WNUT-17 groups, companies, products, works), which are never counted either way.
 */
export function loadDevset(split) {
  return readFileSync(join(DEVSET, `${split}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const ex = JSON.parse(l);
      return { ...ex, gold: ex.spans.filter((s) => s.type !== 'OTHER'), other: ex.spans.filter((s) => s.type === 'OTHER') };
    });
}
