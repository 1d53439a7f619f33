/**
 * Street lines outside the US forms numeric.ts knows ("12 Main St"): a street name then the
 * house number (German, Dutch, Italian, Spanish, Portuguese: "Hauptstraße 12", "Via Roma 10",
 * "Calle Mayor 5, 3º B"), the French number-first form ("4 bis avenue Victor Hugo"), unit
 * numbers on their own ("Apt. 595", "Flat 2"). (UK and Canadian postcodes are in numeric.ts.)
 */
import type { Findings } from './patterns.js';

const NAME = String.raw`\p{Lu}[\p{L}'’.-]*`;
const LINK = "(?:de la|de las|de los|de l'|del|de|da|das|do|dos|di|della|delle|dei|du|des|d')";
const NUMBER = String.raw`\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4}[a-z]?)?`;
// Spanish floor and door after the number: ", 3º B", " 2º izq."
const FLOOR = String.raw`(?:,? \d{1,2}[º°ª](?: ?[A-Z](?![\p{L}])| ?(?:izq|izda|dcha|dch|der)\.?)?)?`;
const GERMANIC =
  'straße|strasse|str\\.|weg|gasse|platz|allee|damm|ufer|chaussee|steig|pfad|straat|laan|plein|gracht|kade|singel|dijk|vej|gatan|vägen|veien';
const ROMANCE =
  'Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Calle|Avenida|Avda\\.|Plaza|Paseo|Carrer|Camino|Carretera|Ronda|Rua|Travessa|Praça|Estrada|Alameda';
// Street words also start a sentence or a line: "Avenue", "Straße".
const capitalize = (words: string): string => words.replace(/(^|\|)(\p{Ll})/gu, (_, a: string, c: string) => a + c.toUpperCase());
const FRENCH = 'rue|avenue|av\\.|boulevard|bd|place|chemin|allée|impasse|quai|route|cours|square|passage';

const ADDRESS_RE = new RegExp(
  [
    // "Hauptstraße 12", "Kerkstraat 12a"; "Berliner Straße 5", "Lange Laan 3"
    String.raw`\p{Lu}[\p{L}-]*?(?:${GERMANIC}) ${NUMBER}`,
    `${NAME}[ -](?:${capitalize(GERMANIC)}) ${NUMBER}`,
    // "Am Markt 3", "An der Alster 12": one to three digits, so not "Im Jahr 2020"
    String.raw`(?:Am|An der|Auf der|Im|In der|Zum|Zur|Unter den|Hinter der) ${NAME} \d{1,3}[a-z]?`,
    // "Via Roma 10", "Calle Mayor 5, 3º B", "Rua Augusta 45", "Avenida de la Constitución, 12"
    String.raw`(?:${ROMANCE}) (?:${LINK} ?)?${NAME}(?: (?:${LINK} ?)?${NAME}){0,3},? (?:n\.?[º°] ?)?${NUMBER}${FLOOR}`,
    // "12 rue de la Paix", "4 bis avenue Victor Hugo"
    String.raw`\d{1,4}(?: ?(?:bis|ter))?,? (?:${FRENCH}|${capitalize(FRENCH)}) (?:${LINK} ?)?${NAME}(?: (?:${LINK} ?)?${NAME}){0,3}`,
    // Post-office boxes: "PO Box 7371", "Postfach 1234", "BP 5104" (before a postcode: "BP 120/80" is a blood pressure), "Postbus 120", "Apartado 88"
    String.raw`(?:P\.? ?O\.? Box|Postfach|Postbus|Apartado(?: de [Cc]orreos)?|Casella [Pp]ostale|Case [Pp]ostale) \d{1,6}|BP \d{1,5}(?=[ ,–-]{1,4}\d{5} )`,
    // Units: "Apt. 595", "Suite 501", "Flat 2", "apt #4B"
    String.raw`(?:[Aa]pt|[Aa]partment|Suite|Ste|Flat|Apto)\.? ?#? ?\d{1,5}[A-Z]?`,
  ]
    .map((s) => `(${s})`)
    .join('|')
    .replace(/^/, String.raw`(?<![\p{L}\d'’-])(?:`)
    .concat(String.raw`)(?![\p{L}\d])`),
  'gu',
);

/** Street lines and units → ADDRESS (run only when the detector's STREET_OR_DATE scan finds something). */
export function detectAddresses(text: string, out: Findings): void {
  ADDRESS_RE.lastIndex = 0;
  for (let m = ADDRESS_RE.exec(text); m; m = ADDRESS_RE.exec(text)) {
    const end = m.index + m[0].length;
    out.add('ADDRESS', m.index, end, m[7] === undefined ? 0.85 : 0.8);
  }
}
