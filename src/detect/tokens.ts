/** Capitalized tokens of a text and how they sit next to each other: what the word rules look at. */

export interface Token {
  start: number;
  end: number;
  /** Lower case, without a trailing possessive. */
  word: string;
  /** All capitals ("GET", "JOHN"), or holds a digit. */
  upper: boolean;
  /** Holds a digit: never part of a name ("B12", "E11"), maybe a VIN. */
  digit: boolean;
}

// Any script's capitals and letters ("Fernández-López", "Łukasz", "Nguyễn"), so a name is never half covered.
const TOKEN_RE = /(?<![\p{L}\p{M}\p{N}_'’-])\p{Lu}[\p{L}\p{M}\p{N}'’-]*/gu;
const HAS_DIGIT = /\d/;

/** Every word of `text` that starts with a capital letter. */
export function tokens(text: string): Token[] {
  const out: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m; m = TOKEN_RE.exec(text)) {
    let raw = m[0];
    // Drop a possessive or a trailing apostrophe or hyphen: "Mary's" → "Mary".
    const last = raw.charCodeAt(raw.length - 1);
    const before = raw.charCodeAt(raw.length - 2);
    if (last === 39 || last === 0x2019 || last === 45) raw = raw.slice(0, -1);
    else if (last === 115 && (before === 39 || before === 0x2019)) raw = raw.slice(0, -2);
    const digit = HAS_DIGIT.test(raw);
    out.push({
      start: m.index,
      end: m.index + raw.length,
      word: raw.toLowerCase(),
      upper: digit || (raw.length > 1 && raw === raw.toUpperCase()),
      digit,
    });
  }
  return out;
}

/** The text between token i and the next (a line break after the last). */
export const gap = (text: string, toks: Token[], i: number): string => {
  const a = toks[i];
  const b = toks[i + 1];
  return a && b ? text.slice(a.end, b.start) : '\n';
};
export const joined = (text: string, toks: Token[], i: number) => gap(text, toks, i) === ' ';
// Lower-case particles inside a name: "van der Berg", "de la Cruz", "bin Rashid", "dos Santos".
const PARTICLES = /^ (?:(?:van|von|der|den|de|del|della|dela|di|da|du|dos|das|do|la|le|ten|ter|bin|ibn|bint|al|el|y|zu|af|av) )+$/;
/** Token i and the next are one name: one space between them, or only particles ("de la"). */
export const nameJoined = (text: string, toks: Token[], i: number) => {
  const g = gap(text, toks, i);
  return g === ' ' || (g.length < 14 && PARTICLES.test(g));
};
/** Where a name that starts at token t starts when particles come first ("van der Berg"). */
export function particleStart(text: string, t: Token): number {
  const m =
    /(?:(?:^|[\s.:,(])(?:van|von|de|del|della|di|da|du|dos|das|la|le|ten|ter|bin|ibn|al|el)(?: (?:der|den|la|los|las|de|del))? )$/.exec(
      text.slice(Math.max(0, t.start - 12), t.start),
    );
  return m ? t.start - m[0].length + (/^[\s.:,(]/.test(m[0]) ? 1 : 0) : t.start;
}
export const isInitial = (text: string, t: Token | undefined) => !!t && t.end - t.start === 1 && text.charAt(t.end) === '.';
