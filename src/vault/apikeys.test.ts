import { describe, expect, it } from 'vitest';
import { isWardError } from '../errors.js';
import { expiryFrom } from './apikeys.js';

const NOW = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe('expiryFrom', () => {
  it('counts hours, days, weeks and years from now', () => {
    expect(expiryFrom('12h', NOW).getTime()).toBe(NOW + 12 * HOUR);
    expect(expiryFrom('90d', NOW).getTime()).toBe(NOW + 90 * 24 * HOUR);
    expect(expiryFrom('2w', NOW).getTime()).toBe(NOW + 2 * 168 * HOUR);
    expect(expiryFrom('1y', NOW).getTime()).toBe(NOW + 8760 * HOUR);
  });

  it.each(['', '90', 'd', '0d', '00h', '-1d', '1.5d', '90days', '90D', ' 90d', '123456d', 'soon'])(
    'refuses %j with a message naming the option',
    (bad) => {
      let err: unknown;
      try {
        expiryFrom(bad, NOW);
      } catch (e) {
        err = e;
      }
      expect(isWardError(err) && err.code).toBe('invalid_request');
      expect((err as Error).message).toBe('--expires must be a duration such as 12h, 90d, 2w or 1y');
    },
  );
});
