/** The tagger's pieces: its words, which words it looks at, the English filter, and the shipped weights. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { isEnglishWord } from './english.js';
import { Findings } from './patterns.js';
import { BITS, detectTagged, features, isCandidate, LABELS, words } from './tagger.js';

describe('words', () => {
  it('keeps letters of any script, hyphens and apostrophes; drops a possessive', () => {
    const text = "Fernández-López's chart, Nguyễn Thị Lan and O'Neil";
    expect(words(text).map((w) => text.slice(w.start, w.end))).toEqual([
      'Fernández-López',
      'chart',
      'Nguyễn',
      'Thị',
      'Lan',
      'and',
      "O'Neil",
    ]);
  });

  it('looks at capitalized words, not titles or short capitals, and lower case only after a cue', () => {
    const ws = words('Dr Okafor saw pt amara for MI today');
    expect(ws.map((_, i) => isCandidate(ws, i, 0))).toEqual([false, true, false, false, true, false, false, false]);
  });

  it('looks at a listed name or place in lower case or capitals too, never an English word', () => {
    const ws = words('off to london with justin, NOT the HOSPITAL, then MIAMI');
    const looked = ws.filter((_, i) => isCandidate(ws, i, 0)).map((w) => w.lower);
    expect(looked).toEqual(['london', 'justin', 'miami']);
  });

  it('hashes each word into a fixed number of features within the table', () => {
    const text = 'Patient Anneliese Vogt was seen';
    const fs = features(text, words(text), 1);
    expect(fs.length).toBeGreaterThan(20);
    for (const b of fs) expect(b).toBeLessThan(1 << BITS);
  });
});

describe('english', () => {
  it('knows English words and not names', () => {
    expect(['walker', 'reading', 'grant', 'disease'].every(isEnglishWord)).toBe(true);
    expect(['okonkwo', 'wiśniewski', 'bandopadhyay'].some(isEnglishWord)).toBe(false);
  });
});

describe('weights and lists', () => {
  it('ships 2^BITS rows of one weight per label', () => {
    const buf = readFileSync(new URL('./data/tagger.bin', import.meta.url));
    expect(buf.length).toBe(4 + (1 << BITS) * LABELS.length);
    expect(buf.readFloatLE(0)).toBeGreaterThan(0);
  });

  it('finds a name it has never seen from its context', () => {
    const out = new Findings();
    const text = 'Patient Zolvarit Quenneby, DOB 1942-02-20, seen at the clinic';
    detectTagged(text, out);
    expect(out.list.map((f) => [f.type, text.slice(f.start, f.end)])).toContainEqual(['NAME', 'Zolvarit Quenneby']);
  });
});

describe('word clusters', () => {
  it('ships one line per cluster: its number, its group, then its words, each word in one cluster only', () => {
    const lines = readFileSync(new URL('./data/clusters.txt', import.meta.url), 'utf8')
      .trimEnd()
      .split('\n');
    const seen = new Set<string>();
    lines.forEach((line, k) => {
      const [fine, coarse, ...ws] = line.split(' ');
      expect(Number(fine)).toBe(k);
      expect(Number.isInteger(Number(coarse))).toBe(true);
      for (const w of ws) {
        expect(w).toMatch(/^\p{Ll}[\p{Ll}'-]*\p{Ll}$/u);
        expect(seen.has(w)).toBe(false);
        seen.add(w);
      }
    });
    expect(seen.size).toBeGreaterThan(50_000);
  });

  it('gives an unknown word and a missing neighbour their own features, so the table stays in bounds', () => {
    const text = 'Qzxv';
    const fs = features(text, words(text), 0);
    for (const b of fs) expect(b).toBeLessThan(1 << BITS);
  });
});

describe('the weights', () => {
  it('rule: weights of the wrong size stop detection with an error naming the file, never a silent fall back to the rules alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ward-weights-'));
    const file = join(dir, 'tagger.bin');
    writeFileSync(file, Buffer.alloc(100));
    vi.stubEnv('WARD_TAGGER_WEIGHTS', file);
    vi.resetModules();
    try {
      const fresh = await import('./tagger.js');
      expect(() => fresh.detectTagged('Seen by Zolvarit Quenneby today', new Findings())).toThrow(/tagger weights .* hold 100 bytes/);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
