/** What the detectors report: a typed span of text with a confidence, and each type's placeholder. */

/** The HIPAA Safe Harbor identifiers that free text can reveal, one tag per kind. */
export const PHI_TYPES = [
  'NAME',
  'SSN',
  'PHONE',
  'EMAIL',
  'URL',
  'IP',
  'DATE',
  'AGE',
  'ZIP',
  'ADDRESS',
  'LOCATION',
  'FACILITY',
  'MRN',
  'HEALTH_PLAN',
  'ACCOUNT',
  'LICENSE',
  'VEHICLE',
  'DEVICE',
  'CARD',
] as const;

export type PhiType = (typeof PHI_TYPES)[number];

/** One detected identifier: `text.slice(start, end)` is the value; confidence is in (0, 1]. */
export interface Finding {
  type: PhiType;
  start: number;
  end: number;
  confidence: number;
}

/** The text a scrubbed value is replaced with, e.g. `[SSN]`. */
export const placeholder = (type: PhiType): string => `[${type}]`;
