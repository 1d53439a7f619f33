/**
 * The word lists the name and place detectors use: first names, surnames and cities shipped in
 * data/ (loaded once, on first use), and the common words that keep them from firing on prose.
 * Hand-written lists (first-names, surnames, cities) and generated ones (given-names,
 * family-names, places: scripts/detect/build-lists.mjs) are read together.
 */
import { readFileSync } from 'node:fs';

const load = (...files: string[]): Set<string> => {
  const out = new Set<string>();
  for (const file of files)
    for (const w of readFileSync(new URL(`./data/${file}`, import.meta.url), 'utf8').split('\n')) {
      const v = w.trim().toLowerCase();
      if (v) out.add(v);
    }
  return out;
};

const words = (text: string): Set<string> => new Set(text.split(/\s+/).filter(Boolean));

let cache:
  | {
      first: Set<string>;
      last: Set<string>;
      cities: Map<string, string[][]>;
      plainNames: Set<string>;
      plainPlaces: Set<string>;
      handCities: Set<string>;
      handFirst: Set<string>;
    }
  | undefined;

function lists() {
  if (!cache) {
    const cities = new Map<string, string[][]>();
    for (const city of load('cities.txt', 'places.txt')) {
      const parts = city.replace(/\./g, '').split(' '); // tokens carry no dots: "St. Louis" → st, louis
      const head = parts[0] ?? '';
      const known = cities.get(head);
      if (known) known.push(parts);
      else cities.set(head, [parts]);
    }
    for (const list of cities.values()) list.sort((a, b) => b.length - a.length);
    const given = load('given-names.txt');
    const family = load('family-names.txt');
    const handFirst = load('first-names.txt');
    const first = new Set(handFirst);
    const last = load('surnames.txt');
    for (const w of given) first.add(w);
    for (const w of family) last.add(w);
    for (const w of family) given.add(w);
    cache = { first, last, cities, plainNames: given, plainPlaces: load('places.txt'), handCities: load('cities.txt'), handFirst };
  }
  return cache;
}

/** Lower-case lookups. */
export const isFirstName = (w: string): boolean => lists().first.has(w);
export const isSurname = (w: string): boolean => lists().last.has(w);
/** A name or place from the generated lists, none of which is an English word: safe in lower case. */
export const isPlainListed = (w: string): boolean => lists().plainNames.has(w) || lists().plainPlaces.has(w);
/** A first name of the hand-written list (common US first names, some of them English words: "joe", "mike"). */
export const isHandFirstName = (w: string): boolean => lists().handFirst.has(w);
/** A city of the hand-written list (US cities), taken without context. */
export const isHandCity = (w: string): boolean => lists().handCities.has(w);
/** The cities (as lower-case word lists, longest first) that start with the word `w`. */
export const citiesStartingWith = (w: string): string[][] | undefined => lists().cities.get(w);

/**
 * Words that are names or places only sometimes ("Will", "Grant", "Mobile"): never taken as a
 * name or city on their own, only with context around them.
 */
export const AMBIGUOUS = words(`
  will may june april august mark bill grace hope faith joy rose iris lily ivy dawn summer autumn
  robin jay dean grant hunter chase mason parker carter cooper taylor miles max guy art pat sue
  rich frank don ray gene lee bob sunny penny ruby pearl amber crystal star sky river brook
  storm angel king long price hill green brown white black gray grey young wood stone rice
  ford bell lane page rose best case day hall cook bond love rush small short strong moon
  good little west north south east park banks fields mobile reading orange independence
  normal surprise temple lincoln jackson franklin warren lawrence henderson tyler concord
  columbia salem aurora phoenix victoria carmel monroe allen kent glendale columbus jupiter
  naples athens orlando madison austin charlotte dallas denver cameron chandler logan jordan
  troy vista mesa lakewood ontario independence hollywood alexandria hampton lafayette
  richmond quincy newton burlington wilmington eugene irving vernon clay
  harmony justice liberty destiny genesis trinity nova willow hazel violet heather holly
  jade skylar sage august reed may wade miller major judge pastor rev sr jr ii iii iv
  ward patience precious queen journey heaven mercy charity sincere winter river london paris
  kingston houston brooklyn memphis van rex sol ace apollo clover coral meadow magnolia azalea
  aspen archer turner porter walker webster baxter sterling buck buddy junior reece reese ellis
  marshall mercedes lyric haven eden luna stella drew pierce spencer cole gage dale glen flor luz
  rey tucker rusty rocky kit skye wren mac lou harley bo ike dusty corona buffalo bend sparks
  mesa reading ontario provo orem washington eve
`);

/**
 * Capitalized words that start sentences and headings in clinical text and logs, never names:
 * a name candidate followed by one of these stops before it.
 */
export const NOT_NAME = words(`
  hola hallo bonjour buongiorno ciao hoi salut
  patient patients pt pts plan assessment history hx exam labs lab results result impression
  diagnosis diagnoses medications medication meds allergies allergy vitals vital signs review
  physical subjective objective note notes summary discharge admission admitted discharged
  follow followup up referral consult consulted procedure surgery surgical operative post pre
  op emergency department dept unit icu ed er or clinic hospital center medical health care
  services service general memorial regional community university county state national
  cardiology neurology oncology radiology pathology pulmonology nephrology urology dermatology
  gastroenterology endocrinology rheumatology psychiatry psychology pediatrics obstetrics
  gynecology orthopedics internal medicine family primary nursing pharmacy therapy rehab
  rehabilitation social work case management nutrition dietary chaplain hospice
  monday tuesday wednesday thursday friday saturday sunday january february march april
  june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec
  the a an and or of in on at to for with by from as is was are were be been has have had
  this that these those his her their our your my its he she they we you it i
  no yes not none negative positive normal abnormal stable improved unchanged
  chief complaint present illness past social surgical review systems ros hpi pmh psh fh sh
  education portal instructions information info contact phone fax email address
  insurance billing account member policy claim plan group provider doctor nurse md do rn np pa
  mrn dob ssn id ids number date time type status level error info warn debug trace fatal
  request response server client user admin system service api http https get post put
  delete patch head options true false null undefined ok yes new old
  blood pressure heart rate temperature weight height bmi pulse oxygen
  left right bilateral anterior posterior upper lower acute chronic
  english spanish french chinese
  medicare medicaid aetna cigna humana kaiser anthem united blue cross shield tricare
  street avenue road drive lane court boulevard way place
  mg ml mcg kg lb dl
  md do np pa rn lpn pharmd phd msw lcsw
`);
