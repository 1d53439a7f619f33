/**
 * Field types: how a submitted value is checked, stored and normalized for blind indexes and
 * deterministic tokens. A check returns a reason naming the rule, never echoing the value.
 */

export type FieldValue = string | number | boolean;

export interface FieldType {
  /** Returns the stored form of a valid value, or a reason string for an invalid one. */
  parse(value: unknown): { ok: true; value: FieldValue } | { ok: false; reason: string };
  /** Canonical form used for equality: blind indexes and deterministic tokens. */
  normalize(value: FieldValue): string;
}

type Parsed = ReturnType<FieldType['parse']>;
const ok = (value: FieldValue): Parsed => ({ ok: true, value });
const bad = (reason: string): Parsed => ({ ok: false, reason });

const collapse = (s: string) => s.normalize('NFKC').trim().replace(/\s+/g, ' ');

/**
 * NUL, or a surrogate without its pair (in a `u` regex a pair is one code point, so \p{Cs}
 * matches only a lone one). PostgreSQL cannot store either as text (jsonb refuses both), and
 * neither is ever data.
 */
const NOT_TEXT = /[\0\p{Cs}]/u;

function stringType(
  max: number,
  rule?: { re: RegExp; reason: string },
  canon: (s: string) => string = collapse,
  store: (s: string) => string = (s) => s,
): FieldType {
  return {
    parse(v) {
      if (typeof v !== 'string') return bad('must be a string');
      if (NOT_TEXT.test(v)) return bad('must be Unicode text without NUL characters or unpaired surrogates');
      const s = v.trim();
      if (s.length === 0) return bad('must not be empty');
      if (s.length > max) return bad(`must be at most ${max} characters`);
      if (rule && !rule.re.test(s)) return bad(rule.reason);
      return ok(store(s));
    },
    normalize: (v) => canon(String(v)),
  };
}

const digits = (s: string) => s.replace(/\D/g, '');

function parseSsn(v: unknown): Parsed {
  if (typeof v !== 'string') return bad('must be a string');
  const m = /^(\d{3})-?(\d{2})-?(\d{4})$/.exec(v.trim());
  if (!m) return bad('must be a US SSN: 9 digits, as NNN-NN-NNNN or NNNNNNNNN');
  const [, area, group, serial] = m as unknown as [string, string, string, string];
  if (area === '000' || area === '666' || area.startsWith('9')) return bad('has an SSN area number that is never issued');
  if (group === '00' || serial === '0000') return bad('has an SSN group or serial number that is never issued');
  return ok(`${area}-${group}-${serial}`);
}

function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const EMAIL = /^[^\s@"(),:;<>[\]\\]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

function canonicalEmail(s: string): string {
  const at = s.lastIndexOf('@');
  return `${s.slice(0, at)}@${s.slice(at + 1).toLowerCase()}`.toLowerCase();
}

const scalar = (name: 'integer' | 'number' | 'boolean'): FieldType => ({
  parse(v) {
    if (name === 'boolean') return typeof v === 'boolean' ? ok(v) : bad('must be true or false');
    if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`must be a${name === 'integer' ? 'n integer' : ' number'}`);
    if (name === 'integer' && !Number.isSafeInteger(v)) return bad('must be an integer');
    return ok(v);
  },
  normalize: (v) => String(v),
});

/** The type registry; a name not listed here is rejected when ward.yaml is loaded. */
export const FIELD_TYPES = {
  string: stringType(1024),
  text: stringType(65536, undefined, (s) => s.normalize('NFKC')),
  name: stringType(
    200,
    { re: /^[\p{L}\p{M}][\p{L}\p{M}' .,-]*$/u, reason: "must contain only letters, spaces and the marks ' . , -" },
    (s) => collapse(s).toLowerCase(),
  ),
  ssn: { parse: parseSsn, normalize: (v) => digits(String(v)) },
  mrn: stringType(32, { re: /^[A-Za-z0-9][A-Za-z0-9-]{2,31}$/, reason: 'must be 3 to 32 letters, digits or dashes' }, (s) =>
    s.trim().toUpperCase(),
  ),
  date: stringType(10, { re: /^\d{4}-\d{2}-\d{2}$/, reason: 'must be a date as YYYY-MM-DD' }),
  email: stringType(254, { re: EMAIL, reason: 'must be an email address' }, canonicalEmail),
  phone: stringType(32, { re: /^\+?[\d\s().-]{7,}$/, reason: 'must be a phone number of 10 to 15 digits' }, (s) =>
    digits(s).replace(/^1(?=\d{10}$)/, ''),
  ),
  zip: stringType(10, { re: /^\d{5}(?:-\d{4})?$/, reason: 'must be a US ZIP code as NNNNN or NNNNN-NNNN' }, (s) => s.slice(0, 5)),
  /** An ICD-10 (or ICD-10-CM) code: a letter, two characters, and up to four more after a dot. A code carries no identifier. */
  icd10: stringType(
    8,
    { re: /^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$/i, reason: 'must be an ICD-10 code such as E11.9' },
    (s) => s.toUpperCase(),
    (s) => s.toUpperCase(),
  ),
  integer: scalar('integer'),
  /** An age in whole years (Safe Harbor shows one over 89 as `90 or older`). */
  age: {
    parse: (v) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 150 ? ok(v) : bad('must be a whole number of years from 0 to 150'),
    normalize: (v) => String(v),
  },
  number: scalar('number'),
  boolean: scalar('boolean'),
} satisfies Record<string, FieldType>;

export type FieldTypeName = keyof typeof FIELD_TYPES | 'enum';
export const FIELD_TYPE_NAMES = [...Object.keys(FIELD_TYPES), 'enum'] as FieldTypeName[];

/** Extra checks the regexes above cannot express. */
const POST_CHECKS: Partial<Record<FieldTypeName, (v: string) => string | undefined>> = {
  date: (s) => (isCalendarDate(s) ? undefined : 'must be a real calendar date'),
  phone: (s) => {
    const n = digits(s).length;
    return n >= 10 && n <= 15 ? undefined : 'must be a phone number of 10 to 15 digits';
  },
};

export function enumType(values: readonly string[]): FieldType {
  return {
    parse: (v) => (typeof v === 'string' && values.includes(v) ? ok(v) : bad(`must be one of: ${values.join(', ')}`)),
    normalize: (v) => String(v),
  };
}

export function fieldType(name: FieldTypeName, values: readonly string[] = []): FieldType {
  if (name === 'enum') return enumType(values);
  const base = FIELD_TYPES[name];
  const post = POST_CHECKS[name];
  if (!post) return base;
  return {
    parse(v) {
      const r = base.parse(v);
      if (!r.ok) return r;
      const reason = post(String(r.value));
      return reason ? bad(reason) : r;
    },
    normalize: base.normalize,
  };
}
