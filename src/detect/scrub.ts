/** Replacing what the detector finds with typed placeholders, and the PHI-free predicate. */
import { type DetectOptions, detect } from './detect.js';
import { placeholder } from './types.js';

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
