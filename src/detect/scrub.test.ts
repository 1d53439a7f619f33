import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detect, runRules } from './detect.js';
import { isPhiFree, scrub } from './scrub.js';
import { PHI_TYPES, placeholder } from './types.js';

describe('scrub', () => {
  it('replaces each finding with its typed placeholder and keeps the rest', () => {
    expect(scrub('Patient John Whitaker, SSN 219-09-9999, seen 03/14/2023 at Grady Memorial Hospital.')).toBe(
      'Patient [NAME], SSN [SSN], seen [DATE] at [FACILITY].',
    );
    expect(scrub('call (617) 555-0142 or jane.doe@example.org')).toBe('call [PHONE] or [EMAIL]');
    expect(scrub('VIN 1HGCM82633A004352, card 4532 0151 1283 0366, MRN: 00482913')).toBe('VIN [VEHICLE], card [CARD], MRN: [MRN]');
  });

  it('every type has a bracketed placeholder', () => {
    for (const t of PHI_TYPES) expect(placeholder(t)).toBe(`[${t}]`);
  });

  it('leaves PHI-free text untouched (same string)', () => {
    const text = '2023-11-14T10:15:30.123Z INFO http GET /v1/collections/patients/records/0190a8e2-7c1d-7e4f-9a3b-1c2d3e4f5a6b 200 8ms';
    expect(scrub(text)).toBe(text);
  });

  it('is idempotent: placeholders are PHI-free', () => {
    const once = scrub('Mr. Abdullah Rahimi, DOB 3/9/1988, lives at 775 Juniper Lane, Boulder, CO 80302');
    expect(scrub(once)).toBe(once);
    for (const t of PHI_TYPES) expect(isPhiFree(placeholder(t))).toBe(true);
  });
});

describe('isPhiFree', () => {
  it('accepts topic names, header values and metric labels without PHI', () => {
    for (const s of ['ward.patients.v1', 'application/json', 'http_requests_total{route="/v1/records/:id",status="200"}', 'Bearer'])
      expect(isPhiFree(s), s).toBe(true);
  });

  it('rejects any string that holds an identifier', () => {
    for (const s of ['patients.219-09-9999', 'x-patient: John Whitaker', 'jane.doe@example.org']) expect(isPhiFree(s), s).toBe(false);
  });
});

// The logger scrubs a record in one pass over its strings joined with NUL: that is only safe if
// joining never hides a finding that a string has on its own.
describe('joining strings with NUL never hides a finding', () => {
  const samples = [
    'Patient John Whitaker',
    'name=Ada Example',
    'SSN 219-09-9999',
    'https://x.example.org/p?id=1',
    'seen 03/14/2023',
    'Quincy, MA 02169',
    'Dr. Okafor',
    'request completed',
    '200',
    'GET',
    'MRN: 00482913',
    'lives in Tucson',
    '"patient":"Harriet Nakamura"',
    'card 4532 0151 1283 0366',
  ];
  it('holds for every ordered pair of sample strings', () => {
    for (const a of samples)
      for (const b of samples) {
        const alone = detect(a).length + detect(b).length;
        if (alone) expect(detect(`${a}\u0000${b}`).length, `${a} | ${b}`).toBeGreaterThan(0);
      }
  });
});

describe('the prefilter', () => {
  const fixtures = join(import.meta.dirname, '../../test/fixtures/detect');
  const lines = ['dev', 'holdout', 'stress'].flatMap((split) =>
    readdirSync(join(fixtures, split)).flatMap((f) =>
      readFileSync(join(fixtures, split, f), 'utf8')
        .replace(/⟦[A-Z_]+:|⟧/g, '')
        .split('\n'),
    ),
  );
  it('never hides a finding the rules would report: every labeled line, and every window of it', () => {
    for (const line of lines) {
      expect(detect(line), line).toEqual(runRules(line));
      for (let i = 0; i < line.length; i += 7) {
        const w = line.slice(i, i + 24);
        expect(detect(w), w).toEqual(runRules(w));
      }
    }
  });
});
