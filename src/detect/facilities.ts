/**
 * Facility names the head-last rule in places.ts cannot see: names led by their kind in many
 * languages ("Hospital Universitario de Getafe", "CHU de Nîmes", "Centre hospitalier de Lille",
 * "Policlinico di Bernezzo", "UMC Aalburg", "Kreiskrankenhaus Osnabrück"), abbreviated ones
 * ("Tufts MC", "UCLA Med Ctr") and bare acronyms after a transfer or visit ("transferred to BIDMC").
 */
import { NOT_NAME } from './dictionaries.js';
import type { Findings } from './patterns.js';

// A capitalized name word, or a particle inside the name ("de", "di", "du", "aan den").
const NAME_PART = String.raw`(?:(?:de la|de las|de los|de|del|di|da|du|des|della|delle|aan den|aan de|an der|am|im|op|en|y|d['’])\s?)?\p{Lu}[\p{L}\p{M}'’.-]*`;
const LEADING = new RegExp(
  String.raw`(?<![\p{L}])(?:Hospital(?: Universitario| Universitari| General(?: Universitario)?| Clínico(?: Universitario)?| Regional| Comarcal| Provincial)?|Clínica|Clinique|Clinica|Centre [Hh]ospitalier(?: [Uu]niversitaire| [Rr]égional)?|Centro [Hh]ospitalario|Centro de Salud|Centro Médico|Hôpital|Hopital|Ospedale(?: Civile)?|Policlinico|Casa di Cura|Azienda Ospedaliera|ASST|AUSL|ASL|CHU|CHRU|CHR|UMC|AZ|Ziekenhuis|Huisartsenpraktijk|Gezondheidscentrum|Klinikum|Universitätsklinikum|Uniklinik|Krankenhaus|Kreiskrankenhaus|Kreisklinik|Städtisches Klinikum|Praxis|Hausarztpraxis|Gemeinschaftspraxis|Klinik)(?: ${NAME_PART}){1,6}`,
  'gu',
);
// "Tufts MC", "UCLA Med Ctr", "Mercy Hosp": one or two name words before an abbreviated head.
const ABBREVIATED =
  /(?<![\p{L}])(?:\p{Lu}[\p{L}'’&-]*\s){1,3}(?:Med(?:ical)?\.? Ctr\.?|M\.?C\.?|Hosp\.?|Med\.? Center|Medical Centre|Reg(?:ional)?\.? Med\.?(?: Ctr\.?)?)(?![\p{L}])/gu;
// A bare acronym where a facility goes: "transferred to BIDMC", "seen at UPMC".
const ACRONYM =
  /\b(?:transferred to|transfer(?:red)? from|xfer(?:red)? to|tx(?:'?d)? to|admitted to|admitted at|admitted from|seen at|followed at|followed by|discharged to|presented to|referred to|sent to|hospitali[sz]ed at|came from|treated at|outside hospital|OSH|at|from)\s+(?:the\s+)?([A-Za-z]{3,7})(?![\w-])/gi;
// Plain scans for what each pattern cannot match without (a kind word, an abbreviated head, three
// capitals in a row): most text holds none, and the patterns' lookbehinds then never run.
const LEADING_STEM =
  /Hospital|Cl[íi]ni|Centr|H[ôo]pital|Ospedale|Policlinico|Casa di Cura|Azienda|ASST|AUSL|ASL|CH[UR]|UMC|AZ|Ziekenhuis|Huisarts|Gezondheid|[Kk]linik|Krankenhaus|Kreis|Städtisches|[Pp]raxis/;
const ABBREVIATED_STEM = /Med|M\.?C|Hosp|Reg/;
const ACRONYM_STEM = /[A-Z]{3}/;
// Acronyms that name a unit, test, dose or time, never a facility.
const NOT_FACILITY = new Set(
  `ICU CCU MICU SICU NICU PICU CVICU CTICU PACU SNF LTAC LTACH LTC ALF IRF ED ER OR CT MRI PET EEG EKG ECG EMG GI ENT OB GYN OBGYN EP IR
  BID TID QID QHS QAM QPM PRN QD QOD HS AC PC STAT NPO PO IV IM SC SQ HIV HCV HBV COPD CHF CKD ESRD DKA MRSA VRE UTI PNA CAP
  AMA ASAP FYI EOD EOB EOM COB CST EST PST UTC GMT USA NHS CDC WHO FDA CMS API SQL JSON HTTP HTTPS REST UUID AWS GCP DNS TLS SSL
  ADHD ACLS BLS CPR DNR DNI POLST MOLST HIPAA PHI SOAP HPI ROS PMH PSH MAR EMR EHR NOTE LAB LABS AND THE FOR NOT ALL ANY`.split(/\s+/),
);

/** Facilities led by their kind, abbreviated facilities and acronyms after a transfer. */
export function detectFacilities(text: string, out: Findings): void {
  if (LEADING_STEM.test(text)) leading(text, out);
  if (ABBREVIATED_STEM.test(text)) abbreviated(text, out);
  if (ACRONYM_STEM.test(text)) acronyms(text, out);
}

function leading(text: string, out: Findings): void {
  LEADING.lastIndex = 0;
  for (let m = LEADING.exec(text); m; m = LEADING.exec(text)) {
    // Stop before a heading word: "Hospital Course", "Clinic Notes".
    const words = m[0].split(' ');
    let keep = words.length;
    for (let k = 1; k < words.length; k++)
      if (NOT_NAME.has((words[k] ?? '').toLowerCase())) {
        keep = k;
        break;
      }
    if (keep < 2) continue;
    const value = words
      .slice(0, keep)
      .join(' ')
      .replace(/[.'’-]+$/, '');
    out.add('FACILITY', m.index, m.index + value.length, 0.85);
  }
}

function abbreviated(text: string, out: Findings): void {
  ABBREVIATED.lastIndex = 0;
  for (let m = ABBREVIATED.exec(text); m; m = ABBREVIATED.exec(text)) {
    const first = m[0].split(' ')[0] ?? '';
    if (NOT_NAME.has(first.toLowerCase())) continue;
    out.add('FACILITY', m.index, m.index + m[0].replace(/\.$/, '').length, 0.8);
  }
}

function acronyms(text: string, out: Findings): void {
  ACRONYM.lastIndex = 0;
  for (let m = ACRONYM.exec(text); m; m = ACRONYM.exec(text)) {
    const a = m[1] ?? '';
    if (!/^[A-Z]+$/.test(a) || NOT_FACILITY.has(a)) continue; // the cue in any case, the acronym in capitals
    const start = m.index + m[0].length - a.length;
    // "at"/"from" alone are weak: only acronyms that look like a hospital's (…H, …MC, U…, …C).
    if (/^(?:at|from)\s/i.test(m[0]) && !/(?:H|MC|HC|HS|MG|CH|HSC|MED)$|^U[A-Z]/.test(a)) continue;
    out.add('FACILITY', start, start + a.length, 0.7);
  }
}
