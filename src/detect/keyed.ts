/**
 * Names, places and facilities as values of keys that say what they are, in JSON and key=value
 * logs and forms, in several languages: "given":"Thandiwe", city=Leeds, "clinic":"Clínica
 * Santa Elena", Wohnort: Bielefeld. ("name" and "patient" keys are context.ts's.)
 */
import type { Findings } from './patterns.js';
import type { PhiType } from './types.js';

const NAME_KEYS =
  'given|given_?name|family|family_?name|first|first_?name|last|last_?name|middle_?name|surname|forename|full_?name|maiden_?name|doctor|physician|provider_?name|nurse|clinician|attending|pcp|guardian|next_?of_?kin|nok|emergency_?contact|contact_?name|vorname|nachname|familienname|pr[ée]nom|nom_?de_?famille|nombre|apellidos?|cognome|voornaam|achternaam|arzt|[äa]rztin|m[ée]decin|m[ée]dico|medico|huisarts';
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
