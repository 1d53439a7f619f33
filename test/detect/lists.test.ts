/** The shipped name lists hold no value the development set reserves for its held-apart split. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the development set's scripts, without types.
import { reserved } from '../../scripts/devset/partition.mjs';

describe("the detector's word lists and the held-apart split", () => {
  it('the faker-derived name lists hold no value reserved for the held-apart split', () => {
    for (const file of ['given-names.txt', 'family-names.txt']) {
      const list = readFileSync(new URL(`../../src/detect/data/${file}`, import.meta.url), 'utf8')
        .split('\n')
        .filter(Boolean);
      expect(list.length).toBeGreaterThan(5000);
      expect(list.filter((v) => reserved(v))).toEqual([]);
    }
  });
});
