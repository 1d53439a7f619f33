import { describe, expect, it } from 'vitest';
import { isCardNumber, isDate, isSsn, isVin, luhn } from './checks.js';

describe('checksums and validity rules', () => {
  it('luhn accepts valid check digits and rejects a changed digit', () => {
    expect(luhn('4532015112830366')).toBe(true);
    expect(luhn('4532015112830367')).toBe(false);
    expect(luhn('79927398713')).toBe(true);
  });

  it('card numbers need an issuer prefix, 13-19 digits and a valid Luhn digit', () => {
    for (const n of ['4532 0151 1283 0366', '5425-2334-3010-9903', '371449635398431', '6011000990139424', '2223000048400011'])
      expect(isCardNumber(n), n).toBe(true);
    expect(isCardNumber('4532 0151 1283 0367')).toBe(false); // Luhn fails
    expect(isCardNumber('1700000000000')).toBe(false); // an epoch in ms: no issuer starts with 1
    expect(isCardNumber('0000000000000000')).toBe(false);
    expect(isCardNumber('4111')).toBe(false);
  });

  it('VINs need their check digit (position 9)', () => {
    expect(isVin('1HGCM82633A004352')).toBe(true);
    expect(isVin('1M8GDM9AXKP042788')).toBe(true); // check digit X
    expect(isVin('1HGCM82643A004352')).toBe(false);
    expect(isVin('1HGCM82633A00435')).toBe(false);
    expect(isVin('1HGCM8263IA004352')).toBe(false); // I never appears in a VIN
  });

  it('SSNs follow the SSA ranges', () => {
    expect(isSsn('219', '09', '9999')).toBe(true);
    expect(isSsn('000', '12', '3456')).toBe(false);
    expect(isSsn('666', '12', '3456')).toBe(false);
    expect(isSsn('912', '12', '3456')).toBe(false);
    expect(isSsn('123', '00', '3456')).toBe(false);
    expect(isSsn('123', '45', '0000')).toBe(false);
  });

  it('dates must exist', () => {
    expect(isDate(2024, 2, 29)).toBe(true);
    expect(isDate(2023, 2, 29)).toBe(false);
    expect(isDate(2023, 13, 1)).toBe(false);
    expect(isDate(1700, 1, 1)).toBe(false);
  });
});
