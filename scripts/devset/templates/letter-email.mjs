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
    ],
    de: [
      'Sehr geehrte Frau {last},\nIhr Termin im {fac} ist am {date}. Rückfragen unter {phone}.\nMit freundlichen Grüßen\n{name}',
      'Liebe Kolleginnen und Kollegen, anbei der Befund zu {epo}; {drug} {dose} wurde begonnen.',
    ],
    fr: [
      'Madame {last},\nVotre rendez-vous au {fac} est fixé au {date}. Contact : {phone}.\nCordialement,\n{name}',
      'Cher confrère, merci pour cette patiente adressée pour {epo}. Nous avons débuté {drug} {dose}.',
    ],
    es: [
      'Estimado {first}:\nSu cita en el {fac} es el {date}. Para dudas llame al {phone}.\nAtentamente,\n{name}',
      'Estimado colega: le remito el informe de {epo}; se inició {drug} {dose}.',
    ],
    it: [
      'Gentile {name},\nla visita presso {fac} è fissata per il {date}. Info: {phone}.\nCordiali saluti,\n{name}',
      'Caro collega, in allegato la relazione su {epo}; iniziata terapia con {drug} {dose}.',
    ],
    nl: [
      'Beste {first},\nUw afspraak in {fac} staat op {date}. Vragen? Bel {phone}.\nMet vriendelijke groet,\n{name}',
      'Geachte collega, hierbij het verslag over {epo}; gestart met {drug} {dose}.',
    ],
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
