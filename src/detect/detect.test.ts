/** Each detector: values it must find (with their type and exact span) and near misses it must not. */
import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import type { PhiType } from './types.js';

/** The typed spans found in `text`, as [type, value] pairs. */
const found = (text: string) => detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);

const positives: Record<string, [string, PhiType, string][]> = {
  ssn: [
    ['SSN 219-09-9999 on file', 'SSN', '219-09-9999'],
    ['ssn: 536228147', 'SSN', '536228147'],
    ['social security number 536 22 8147', 'SSN', '536 22 8147'],
  ],
  phone: [
    ['call (617) 555-0142 today', 'PHONE', '(617) 555-0142'],
    ['cell 617-555-0199', 'PHONE', '617-555-0199'],
    ['fax: 415.555.0133', 'PHONE', '415.555.0133'],
    ['to +1 312 555 0178 now', 'PHONE', '+1 312 555 0178'],
    ['"to":"+14155550123"', 'PHONE', '+14155550123'],
    ['UK office +44 20 7946 0958', 'PHONE', '+44 20 7946 0958'],
    ['phone 5085550112', 'PHONE', '5085550112'],
  ],
  email: [['write to jane.doe+clinic@outlook.com.', 'EMAIL', 'jane.doe+clinic@outlook.com']],
  url: [
    ['see https://mychart.example.org/patients/jwhitaker for details', 'URL', 'https://mychart.example.org/patients/jwhitaker'],
    ['GET https://partner.example.com/hook?patient=88213).', 'URL', 'https://partner.example.com/hook?patient=88213'],
  ],
  ip: [
    ['login from 198.51.100.23 failed', 'IP', '198.51.100.23'],
    ['client 2001:db8:85a3::8a2e:370:7334 connected', 'IP', '2001:db8:85a3::8a2e:370:7334'],
    ['peer fe80:0:0:0:202:b3ff:fe1e:8329', 'IP', 'fe80:0:0:0:202:b3ff:fe1e:8329'],
  ],
  date: [
    ['seen on 03/14/2023 for', 'DATE', '03/14/2023'],
    ['DOB: 07/22/1956.', 'DATE', '07/22/1956'],
    ['admitted 2023-01-09 via ED', 'DATE', '2023-01-09'],
    ['on April 2, 2023 at', 'DATE', 'April 2, 2023'],
    ['since Jan 17th, 2022', 'DATE', 'Jan 17th, 2022'],
    ['Colonoscopy 12 Aug 2021: normal', 'DATE', '12 Aug 2021'],
    ['born the 4th of July, 1941 in', 'DATE', '4th of July, 1941'],
    ['last colonoscopy June 2018, normal', 'DATE', 'June 2018'],
    ['Na 131 on 6/2, repeat', 'DATE', '6/2'],
    ['pre-op labs 11/21/23 drawn', 'DATE', '11/21/23'],
    ['surgery Nov. 28, 2023', 'DATE', 'Nov. 28, 2023'],
    ['dated 03.04.2021', 'DATE', '03.04.2021'],
  ],
  age: [
    ['a 92-year-old woman', 'AGE', '92'],
    ['94 yo F', 'AGE', '94'],
    ['96 y/o female', 'AGE', '96'],
    ['age: 101', 'AGE', '101'],
  ],
  zip: [
    ['Quincy, MA 02169 with', 'ZIP', '02169'],
    ['Dayton, Ohio 45402', 'ZIP', '45402'],
    ['zip code 80302', 'ZIP', '80302'],
    ['mail to 02115-1234', 'ZIP', '02115-1234'],
  ],
  address: [
    ['lives at 48 Harborview Drive, Quincy', 'ADDRESS', '48 Harborview Drive'],
    ['1200 W. Belmont Ave, Apt 3C, Chicago', 'ADDRESS', '1200 W. Belmont Ave, Apt 3C'],
    ['moved from 31 Oak St. last year', 'ADDRESS', '31 Oak St.'],
    ['office at 400 W 42nd St', 'ADDRESS', '400 W 42nd St'],
  ],
  location: [
    ['moved to Tucson after retiring', 'LOCATION', 'Tucson'],
    ['born in San Antonio and', 'LOCATION', 'San Antonio'],
    ['from Springfield, IL.', 'LOCATION', 'Springfield'],
    ['lives in Cook County now', 'LOCATION', 'Cook County'],
    ['moved to St. Louis last year', 'LOCATION', 'St. Louis'],
    ['a farm near Smallville, KS', 'LOCATION', 'Smallville'],
  ],
  facility: [
    ['transferred from Northwestern Memorial Hospital on', 'FACILITY', 'Northwestern Memorial Hospital'],
    ['seen at St. Vincent Medical Center today', 'FACILITY', 'St. Vincent Medical Center'],
    ['resident of Brookdale Senior Living with', 'FACILITY', 'Brookdale Senior Living'],
    ['records to Hillcrest Pediatrics by fax', 'FACILITY', 'Hillcrest Pediatrics'],
  ],
  mrn: [
    ['MRN: 00482913.', 'MRN', '00482913'],
    ['(MRN-7741920) admitted', 'MRN', 'MRN-7741920'],
    ["where mrn = '004418273'", 'MRN', '004418273'],
    ['{"mrn":"H-220913"}', 'MRN', 'H-220913'],
    ['medical record number A1029384', 'MRN', 'A1029384'],
    ['patient_id=88213 status=ok', 'MRN', '88213'],
  ],
  plan: [
    ['member ID XEH449201837 verified', 'HEALTH_PLAN', 'XEH449201837'],
    ['policy number BCX-99817263, group 00412', 'HEALTH_PLAN', 'BCX-99817263'],
    ['{"member_id":"W123456789"}', 'HEALTH_PLAN', 'W123456789'],
    ['Medicaid ID MA44190273 verified', 'HEALTH_PLAN', 'MA44190273'],
    ['Medicare Beneficiary Identifier 1EG4-TE5-MK73', 'HEALTH_PLAN', '1EG4-TE5-MK73'],
  ],
  account: [
    ['Billing account 4400183726 has a balance', 'ACCOUNT', '4400183726'],
    ['Account no. 77-310-44821 sent', 'ACCOUNT', '77-310-44821'],
  ],
  license: [
    ["Driver's license S530-4127-7819 scanned", 'LICENSE', 'S530-4127-7819'],
    ['Certificate of death no. 2021-004417 filed', 'LICENSE', '2021-004417'],
  ],
  vehicle: [
    ['VIN 1HGCM82633A004352 noted', 'VEHICLE', '1HGCM82633A004352'],
    ['car WBA3A5G59DNP26082 towed', 'VEHICLE', 'WBA3A5G59DNP26082'],
    ['License plate 7KJX221 recorded', 'VEHICLE', '7KJX221'],
    ['Plate ABC-1234 reported', 'VEHICLE', 'ABC-1234'],
  ],
  device: [
    ['pacemaker serial number RNB602114H checked', 'DEVICE', 'RNB602114H'],
    ['Insulin pump S/N PT-88214453 replaced', 'DEVICE', 'PT-88214453'],
    ['wifi client 00:1A:2B:3C:4D:5E joined', 'DEVICE', '00:1A:2B:3C:4D:5E'],
  ],
  card: [
    ['card 4532 0151 1283 0366 declined', 'CARD', '4532 0151 1283 0366'],
    ['amex 371449635398431 on file', 'CARD', '371449635398431'],
  ],
  name: [
    ['Patient John Whitaker is a', 'NAME', 'John Whitaker'],
    ['Mrs. Nguyen drove herself', 'NAME', 'Nguyen'],
    ['Mr. Abdullah Rahimi was seen', 'NAME', 'Abdullah Rahimi'],
    ['seen by Dr. Okafor in clinic', 'NAME', 'Okafor'],
    ['her daughter Lisa.', 'NAME', 'Lisa'],
    ['Resident: Anna S.', 'NAME', 'Anna S.'],
    ['Emily Thornton declined the flu shot', 'NAME', 'Emily Thornton'],
    ['find patient john smith', 'NAME', 'john smith'],
    ['?q=smith, john&x=1', 'NAME', 'smith, john'],
    ['name=Ada Example&mrn=1', 'NAME', 'Ada Example'],
    ['{"patient":"Harriet Nakamura"}', 'NAME', 'Harriet Nakamura'],
    ['Referred by Sarah Lindqvist, NP', 'NAME', 'Sarah Lindqvist'],
    ['signed, SMITH, JOHN', 'NAME', 'SMITH, JOHN'],
  ],
};

describe('detectors find what they are for', () => {
  for (const [detector, cases] of Object.entries(positives)) {
    it(`${detector}: positives, with type and exact span`, () => {
      for (const [text, type, value] of cases) expect(found(text), text).toContainEqual([type, value]);
    });
  }
});

// PHI-free text that looks like PHI: none of it may be reported.
const nearMisses: Record<string, string[]> = {
  ssn: ['the number 000-12-3456 is never issued', 'area 666-12-3456', '912-34-5678 is an ITIN range', 'part 123-45-67890'],
  phone: ['call 555-0142', 'order 1234567890123', 'area (123) 555-0142 cannot start with 1'],
  card: ['card 4532 0151 1283 0367 (bad Luhn)', '"time":1700000000000', 'id 1234567812345678'],
  vin: ['VIN 1HGCM82643A004352 (wrong check digit)', 'ABCDEFGHJKLMNPRST has no digit'],
  date: [
    '2023-11-14T10:15:30.123Z INFO server started',
    '[2023-11-14 10:16:05] worker-3',
    'Nov 14 10:17:01 db01 postgres[2231]: LOG',
    '127.0.0.1 - - [14/Nov/2023:10:19:02 +0000] "GET /healthz"',
    'Take 1/2 tablet by mouth',
    'Pain 6/10, improved to 3/10',
    'Hydrocodone 5/325 mg',
    'BP 128/76 sitting',
    'Version 2.14.10 fixes it',
    'impossible 02/30/2023 date',
  ],
  age: ['a 67-year-old man', 'Patient is 58 years old', 'aged 89'],
  ip: ['listening on 0.0.0.0:8080', 'db at 127.0.0.1:5432', 'build v1.2.3.4', 'node 20.11.1', 'time 10:15:30', 'ptr std::vector'],
  url: ['upstream https://api.stripe.com/v1/charges responded 402', 'http://localhost:3000/health?x=1', 'GET /v1/records?limit=10'],
  zip: ['Order 94110 shipped', 'CPT 99214 billed'],
  address: ['seen 3 times by the nurse', 'transfer to 5 West when a bed opens', 'Medical Center Drive is closed'],
  facility: ['The hospital cafeteria is closed', 'Urgent care wait time is 45 minutes', 'Department of Pediatrics'],
  labeled: ['Order ID 883100294 shipped', 'Lot number 4471A', 'group 00412', 'Room 412, bed B', 'NDC 0002-8215-01', 'member services'],
  name: [
    'Will see back in 6 months',
    'Patient counseled on diet and exercise',
    'Patient Education provided',
    'Dr. appointment slots open Monday',
    'Metoprolol succinate 25 mg PO daily',
    'Grant application submitted',
    '"hostname":"api-7f9c"',
  ],
  clinical: ['ICD-10 codes: J44.1, J96.01, I48.91, Z79.01', 'Potassium 3.4 mmol/L (ref 3.5-5.1)', 'WBC 11.4 x10^3/uL, INR 2.6'],
};

describe('near misses are left alone', () => {
  for (const [detector, texts] of Object.entries(nearMisses)) {
    it(`${detector}: look-alikes report nothing`, () => {
      for (const text of texts) expect(found(text), text).toEqual([]);
    });
  }
});

describe('findings', () => {
  it('carry type, start, end and a confidence in (0, 1]', () => {
    const [f] = detect('SSN 219-09-9999');
    expect(f).toEqual({ type: 'SSN', start: 4, end: 15, confidence: expect.any(Number) });
    expect(f?.confidence).toBeGreaterThan(0);
    expect(f?.confidence).toBeLessThanOrEqual(1);
  });

  it('overlapping findings merge into one span typed by the most confident', () => {
    const text = 'Transferred from Grady Memorial Hospital on 2023-01-09';
    expect(found(text)).toEqual([
      ['FACILITY', 'Grady Memorial Hospital'],
      ['DATE', '2023-01-09'],
    ]);
  });

  it('minConfidence and types filter findings', () => {
    const text = 'Lisa called from 617-555-0199';
    expect(found(text).map(([t]) => t)).toEqual(['NAME', 'PHONE']);
    expect(detect(text, { types: ['PHONE'] }).map((f) => f.type)).toEqual(['PHONE']);
    expect(detect(text, { minConfidence: 0.8 }).map((f) => f.type)).toEqual(['PHONE']);
  });
});
