/**
 * English words, for telling "Will" or "Grant" (words) from "Zych" (no word): a Bloom filter of
 * the word-list package's 274,000 words (MIT), built by scripts/detect/build-lists.mjs into
 * data/english.bin (2^21 bits, three probes, about 3% false positives), loaded once on first use.
 */
import { readFileSync } from 'node:fs';

/** log2 of the filter's size in bits; the build script uses the same. */
export const ENGLISH_BITS = 21;
const M = 2 ** ENGLISH_BITS;

/** The filter's probe positions for a lower-case word: double hashing over two FNV-1a variants. */
export function probes(w: string): [number, number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let k = 0; k < w.length; k++) {
    const c = w.charCodeAt(k);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  const h1 = a >>> 0;
  const h2 = (b | 1) >>> 0;
  return [h1 % M, (h1 + h2) % M, (h1 + 2 * h2) % M];
}

let bits: Uint8Array | null | undefined;

/** True when `w` (lower case) is probably an English word. */
export function isEnglishWord(w: string): boolean {
  if (bits === undefined) {
    try {
      bits = new Uint8Array(readFileSync(new URL('./data/english.bin', import.meta.url)));
    } catch {
      bits = null;
    }
  }
  if (!bits) return false;
  for (const p of probes(w)) if (!((bits[p >>> 3] as number) & (1 << (p & 7)))) return false;
  return true;
}
