/** Letters and e-mails to and about patients, in the locale's language. */
export default {
  style: 'letter-email',
  repeat: 3,
  tune: {
    en: [
      'Dear {first},\nYour appointment at {fac} is confirmed for {date}. Questions? Call {phone}.\nKind regards, {name}',
      'To whom it may concern: {name} (DOB {dob}) was under my care from {date}. Dr. {name}',
      'Hi team, please send the records of {name} to {email} by Friday. Thanks, {first}',
      'Dear colleague, thank you for referring this patient with {epo}. We started {drug} {dose}.',
      'Reminder: the {prod} update ({ver}) is scheduled for tonight. No action needed.',
      'Subject: Referral for {name}, DOB {dob}\n\nHello Dr. {last},\nI am referring this patient to {fac} for {epo} follow-up.\nBest,\n{first}',
      'From: {email}\nRe: {rname}\nPlease fax the discharge summary to {phone}.',
      'Subject: {prod} maintenance window\nHi all, {comp} will patch the servers on Sunday. No action needed.',
      'Re: formulary change\nDear prescribers, {drug} is replaced by {gen} next month.',
    ],
    de: [
      'Sehr geehrte Frau {last},\nIhr Termin im {fac} ist am {date}. Rückfragen unter {phone}.\nMit freundlichen Grüßen\n{name}',
      'Liebe Kolleginnen und Kollegen, anbei der Befund zu {epo}; {drug} {dose} wurde begonnen.',
      'Betreff: Entlassbrief {name}, geb. {dob}\nSehr geehrter Herr Kollege {last},\nwir berichten über Ihren Patienten.\nMit kollegialen Grüßen\n{name}',
      'Betreff: Wartung {prod}\nLiebe Kolleginnen und Kollegen, am Wochenende ist {prod} nicht erreichbar.',
    ],
    fr: [
      'Madame {last},\nVotre rendez-vous au {fac} est fixé au {date}. Contact : {phone}.\nCordialement,\n{name}',
      'Cher confrère, merci pour cette patiente adressée pour {epo}. Nous avons débuté {drug} {dose}.',
      'Objet : compte rendu de {name}\nCher confrère,\nJe vous adresse {name}, né(e) le {dob}, domicilié(e) {street}, {zip} {city}.\nBien à vous,\nDr {last}',
      'Objet : mise à jour {prod} {ver}\nBonjour à tous, aucune action requise.',
    ],
    es: [
      'Estimado {first}:\nSu cita en el {fac} es el {date}. Para dudas llame al {phone}.\nAtentamente,\n{name}',
      'Estimado colega: le remito el informe de {epo}; se inició {drug} {dose}.',
      'Asunto: Cita de {name}\nHola {first},\nle escribo desde {fac} para confirmar su cita del {date}.\nUn saludo,\n{name}\n{phone}',
      'Asunto: nueva versión de {prod}\nHola a todos, la actualización {ver} se instala esta noche.',
    ],
    it: [
      'Gentile {name},\nla visita presso {fac} è fissata per il {date}. Info: {phone}.\nCordiali saluti,\n{name}',
      'Caro collega, in allegato la relazione su {epo}; iniziata terapia con {drug} {dose}.',
      'Oggetto: referto {name}\nGentile dottor {last},\nle inoltro il referto del {date}.\nDistinti saluti,\n{name}\n{fac}',
      'Oggetto: aggiornamento {prod}\nBuongiorno a tutti, nessuna azione richiesta.',
    ],
    nl: [
      'Beste {first},\nUw afspraak in {fac} staat op {date}. Vragen? Bel {phone}.\nMet vriendelijke groet,\n{name}',
      'Geachte collega, hierbij het verslag over {epo}; gestart met {drug} {dose}.',
      'Onderwerp: verwijzing {name}\nGeachte heer/mevrouw {last},\nGraag verwijs ik {name} ({dob}) naar {fac}.\nMet vriendelijke groet,\n{name}, huisarts\n{email}',
      "Onderwerp: onderhoud {prod}\nBeste collega's, {prod} is zondag niet beschikbaar.",
    ],
    us: [
      '{fac}\n{ustreet}, {city}, {state} {zip}\n\n{date}\n\nDear Mr. {last},\nYour test results are ready. Please call us at {phone}.\nSincerely,\n{name}, MD',
    ],
    gb: ['{fac}\n{street}\n{city} {zip}\n\nDear {name},\nPlease attend the clinic on {date}.\nYours sincerely,\nDr {first} {last}'],
  },
  apart: {
    en: [
      'Re: {name}, born {dob}\nI write to confirm that my patient attended {fac} on {date}. Yours sincerely, {iname}',
      'From: {email}\nSubject: records request\nPlease forward everything you hold on {rname} to our office at {street}, {city} {zip}.',
      'Hello {first}, your results are ready in the portal at {url}. If you cannot log in, ring {iphone}.',
      'Dear Sir or Madam, we write on behalf of {name} regarding invoice payment to account {acct}.',
      'All, the {epo} pathway has been updated; {drug} is now first line. Best, Pharmacy',
      'FYI: {comp} will demo {prod} on Thursday; version {ver} fixes the export bug.',
    ],
    de: [
      'Hallo {first},\ndie Unterlagen von {name} (geb. {dob}) bitte an {email} senden. Danke!',
      'Betreff: Überweisung\nPatient {name}, wohnhaft {street}, {zip} {city}, wird zur Abklärung von {epo} überwiesen.',
      'Guten Tag, die neue Leitlinie zu {epo} empfiehlt {drug}. Viele Grüße, Ihre Apotheke',
    ],
    fr: [
      'Objet : dossier de {name}\nBonjour, pourriez-vous transmettre le dossier (né le {dob}) à {email} ? Merci.',
      'Monsieur, nous accusons réception de votre virement depuis le compte {iban}. Service facturation, {fac}.',
      'Bonjour à tous, la prise en charge de {epo} évolue : {drug} en première intention.',
    ],
    es: [
      'Asunto: historia clínica de {name}\nHola, envíen por favor el informe (nacido el {dob}) a {email}. Gracias.',
      'Muy señor mío: {name}, con domicilio en {street}, {zip} {city}, solicita copia de su historia.',
      'Hola a todos: el protocolo de {epo} cambia; ahora {drug} es de primera línea.',
    ],
    it: [
      'Oggetto: cartella clinica di {name}\nBuongiorno, inviate il referto (nato il {dob}) a {email}. Grazie.',
      'Spett.le {fac}, il sig. {name}, residente in {street}, {zip} {city}, chiede copia della cartella.',
      'Ciao a tutti, il percorso per {epo} è aggiornato: {drug} in prima linea.',
    ],
    nl: [
      'Onderwerp: dossier {name}\nGoedemiddag, kunt u het dossier (geboren {dob}) naar {email} sturen? Dank!',
      'Geachte heer/mevrouw, {name}, wonend aan de {street}, {zip} {city}, vraagt een kopie van het dossier.',
      'Hoi allemaal, het protocol voor {epo} is aangepast: {drug} is nu eerste keus.',
    ],
  },
};
