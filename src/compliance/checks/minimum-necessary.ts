/**
 * Minimum necessary (45 CFR 164.502(b)): no role reads every PHI field of a collection in full
 * (no mask) for a purpose other than treatment, to which the standard does not apply
 * (164.502(b)(2)(i)). Rules are taken together per role, collection and purpose: two rules that
 * between them grant every field count as one. Read-like actions are read, search (it returns
 * the records it finds) and detokenize. De-identified views and break-glass rules do not count:
 * the first shows no identifier, the second is emergency access, audited and reviewed.
 */
import type { RuleConfig } from '../../config/schema.js';
import { alarm, type Check, ok } from '../types.js';

const READS = new Set(['read', 'search', 'detokenize']);
const EXEMPT_PURPOSE = 'treatment';

/** The fields a full-view rule shows unmasked. */
const unmasked = (rule: RuleConfig, all: readonly string[]): string[] =>
  (rule.fields === '*' ? all : rule.fields).filter((f) => !rule.masks?.[f]);

export const check: Check = {
  id: 'minimum-necessary',
  title: 'No role reads every field of a collection but for treatment',
  citations: ['164.502(b)', '164.308(a)(4)(ii)(B)'],
  severity: 'high',
  needs: [],
  run({ config }) {
    const grants: string[] = [];
    const roles = new Set<string>();
    const collections = new Set<string>();
    let everyField = 0;
    for (const [role, r] of Object.entries(config.roles)) {
      // collection → purpose → the PHI fields shown in full
      const shown = new Map<string, Map<string, Set<string>>>();
      for (const rule of r.allow) {
        if (rule.view === 'deidentified' || !rule.actions.some((a) => READS.has(a))) continue;
        for (const c of rule.collections) {
          const col = config.collections[c];
          if (!col) continue;
          const fields = unmasked(rule, Object.keys(col.fields)).filter((f) => col.fields[f] && col.fields[f].class !== 'public');
          const byPurpose = shown.get(c) ?? new Map<string, Set<string>>();
          shown.set(c, byPurpose);
          for (const p of rule.purposes) byPurpose.set(p, new Set([...(byPurpose.get(p) ?? []), ...fields]));
        }
      }
      for (const [c, byPurpose] of shown) {
        const phi = Object.entries(config.collections[c]?.fields ?? {}).filter(([, f]) => f.class !== 'public');
        if (!phi.length) continue;
        for (const [purpose, fields] of byPurpose) {
          if (!phi.every(([name]) => fields.has(name))) continue;
          everyField++;
          if (purpose === EXEMPT_PURPOSE) continue;
          grants.push(`${role}: ${c} for ${purpose}`);
          roles.add(role);
          collections.add(c);
        }
      }
    }
    if (grants.length)
      return alarm(
        `roles.*.allow: ${roles.size} role(s) read every field of a collection in full for a purpose other than treatment (${grants.join('; ')}); list only the fields the purpose needs in fields, or mask the rest`,
        { roles: [...roles], collections: [...collections], grants },
      );
    const evidence = { treatmentGrants: everyField };
    if (!everyField) return ok('roles.*.allow: no role reads every field of a collection in full, for any purpose', evidence);
    return ok(
      `roles.*.allow: every role that reads every field of a collection in full does so for treatment only (${everyField} grant(s))`,
      evidence,
    );
  },
};
