/**
 * The names `ward lint-logs` and the ESLint rule `ward/no-phi-in-logs` decide by: which property
 * and variable names mean PHI, which calls log, which calls read records from Ward, which calls
 * mask a value first, and which operations yield nothing identifying. Pure string predicates,
 * shared by both (lint-logs.ts walks the TypeScript syntax tree and asks these).
 *
 * Names are compared normalized: lower case without "-" and "_" (as the scrubbing logger compares
 * its sensitive keys), so `date_of_birth`, `dateOfBirth` and `DATE-OF-BIRTH` are one name.
 */

/** A name as compared here: lower case, without "-" and "_". */
export const normalizeName = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/**
 * Property and variable names that mean PHI wherever they are read: HIPAA identifiers (names,
 * dates of birth, contact details, addresses, record and plan numbers) and clinical content.
 * `name` alone is not one (every error and route has a name), and `address` counts only where a
 * person is evident (AMBIGUOUS_PHI_NAMES); see PHI_PREFIXES and GENERIC_FIELD_NAMES for how
 * such a name still counts.
 */
export const PHI_PROPERTY_NAMES: readonly string[] = [
  'ssn',
  'socialSecurityNumber',
  'dob',
  'dateOfBirth',
  'birthDate',
  'birthday',
  'mrn',
  'medicalRecordNumber',
  'firstName',
  'lastName',
  'middleName',
  'fullName',
  'givenName',
  'familyName',
  'surname',
  'maidenName',
  'patientName',
  'email',
  'emailAddress',
  'phone',
  'phoneNumber',
  'mobile',
  'mobileNumber',
  'fax',
  'address',
  'streetAddress',
  'street',
  'addressLine1',
  'addressLine2',
  'zip',
  'zipCode',
  'postalCode',
  'postcode',
  'memberId',
  'subscriberId',
  'insuranceId',
  'policyNumber',
  'medicaidId',
  'medicareId',
  'licenseNumber',
  'driversLicense',
  'passportNumber',
  'diagnosis',
  'diagnoses',
  'notes',
  'clinicalNotes',
  'medications',
  'prescription',
  'allergies',
  'symptoms',
];

/**
 * PHI names that are as often something else (`address`: a server's, a socket's, an IP address):
 * like GENERIC_FIELD_NAMES they count only read off a Ward record or off something named for a
 * person (`patient.address`), or with a person word before them (`homeAddress`).
 */
export const AMBIGUOUS_PHI_NAMES: readonly string[] = ['address'];

/**
 * Words that, before a PHI name or `name`, make another PHI name: `patientEmail`, `homeAddress`,
 * `guardianName`, `memberPhone`.
 */
export const PHI_PREFIXES: readonly string[] = [
  'patient',
  'member',
  'subject',
  'person',
  'guardian',
  'contact',
  'emergencyContact',
  'insured',
  'subscriber',
  'home',
  'mailing',
  'billing',
  'primary',
];

/**
 * Ward field names too common to mean PHI by themselves (`err.name`, `job.status`,
 * `server.address`): such a field counts only where it is read off a Ward record or off something
 * named for a person (PERSON_HOLDERS). Any other field of Ward's configuration counts wherever it is read.
 */
export const GENERIC_FIELD_NAMES: readonly string[] = [
  'id',
  'name',
  'address',
  'type',
  'kind',
  'status',
  'state',
  'code',
  'value',
  'key',
  'title',
  'label',
  'description',
  'date',
  'time',
  'plan',
  'category',
  'source',
  'version',
  'count',
  'created_at',
  'updated_at',
];

/** Receivers named for a person (or starting with `patient`) whose generic fields count: `patient.name`, `member.plan`, `user.address`. */
export const PERSON_HOLDERS: readonly string[] = [
  'patient',
  'member',
  'subject',
  'person',
  'beneficiary',
  'insured',
  'subscriber',
  'guardian',
  'contact',
  'user',
  'customer',
  'profile',
];

/** What a Ward record carries beside its fields (RecordView and list results): not PHI. */
export const RECORD_METADATA: readonly string[] = [
  'id',
  'ids',
  'version',
  'createdAt',
  'updatedAt',
  'expiresAt',
  'collection',
  'length',
  'total',
  'count',
];

/** Properties that give a size, never the content: `notes.length`. */
export const SIZE_PROPERTIES: readonly string[] = ['length', 'size', 'byteLength'];

/** console methods that write (`console.log`, …). */
export const CONSOLE_METHODS: readonly string[] = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'];

/** Methods of a logger (pino, winston, bunyan, Fastify's `req.log`) that write. */
export const LOGGER_METHODS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'log', 'verbose', 'silly'];

/** A logger's `child(bindings)`: the bindings are written on every line the child logs. */
export const LOGGER_BINDING_METHODS: readonly string[] = ['child'];

/** Calls that make a logger: `pino()`, `createLogger()`, `winston.createLogger()`, `getLogger()`. */
export const LOGGER_FACTORIES: readonly string[] = ['pino', 'createLogger', 'getLogger'];

/** Methods of a Ward client or vault whose result is a record (or records, or field values). */
export const WARD_READ_METHODS: readonly string[] = ['get', 'search', 'create', 'update', 'detokenize'];

/**
 * Stems of masking functions: a value passed through `scrub(x)`, `mask(x)`, `redact(x)`,
 * `maskSsn(x)`, `phi.redact(x)`, `anonymize(x)`, `deidentify(x)`, `pseudonymize(x)` or
 * `tokenize(x)` is never reported, whatever it was.
 */
export const MASKING_STEMS: readonly string[] = ['scrub', 'mask', 'redact', 'anonymi', 'deidentif', 'pseudonymi', 'tokeni'];

/** Methods whose result says something about a value but does not carry it (booleans, positions). */
export const NON_IDENTIFYING_METHODS: readonly string[] = [
  'includes',
  'startsWith',
  'endsWith',
  'has',
  'some',
  'every',
  'indexOf',
  'lastIndexOf',
  'findIndex',
  'findLastIndex',
  'test',
  'localeCompare',
];

/** Functions likewise: `Boolean(x)`, `Object.keys(record.fields)` (field names, not values), `Array.isArray(x)`. */
export const NON_IDENTIFYING_FUNCTIONS: readonly string[] = [
  'Boolean',
  'isNaN',
  'isFinite',
  'Number.isNaN',
  'Number.isFinite',
  'Number.isInteger',
  'Array.isArray',
  'Object.keys',
  'Object.getOwnPropertyNames',
  'Reflect.ownKeys',
  'Buffer.byteLength',
];

/** Array methods that call back with each element (and a promise's `then`, with its value): the callback's first parameter holds it. */
export const ELEMENT_CALLBACK_METHODS: readonly string[] = [
  'then',
  'map',
  'flatMap',
  'forEach',
  'filter',
  'find',
  'findLast',
  'some',
  'every',
  'findIndex',
  'findLastIndex',
];

const set = (names: readonly string[]) => new Set(names.map(normalizeName));
const PHI = set(PHI_PROPERTY_NAMES);
const PREFIXES = set(PHI_PREFIXES);
const GENERIC = set(GENERIC_FIELD_NAMES);
const AMBIGUOUS = set(AMBIGUOUS_PHI_NAMES);
const HOLDERS = set(PERSON_HOLDERS);
const METADATA = set(RECORD_METADATA);
const SIZES = set(SIZE_PROPERTIES);
const CONSOLE = new Set(CONSOLE_METHODS);
const LOGGER = new Set([...LOGGER_METHODS, ...LOGGER_BINDING_METHODS]);
const FACTORIES = new Set(LOGGER_FACTORIES);
const READS = new Set(WARD_READ_METHODS);
const NON_IDENTIFYING = new Set(NON_IDENTIFYING_METHODS);
const NON_IDENTIFYING_FNS = new Set(NON_IDENTIFYING_FUNCTIONS);
const ELEMENT_CALLBACKS = new Set(ELEMENT_CALLBACK_METHODS);

/** What a name reached in a logging call means: a PHI name, or a field of Ward's configuration. */
export type NameKind = 'name' | 'field';

/** The words of an identifier: `wardClient` → ward, client; `PHI_VAULT` → phi, vault. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export interface PhiNameOptions {
  /** Ward field names (identifier and clinical): they count as PHI names (generic ones only on records). */
  fields?: Iterable<string> | undefined;
  /** Ward fields of class public: reading one off a record is not a finding. */
  publicFields?: Iterable<string> | undefined;
  /** More PHI names, counted like PHI_PROPERTY_NAMES. */
  extraNames?: Iterable<string> | undefined;
}

/** The names one run decides by: the built-in lists with Ward's fields and any extra names. */
export class PhiNames {
  private readonly phi: Set<string>;
  private readonly extra: Set<string>;
  private readonly fields: Set<string>;
  private readonly publicFields: Set<string>;

  constructor(o: PhiNameOptions = {}) {
    this.extra = new Set([...(o.extraNames ?? [])].map(normalizeName));
    this.phi = new Set([...PHI, ...this.extra]);
    this.fields = new Set([...(o.fields ?? [])].map(normalizeName));
    this.publicFields = new Set([...(o.publicFields ?? [])].map(normalizeName));
  }

  /** Whether `name` is a PHI name by itself: in the list, or a person word before one (`patientEmail`). */
  private isPhiName(n: string): boolean {
    if (this.phi.has(n)) return true;
    for (const p of PREFIXES)
      if (n.length > p.length && n.startsWith(p) && (this.phi.has(n.slice(p.length)) || n.slice(p.length) === 'name')) return true;
    return false;
  }

  /**
   * What reading `name` means: 'name' for a PHI name, 'field' for a Ward field. An ambiguous PHI
   * name or a generic field counts only `onRecord` (read off a Ward record) or `onHolder` (off
   * something named for a person); an extra name always.
   */
  classify(name: string, where: { onRecord?: boolean; onHolder?: boolean } = {}): NameKind | undefined {
    const n = normalizeName(name);
    if (where.onRecord && this.publicFields.has(n)) return undefined;
    const person = where.onRecord === true || where.onHolder === true;
    if (this.extra.has(n) || (this.isPhiName(n) && (!AMBIGUOUS.has(n) || person))) return 'name';
    if (this.fields.has(n) && (!GENERIC.has(n) || person)) return 'field';
    return undefined;
  }

  /** A public Ward field: read off a record, not PHI. */
  isPublicField(name: string): boolean {
    return this.publicFields.has(normalizeName(name));
  }
}

/** Record metadata (`record.id`, `results.length`): not PHI. */
export const isRecordMetadata = (name: string): boolean => METADATA.has(normalizeName(name));

/** A size (`notes.length`): not the content. */
export const isSizeProperty = (name: string): boolean => SIZES.has(normalizeName(name));

/** A receiver named for a person (`patient`, `patientRecord`, `member`, `user`): its generic fields count. */
export const isPersonHolder = (name: string): boolean => {
  const n = normalizeName(name);
  return HOLDERS.has(n) || n.startsWith('patient');
};

export const isConsoleMethod = (method: string): boolean => CONSOLE.has(method);
/** A logger method that writes its arguments (the levels, and `child`, whose bindings go on every line). */
export const isLoggerMethod = (method: string): boolean => LOGGER.has(method);

/**
 * A name that says "logger": log, logger, pino, winston, bunyan (any case), or one ending in Log
 * or Logger as its own word (`childLog`, `auditLogger`, `req_log`; not `catalog` or `dialog`).
 */
export function isLoggerName(name: string): boolean {
  if (/^(log|logger|pino|winston|bunyan|consola|signale)$/i.test(name)) return true;
  const w = words(name);
  const last = w[w.length - 1];
  return w.length > 1 && (last === 'log' || last === 'logger');
}

/** A call that makes a logger (`pino()`, `createLogger()`, `getLogger()`), by the called name. */
export const isLoggerFactory = (name: string): boolean => FACTORIES.has(name);

/** A name with "ward" or "vault" as one of its words: `vault`, `wardClient`, `phiVault`, `WARD`; not `forward`. */
export const isWardName = (name: string): boolean => words(name).some((w) => w === 'ward' || w === 'vault');

export const isWardReadMethod = (method: string): boolean => READS.has(method);

/** A masking function by its name: its first word starts with a masking stem (`scrub`, `maskSsn`, `redactPhi`; not `tokenIssuer`). */
export function isMaskingName(name: string): boolean {
  const first = words(name)[0] ?? '';
  return MASKING_STEMS.some((s) => first.startsWith(s));
}

export const isNonIdentifyingMethod = (method: string): boolean => NON_IDENTIFYING.has(method);
/** `path` as written: `Boolean`, `Object.keys`. */
export const isNonIdentifyingFunction = (path: string): boolean => NON_IDENTIFYING_FNS.has(path);
export const isElementCallbackMethod = (method: string): boolean => ELEMENT_CALLBACKS.has(method);
