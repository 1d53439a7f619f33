/** Chat messages between staff or with patients: short, informal, lower case, in the locale's language. */
export default {
  style: 'chat',
  repeat: 5,
  tune: {
    en: [
      'can someone call {first} back? number is {phone}',
      'pt {lname} in bed {n} is asking for {drug} again',
      'fyi {name} no-show today, rescheduled to {date}',
      'who has the {prod} login? need to check {epo} calc',
      'lol the printer is down again, {comp} ticket opened',
      '{lab}, should we repeat it?',
      'my cousin {first} is visiting from {country} this week, flies back to {sname} on friday',
    ],
    de: [
      'kannst du {first} zurückrufen? {phone}',
      'frau {last} fragt nach dem befund vom {date}',
      'wer hat heute dienst? {prod} hängt schon wieder',
    ],
    fr: ['tu peux rappeler {first} au {phone} ?', 'mme {last} demande ses résultats du {date}', 'le {prod} plante encore, ticket ouvert'],
    es: [
      '¿puedes llamar a {first} al {phone}?',
      'la sra. {last} pregunta por la analítica del {date}',
      'otra vez falla {prod}, abro ticket',
    ],
    it: ['puoi richiamare {first} al {phone}?', 'la sig.ra {last} chiede gli esami del {date}', '{prod} bloccato di nuovo, apro ticket'],
    nl: [
      'kun jij {first} terugbellen? {phone}',
      'mevrouw {last} vraagt naar de uitslag van {date}',
      '{prod} hangt weer, ticket aangemaakt',
    ],
  },
  apart: {
    en: [
      'heads up: {iname} coming in from {city} around {time}, daughter driving',
      'just got off the phone w/ {name}, she moved to {street}',
      'anyone know {first}s new email? old one bounced, try {email}?',
      'ok so {rname} wants the {fshort} records faxed, dob {dob}',
      'ugh {epo} calc keeps timing out on {prod}',
      'reminder {drug} shortage, switch to {gen} per pharmacy',
      'meeting moved to {time}, same zoom link',
      'anyone driving to {sname} this weekend? {first} needs a ride, she just got back from {country}',
    ],
    de: [
      '{first} hat angerufen, neue nummer {phone}, ist nach {city} gezogen',
      'patient {lname} geb. {dob} wartet in zimmer {n}',
      'besprechung verschoben auf {time}',
    ],
    fr: [
      '{first} a appelé, nouveau numéro {phone}, a déménagé à {city}',
      'patient {lname} né le {dob} attend en salle {n}',
      'réunion décalée à {time}',
    ],
    es: [
      'llamó {first}, nuevo teléfono {phone}, se mudó a {city}',
      'el paciente {lname}, nacido el {dob}, espera en la sala {n}',
      'la reunión pasa a las {time}',
    ],
    it: [
      'ha chiamato {first}, nuovo numero {phone}, si è trasferito a {city}',
      'il paziente {lname} nato il {dob} aspetta in stanza {n}',
      'riunione spostata alle {time}',
    ],
    nl: [
      '{first} belde, nieuw nummer {phone}, verhuisd naar {city}',
      'patiënt {lname} geb. {dob} wacht in kamer {n}',
      'overleg verschoven naar {time}',
    ],
  },
};
