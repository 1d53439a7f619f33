/**
 * Synthetic patients that pass Ward's validation. Every record gets a fresh serial number, so
 * mrn, email and name are unique across the whole run (Ward enforces mrn uniqueness).
 */
const PLANS = ['bronze', 'silver', 'gold', 'medicare', 'medicaid'];
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John'];
const DIAGNOSES = ['E11.9 Type 2 diabetes mellitus', 'I10 Essential hypertension', 'J45.909 Asthma, uncomplicated'];
const NOTES =
  'Patient seen for routine follow-up. Reports good adherence to medication, no new symptoms. ' +
  'Vitals within normal limits. Continue current regimen; recheck labs in three months.';

let serial = 0;

/**
 * Starts this process's serials at `n`: processes that create patients in one database each
 * take a range of their own, or their mrns would collide.
 */
export function startSerialAt(n) {
  serial = n;
}

/** Names allow letters only, so the serial is spelled in base 26 (a=0 … z=25). */
function letters(n) {
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s[0].toUpperCase() + s.slice(1);
}

export function patient() {
  const n = serial++;
  const pad = (v, w) => String(v).padStart(w, '0');
  return {
    mrn: `MRN-${n}`,
    name: `${FIRST[n % FIRST.length]} ${letters(n)}`,
    ssn: `${100 + (n % 500)}-${10 + (n % 80)}-${1000 + (n % 8000)}`,
    dob: `${1940 + (n % 60)}-${pad(1 + (n % 12), 2)}-${pad(1 + (n % 28), 2)}`,
    email: `patient${n}@example.org`,
    phone: `(555) ${pad(n % 1000, 3)}-${pad(n % 10000, 4)}`,
    zip: pad(10000 + (n % 89999), 5),
    diagnosis: DIAGNOSES[n % DIAGNOSES.length],
    notes: NOTES,
    plan: PLANS[n % PLANS.length],
  };
}

export const patients = (count) => Array.from({ length: count }, patient);
