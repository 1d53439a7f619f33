/** The detector against the labeled set (built dist/, as `npm run eval:detect` runs it): the targets hold; the devset is sound. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { buildDevset, OUT, WNUT_DIR } from '../../scripts/devset/build.mjs';
// @ts-expect-error: a plain .mjs script without types
import { COUNTRIES, US_STATES } from '../../scripts/devset/lexicon.mjs';
// @ts-expect-error: a plain .mjs script without types
import { LOCALES } from '../../scripts/devset/locales.mjs';
// @ts-expect-error: a plain .mjs script without types
import { reserved } from '../../scripts/devset/partition.mjs';
// @ts-expect-error: a plain .mjs script without types
import { slotsFor } from '../../scripts/devset/values.mjs';
// @ts-expect-error: a plain .mjs script without types
import { evaluate, meetsTargets } from './eval.mjs';

interface Score {
  recallStructured: number;
  recallSoft: number;
  precision: number;
  cleanAlteredRate: number;
  unaligned: number;
}

interface Example {
  id: string;
  split: string;
  style: string;
  locale: string;
  source: string;
  template: string | null;
  text: string;
  spans: { type: string; start: number; end: number }[];
}

describe('detection quality on the labeled set', () => {
  const splits = evaluate() as Record<'dev' | 'holdout' | 'all', { ward: Score; redactPii: Score }>;

  it.each(['dev', 'holdout'] as const)('%s: recall, precision and PHI-free lines altered meet the targets', (split) => {
    const s = splits[split].ward;
    expect({ ...s, ok: meetsTargets(s) }).toMatchObject({ ok: true });
  });

  it('redact-pii runs offline in the same process and every one of its outputs aligns with its input', () => {
    expect(splits.all.redactPii.unaligned).toBe(0);
    expect(splits.all.redactPii.recallStructured).toBeGreaterThan(0);
  });
});

describe('the development set', () => {
  const files = { tune: readFileSync(join(OUT, 'tune.jsonl'), 'utf8'), apart: readFileSync(join(OUT, 'apart.jsonl'), 'utf8') };
  const parse = (text: string): Example[] =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const tune = parse(files.tune);
  const apart = parse(files.apart);
  const generated = [...tune, ...apart].filter((e) => e.source === 'generated');

  it('has at least 3,000 generated spans in at least six styles and five locales, and WNUT posts in both splits', () => {
    expect(generated.reduce((n, e) => n + e.spans.length, 0)).toBeGreaterThanOrEqual(3000);
    expect(new Set(generated.map((e) => e.style)).size).toBeGreaterThanOrEqual(6);
    expect(new Set(generated.map((e) => e.locale)).size).toBeGreaterThanOrEqual(5);
    expect(tune.some((e) => e.source === 'wnut17-train') && apart.some((e) => e.source === 'wnut17-dev')).toBe(true);
  });

  it('has at least 30% PHI-free generated texts', () => {
    expect(generated.filter((e) => !e.spans.length).length / generated.length).toBeGreaterThanOrEqual(0.3);
  });

  it('keeps every span inside its text, sorted and non-overlapping', () => {
    for (const e of [...tune, ...apart]) {
      let end = 0;
      for (const s of e.spans) {
        expect(s.start >= end && s.end > s.start && s.end <= e.text.length, e.id).toBe(true);
        end = s.end;
      }
    }
  });

  it('tune and apart share no template', () => {
    const templates = (exs: Example[]) => new Set(exs.map((e) => e.template).filter(Boolean));
    const apartTemplates = templates(apart);
    expect([...templates(tune)].filter((t) => apartTemplates.has(t))).toEqual([]);
  });

  it('apart cities are all reserved values and tune cities none', () => {
    // States, provinces and countries are closed lists that both splits share.
    const regions = new Set<string>([...US_STATES, ...COUNTRIES, 'ON']);
    const cities = (exs: Example[]) =>
      exs
        .filter((e) => e.source === 'generated')
        .flatMap((e) => e.spans.filter((s) => s.type === 'LOCATION').map((s) => e.text.slice(s.start, s.end)))
        .filter((c) => !regions.has(c));
    expect(cities(apart).filter((c) => !reserved(c))).toEqual([]);
    expect(cities(tune).filter((c) => reserved(c))).toEqual([]);
  });

  it.each(Object.keys(LOCALES))('%s: apart draws first names, surnames and cities only from reserved values, tune never', (locale) => {
    const f = LOCALES[locale].faker;
    f.seed(7);
    const apartSlots = slotsFor(locale, 'apart', f);
    const tuneSlots = slotsFor(locale, 'tune', f);
    for (let i = 0; i < 200; i++)
      for (const slot of ['first', 'last', 'city']) {
        expect(reserved(apartSlots[slot]()[1])).toBe(true);
        expect(reserved(tuneSlots[slot]()[1])).toBe(false);
      }
  });

  // The WNUT-17 posts come from ../shared/corpora/wnut17 beside the checkout; where that is absent
  // (a clone on its own, as in CI) the generated part, which is all that code produces, is compared.
  it('is rebuilt byte for byte by the builder (npm run devset)', () => {
    const whole = existsSync(WNUT_DIR);
    const built = buildDevset({ wnut: whole });
    const generatedOnly = (jsonl: string) =>
      `${jsonl
        .split('\n')
        .filter((l: string) => l.includes('"source":"generated"'))
        .join('\n')}\n`;
    const expected = whole ? files : { tune: generatedOnly(files.tune), apart: generatedOnly(files.apart) };
    expect(built.tune === expected.tune && built.apart === expected.apart).toBe(true);
  });
});
