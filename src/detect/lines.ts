/**
 * Line-oriented scanning for `ward scan`: a line is plain text, or a JSON value (a JSON log
 * line) whose strings are scanned one by one, so JSON escapes neither hide nor break a value.
 */
import { type DetectOptions, detect } from './detect.js';
import { scrub } from './scrub.js';
import type { PhiType } from './types.js';

/** One finding in a line: its type, and where it is (column for text, JSON path for JSON). */
export interface LineFinding {
  type: PhiType;
  /** 1-based column in the line (text), or the JSON path of the string holding it (e.g. "msg", "err.stack"). */
  at: number | string;
  /** Offsets of the finding (0-based, end exclusive): in the line, or in the JSON string at `at`. */
  start: number;
  end: number;
  confidence: number;
  value: string;
}

function parseJson(line: string): unknown {
  const c = line.trimStart().charAt(0);
  if (c !== '{' && c !== '[') return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Every string (keys included) of a JSON value, with its path. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}[${i}]`);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      yield [p, k];
      yield* strings(v, p);
    }
  }
}

/** The findings of one line (without its line break). */
export function scanLine(line: string, options?: DetectOptions): LineFinding[] {
  const json = parseJson(line);
  if (json === undefined)
    return detect(line, options).map((f) => ({
      type: f.type,
      at: f.start + 1,
      start: f.start,
      end: f.end,
      confidence: f.confidence,
      value: line.slice(f.start, f.end),
    }));
  const out: LineFinding[] = [];
  for (const [path, s] of strings(json, '')) {
    for (const f of detect(s, options))
      out.push({
        type: f.type,
        at: path || '(root)',
        start: f.start,
        end: f.end,
        confidence: f.confidence,
        value: s.slice(f.start, f.end),
      });
  }
  return out;
}

function scrubJson(value: unknown, options?: DetectOptions): unknown {
  if (typeof value === 'string') return scrub(value, options);
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, options));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k, options), scrubJson(v, options)]));
  return value;
}

/** The line with every finding replaced by its placeholder; a JSON line stays valid JSON. */
export function redactLine(line: string, options?: DetectOptions): string {
  const json = parseJson(line);
  if (json === undefined) return scrub(line, options);
  if (!scanLine(line, options).length) return line; // keep the line byte for byte when clean
  return JSON.stringify(scrubJson(json, options));
}
