/** Synthetic patients for `ward demo`: invented names, reserved phone numbers, example.org mail. */

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Margaret', 'Radia', 'Ken', 'Lynn'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Backus',
  'Hamilton',
  'Perlman',
  'Thompson',
  'Conway',
];
const DIAGNOSES = ['E11.9 Type 2 diabetes', 'I10 Essential hypertension', 'J45.909 Asthma', 'M54.5 Low back pain', 'F41.1 Anxiety'];
const code = (diagnosis: string) => diagnosis.split(' ')[0] as string;
const PLANS = ['bronze', 'silver', 'gold', 'medicare', 'medicaid'];
const ZIPS = ['02139', '10027', '60637', '94305', '98195'];

const pick = <T>(xs: readonly T[], n: number): T => xs[n % xs.length] as T;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function demoPatient(n: number) {
  const first = pick(FIRST, n);
  const last = pick(LAST, Math.floor(n / FIRST.length) + n);
  return {
    mrn: `MRN-${pad(1000 + n, 6)}`,
    name: `${first} ${last}`,
    ssn: `${pad(100 + ((n * 37) % 500), 3)}-${pad(10 + (n % 89), 2)}-${pad(1000 + n * 7, 4)}`,
    dob: `${1940 + ((n * 7) % 60)}-${pad(1 + (n % 12), 2)}-${pad(1 + (n % 28), 2)}`,
    email: `${first}.${last}.${n}@example.org`.toLowerCase(),
    phone: `+1 617 555 01${pad(n % 100, 2)}`,
    zip: pick(ZIPS, n),
    diagnosis: pick(DIAGNOSES, n),
    diagnosis_code: code(pick(DIAGNOSES, n)),
    notes: `Synthetic demo patient ${n}; no real person.`,
    plan: pick(PLANS, n),
  };
}
