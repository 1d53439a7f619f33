/**
 * Dates the English rules miss: day-first with a German, French, Spanish, Italian, Dutch or
 * Portuguese month ("3. März 2021", "12 janvier 2020", "15 de marzo de 2021"), and an English
 * month with an apostrophe year ("Mar 3 '21"), and "15-Mar-2021".
 */
import { isDate } from './checks.js';
import { type Findings, MONTH, monthNumber } from './patterns.js';

// Month name → number; words that are also common words elsewhere ("mars", "mai", "mayo", "mei") need a year.
const MONTHS: Record<string, number> = {};
const AMBIGUOUS = new Set(['mars', 'mai', 'mayo', 'mei', 'maio']);
for (const [n, names] of [
  'januar janvier enero gennaio januari janeiro jänner',
  'februar février fevrier febrero febbraio februari fevereiro',
  'märz maerz mars marzo maart março',
  'april avril abril aprile',
  'mai mayo maggio mei maio',
  'juni juin junio giugno junho',
  'juli juillet julio luglio julho',
  'august août aout agosto augustus',
  'september septembre septiembre setiembre settembre setembro',
  'oktober octobre octubre ottobre outubro',
  'november novembre noviembre novembro',
  'dezember décembre decembre diciembre dicembre december dezembro',
].entries())
  for (const w of names.split(' ')) MONTHS[w] = n + 1;

const FOREIGN = Object.keys(MONTHS)
  .sort((a, b) => b.length - a.length)
  .join('|');
const DATE_RE = new RegExp(
  String.raw`(?<![\p{L}\d.,/-])(?:(\d{1,2})(?:\.|º|°|er)? (?:de )?(${FOREIGN})(?:,? (?:de |del )?(\d{4}))?|(${MONTH})\.? (\d{1,2})(?:st|nd|rd|th)?,? '(\d{2})|(\d{1,2})-(${MONTH})-(\d{4}|\d{2}))(?![\p{L}\d])`,
  'giu',
);

/** Day-first dates in other languages, and "Mar 3 '21" (run only when the text holds a digit). */
export function detectDates(text: string, out: Findings): void {
  DATE_RE.lastIndex = 0;
  for (let m = DATE_RE.exec(text); m; m = DATE_RE.exec(text)) {
    const end = m.index + m[0].length;
    if (m[2] !== undefined) {
      const month = MONTHS[m[2].toLowerCase()] ?? 0;
      if (m[3] === undefined && AMBIGUOUS.has(m[2].toLowerCase())) continue;
      if (isDate(Number(m[3] ?? 2000), month, Number(m[1]))) out.add('DATE', m.index, end, 0.9);
    } else if (m[5] !== undefined && Number(m[5]) >= 1 && Number(m[5]) <= 31) out.add('DATE', m.index, end, 0.85);
    else if (m[7] !== undefined && isDate(2000, monthNumber(m[8] ?? ''), Number(m[7]))) out.add('DATE', m.index, end, 0.9);
  }
}
