/**
 * Identifiers that only context makes recognizable: numbers after a label ("MRN:", "policy
 * number", "S/N", "license plate"), names in key=value pairs and search strings, and names typed
 * in lower case after a word like "patient".
 */
import { isFirstName, isSurname, NOT_NAME } from './dictionaries.js';
import { isEnglishWord } from './english.js';
import type { Findings } from './patterns.js';
import type { PhiType } from './types.js';

const NO = String.raw`(?:[ _-]?(?:number|num|no\.?|#|id|identifier)| ?#)?`;
const ID = String.raw`(?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,32}[A-Za-z0-9](?![A-Za-z0-9])`;
// An IBAN in groups of four after an account label.
const IBAN = String.raw`[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?(?![A-Za-z0-9])`;
// Plates of one to three groups ("7ABC123", "LY18 ZVP", "CD-LE 5193", "WK-789-ZN"), a digit in the first two.
const PLATE = String.raw`(?=[A-Za-z]{0,4}(?:[- ][A-Za-z]{1,3})?[- ]?\d)[A-Za-z0-9]{1,4}(?:[- ]?[A-Za-z0-9]{1,5})?(?:-[A-Za-z0-9]{1,3}| \d{1,4})?(?![A-Za-z0-9-])`;
const SSN = String.raw`\d{3}[- .]?\d{2}[- .]?\d{4}(?![\d-])`;
// International ("+44 (0)20 7946 0958", "0049 30 …") and national ("030 1234567") numbers after a label.
const PHONE = String.raw`(?:\+|00)[1-9]\d{0,2}(?: ?\(0\))?(?:[ .\/-]?\d{1,5}){2,6}(?![\d-])|0\d{1,4}(?:[ .\/-]?\d{2,8}){1,4}(?![\d-])|\d{9,12}(?![\d-])|(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]?\d{3}[-. ]?\d{4}(?![\d-])|\d{3}[-. ]\d{4}(?![\d-])|0\d{1,4}(?:[ .\/-]?\d{2,8}){1,4}(?![\d-])|[1-9]\d{1,3}(?:[ .\/-]\d{2,4}){2,4}(?![\d-])`;

// [type, label, value]: the label is matched case-insensitively; the value is the finding.
const RULES: [PhiType, string, string][] = [
  ['MRN', `mrn|mr#|med(?:ical)?[ _-]?rec(?:ord)?s?${NO}|chart${NO}|patient[ _-]?id|pt[ _-]?id|hospital${NO}|unit[ _-]?number|nhs${NO}`, ID],
  [
    'HEALTH_PLAN',
    `(?:health[ _-]?)?plan${NO}|health[ _-]?card${NO}|member${NO}|subscriber${NO}|policy${NO}|insurance${NO}|medicaid${NO}|medicare${NO}|(?:medicare[ _-]?)?beneficiary${NO}|mbi|hicn|id ?#|(?:kranken)?versicherten(?:nummer|[ -]?nr\\.?)|versicherungsnummer|(?:n[°º]|num[ée]ro) de s[ée]curit[ée] sociale|s[ée]curit[ée] sociale`,
    ID,
  ],
  ['ACCOUNT', String.raw`(?:(?:billing|bank|checking|savings)[ _-]?)?account${NO}|acct\.?${NO}|claim${NO}|iban`, `${IBAN}|${ID}`],
  [
    'VEHICLE',
    `(?:(?:license|licence|tag)[ _-]?)?plate${NO}|vin|(?:vehicle[ _-]?)?registration(?:[ _-]?(?:number|num|no\\.?|#)|(?=["']?\\s*[:=]))`,
    PLATE,
  ],
  [
    'LICENSE',
    String.raw`(?:(?:driver'?s|nursing|medical|professional)[ _-]?)?licen[cs]e${NO}|lic\.?${NO}|dl|certificate(?: of [a-z]+)?${NO}|cert\.?${NO}|f[üu]hrerschein(?:nummer|[ -]?nr\.?)?|permis de conduire(?: n[°º])?|bsn|burgerservicenummer|nino|national insurance${NO}|codice fiscale|dni|nie|nif|(?:personal)?ausweis(?:nummer|[ -]?nr\.?)?|passport${NO}|pasaporte|passeport`,
    ID,
  ],
  ['DEVICE', String.raw`serial${NO}|s\/n|sn|device${NO}|udi|imei|implant${NO}`, ID],
  ['SSN', `ssn|ss#|social[ _-]?security${NO}`, SSN],
  [
    'PHONE',
    `phone${NO}|t[ée]l[ée]phone|telephone|t[ée]l|telefon(?:nummer)?|tel[ée]fono|telefone|m[óo]vil|handy|portable|cell|mobile|fax${NO}|pager|call(?: me)? at|ph`,
    PHONE,
  ],
  [
    'ZIP',
    `zip(?:[ _-]?code)?|postal[ _-]?code|post[ _-]?code|plz|code postal`,
    // US, Dutch ("8430 CY"), UK ("KY55 77M"), Canadian ("M9M 1G0"), and four- or five-digit codes.
    String.raw`\d{5}(?:-\d{4})?(?![\d-])|\d{4} ?[A-Z]{2}(?![A-Za-z])|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z\d][A-Z](?![A-Za-z0-9])|[A-Z]\d[A-Z] ?\d[A-Z]\d(?![A-Za-z0-9])|\d{4}(?![\d-])`,
  ],
  ['AGE', 'age|aged', String.raw`(?:9\d|1[01]\d)(?!\d)`],
];

// A cheap scan for the first word of any label (plain words scan fast); where one starts, the
// full label pattern (one capture group per rule) runs anchored, then the rule's value after it.
const HEADS =
  'mrn mr# med medical chart patient pt hospital unit health plan member subscriber policy insurance medicaid medicare beneficiary mbi hicn billing bank checking savings account acct claim license licence tag plate vin registration vehicle driver nursing professional lic dl certificate cert serial s/n sn device udi imei implant ssn ss# social phone tel telephone cell mobile fax pager call ph zip zipcode postal postcode post[ _-]?code plz code age aged nhs iban id# versicherten krankenversicherten versicherungsnummer n° nº numéro numero sécurité securite führerschein fuhrerschein permis bsn burgerservicenummer nino national codice dni nie nif ausweis personalausweis passport pasaporte passeport tél tel télé téléphone telefon telefonnummer teléfono telefono telefone móvil movil handy portable'.split(
    ' ',
  );
/**
 * For the detector's prefilter (case-insensitive, after a word boundary): a label word with a
 * digit somewhere in the 40 characters after it, as every labeled value has one. ("post" only
 * as "post code": alone it is the HTTP method of half of all request logs.)
 */
export const LABEL_TRIGGER = String.raw`(?:${HEADS.join('|')})(?![A-Za-z])(?=[^]{0,40}?\d)`;
const LABEL_HEAD_RE =
  /\b(?:mrn|mr#|med|chart|patient[ _-]?id|pt[ _-]?id|hospital|unit[ _-]?number|health[ _-]?plan|health[ _-]?card|plan|member|subscriber|policy|insurance|medica|beneficiary|mbi|hicn|billing|bank|checking|savings|account|acct|claim|licen|tag|plate|vin|registration|vehicle|driver|nursing|professional|lic|dl|cert|serial|s\/n|sn|device|udi|imei|implant|ssn|ss#|social|phone|tel|cell|mobile|fax|pager|call|ph|zip|postal|post|plz|code postal|age|nhs|iban|id ?#|versicherten|krankenversicherten|versicherungsnummer|n[°º]|num[ée]ro|s[ée]curit|f[üu]hrerschein|permis|bsn|burgerservicenummer|nino|national|codice|dni|nie|nif|ausweis|personalausweis|passport|pasaporte|passeport|t[ée]l|telefon|m[óo]vil|handy|portable)/gi;
const LABEL_RE = new RegExp(
  String.raw`\b(?:${RULES.map(([, label]) => `(${label.replace(/(?<!\\)\((?!\?)/g, '(?:')})`).join('|')})(?![A-Za-z])[\s:#=.'"()-]{0,5}`,
  'iy',
);
const VALUE_RES = RULES.map(([, , value]) => new RegExp(value, 'iy'));

/** Labeled identifiers. When the label is glued to the value ("MRN-0001"), the label is part of it. */
export function detectLabeled(text: string, out: Findings): void {
  LABEL_HEAD_RE.lastIndex = 0;
  for (let h = LABEL_HEAD_RE.exec(text); h; h = LABEL_HEAD_RE.exec(text)) {
    LABEL_RE.lastIndex = h.index;
    const m = LABEL_RE.exec(text);
    if (!m) continue;
    let g = 1;
    while (m[g] === undefined) g++;
    const rule = RULES[g - 1];
    const valueRe = VALUE_RES[g - 1];
    if (!rule || !valueRe) continue;
    const label = m[g] ?? '';
    const valueStart = m.index + m[0].length;
    valueRe.lastIndex = valueStart;
    const v = valueRe.exec(text);
    if (!v) continue;
    const sep = m[0].slice(label.length);
    const glued = sep === '' || sep === '-';
    const type = rule[0];
    if (type === 'AGE' && !/\s|:/.test(sep)) continue;
    out.add(type, glued && type !== 'AGE' ? m.index : valueStart, valueStart + v[0].length, glued ? 0.85 : 0.9);
    LABEL_HEAD_RE.lastIndex = valueStart + v[0].length;
  }
}

// name=Ada Example, "patient":"Harriet Nakamura", patient_name = 'Grace Oduya'
const KEY_VALUE_RE =
  /(?:name|patient)["']?\s*[:=]\s*["']?((?:[A-Za-z][A-Za-z'.-]*)(?:(?: |%20|\+|, ?)[A-Za-z][A-Za-z'.-]*){0,3})(?=["'&,;)}\]\0]|\s*$|%)/gi;
// The key must be a whole key: "name", "patient_name", "fullName"; not "hostname" or "filename".
const KEY_BEFORE =
  /(?:^|[^A-Za-z])(?:(?:patient|full|first|last|given|family|middle|maiden|contact|user|member|guarantor|subscriber)[_-]?)?$/i;
// Lower-case names in queries after a cue: "find patient john smith", "?q=smith, john".
// Letters with accents too ("maria lópez", "jan lý"); a third word may follow ("josé eduardo cervantes").
const LOWER_NAME_RE =
  /(?<![\p{L}\p{N}])(?:patient|pt|for|q|name|named|about|mr|mrs|ms|dr)\.?[\s:=]{1,3}(\p{Ll}[\p{Ll}'’-]+)(?:(,? |%20|\+)(\p{Ll}[\p{Ll}'’-]+))?(?: (\p{Ll}[\p{Ll}'’-]+))?/gu;
// Cues that introduce a person in a query; "for" also introduces anything ("for pain").
const STRONG_CUE = /^(?:patient|pt|about|name|named)/;
// After the name in a query: a date of birth ("find patient jan lockman dob 20 August").
const DOB_AFTER = /^,? (?:dob|d\.o\.b\.|born|date of birth)\b/;
// A word that may be a surname the lists lack: not an English word, not a word names exclude.
const maybeSurname = (w: string): boolean => isSurname(w) || (!isEnglishWord(w) && !NOT_NAME.has(w));

export function detectContextNames(text: string, out: Findings): void {
  KEY_VALUE_RE.lastIndex = 0;
  for (let m = KEY_VALUE_RE.exec(text); m; m = KEY_VALUE_RE.exec(text)) {
    const value = m[1] ?? '';
    if (!KEY_BEFORE.test(text.slice(Math.max(0, m.index - 12), m.index))) continue;
    const words = value.toLowerCase().split(/ |%20|\+|, ?/);
    if (words.every((w) => NOT_NAME.has(w) || w.length < 2)) continue;
    const start = m.index + m[0].length - value.length;
    out.add('NAME', start, start + value.length, 0.9);
  }
  LOWER_NAME_RE.lastIndex = 0;
  for (let m = LOWER_NAME_RE.exec(text); m; m = LOWER_NAME_RE.exec(text)) {
    const a = m[1] ?? '';
    const b = m[3];
    const c = m[4];
    const third = c === undefined ? 0 : c.length + 1;
    const start = m.index + m[0].length - third - a.length - (b === undefined ? 0 : (m[2]?.length ?? 0) + b.length);
    let end = m.index + m[0].length - third;
    const strong = STRONG_CUE.test(m[0]);
    const plain = m[2] === ' ';
    let pair = b !== undefined && ((isFirstName(a) && isSurname(b)) || (isSurname(a) && isFirstName(b) && m[2]?.startsWith(',')));
    // After "patient" or "about": a first name and a word that may be a surname, or two words before "dob".
    if (!pair && b !== undefined && strong && plain && !NOT_NAME.has(b))
      pair =
        (isFirstName(a) && !NOT_NAME.has(a) && maybeSurname(b)) ||
        (isSurname(b) && !isEnglishWord(b) && !NOT_NAME.has(a)) ||
        DOB_AFTER.test(text.slice(end, end + 16));
    // A middle name: "josé eduardo cervantes".
    if (pair && plain && c !== undefined && b !== undefined && isFirstName(b) && !isSurname(b) && maybeSurname(c)) end += third;
    LOWER_NAME_RE.lastIndex = end;
    if (pair) out.add('NAME', start, end, 0.85);
    else if (isFirstName(a) && !NOT_NAME.has(a) && /patient|pt|name/.test(m[0].slice(0, 8))) out.add('NAME', start, start + a.length, 0.6);
  }
}
