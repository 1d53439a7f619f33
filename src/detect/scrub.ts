/** Replacing what the detector finds with typed placeholders, and the PHI-free predicate. */
import { type DetectOptions, detect } from './detect.js';
import { type PhiType, placeholder } from './types.js';

/** `text` with every finding replaced by its placeholder: "SSN 219-09-9999" → "SSN [SSN]". */
export function scrub(text: string, options?: DetectOptions): string {
  const findings = detect(text, options);
  if (!findings.length) return text;
  let out = '';
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + placeholder(f.type);
    at = f.end;
  }
  return out + text.slice(at);
}

/** True when the detector finds nothing: for topic names, header values and metric labels. */
export function isPhiFree(text: string, options?: DetectOptions): boolean {
  return detect(text, options).length === 0;
}

/**
 * The type of PHI the detector finds in a name made of lowercase segments (a topic, a consumer,
 * a header value: `prod.patients.refs.v1`), read as written and as capitalized words
 * ("Prod Patients Refs V1"), or undefined. Only the type, never the text.
 */
export function phiInName(name: string): PhiType | undefined {
  const words = name
    .split(/[.\-_]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1));
  for (const reading of [name, words.join(' ')]) {
    const found = detect(reading)[0];
    if (found) return found.type;
  }
  return undefined;
}
