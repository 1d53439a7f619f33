/** Forms and address blocks in several locales: registration forms, invoices, address labels. */
export default {
  style: 'document-form',
  repeat: 5,
  tune: {
    us: [
      'Name: {name}\nAddress: {ustreet}\n{city}, {state} {zip}\nPhone: {phone}\nSSN: {ssn}',
      'Billing: {name}, {street}, {city}, {state} {zip}. Card on file {card}.',
      'Form revision {ver} (rev. {year}); fields marked * are required. Office use only.',
      'PATIENT INFORMATION\nLast name: {last}   First name: {first}\nDOB: {dob}   Age: {age}\nMRN: {mrn}\nEmergency contact: {name}, {phone}',
      'Ship to: {name} c/o {fac}, {ustreet}, {city}, {state} {zip}',
      'Remit to: {pobox}, {city}, {state} {zip}. Attn: {name}',
      'Consent form v{ver}. Sign and date below. Page 1 of 2.',
      'Superbill template {ver}: {cpt}, {icd}, units, amount due.',
    ],
    gb: [
      'Patient: {name}\n{street}\n{city}\n{zip}\nNHS no. {lic}\nTel: {phone}',
      'Registration form GMS1 ({year}). Please complete in BLOCK CAPITALS.',
      'Surname: {last}\nForename(s): {first}\nDate of birth: {dob}\nAddress: {street}, {city} {zip}\nGP surgery: {fac}',
      'Mr {name}, {street}, {city}, {zip}',
      'Patient leaflet: how to take {gen}. Version {ver}.',
    ],
    ca: ['Name: {name}\n{ustreet}\n{city} {prov} {zip}\nHealth card {hp}'],
    de: [
      'Name: {name}\nAnschrift: {street}, {zip} {city}\nTelefon: {phone}\nIBAN: {iban}',
      'Anmeldebogen Version {ver}. Bitte in Druckbuchstaben ausfüllen.',
      'Versicherte/r: {name}\nGeb.: {dob}\nVersichertennummer: {hp}\nKrankenhaus: {fac}',
      'Frau {name}\nc/o {fac}\n{street}\n{zip} {city}',
      'Einwilligung zur Behandlung mit {drug} ({dose}), Stand {ver}.',
    ],
    fr: [
      'Nom : {name}\nAdresse : {street}, {zip} {city}\nTél. : {phone}\nN° sécurité sociale : {lic}',
      'Formulaire Cerfa n° {n}*{ver}. Merci de remplir en majuscules.',
      'Patient(e) : {name}, né(e) le {dob}\nDomicile : {street} {zip} {city}\nMédecin traitant : Dr {last}',
      '{name} - {pobox} - {zip} {city}',
      'Ordonnance type : {gen} {dose}, renouvelable {n} fois.',
    ],
    es: [
      'Nombre: {name}\nDirección: {street}, {zip} {city}\nTeléfono: {phone}\nDNI: {lic}',
      'Formulario de inscripción versión {ver}. Rellene en mayúsculas.',
      'Paciente: {name} | Fecha de nacimiento: {dob} | Domicilio: {street}, {zip} {city} | Tel. {phone}',
      'Hoja de consentimiento para {epo}, revisión {ver}.',
    ],
    it: [
      'Nome: {name}\nIndirizzo: {street}, {zip} {city}\nTelefono: {phone}\nCodice fiscale: {lic}',
      'Modulo di iscrizione versione {ver}. Compilare in stampatello.',
      'Sig. {name}\npresso {fac}\n{street}\n{zip} {city}',
      'Scheda terapia: {drug} {dose}, codice {icd}.',
    ],
    nl: [
      'Naam: {name}\nAdres: {street}, {zip} {city}\nTelefoon: {phone}\nBSN: {lic}',
      'Inschrijfformulier versie {ver}. Invullen in blokletters.',
      'Patiënt: {name} (geb. {dob})\nHuisarts: {fac}\nPostadres: {pobox}, {zip} {city}\nE-mail: {email}',
      'Toestemmingsformulier {prod}, versie {ver}.',
    ],
  },
  apart: {
    us: [
      '{uname}\n{ustreet}\n{city} {state} {zip}\nDL# {lic}  Plate {plate}',
      'Guarantor {name} | DOB {dob} | {phone} | acct {acct}',
      'Please return this form to the {comp} benefits office. Page {n} of {n}.',
      'Emergency contact: {first} {last}, {phone}, {email}',
    ],
    gb: ['Next of kin: {name}, {street}, {city} {zip}, mobile {iphone}', 'Consent form v{ver}. Return to reception. Thank you.'],
    ca: ['Patient {name}, {street}, {city} {zip}, tel {phone}'],
    de: [
      'Versicherte/r: {name}, geb. {dob}\n{street}\n{zip} {city}\nKrankenversicherungsnr. {hp}',
      'Rechnungsempfänger: {name}, {street}, {zip} {city}; Konto {iban}',
      'Seite {n} von {n}. Stand {year}. Formular {ver}.',
    ],
    fr: [
      'Assuré : {name}, né(e) le {dob}\n{street}\n{zip} {city}\nIBAN {iban}',
      'Personne à prévenir : {name}, {phone}, {email}',
      'Page {n} sur {n}. Version {ver}.',
    ],
    es: [
      'Titular: {name}, nacido el {dob}\n{street}\n{zip} {city}\nIBAN {iban}',
      'Contacto de emergencia: {name}, {phone}, {email}',
      'Página {n} de {n}. Versión {ver}.',
    ],
    it: [
      'Intestatario: {name}, nato il {dob}\n{street}\n{zip} {city}\nIBAN {iban}',
      'Contatto di emergenza: {name}, {phone}, {email}',
      'Pagina {n} di {n}. Versione {ver}.',
    ],
    nl: [
      'Verzekerde: {name}, geboren {dob}\n{street}\n{zip} {city}\nIBAN {iban}',
      'Contactpersoon: {name}, {phone}, {email}',
      'Pagina {n} van {n}. Versie {ver}.',
    ],
  },
};
