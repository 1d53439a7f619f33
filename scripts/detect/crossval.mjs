/**
 * `npm run crossval:detect`: how the tagger and rules do on tuning texts they were not trained
 * on. The tuning split is cut into two folds (generated texts by template, WNUT-17 train posts
 * by post), the tagger is trained on one fold and the other is scored, both ways round; the
 * scores are summed per style. This is the number to improve while changing features or rules:
 * the held-apart split stays unseen, scored only by `npm run eval:detect`.
 *
 * Runs after a build. Each fold's weights go to a temporary file that a child process loads
 * through WARD_TAGGER_WEIGHTS (the detector reads its weights once per process).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TUNE = path.join(root, 'test', 'fixtures', 'detect', 'devset', 'tune.jsonl');
const FOLDS = 2;

/** The fold of a tuning example: its template's (or, for a post, its id's) hash. */
const foldOf = (d) =>
  createHash('sha256')
    .update(d.template ?? d.id)
    .digest()[0] % FOLDS;

function tuneExamples() {
  return readFileSync(TUNE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Child: scores fold `k` with the weights in WARD_TAGGER_WEIGHTS; prints counts per style. */
async function scoreFold(k) {
  const { scoreDevset } = await import('../../test/detect/eval.mjs');
  const { loadDevset } = await import('../../test/detect/labeled.mjs');
  const { detect } = await import('../../dist/detect/detect.js');
  const examples = loadDevset('tune').filter((d) => foldOf(d) === k);
  const out = {};
  for (const style of [...new Set(examples.map((e) => e.style))]) {
    const s = scoreDevset(
      examples.filter((e) => e.style === style),
      (text) => ({ spans: detect(text) }),
    );
    out[style] = s;
  }
  process.stdout.write(JSON.stringify(out));
}

function add(into, s) {
  for (const k of ['cleanTexts', 'cleanAltered', 'nonPhiChars', 'nonPhiAltered']) into[k] = (into[k] ?? 0) + s[k];
  into.types ??= {};
  for (const [t, r] of Object.entries(s.types)) {
    into.types[t] ??= { gold: 0, found: 0 };
    into.types[t].gold += r.gold;
    into.types[t].found += r.found;
  }
}

async function main() {
  const { trainWeights } = await import('./train-tagger.mjs');
  const all = tuneExamples();
  const dir = mkdtempSync(path.join(tmpdir(), 'ward-crossval-'));
  const total = {};
  try {
    for (let k = 0; k < FOLDS; k++) {
      const file = path.join(dir, `fold-${k}.bin`);
      writeFileSync(file, trainWeights(all.filter((d) => foldOf(d) !== k)).bytes);
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--score', String(k)], {
        env: { ...process.env, WARD_TAGGER_WEIGHTS: file },
        maxBuffer: 64 << 20,
      });
      for (const [style, s] of Object.entries(JSON.parse(out.toString()))) {
        total[style] ??= {};
        add(total[style], s);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pct = (a, b) => (b ? (a / b).toFixed(3) : '-');
  const rows = ['style            recall  name+loc  name   loc    fac    clean-altered  nonphi-altered'];
  for (const [style, s] of Object.entries(total).sort()) {
    const t = s.types;
    const sum = (ts, f) => ts.reduce((n, x) => n + (t[x]?.[f] ?? 0), 0);
    const types = Object.keys(t);
    const r = (ts) => pct(sum(ts, 'found'), sum(ts, 'gold'));
    rows.push(
      `${style.padEnd(16)} ${r(types).padEnd(7)} ${r(['NAME', 'LOCATION']).padEnd(9)} ${r(['NAME']).padEnd(6)} ${r(['LOCATION']).padEnd(6)} ${r(['FACILITY']).padEnd(6)} ${pct(s.cleanAltered, s.cleanTexts).padEnd(14)} ${pct(s.nonPhiAltered, s.nonPhiChars)}`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--score');
  if (i >= 0) await scoreFold(Number(process.argv[i + 1]));
  else await main();
}
