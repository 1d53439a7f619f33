import { describe, expect, it } from 'vitest';
import { isBsn, isCodiceFiscale, isDni, isNhsNumber, isNino, isNir } from './checks.js';
import { detect } from './detect.js';
import type { PhiType } from './types.js';

/** The findings of `text` as "TYPE:value". */
const found = (text: string): string[] => detect(text).map((f) => `${f.type}:${text.slice(f.start, f.end)}`);
/** Whether every letter and digit of `value` is inside some finding (how the evaluation scores). */
const covered = (text: string, value: string): boolean => {
  const at = text.indexOf(value);
  const spans = detect(text);
  for (let i = at; i < at + value.length; i++)
    if (/[\p{L}\d]/u.test(text.charAt(i)) && !spans.some((f) => f.start <= i && i < f.end)) return false;
  return true;
};

const POSITIVES: [PhiType | 'ANY', string, string][] = [
  // Street lines outside the US forms, units, postcodes.
  ['ADDRESS', 'Wohnhaft Hauptstraße 12, Berlin', 'Hauptstraße 12'],
  ['ADDRESS', 'Adresse: Am Markt 3', 'Am Markt 3'],
  ['ADDRESS', 'Domicile 12 rue de la Paix', '12 rue de la Paix'],
  ['ANY', 'habite au 4 bis avenue Victor Hugo', '4 bis avenue Victor Hugo'],
  ['ADDRESS', 'vive en Calle Mayor 5, 3º B', 'Calle Mayor 5, 3º B'],
  ['ADDRESS', 'abita in Via Roma 10', 'Via Roma 10'],
  ['ADDRESS', 'woont op Kerkstraat 12', 'Kerkstraat 12'],
  ['ADDRESS', 'mora na Rua Augusta 45', 'Rua Augusta 45'],
  ['ADDRESS', 'lives in Apt. 595', 'Apt. 595'],
  ['ADDRESS', 'office at Suite 501', 'Suite 501'],
  ['ADDRESS', 'Lives at 6542 Dickens Roads #222, Norfolk', '6542 Dickens Roads #222'],
  ['ADDRESS', 'Address: 58623 Casper-Schiller Court Ste 277', '58623 Casper-Schiller Court Ste 277'],
  ['ZIP', 'London SW1A 1AA', 'SW1A 1AA'],
  ['ZIP', 'Ottawa ON K1A 0B1', 'K1A 0B1'],
  ['ZIP', 'Kerkstraat 12, 1012 AB Amsterdam', '1012 AB'],
  ['ZIP', 'Hauptstraße 12, 10115 Berlin', '10115'],
  ['ZIP', 'moved to Dallas 75201', '75201'],
  ['ZIP', '{"postalCode":"8430 CY"}', '8430 CY'],
  // Dates in other formats and languages.
  ['DATE', 'geboren am 3. März 2021', '3. März 2021'],
  ['DATE', 'né le 12 janvier 2020', '12 janvier 2020'],
  ['DATE', 'nacido el 15 de marzo de 2021', '15 de marzo de 2021'],
  ['DATE', 'geboren 3 maart 2021', '3 maart 2021'],
  ['DATE', 'seen 15-Mar-2021', '15-Mar-2021'],
  ['DATE', "seen Mar 3 '21", "Mar 3 '21"],
  ['DATE', 'Pat. Jakob, geb. 27.12.33, aufgenommen', '27.12.33'],
  // Health plan numbers.
  ['HEALTH_PLAN', 'MBI 1EG4-TE5-MK73 on file', '1EG4-TE5-MK73'],
  ['HEALTH_PLAN', 'card shows 1EG4TE5MK73', '1EG4TE5MK73'],
  ['HEALTH_PLAN', 'insurance card W123456789', 'W123456789'],
  ['HEALTH_PLAN', 'Member ID: XEH123456789', 'XEH123456789'],
  ['HEALTH_PLAN', 'Policy No. ABC12345', 'ABC12345'],
  ['HEALTH_PLAN', 'Beneficiary # 99912345', '99912345'],
  ['HEALTH_PLAN', 'Versichertennummer A123456780', 'A123456780'],
  ['HEALTH_PLAN', 'Health card ZTR-20421239', 'ZTR-20421239'],
  // Phones.
  ['PHONE', 'call +44 20 7946 0958 today', '+44 20 7946 0958'],
  ['PHONE', 'call +44 (0)20 7946 0958 today', '+44 (0)20 7946 0958'],
  ['PHONE', 'call 0044 20 7946 0958 today', '0044 20 7946 0958'],
  ['PHONE', 'Berlin +49 30 12345678', '+49 30 12345678'],
  ['PHONE', 'Paris +33 1 23 45 67 89', '+33 1 23 45 67 89'],
  ['PHONE', 'portable 06 12 34 56 78', '06 12 34 56 78'],
  ['PHONE', 'Telefon 030 1234567', '030 1234567'],
  ['PHONE', 'Móvil 612 34 56 78', '612 34 56 78'],
  ['PHONE', 'daughter (0113 039 0431) is the contact', '0113 039 0431'],
  ['PHONE', 'daughter (576.263.9577 x5393) is the contact', '576.263.9577 x5393'],
  ['PHONE', 'lookup Eloisa Pagan phone 908211342', '908211342'],
  // Accounts, licences, national IDs.
  ['ACCOUNT', 'IBAN DE89 3704 0044 0532 0130 00 please', 'DE89 3704 0044 0532 0130 00'],
  ['ACCOUNT', 'paid from GB29NWBK60161331926819', 'GB29NWBK60161331926819'],
  ['ACCOUNT', '{"account":"FR30 5788 5813 4575 2685 5249 723"}', 'FR30 5788 5813 4575 2685 5249 723'],
  ['LICENSE', 'DL# D1234567', 'D1234567'],
  ['LICENSE', 'CA DL D1234567', 'D1234567'],
  ['LICENSE', 'Führerschein B072RRE2I55', 'B072RRE2I55'],
  ['LICENSE', 'permis de conduire 12AB34567', '12AB34567'],
  ['MRN', 'NHS number 943 476 5919', '943 476 5919'],
  ['LICENSE', 'NINO QQ 12 34 56 C', 'QQ 12 34 56 C'],
  ['LICENSE', 'BSN 111222333', '111222333'],
  ['LICENSE', 'n° de sécurité sociale 1 84 12 76 451 089 46', '1 84 12 76 451 089 46'],
  ['LICENSE', 'NIR 184127645108946', '184127645108946'],
  ['LICENSE', 'DNI 12345678Z', '12345678Z'],
  ['LICENSE', 'NIE X1234567L', 'X1234567L'],
  ['LICENSE', 'codice fiscale RSSMRA85T10A562S', 'RSSMRA85T10A562S'],
  // Domain names.
  ['URL', 'contact stmarys-clinic.org for records', 'stmarys-clinic.org'],
  ['URL', 'email from mail.northwell.edu today', 'mail.northwell.edu'],
  ['URL', '{"portal":"https://stjudes.org/contact"}', 'https://stjudes.org/contact'],
  ['URL', '{"portal":"www.medhurst-clinic.org/contact"}', 'www.medhurst-clinic.org/contact'],
];

describe('structured and digit-led identifiers', () => {
  it.each(POSITIVES)('%s in %j', (type, text, value) => {
    expect(covered(text, value), found(text).join(' | ')).toBe(true);
    if (type !== 'ANY') expect(found(text)).toContain(`${type}:${value}`);
  });
});

const NEGATIVES = [
  'metformin 500 mg twice daily, insulin 10 units at bedtime',
  'HbA1c 7.2%, glucose 110 mg/dL, BP 120/80, Gleason 3+4',
  'Dx E11.9 and I10; CPT 99213; LOINC 4548-4',
  'upgraded to v2.3.1 on Node 20.11.1, build 2023.11.14, version 10.0.19045',
  'GET /api/users 200 12ms port 8080 latency 350 ms',
  'id 550e8400-e29b-41d4-a716-446655440000 sha 9f86d081884c7d659a2feaeb15d0b6',
  'epoch 1700000001234 and 1700000001234567, 45% done',
  'in 2019 the patient had 3 visits; at 10:30 took 2 tablets',
  'see index.js, config.json, README.md, app.py, Node.js and Vue.js',
  'req.body res.statusCode org.apache.kafka.clients log.info console.info socket.io',
  'Im Jahr 2020 wurde er operiert. During 3 visits. Spring 2021 cohort. String 5',
  'Ref.No 12345; went home.It was fine; e.g. 5 tablets',
  'Order AB123456C shipped; batch X1234567; part W123456789',
  'order 12345 Paris office; room 12345',
  'released 3 mai, 5 mars',
  'calling https://api.stripe.com/v1/charges and api.github.com',
  'ratio 16.9.25 in the config',
];

describe('look-alikes stay unreported', () => {
  it.each(NEGATIVES)('%j', (text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('check digits', () => {
  it('NHS number (mod 11)', () => {
    expect(isNhsNumber('9434765919')).toBe(true);
    expect(isNhsNumber('9434765918')).toBe(false);
  });
  it('French NIR (97 - n mod 97), Corsica too', () => {
    expect(isNir('1 84 12 76 451 089 46')).toBe(true);
    expect(isNir('184127645108947')).toBe(false);
  });
  it('Spanish DNI and NIE letters', () => {
    expect(isDni('12345678Z')).toBe(true);
    expect(isDni('12345678A')).toBe(false);
    expect(isDni('X1234567L')).toBe(true);
  });
  it('Dutch BSN (11-proof)', () => {
    expect(isBsn('111222333')).toBe(true);
    expect(isBsn('111222334')).toBe(false);
  });
  it('codice fiscale check letter', () => {
    expect(isCodiceFiscale('RSSMRA85T10A562S')).toBe(true);
    expect(isCodiceFiscale('RSSMRA85T10A562T')).toBe(false);
  });
  it('NINO prefixes', () => {
    expect(isNino('QQ 12 34 56 C')).toBe(true);
    expect(isNino('GB 12 34 56 C')).toBe(false);
    expect(isNino('QQ 12 34 56 E')).toBe(false);
  });
});
