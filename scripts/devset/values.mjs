/**
 * Slot values for templates: `slotsFor(locale, split, f)` maps each slot name to a function
 * returning [type, value] (type null for PHI-free look-alikes). Person names, cities and the
 * proper nouns of facility names come only from the split's side of the value partition.
 */
import * as ids from './ids.mjs';
import * as lex from './lexicon.mjs';
import { ibanCountry, LOCALES } from './locales.mjs';
import { sideOf } from './partition.mjs';

const cache = new Map();
/** A list filtered to one side of the partition, computed once per list and split. */
function side(key, list, split) {
  const k = `${key}/${split}`;
  if (!cache.has(k)) {
    const out = sideOf([...new Set(list)].sort(), split);
    if (!out.length) throw new Error(`no ${split} values in ${key}`);
    cache.set(k, out);
  }
  return cache.get(k);
}

const flat = (d) => (Array.isArray(d) ? d : Object.values(d).flat());
// Name lists of a faker locale (patterns such as "{{person.last_name}}" left out).
const names = (faker, kind) => flat(faker.definitions.person[kind]).filter((n) => !n.includes('{'));

const FR_SAINTS = ['Louis', 'Antoine', 'Joseph', 'Jacques', 'Pierre', 'Vincent', 'Anne', 'Camille', 'Roch', 'Éloi', 'Martin', 'Luc'];
const DE_SAINTS = [
  'Marien',
  'Josef',
  'Elisabeth',
  'Vinzenz',
  'Franziskus',
  'Hedwig',
  'Anna',
  'Martinus',
  'Antonius',
  'Barbara',
  'Johannes',
  'Georg',
];
const ES_SAINTS = ['Juan de Dios', 'Rafael', 'Pedro', 'Carlos', 'Jorge', 'Pablo', 'Cecilio', 'Agustín', 'Millán', 'Roque', 'Eloy', 'Telmo'];
const IT_SAINTS = [
  'Raffaele',
  'Gerardo',
  'Giovanni Bosco',
  'Camillo',
  'Luca',
  'Martino',
  'Matteo',
  'Donato',
  'Paolo',
  'Bortolo',
  'Andrea',
  'Salvatore',
];
const NL_SAINTS = [
  'Antonius',
  'Franciscus',
  'Jansdal',
  'Anna',
  'Elisabeth',
  'Lucas',
  'Maartens',
  'Jozef',
  'Catharina',
  'Radboud',
  'Gerardus',
  'Willibrord',
];

/** Slot functions for one locale and split; `f` is the seeded faker instance. */
export function slotsFor(locale, split, f) {
  const L = LOCALES[locale];
  const pick = (key, list) => f.helpers.arrayElement(side(key, list, split));
  const nameFaker = () => f.helpers.arrayElement(L.nameFakers ?? [L.faker]);
  const first = () => {
    const nf = nameFaker();
    return pick(`first/${nf.definitions.metadata?.code ?? locale}`, names(nf, 'first_name'));
  };
  const last = () => {
    const nf = nameFaker();
    return pick(`last/${nf.definitions.metadata?.code ?? locale}`, names(nf, 'last_name'));
  };
  const city = () => pick(`city/${locale}`, L.cities);
  const date = (minY = 1930, maxY = 2025) => {
    const dt = { d: f.number.int({ min: 1, max: 28 }), m: f.number.int({ min: 1, max: 12 }), y: f.number.int({ min: minY, max: maxY }) };
    return f.helpers.arrayElement(L.dates)(dt, L.months);
  };
  const street = (unit) => {
    const s = L.faker.location.streetAddress(false);
    if (!unit) return s;
    const u = f.helpers.arrayElement(['Apt. ', 'Apt ', 'Suite ', 'Unit ', '#', 'Ste ']) + f.number.int({ min: 1, max: 999 });
    return `${s}${f.datatype.boolean() ? ', ' : ' '}${u}`;
  };
  const phone = () => L.faker.phone.number({ style: f.helpers.arrayElement(['human', 'national', 'national']) });
  const intlPhone = () => {
    const national = L.faker.phone
      .number({ style: 'national' })
      .replace(/^\(?0?/, '')
      .replace(/\)/, '');
    return `${f.helpers.arrayElement(['+', '+', '00'])}${L.phoneCC} ${national}`;
  };
  const domain = () =>
    `${f.helpers.arrayElement([last().toLowerCase(), `st${pick('saint', lex.SAINTS).toLowerCase()}s`, pick('fword', lex.FACILITY_WORDS).toLowerCase().replace(/ /g, '')])}${f.helpers.arrayElement(['-clinic', '-health', 'medical', '-md', 'care', ''])}.${f.helpers.arrayElement(['org', 'com', 'net', L.country.toLowerCase()])}`
      .normalize('NFD')
      .replace(/[^\x20-\x7e]/g, '');
  const facility = () => {
    const C = city();
    const byLocale = {
      'en-GB': [
        `${C} Royal Infirmary`,
        `St ${pick('saint', lex.SAINTS)}'s Hospital`,
        `${C} General Hospital`,
        `Royal ${C} Hospital`,
        `${pick('fword', lex.FACILITY_WORDS)} Surgery`,
      ],
      de: [`Klinikum ${C}`, `Universitätsklinikum ${C}`, `St.-${pick('de-saint', DE_SAINTS)}-Hospital`, `Kreiskrankenhaus ${C}`],
      fr: [`CHU de ${C}`, `Hôpital Saint-${pick('fr-saint', FR_SAINTS)}`, `Centre hospitalier de ${C}`, `Clinique du Parc ${C}`],
      es: [`Hospital Universitario de ${C}`, `Hospital San ${pick('es-saint', ES_SAINTS)}`, `Centro de Salud ${C}`, `Clínica ${C}`],
      it: [`Ospedale San ${pick('it-saint', IT_SAINTS)}`, `Policlinico di ${C}`, `Ospedale Civile di ${C}`, `ASL ${C}`],
      nl: [`Ziekenhuis ${C}`, `Sint ${pick('nl-saint', NL_SAINTS)} Ziekenhuis`, `UMC ${C}`, `Huisartsenpraktijk ${C}`],
    };
    const us = [
      `${C} ${f.helpers.arrayElement(lex.FACILITY_KINDS)}`,
      `St. ${pick('saint', lex.SAINTS)}'s ${f.helpers.arrayElement(['Hospital', 'Medical Center', 'Regional'])}`,
      `${pick('fword', lex.FACILITY_WORDS)} ${f.helpers.arrayElement(lex.FACILITY_KINDS)}`,
      pick('fshort', lex.FACILITY_SHORT),
    ];
    return f.helpers.arrayElement(byLocale[locale] ?? us);
  };
  const fullName = () => `${first()} ${last()}`;
  const P = (type, fn) => () => [type, fn()];
  const N = (fn) => () => [null, String(fn())];
  const lab = () => {
    const [n, u, lo, hi, d] = f.helpers.arrayElement(lex.LABS);
    return `${n} ${f.number.float({ min: lo, max: hi }).toFixed(d)}${u ? ` ${u}` : ''}`;
  };
  const hex = (n) => f.string.hexadecimal({ length: n, casing: 'lower', prefix: '' });
  return {
    // Persons, in the ways text writes them.
    name: P('NAME', fullName),
    first: P('NAME', first),
    last: P('NAME', last),
    iname: P('NAME', () => `${first()[0]}. ${last()}`),
    rname: P('NAME', () => (f.datatype.boolean() ? `${last()}, ${first()}` : `${last()} ${first()[0]}`)),
    lname: P('NAME', () => fullName().toLowerCase()),
    uname: P('NAME', () => `${last().toUpperCase()}, ${first().toUpperCase()}`),
    // Places.
    street: P('ADDRESS', () => street(f.number.int(3) === 0)),
    ustreet: P('ADDRESS', () => street(true)),
    pobox: P(
      'ADDRESS',
      () =>
        `${{ de: 'Postfach', fr: 'BP', es: 'Apartado', it: 'Casella postale', nl: 'Postbus' }[locale] ?? 'PO Box'} ${f.number.int({ min: 10, max: 9999 })}`,
    ),
    city: P('LOCATION', city),
    zip: P('ZIP', () => L.faker.location.zipCode()),
    fac: P('FACILITY', facility),
    fshort: P('FACILITY', () => pick('fshort', lex.FACILITY_SHORT)),
    // Dates and ages.
    date: P('DATE', () => date(2015, 2025)),
    dob: P('DATE', () => date(1925, 2020)),
    age: P('AGE', () => String(f.number.int({ min: 90, max: 104 }))),
    // Contact and network.
    phone: P('PHONE', phone),
    iphone: P('PHONE', intlPhone),
    email: P('EMAIL', () =>
      L.faker.internet
        .email({ firstName: first(), lastName: last() })
        .toLowerCase()
        .normalize('NFD')
        .replace(/[^\x20-\x7e]/g, ''),
    ),
    domain: P('URL', domain),
    url: P(
      'URL',
      () =>
        `${f.helpers.arrayElement(['https://', 'http://', 'https://www.', 'www.'])}${domain()}${f.helpers.arrayElement(['', '/', '/portal/login', `/patients/${f.number.int(99999)}`, '/contact'])}`,
    ),
    ip: P('IP', () => (f.number.int(5) === 0 ? f.internet.ipv6() : f.internet.ipv4())),
    // Numbers that identify.
    ssn: P('SSN', () => ids.ssn(f)),
    mrn: P('MRN', () =>
      f.helpers.arrayElement([
        ids.digits(f, 8),
        ids.digits(f, 7),
        `E${ids.digits(f, 7)}`,
        `${ids.digits(f, 2)}-${ids.digits(f, 3)}-${ids.digits(f, 3)}`,
        `MR${ids.digits(f, 6)}`,
        `${ids.letters(f, 1)}${ids.digits(f, 9)}`,
      ]),
    ),
    hp: P('HEALTH_PLAN', () =>
      f.helpers.arrayElement([
        ids.mbi(f),
        `${ids.letters(f, 3)}${ids.digits(f, 9)}`,
        `W${ids.digits(f, 9)}`,
        `${ids.letters(f, 3)}-${ids.digits(f, 8)}`,
        `${ids.letters(f, 1)}${ids.digits(f, 9)}`,
      ]),
    ),
    mbi: P('HEALTH_PLAN', () => ids.mbi(f)),
    acct: P('ACCOUNT', () =>
      ibanCountry(locale) && f.datatype.boolean() ? ids.iban(f, ibanCountry(locale)) : ids.digits(f, f.number.int({ min: 8, max: 12 })),
    ),
    iban: P('ACCOUNT', () => ids.iban(f, ibanCountry(locale) ?? f.helpers.arrayElement(['DE', 'FR', 'NL', 'GB']))),
    lic: P('LICENSE', () => L.license(f)),
    vin: P('VEHICLE', () => ids.vin(f)),
    plate: P('VEHICLE', () => L.plate(f)),
    dev: P('DEVICE', () =>
      f.helpers.arrayElement([
        `${ids.letters(f, 2)}${ids.digits(f, 8)}`,
        `${ids.letters(f, 2)}-${ids.digits(f, 4)}-${ids.digits(f, 4)}-${ids.digits(f, 2)}`,
        `${ids.letters(f, 3)}${ids.digits(f, 6)}${ids.letters(f, 1)}`,
      ]),
    ),
    card: P('CARD', () => ids.card(f)),
    // PHI-free look-alikes.
    epo: N(() => pick('eponym', lex.EPONYMS)),
    drug: N(() => pick('drug', lex.DRUGS)),
    gen: N(() => f.helpers.arrayElement(lex.GENERICS)),
    dose: N(
      () =>
        `${f.helpers.arrayElement([2.5, 5, 10, 20, 25, 40, 50, 100, 250, 500, 1000])} ${f.helpers.arrayElement(lex.UNITS)} ${f.helpers.arrayElement(lex.FREQ)}`,
    ),
    lab: N(lab),
    icd: N(() => f.helpers.arrayElement(lex.ICD)),
    cpt: N(() => f.helpers.arrayElement(lex.CPT)),
    loinc: N(() => f.helpers.arrayElement(lex.LOINC)),
    ver: N(() => `${f.number.int(9)}.${f.number.int(30)}.${f.number.int(20)}`),
    uuid: N(() => f.string.uuid()),
    hash: N(() => hex(f.helpers.arrayElement([7, 12, 40, 64]))),
    ts: N(
      () =>
        `2024-${String(f.number.int({ min: 1, max: 12 })).padStart(2, '0')}-${String(f.number.int({ min: 1, max: 28 })).padStart(2, '0')}T${String(f.number.int(23)).padStart(2, '0')}:${String(f.number.int(59)).padStart(2, '0')}:${String(f.number.int(59)).padStart(2, '0')}.${ids.digits(f, 3)}Z`,
    ),
    epoch: N(() => 1700000000000 + f.number.int(99999999999)),
    path: N(
      () =>
        `/${f.helpers.arrayElement(['v1', 'api/v2', 'fhir/r4'])}/${f.helpers.arrayElement(['records', 'collections', 'Observation', 'jobs', 'exports'])}/${f.string.uuid()}`,
    ),
    comp: N(() => pick('company', lex.COMPANIES)),
    prod: N(() => pick('product', lex.PRODUCTS)),
    // States and countries are places (Ward masks them; Safe Harbor permits, not requires, keeping them).
    state: P('LOCATION', () => f.helpers.arrayElement(lex.US_STATES)),
    sname: P('LOCATION', () => f.helpers.arrayElement(lex.US_STATES.filter((s) => s.length > 2))),
    country: P('LOCATION', () => f.helpers.arrayElement(lex.COUNTRIES)),
    prov: P('LOCATION', () => 'ON'),
    year: N(() => f.number.int({ min: 1990, max: 2025 })),
    n: N(() => f.number.int({ min: 2, max: 60 })),
    yage: N(() => f.number.int({ min: 18, max: 88 })),
    ms: N(() => f.number.int({ min: 1, max: 2500 })),
    status: N(() => f.helpers.arrayElement([200, 201, 204, 400, 401, 403, 404, 409, 422, 500, 503])),
    host: N(() => `${f.helpers.arrayElement(['api', 'worker', 'sync', 'gw'])}-${hex(4)}`),
    req: N(() => `req-${hex(6)}`),
    time: N(() => `${String(f.number.int({ min: 7, max: 19 })).padStart(2, '0')}:${f.helpers.arrayElement(['00', '15', '30', '45'])}`),
  };
}
