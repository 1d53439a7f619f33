import { describe, expect, it } from 'vitest';
import { applyMask } from './mask.js';
import { type FieldTypeName, fieldType } from './types.js';

const parse = (t: FieldTypeName, v: unknown, values?: string[]) => fieldType(t, values).parse(v);
const accepts = (t: FieldTypeName, v: unknown) => expect(parse(t, v).ok, `${t} should accept ${String(v)}`).toBe(true);
const rejects = (t: FieldTypeName, v: unknown) => {
  const r = parse(t, v);
  expect(r.ok, `${t} should reject ${String(v)}`).toBe(false);
  if (!r.ok && typeof v === 'string' && v.length > 3) expect(r.reason).not.toContain(v);
};

describe('Safe Harbor masks', () => {
  it('year: a year that could reveal an age over 89 is the category "90 or older"', () => {
    const now = new Date().getUTCFullYear();
    expect(applyMask('year', `${now - 89}-12-31`)).toBe(String(now - 89));
    expect(applyMask('year', `${now - 90}-01-01`)).toBe('90 or older');
    expect(applyMask('year', '1921-05-06')).toBe('90 or older');
  });

  it('zip3: the 17 three-digit areas of 20,000 people or fewer become 000', () => {
    for (const sparse of [
      '036',
      '059',
      '063',
      '102',
      '203',
      '556',
      '692',
      '790',
      '821',
      '823',
      '830',
      '831',
      '878',
      '879',
      '884',
      '890',
      '893',
    ])
      expect(applyMask('zip3', `${sparse}01`)).toBe('000**');
    expect(applyMask('zip3', '02139')).toBe('021**');
    expect(applyMask('zip3', '03701')).toBe('037**');
  });

  it('age: over 89 is the category "90 or older"', () => {
    expect([applyMask('age', 89), applyMask('age', 90), applyMask('age', 104)]).toEqual(['89', '90 or older', '90 or older']);
  });
});

describe('field types', () => {
  it('ssn: accepts issued shapes, rejects never-issued numbers, stores NNN-NN-NNNN', () => {
    expect(parse('ssn', '123456789')).toEqual({ ok: true, value: '123-45-6789' });
    accepts('ssn', '665-01-0001');
    for (const v of ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000', '12-345-6789', '1234567890', 123456789])
      rejects('ssn', v);
  });

  it('date: only real calendar dates as YYYY-MM-DD', () => {
    accepts('date', '2024-02-29');
    for (const v of ['2023-02-29', '2024-13-01', '2024-1-01', '01/02/2024', '2024-04-31']) rejects('date', v);
  });

  it('icd10: a letter, two characters, up to four after a dot; age: whole years 0 to 150', () => {
    expect(parse('icd10', 'e11.9')).toEqual({ ok: true, value: 'E11.9' });
    for (const v of ['I10', 'J45.909', 'Z00.00']) accepts('icd10', v);
    for (const v of ['E11.9 Type 2 diabetes', '119.0', 'E1', 'E11.12345']) rejects('icd10', v);
    accepts('age', 0);
    accepts('age', 104);
    for (const v of [-1, 151, 3.5, '42']) rejects('age', v);
  });

  it('email, phone, zip, mrn, name', () => {
    accepts('email', 'a.b+c@example.co.uk');
    for (const v of ['nope', 'a@b', '@example.org', 'a b@example.org']) rejects('email', v);
    accepts('phone', '+1 (617) 555-0100');
    for (const v of ['555-0100', '12345678901234567', 'call me']) rejects('phone', v);
    accepts('zip', '02139');
    accepts('zip', '02139-1234');
    for (const v of ['2139', '021391', 'ABCDE']) rejects('zip', v);
    accepts('mrn', 'MRN-0001');
    for (const v of ['M', 'MRN 0001', '-MRN']) rejects('mrn', v);
    accepts('name', "Zoë O'Neil-Smith");
    for (const v of ['R2D2', '', '   ', 'x'.repeat(201)]) rejects('name', v);
  });

  it('string types refuse NUL and unpaired surrogates (PostgreSQL cannot store them), keep real pairs', () => {
    for (const t of ['string', 'text', 'name'] as const) {
      for (const v of ['Ann\u0000Lee', 'Ann \ud800', '\udc00Ann', 'Ann\ud83d']) {
        const r = parse(t, v);
        expect(r).toEqual({ ok: false, reason: 'must be Unicode text without NUL characters or unpaired surrogates' });
      }
    }
    accepts('string', 'Ann \u{1F600}');
    accepts('text', 'line one\nline two');
  });

  it('scalars and enums check their type', () => {
    accepts('integer', 3);
    for (const v of [3.5, '3', Number.MAX_SAFE_INTEGER + 2]) rejects('integer', v);
    accepts('number', 3.5);
    rejects('number', Number.NaN);
    accepts('boolean', false);
    rejects('boolean', 'yes');
    expect(parse('enum', 'gold', ['gold', 'silver']).ok).toBe(true);
    expect(parse('enum', 'tin', ['gold', 'silver'])).toEqual({ ok: false, reason: 'must be one of: gold, silver' });
  });

  it('normalizes for equality: case, spacing and punctuation do not matter', () => {
    expect(fieldType('name').normalize('  Ada   LOVELACE ')).toBe(fieldType('name').normalize('ada lovelace'));
    expect(fieldType('ssn').normalize('123-45-6789')).toBe('123456789');
    expect(fieldType('phone').normalize('+1 (617) 555-0100')).toBe(fieldType('phone').normalize('617.555.0100'));
    expect(fieldType('email').normalize('Ada@Example.ORG')).toBe('ada@example.org');
    expect(fieldType('mrn').normalize('mrn-1')).toBe('MRN-1');
  });
});

describe('masks', () => {
  it('keep only what their name promises', () => {
    expect(applyMask('last4', '123-45-6789')).toBe('***-**-6789');
    expect(applyMask('last4', '+1 617 555 0142')).toBe('****0142');
    expect(applyMask('initials', 'Ada Lovelace')).toBe('A. L.');
    expect(applyMask('email', 'ada@example.org')).toBe('a***@example.org');
    expect(applyMask('year', '1961-07-04')).toBe('1961');
    expect(applyMask('zip3', '02139')).toBe('021**');
    expect(applyMask('full', 'anything')).toBe('****');
  });
});
