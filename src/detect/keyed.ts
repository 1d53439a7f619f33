/**
 * Names, places and facilities as values of keys that say what they are, in JSON and key=value
 * logs and forms, in several languages: "given":"Thandiwe", city=Leeds, "clinic":"Clínica
 * Santa Elena", Wohnort: Bielefeld. ("name" and "patient" keys are context.ts's.) Also phone numbers
 * after phone labels and calls to action, and street lines of forms and address blocks.
 */
import type { Findings } from './patterns.js';
import type { PhiType } from './types.js';

const NAME_KEYS =
  'given|given_?name|family|family_?name|first|first_?name|last|last_?name|middle_?name|surname|forename|full_?name|maiden_?name|doctor|physician|provider_?name|nurse|clinician|attending|pcp|guardian|next[_ ]?of[_ ]?kin|nok|emergency[_ ]?contact|contact[_ ]?name|contact[_ ]?person|guarantor|insured|subscriber|policy[_ ]?holder|account[_ ]?holder|beneficiary|versicherte(?:/r|r)?|versicherungsnehmer(?:in)?|ansprechpartner(?:in)?|kontaktperson|angeh[öo]rige[rn]?|notfallkontakt|rechnungsempf[äa]nger(?:in)?|assur[ée]e?|titulaire|b[ée]n[ée]ficiaire|personne [àa] pr[ée]venir|titular|asegurado|beneficiario|contacto de emergencia|intestatario|assicurato|contatto di emergenza|verzekerde|contactpersoon|rekeninghouder|noodcontact|vorname|nachname|familienname|pr[ée]nom|nom_?de_?famille|nombre|apellidos?|cognome|voornaam|achternaam|arzt|[äa]rztin|m[ée]decin|m[ée]dico|medico|huisarts';
const PLACE_KEYS =
  'city|town|site|village|municipality|county|district|neighbou?rhood|borough|birth_?place|place_?of_?birth|locality|ort|stadt|wohnort|gemeinde|geburtsort|ville|commune|lieu_?de_?naissance|ciudad|localidad|municipio|poblaci[óo]n|citt[àa]|comune|luogo_?di_?nascita|plaats|woonplaats|gemeente|geboorteplaats';
const FACILITY_KEYS =
  'clinic|hospital|facility|facility_?name|practice|care_?site|klinik|krankenhaus|praxis|h[ôo]pital|[ée]tablissement|clinique|cl[íi]nica|centro|ospedale|struttura|ziekenhuis|praktijk|zorginstelling';
const KEY_RE = new RegExp(
  String.raw`(?<![\p{L}_])(?:(${NAME_KEYS})|(${PLACE_KEYS})|(${FACILITY_KEYS}))["']?\s*[:=]\s*(?:"([^"\n]{1,60})"|'([^'\n]{1,60})'|(\p{Lu}[\p{L}\p{M}'’.-]*(?: \p{Lu}[\p{L}\p{M}'’.-]*){0,3}))`,
  'giu',
);
const TYPES: PhiType[] = ['NAME', 'LOCATION', 'FACILITY'];
// Values that say nothing: "unknown", "null", "N/A", numbers, codes.
const EMPTY = /^(?:unknown|none|null|undefined|n\/?a|true|false|yes|no|-|redacted|\[\w+\])$/i;
const WORDY = /^[\p{L}\p{M}'’. -]+$/u;

/** Values of name, place and facility keys. */
export function detectKeyed(text: string, out: Findings): void {
  KEY_RE.lastIndex = 0;
  for (let m = KEY_RE.exec(text); m; m = KEY_RE.exec(text)) {
    const g = m[1] ? 0 : m[2] ? 1 : 2;
    const value = (m[4] ?? m[5] ?? m[6] ?? '').trim();
    if (!value || EMPTY.test(value) || !WORDY.test(value)) continue;
    // Places and facilities are written with a capital; a lower-case name only under a name key.
    if (g > 0 && !/^\p{Lu}/u.test(value)) continue;
    const start = text.indexOf(value, m.index + m[0].length - value.length - 1);
    if (start >= 0) out.add(TYPES[g] as PhiType, start, start + value.length, 0.85);
  }
}

// Form fields and letters in several languages: a phone number after a phone label or a call to
// action ("Teléfono: 960 22 34 66", "llame al 932 59 27 18", "Bel 0626254345"), and the street
// line after an address label or alone on its line before a postcode or a town.
// One scan for the cues, each followed by the number's first character; after a call-back verb
// the number may come a few words later ("puoi richiamare Alda al 08 6105 9703").
const PHONE_CUE =
  /(?:(?<![\p{L}\p{N}])(?:phone|tel|telephone|mobile|cell|call|ring|fax|telefon|handy|mobil|rufnummer|anrufen|t[ée]l|t[ée]l[ée]phone|portable|appelez(?: le)?|tel[ée]fono|m[óo]vil|llame al|llamar al|cellulare|chiami(?: il)?|chiamare(?: il)?|telefoon|mobiel|bel|gsm)\.?\s*(?:(?:no|nr|n[°º]|number|num[ée]ro|n[úu]mero)\.?\s*)?[:.]?\s*|(?<![\p{L}\p{N}])Info:\s*|(?<![\p{L}\p{N}])(?:call|ring|rappeler|rappelle[rz]?|zur(?:ü|ue)ckrufen|anrufen|llamar|llama|richiamare|richiama|chiamare|terugbellen|bellen)(?!\p{L})[^\n\d]{1,40}?)(?=[+(]?\d)/giu;
const PHONE_VALUE = /\+?\(?\d[\d ()./-]{5,18}\d(?![\d\p{L}])/uy;
// Dates and times are not phones: "18-10-2017", "27/04/2024", "2025-12-28".
const DATE_SHAPED = /^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})$/;

// A stem every PHONE_CUE match holds: a plain scan that rules out most text before PHONE_CUE's
// lookbehinds run at every position.
const PHONE_STEM = /phone|t[ée]l|mob|m[óo]vil|cell|call|ring|fax|handy|ruf|portable|appel|llam|chiam|bel|gsm|info/iu;

/** Phone numbers after phone labels and calls to action, in the languages of the forms. */
export function detectLabeledPhones(text: string, out: Findings): void {
  if (!PHONE_STEM.test(text)) return;
  PHONE_CUE.lastIndex = 0;
  for (let m = PHONE_CUE.exec(text); m; m = PHONE_CUE.exec(text)) {
    const from = m.index + m[0].length;
    // "Info:" only as written in letters, not a log level.
    if (m[0].startsWith('Info') === false && /^info/i.test(m[0])) continue;
    PHONE_VALUE.lastIndex = from;
    const v = PHONE_VALUE.exec(text);
    const digits = v?.[0].replace(/\D/g, '').length ?? 0;
    if (v && digits >= 7 && digits <= 15 && !DATE_SHAPED.test(v[0])) {
      out.add('PHONE', from, from + v[0].length, 0.85);
      PHONE_CUE.lastIndex = from + v[0].length;
    } else PHONE_CUE.lastIndex = from;
  }
}

// The postcode and town that end a labeled street line: ", 27957 Cergy", " 62690 Vitry-sur-Seine", ", 88229 Arzago d'Adda".
const POSTCODE_TOWN =
  /,?\s+(\d{4,5})\s+(\p{Lu}[\p{L}\p{M}'’-]*(?:\s\(?(?:\p{Lu}|d['’]|de\s|am\s|an\s|sur\s)[\p{L}\p{M}'’()-]*){0,3})[.,]?\s*$/u;
const ADDRESS_LABEL =
  /(?:^|\n)[ \t]*(?:address|home address|street|adresse|anschrift|wohnadresse|stra(?:ß|ss)e|domicile|direcci[óo]n|domicilio|indirizzo|residenza|adres|woonadres|straat|morada)[ \t]*:[ \t]*([^\n]{3,90})/giu;
// A street line: a number before or after capitalized words (particles allowed), maybe a unit.
const UNIT = String.raw`(?:,? (?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|#|Wohnung|App\.?|Piso|Puerta|Int\.?|Bus)\s?#?\d+[A-Za-z]?)?`;
const WORDS = String.raw`(?:(?:\p{Lu}[\p{L}\p{M}'’.-]*|van|von|der|den|de|del|della|di|da|du|des|la|le|las|los|het|ten|ter|am|an|im|zum|zur|dei|degli|delle)\s){0,4}\p{Lu}[\p{L}\p{M}'’.-]*`;
const STREET_LINE = new RegExp(
  String.raw`^(?:\d{1,5}[A-Za-z]?,? ${WORDS}${UNIT}|(?:(?:van|von|de|den|der|la|le) )*${WORDS},? \d{1,5}(?:[ -]?[A-Za-z](?![\p{L}]))?${UNIT})$`,
  'u',
);
// A salutation line ends with a comma like "Town," does ("Liebe Kolleginnen und Kollegen,").
const GREETING =
  '(?:Dear|Hi|Hello|Hey|Liebe|Lieber|Hallo|Sehr geehrte|Guten Tag|Cher|Chère|Chers|Bonjour|Madame|Monsieur|Estimad[oa]s?|Querid[oa]s?|Hola|Gentile|Gentili|Caro|Cara|Cari|Buongiorno|Beste|Geachte|Hoi)(?![\\p{L}])';
const AFTER_STREET = new RegExp(
  String.raw`^(?:,\s*|\n)(?:\d{4,5}(?: ?[A-Z]{2})?\s+\p{Lu}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b|(?!${GREETING})\p{Lu}[\p{L}\p{M}'’ .-]{2,40}(?:,|\n|$|\s+[A-Z]{2}\s))`,
  'u',
);
// Words that lead form lines that are not street lines ("Page 2", "Room 12", "Version 3").
const NOT_STREET =
  /^(?:page|seite|pagina|página|room|bed|zimmer|kamer|stanza|sala|version|versie|versione|versión|rev|form|formular|step|level|floor|tel|phone|fax|dni|bsn|iban|nhs|ssn|mrn|id|no|nr|n°|total|invoice|box|po box)\b/iu;

/** Street lines of forms and address blocks: after an address label, or alone before a postcode or a town. */
export function detectStreetLines(text: string, out: Findings): void {
  ADDRESS_LABEL.lastIndex = 0;
  for (let m = ADDRESS_LABEL.exec(text); m; m = ADDRESS_LABEL.exec(text)) {
    // The street line only: not the fields after " | ", nor the postcode and town after it.
    const raw = (m[1] ?? '').split(/\s[|¦]\s/u)[0] ?? '';
    const tail = POSTCODE_TOWN.exec(raw);
    const value = (tail && tail.index > 0 ? raw.slice(0, tail.index) : raw).trimEnd();
    if (!/\d|\bs\/n\b/.test(value) || !/\p{L}{2}/u.test(value)) continue;
    const start = m.index + m[0].length - (m[1] ?? '').length;
    out.add('ADDRESS', start, start + value.length, 0.92);
    if (tail && tail.index > 0) {
      // "…, 27957 Cergy": the postcode is ZIP and the town after it LOCATION.
      const zip = start + tail.index + tail[0].indexOf(tail[1] ?? '');
      out.add('ZIP', zip, zip + (tail[1] ?? '').length, 0.9);
      const town = start + tail.index + tail[0].length - (tail[2] ?? '').length;
      out.add('LOCATION', town, town + (tail[2] ?? '').length, 0.85);
    }
  }
  // Segments that start a line or follow "Label: " or ", ", up to the next comma or line end.
  const SEG = /(?:^|\n|:[ \t]+|, )([^\n,:]{4,60}(?:, \d{1,5}(?![\d]))?)(?=,|\n|$)/gu;
  for (let m = SEG.exec(text); m; m = SEG.exec(text)) {
    const seg = (m[1] ?? '').trim();
    const start = m.index + m[0].length - (m[1] ?? '').length;
    SEG.lastIndex = start; // segments may share their comma
    const end = start + seg.length;
    // A line led by words ("Lurchenweg 8") only in a block of lines or after a label: in prose,
    // the words before the street are anyone's ("Wohnhaft Hauptstraße 12, Berlin").
    const lead = m[0].charAt(0);
    const wordLed = !/^\d/.test(seg);
    const block = lead === ':' || (text.includes('\n') && (lead === '\n' || m.index === 0));
    if (!/\d/.test(seg) || NOT_STREET.test(seg) || !STREET_LINE.test(seg) || (wordLed && !block)) {
      SEG.lastIndex = end;
      continue;
    }
    if (AFTER_STREET.test(text.slice(end, end + 48))) out.add('ADDRESS', start, end, 0.8);
    SEG.lastIndex = end;
  }
}
