/** Shared pattern pieces: month names, US states, and the finding collector every detector uses. */
import type { Finding, PhiType } from './types.js';

/** Month names and abbreviations in Title, lower and upper case ("May" only in Title/upper). */
export const MONTH = `(?:(?:[Jj]an|JAN)(?:uary|UARY)?|(?:[Ff]eb|FEB)(?:ruary|RUARY)?|(?:Mar|MAR)(?:ch|CH)?|march|(?:[Aa]pr|APR)(?:il|IL)?|May|MAY|(?:[Jj]un|JUN)(?:e|E)?|(?:[Jj]ul|JUL)(?:y|Y)?|(?:[Aa]ug|AUG)(?:ust|UST)?|(?:[Ss]ep|SEP)(?:t(?:ember)?|T(?:EMBER)?)?|(?:[Oo]ct|OCT)(?:ober|OBER)?|(?:[Nn]ov|NOV)(?:ember|EMBER)?|(?:[Dd]ec|DEC)(?:ember|EMBER)?)`;

const MONTH_INDEX: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
/** 1–12 for a month name or abbreviation matched by MONTH. */
export const monthNumber = (name: string): number => MONTH_INDEX[name.slice(0, 3).toLowerCase()] ?? 0;

export const STATE_CODES =
  'AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR';
export const STATE_NAMES =
  'Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming';

/** Collects findings; detectors push through `add` so every finding has the same shape. */
export class Findings {
  readonly list: Finding[] = [];
  add(type: PhiType, start: number, end: number, confidence: number): void {
    if (end > start) this.list.push({ type, start, end, confidence });
  }
}
