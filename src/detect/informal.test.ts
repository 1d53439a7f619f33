/** States and countries as places, lower-case names in chat, and form fields in several languages. */
import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import { informalNames } from './names.js';
import { Findings } from './patterns.js';

const found = (text: string) => detect(text).map((f) => `${f.type}:${text.slice(f.start, f.end)}`);

describe('states and countries are places', () => {
  it.each([
    ['Moved from Florida to Texas in 2019.', ['LOCATION:Florida', 'LOCATION:Texas']],
    ['Returned from Germany last week.', ['LOCATION:Germany']],
    ['Springfield, IL 62704', ['LOCATION:Springfield', 'LOCATION:IL', 'ZIP:62704']],
    ['Fort Collins CO 80521', ['LOCATION:Fort Collins CO', 'ZIP:80521']],
    ['Location: Toronto, Ontario, CANADA', ['LOCATION:Toronto', 'LOCATION:Ontario', 'LOCATION:CANADA']],
    ['Vegas for the weekend, then Philly', ['LOCATION:Vegas', 'LOCATION:Philly']],
  ])('%s', (text, want) => expect(found(text)).toEqual(want));

  it.each(['Georgia called back about her results.', 'Signed: Jane Roe, MD', 'Chad Smith reviewed the chart.', 'DIAGNOSIS: CHAD SYNDROME'])(
    'a name or a credential is not a state: %s',
    (text) => expect(found(text).filter((f) => f.startsWith('LOCATION'))).toEqual([]),
  );

  it.each([
    ['Georgia called back about her results.', 'NAME:Georgia'],
    ['Virginia asked about her labs.', 'NAME:Virginia'],
    ['She moved to Georgia last year.', 'LOCATION:Georgia'],
  ])('a state that is also a given name is the person unless a place word comes before it: %s', (text, want) =>
    expect(found(text)).toContain(want),
  );
});

describe('lower-case names in informal text', () => {
  const names = (text: string) => {
    const out = new Findings();
    informalNames(text, out);
    return out.list.map((f) => text.slice(f.start, f.end));
  };
  it.each([
    ["shut up, sam's coming tomorrow and steve and tanya will be round", ['sam', 'steve', 'tanya']],
    ['hey mike, call me', ['mike']],
    ['hanging out with tanya and kenny tonight', ['tanya', 'kenny']],
  ])('%s', (text, want) => expect(names(text)).toEqual(want));

  it.each(['continue with lasix and metoprolol', 'GET /api/v1/records 200 12ms user=admin', 'will call back tomorrow, mark the chart'])(
    'not a name: %s',
    (text) => expect(names(text)).toEqual([]),
  );
});

describe('form fields and letters in several languages', () => {
  it.each([
    ['Teléfono: 960 22 34 66', 'PHONE:960 22 34 66'],
    ['Para dudas llame al 932 59 27 18.', 'PHONE:932 59 27 18'],
    ['Vragen? Bel 0626254345.', 'PHONE:0626254345'],
    // The postcode is ZIP and the town LOCATION, apart from the street line (devset README).
    ['Adresse : 99 Allée des Panoramas, 27957 Cergy', 'ADDRESS:99 Allée des Panoramas'],
    ['Adresse : 99 Allée des Panoramas, 27957 Cergy', 'ZIP:27957'],
    ['Patient: Ezra Kuhic\n9 McCullough Place\nCharlestown of Aberlour', 'ADDRESS:9 McCullough Place'],
    ['Naam: Amin Lubbers\nEversdijk 1 Unit 364\n1812 UZ Leek', 'ADDRESS:Eversdijk 1 Unit 364'],
    ['Versicherte/r: Xqlo Vrenk, geb. 12.03.1960', 'NAME:Xqlo Vrenk'],
    ['Personne à prévenir : Xqlo Vrenk', 'NAME:Xqlo Vrenk'],
    ['Guarantor: Xqlo Vrenk', 'NAME:Xqlo Vrenk'],
  ])('%s', (text, want) => expect(found(text)).toContain(want));

  it.each(['Page 2 of 3. Version 1.2.', 'Appointment on 18-10-2017, call if delayed.', 'Seite 2 von 4\nStand 2021'])(
    'no phone or street: %s',
    (text) => expect(found(text).filter((f) => f.startsWith('PHONE') || f.startsWith('ADDRESS'))).toEqual([]),
  );
});

describe('text with no Title-case word', () => {
  it.each([
    ["sam's coming tomorrow and steve and tanya", ['NAME:steve', 'NAME:tanya']],
    ['pt ryan lehner c/o chest pain, transferred to UPMC for cath.', ['NAME:ryan lehner', 'FACILITY:UPMC']],
  ])('%s', (text, want) => expect(found(text)).toEqual(want));

  it.each(['GET /api/v1/users 200 3ms', "the job's cache was flushed", 'retry with backoff and jitter'])('nothing in %s', (text) =>
    expect(found(text)).toEqual([]),
  );
});

describe('phones a few words after a call-back verb, vehicle registrations', () => {
  it.each([
    ['puoi richiamare Alda al 08 6105 9703?', 'PHONE:08 6105 9703'],
    ['kun jij Roos terugbellen? 0610458607', 'PHONE:0610458607'],
    ['{"registration":"CD-LE 5193"}', 'VEHICLE:CD-LE 5193'],
    ['vehicle registration no. WK-789-ZN', 'VEHICLE:WK-789-ZN'],
  ])('%s', (text, want) => expect(found(text)).toContain(want));

  it.each(['Registration form GMS1 (2013).', 'call back in 2 weeks, 10 mg daily'])('nothing in %s', (text) =>
    expect(found(text).filter((f) => f.startsWith('PHONE') || f.startsWith('VEHICLE'))).toEqual([]),
  );
});
