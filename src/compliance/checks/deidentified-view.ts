/**
 * A de-identified view (a rule with `view: deidentified`) stays de-identified under Safe Harbor
 * (45 CFR 164.514(b)(2)). Access policy already shapes what such a rule shows: no identifier, no
 * free text, dates as years, ZIP codes as three digits, whatever its fields and masks say (masks
 * are ignored under it; a search term must be shown in full, which no identifier is). Two things
 * the policy does not stop, and this check does:
 *  - actions beyond read and search: detokenize turns a token (a re-identification link) back into
 *    its value, and create, update, delete and shred are no part of a view of the data;
 *  - a full-view rule of the same role for the same collection and purpose: the policy merges
 *    rules of one purpose, and the full view wins, identifiers and record dates included.
 */
import { alarm, type Check, info, ok } from '../types.js';

const VIEW_ACTIONS = new Set(['read', 'search']);

export const check: Check = {
  id: 'deidentified-view',
  title: 'De-identified views grant reading only and are not merged with a full view',
  citations: ['164.514(b)(2)'],
  severity: 'medium',
  needs: [],
  run({ config }) {
    const problems: string[] = [];
    const roles = new Set<string>();
    let views = 0;
    for (const [role, r] of Object.entries(config.roles)) {
      const rules = [
        ...r.allow.map((rule, i) => ({ rule, at: `roles.${role}.allow[${i}]`, breakGlass: false })),
        ...(r.break_glass?.allow ?? []).map((rule, i) => ({ rule, at: `roles.${role}.break_glass.allow[${i}]`, breakGlass: true })),
      ];
      for (const { rule, at, breakGlass } of rules) {
        if (rule.view !== 'deidentified') continue;
        views++;
        const extra = rule.actions.filter((a) => !VIEW_ACTIONS.has(a));
        if (extra.length) {
          problems.push(`${at}.actions: ${extra.join(', ')}`);
          roles.add(role);
        }
        // Rules that apply beside this one: the role's own, and its break-glass rules when this is one.
        const beside = breakGlass ? rules : rules.filter((x) => !x.breakGlass);
        const merged = beside.filter(
          (x) =>
            x.rule.view === 'full' &&
            x.rule.collections.some((c) => rule.collections.includes(c)) &&
            x.rule.purposes.some((p) => rule.purposes.includes(p)),
        );
        if (merged.length) {
          problems.push(`${at}: merged with ${merged.map((x) => x.at).join(', ')}`);
          roles.add(role);
        }
      }
    }
    if (!views) return info('roles.*.allow.*.view: no role has a de-identified view', { views: 0 });
    if (problems.length)
      return alarm(
        `roles.*.allow.*.view: ${problems.length} de-identified rule problem(s) (${problems.join('; ')}); grant a de-identified rule only read and search, and give it a purpose no full-view rule of the role for that collection has`,
        { roles: [...roles], problems, views },
      );
    return ok(`roles.*.allow.*.view: ${views} de-identified rule(s) grant read or search only, for purposes of their own`, { views });
  },
};
