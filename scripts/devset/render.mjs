/**
 * Fills one template: every `{slot}` is replaced by a value from the slot table; PHI values
 * become gold spans. Asserts that every span's text is exactly the value inserted.
 */
const SLOT = /\{(\w+)\}/g;

/** Returns { text, spans } for `template` with values from `slots`. */
export function render(template, slots) {
  let text = '';
  let at = 0;
  const spans = [];
  for (const m of template.matchAll(SLOT)) {
    const fn = slots[m[1]];
    if (!fn) throw new Error(`unknown slot {${m[1]}} in: ${template}`);
    const [type, value] = fn();
    if (!value || value !== value.trim()) throw new Error(`bad value ${JSON.stringify(value)} for {${m[1]}}`);
    text += template.slice(at, m.index);
    if (type) spans.push({ type, start: text.length, end: text.length + value.length, value });
    text += value;
    at = m.index + m[0].length;
  }
  text += template.slice(at);
  for (const s of spans) if (text.slice(s.start, s.end) !== s.value) throw new Error(`span mismatch in: ${text}`);
  return { text, spans };
}

/** True when a template has at least one PHI slot (decided by rendering a probe). */
export const slotNames = (template) => [...template.matchAll(SLOT)].map((m) => m[1]);
