/** The detector against the labeled set (built dist/, as `npm run eval:detect` runs it): the targets hold. */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { evaluate, meetsTargets } from './eval.mjs';

interface Score {
  recallStructured: number;
  recallSoft: number;
  precision: number;
  cleanAlteredRate: number;
  unaligned: number;
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
