/** Clinical notes: progress notes, discharge summaries, referrals (tuning and held-apart templates). */
export default {
  style: 'clinical-note',
  repeat: 5,
  tune: {
    en: [
      'Lives at {ustreet}, {city}, {zip}; drives ({plate}). Portal: {domain}. Medicare {mbi}.',
      'Patient {name} is a {yage}-year-old seen on {date} for follow-up of {epo}. MRN: {mrn}.',
      'Mr. {last} reports good adherence to {gen} {dose}; {lab} today.',
      'Seen by Dr. {name} at {fac} on {date}. Phone: {phone}.',
      'DOB: {dob}. Address: {ustreet}, {city} {zip}. Insurance ID {hp}.',
      'pt {lname} c/o chest pain since {date}, transferred to {fshort} for cath.',
      '{age}-year-old woman admitted from home in {city}; daughter {first} ({phone}) is the contact.',
      'Assessment: {epo}. Plan: start {drug} {dose}, recheck {lab} in 2 weeks.',
      'No acute distress. {lab}, {lab}. Continue {gen} {dose}. ICD-10 {icd}.',
      'Discussed {epo} and {epo}; {drug} held pending {cpt} results.',
      'Vitals stable, {lab}. Follow up in {n} days with repeat {loinc} panel.',
      'Recently relocated from {country} to {sname}; records requested from prior PCP. {lab}.',
    ],
    intl: ['Patient {name}, DOB {dob}, seen at {fac} on {date}; contact {iphone}.'],
    de: [
      'Pat. {name}, geb. {dob}, wurde am {date} im {fac} aufgenommen. Tel. {phone}.',
      'Befund: {epo}. Therapie mit {drug} {dose} fortsetzen, {lab}.',
    ],
    fr: [
      'Mme {name}, née le {dob}, hospitalisée au {fac} le {date}. Tél. {phone}.',
      'Conclusion : {epo}. Poursuivre {drug} {dose}; {lab}.',
    ],
    es: ['Paciente {name}, nacido el {dob}, ingresa en el {fac} el {date}.', 'Juicio clínico: {epo}. Mantener {drug} {dose}.'],
    it: ['Il paziente {name}, nato il {dob}, ricoverato presso {fac} il {date}.', 'Diagnosi: {epo}. Proseguire {drug} {dose}.'],
    nl: ['Patiënt {name}, geboren {dob}, opgenomen in {fac} op {date}.', 'Conclusie: {epo}. Start {drug} {dose}.'],
  },
  apart: {
    en: [
      'Social: moved from {city} to {street} last month; her daughter {name} handles bills (acct {acct}).',
      'DISCHARGE SUMMARY for {uname} (MR# {mrn}), admitted {date}, discharged {date} from {fac}.',
      'Referred by {iname} of {fac}; the family lives on {street} in {city}.',
      'Ms. {name} returned to clinic today, {date}, accompanied by her son {first}.',
      'Hx: {age} y/o, lives alone at {ustreet}, {city}, {zip}. Medicare {mbi}.',
      'Consult note: pt {rname} seen in the ED at {fshort}, callback {phone}.',
      'Pacemaker serial {dev} interrogated on {date}; next check at our {city} office.',
      'Impression: {epo}. Recommend {drug} {dose} and repeat {lab}.',
      'Labs: {lab}; {lab}; {lab}. Dx {icd}, billed {cpt}.',
      '{epo} ruled out. {epo} considered; will trial {gen} {dose}.',
      'Stable on {drug}. {lab}. Return in {n} weeks; LOINC {loinc} ordered.',
      'Post-op day {n}: afebrile, incision clean. {epo} screen negative.',
      'Travel history: returned from {country} on {date}, grew up in {sname}; no sick contacts.',
    ],
    intl: ['Seen at {fac} on {date}: {name}, born {dob}, reachable on {iphone}.'],
    de: [
      'Entlassungsbrief: Frau {name} (geb. {dob}) lag vom {date} bis {date} im {fac}.',
      'Diagnose {icd}: {epo}. Medikation: {drug} {dose}. {lab}.',
    ],
    fr: [
      'Compte rendu : M. {name}, {age} ans, sorti du {fac} le {date}; domicile {street}, {zip} {city}.',
      'Antécédents : {epo}, {epo}. Traitement : {drug} {dose}.',
    ],
    es: [
      'Informe de alta de {name} ({dob}), atendido en {fac} desde el {date}.',
      'Antecedentes: {epo}. Tratamiento con {drug} {dose}; {lab}.',
    ],
    it: [
      'Lettera di dimissione: sig.ra {name}, nata a {city} il {dob}, dimessa da {fac}.',
      'Anamnesi: {epo}. Terapia: {drug} {dose}; {lab}.',
    ],
    nl: [
      'Ontslagbrief: mevrouw {name} ({dob}) verbleef van {date} tot {date} in {fac}.',
      'Diagnose: {epo}. Medicatie: {drug} {dose}; {lab}.',
    ],
  },
};
