/**
 * Person names, places and facilities beyond the hand-written lists: names in context, lower
 * case, initials, multi-part names, cities in context, facilities in several languages and
 * abbreviated, key=value forms; and the look-alikes that must stay (eponyms, drugs, titles).
 */
import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import type { PhiType } from './types.js';

const SOFT: PhiType[] = ['NAME', 'LOCATION', 'FACILITY'];
const soft = (text: string) => detect(text).filter((f) => SOFT.includes(f.type));
/** Whether findings cover every letter and digit of `value` in `text` (the scoring rule). */
function covered(text: string, value: string): boolean {
  const at = text.indexOf(value);
  if (at < 0) throw new Error(`${value} is not in ${text}`);
  const found = detect(text);
  for (let i = at; i < at + value.length; i++)
    if (/[\p{L}\p{N}]/u.test(text.charAt(i)) && !found.some((f) => f.start <= i && i < f.end)) return false;
  return true;
}

describe('names the lists do not hold, whole', () => {
  it.each([
    ['Patient Oluwaseun Adeyemi-Bakare was seen today.', 'Oluwaseun Adeyemi-Bakare'],
    ['Ms. Maria Fernández-López was admitted.', 'Maria Fernández-López'],
    ['Seen by Dr. van der Berg today.', 'van der Berg'],
    ['Mrs. de la Cruz called back.', 'de la Cruz'],
    ["Mr. O'Neil refused the flu shot.", "O'Neil"],
    ['Nguyễn Thị Lan, 54F, admitted for CAP.', 'Nguyễn Thị Lan'],
    ['Emergency contact: Siobhán Ní Bhriain (sister).', 'Siobhán Ní Bhriain'],
    ['Can Tomasz Wiśniewski get his MRI results by phone?', 'Tomasz Wiśniewski'],
    ['Lieber Herr Schröder, Ihr Termin ist am Montag.', 'Schröder'],
    ['Gentile Sig. Esposito, la visita è confermata.', 'Esposito'],
    ['Beste mevrouw Jansen, uw afspraak staat vast.', 'Jansen'],
  ])('%s', (text, value) => expect(covered(text, value)).toBe(true));
});

describe('initials and lower case', () => {
  it.each([
    ['Spoke with J. Okonkwo about the results.', 'J. Okonkwo'],
    ['Attending: Okonkwo J', 'Okonkwo J'],
    ['list admissions for Bandopadhyay K since May', 'Bandopadhyay K'],
    ['pt john doe presents with SOB', 'john doe'],
  ])('%s', (text, value) => expect(covered(text, value)).toBe(true));

  it('a title alone is not part of the name', () => {
    const text = 'Seen by Dr. Priya Raman today.';
    expect(soft(text).map((f) => text.slice(f.start, f.end))).toEqual(['Priya Raman']);
  });
});

describe('places and facilities', () => {
  it.each([
    ['She moved from Kraków to Rotterdam last year.', 'Kraków'],
    ['She moved from Kraków to Rotterdam last year.', 'Rotterdam'],
    ['He lives in Walnut Creek with his son.', 'Walnut Creek'],
    ['Referred from our Dallas facility.', 'Dallas'],
    ['Patient lives in Framingham.', 'Framingham'],
    ['Transferred to BIDMC for cath.', 'BIDMC'],
    ['Follow up at UCLA Med Ctr in 2 weeks.', 'UCLA Med Ctr'],
    ['Seen at Tufts MC on Monday.', 'Tufts MC'],
    ['Ingresa en el Hospital Universitario de Getafe el lunes.', 'Hospital Universitario de Getafe'],
    ['Hospitalisée au Centre hospitalier de Lille hier.', 'Centre hospitalier de Lille'],
    ['Opgenomen in UMC Aalburg op maandag.', 'UMC Aalburg'],
    ['Aufgenommen im Kreiskrankenhaus Osnabrück.', 'Kreiskrankenhaus Osnabrück'],
    ['{"event":"visit","clinic":"Clínica Santa Elena"}', 'Clínica Santa Elena'],
  ])('%s: %s', (text, value) => expect(covered(text, value)).toBe(true));

  it.each([
    ['{"city":"Malmö","country":"SE"}', 'LOCATION', 'Malmö'],
    ['lookup failed site=Leeds', 'LOCATION', 'Leeds'],
    ['{"given":"Thandiwe","family":"Mokoena"}', 'NAME', 'Thandiwe'],
  ])('keyed: %s', (text, type, value) => {
    expect(soft(text).map((f) => [f.type, text.slice(f.start, f.end)])).toContainEqual([type, value]);
  });
});

describe('look-alikes stay', () => {
  it.each([
    'Framingham Risk Score 12%; Glasgow Coma Scale 15.',
    "History of Parkinson's disease and Bell's palsy.",
    'Hodgkin lymphoma in remission; Wells score 2.',
    'Lyme disease suspected; Kawasaki disease excluded.',
    'Started Keppra 500 mg BID and Eliquis.',
    'Babinski sign negative, Romberg negative.',
    'Epley maneuver performed; Dix-Hallpike positive.',
    'Positive Murphy sign; McBurney point tenderness.',
    'Chest X-ray negative. Cardiology consult placed.',
    'Hx of MI in 2015, CABG x3 in 2016, AFib on apixaban.',
    'Plan: Foley removed, PICC line placed by IR.',
    'Admitted to the ICU from the ED, then to SNF.',
  ])('%s', (text) => expect(soft(text)).toEqual([]));
});
