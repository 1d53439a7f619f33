/**
 * Scrubbing structured values (what a log call receives): every string and key through the
 * scrubber, the values of sensitive keys replaced, errors and buffers turned into safe plain
 * data. Unchanged objects are returned as they are (no copy).
 */
import { isPhiFree, scrub } from './scrub.js';

/** Keys whose values are always replaced with "[REDACTED]", at any depth (compared lower case without "-" and "_"). */
export const SENSITIVE_KEYS: readonly string[] = `
  password passwd secret token accesstoken refreshtoken apikey authorization cookie setcookie masterkey privatekey
  ssn socialsecuritynumber dob dateofbirth birthdate mrn medicalrecordnumber name firstname lastname fullname
  middlename patientname email phone phonenumber mobile fax address street streetaddress zip zipcode postalcode
  creditcard cardnumber cvv accountnumber memberid policynumber licensenumber ipaddress remoteaddress notes diagnosis
`
  .split(/\s+/)
  .filter(Boolean);

export const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;
const SENSITIVE = new Set(SENSITIVE_KEYS);
// Keys repeat from call to call: remember whether each is sensitive, for keys that hold no PHI
// themselves (only those, so the map never holds PHI) and up to a bound.
const cleanKeys = new Map<string, boolean>();
const KEYS_MAX = 4096;
// Joins the strings of one record for a single detector pass; the detector's rules never match across it.
const SEPARATOR = '\u0000';

/** A key as sensitive keys are compared: lower case, without "-" and "_". */
export const normalizeKey = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');

/** Whether `key` names a sensitive value; `extra` adds normalized names. */
function sensitive(key: string, extra: ReadonlySet<string>): boolean {
  const n = normalizeKey(key);
  return SENSITIVE.has(n) || extra.has(n);
}

/** The key's verdict if it is a known clean key, else undefined. */
function knownKey(key: string, extra: ReadonlySet<string>): boolean | undefined {
  if (extra.size) return undefined;
  const known = cleanKeys.get(key);
  if (known !== undefined || !isPhiFree(key)) return known;
  if (cleanKeys.size >= KEYS_MAX) cleanKeys.clear();
  const verdict = sensitive(key, extra);
  cleanKeys.set(key, verdict);
  return verdict;
}

// Records repeat most of their strings (messages, methods, routes): a small direct-mapped cache
// of strings already found clean lets the next record skip them. Only clean strings are stored,
// so it never holds PHI; a collision just evicts.
const SLOTS = 1024;
const SLOT_MAX_LENGTH = 64;
const cleanSlots: (string | undefined)[] = new Array(SLOTS);
const slotOf = (s: string) =>
  (s.length * 31 + s.charCodeAt(0) * 7 + s.charCodeAt(s.length >> 1) * 5 + s.charCodeAt(s.length - 1)) & (SLOTS - 1);

/**
 * The common case, fast: a plain record whose keys are known, none sensitive, and whose strings
 * (with `more`) are PHI-free in one detector pass over all of them. False means "walk it".
 */
export function cleanAsIs(value: object, more: string | undefined, extra: ReadonlySet<string>): boolean {
  const strings: string[] = more === undefined ? [] : [more];
  if (!collect(value, strings, extra, 0)) return false;
  const pending = strings.filter((s) => s.length > 0 && cleanSlots[slotOf(s)] !== s);
  if (!pending.length) return true;
  if (!isPhiFree(pending.join(SEPARATOR))) return false;
  for (const s of pending) if (s.length <= SLOT_MAX_LENGTH) cleanSlots[slotOf(s)] = s;
  return true;
}

function collect(value: unknown, strings: string[], extra: ReadonlySet<string>, depth: number): boolean {
  if (typeof value === 'string') strings.push(value);
  else if (value === null || typeof value !== 'object') return typeof value !== 'bigint';
  else if (depth >= MAX_DEPTH || Object.getPrototypeOf(value) !== Object.prototype) {
    if (!Array.isArray(value) || depth >= MAX_DEPTH) return false; // errors, buffers, dates, class instances: walk them
    for (const v of value) if (!collect(v, strings, extra, depth + 1)) return false;
  } else {
    for (const key in value) {
      if (knownKey(key, extra) !== false) return false;
      if (!collect((value as Record<string, unknown>)[key], strings, extra, depth + 1)) return false;
    }
  }
  return true;
}

/** `value` with every string scrubbed and sensitive keys redacted; `extra` adds normalized key names. */
export function scrubValue(value: unknown, extra: ReadonlySet<string> = new Set(), depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[Object]';
  if (value instanceof Error) return errorObject(value, extra, depth);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = scrubValue(value[i], extra, depth + 1);
      if (v === value[i]) continue;
      out ??= value.slice();
      out[i] = v;
    }
    return out ?? value;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return scrubValue(toJSON.call(value), extra, depth + 1);
  if (value instanceof Map || value instanceof Set) return scrubValue([...value], extra, depth + 1);
  return scrubObject(value as Record<string, unknown>, extra, depth);
}

function scrubObject(obj: Record<string, unknown>, extra: ReadonlySet<string>, depth: number): Record<string, unknown> {
  const keys = Object.keys(obj);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const v = obj[key];
    const known = knownKey(key, extra);
    const k = known === undefined ? scrub(key) : key;
    const next = (known ?? sensitive(key, extra)) ? REDACTED : scrubValue(v, extra, depth + 1);
    if (!out && (k !== key || next !== v)) {
      out = {};
      for (let e = 0; e < i; e++) out[keys[e] as string] = obj[keys[e] as string]; // unchanged so far
    }
    if (out) out[k] = next;
  }
  return out ?? obj;
}

function errorObject(e: Error, extra: ReadonlySet<string>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.name, message: scrub(e.message) };
  if (e.stack) out.stack = scrub(e.stack);
  const fields = e as unknown as Record<string, unknown>;
  for (const key of Object.keys(e)) out[scrub(key)] = sensitive(key, extra) ? REDACTED : scrubValue(fields[key], extra, depth + 1);
  if (e.cause !== undefined) out.cause = scrubValue(e.cause, extra, depth + 1);
  return out;
}
