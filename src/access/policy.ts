/**
 * Roles and policy decisions, as pure functions. Deny by default: a role may do only what an
 * allow rule grants, on the fields it names, for the purposes it lists. A grant says which
 * fields a principal sees and how (in full, masked, or reduced for a de-identified view).
 */

import { WardError } from '../errors.js';
import { assertKnownFields, type Collection, type Field, keyAt } from '../schema/collection.js';
import type { MaskName } from '../schema/mask.js';
import type { FieldTypeName } from '../schema/types.js';
import { intervalMs } from '../util/duration.js';
import { type Action, OPERATOR_PURPOSE, type RequestContext } from './actions.js';

/** A role as declared in ward.yaml (structurally the config's role settings). */
export interface RuleSpec {
  collections: string[];
  actions: readonly string[];
  fields: '*' | string[];
  purposes: string[];
  masks?: Record<string, string> | undefined;
  view: 'full' | 'deidentified';
}

export interface RoleSpec {
  audit?: boolean | undefined;
  admin?: boolean | undefined;
  /** Requests each key of the role may make per window (`per`: a duration such as 1m). */
  rate_limit?: { requests: number; per: string } | undefined;
  allow: RuleSpec[];
  /** Rules granted beyond `allow` to a request that declares a break-glass use (see vault/break-glass). */
  break_glass?: { window: string; max_unreviewed: number; allow: RuleSpec[] } | undefined;
}

/** How a role may break glass: how long one use lasts, and how many of a key's uses may wait for review. */
export interface BreakGlassSpec {
  windowMs: number;
  maxUnreviewed: number;
}

/** How a granted field is shown: in full, through a mask, or not at all (absent). */
export type FieldView = { kind: 'plain' } | { kind: 'mask'; mask: MaskName };

/**
 * The fields an allowed request may touch, each with how it is shown. `deidentified` unless a
 * rule for the request's stated purpose gives a full view: the record's own dates are then
 * shown as years, as date fields are in a de-identified view.
 */
export interface Grant extends ReadonlyMap<string, FieldView> {
  readonly deidentified: boolean;
}

const grantOf = (fields: Map<string, FieldView>, deidentified: boolean): Grant => Object.assign(fields, { deidentified });

const PLAIN: FieldView = { kind: 'plain' };

/** Types whose values cannot carry an identifier: a closed set of words, a truth value, a number, a validated code. */
const CANNOT_IDENTIFY = new Set<FieldTypeName>(['enum', 'boolean', 'integer', 'number', 'icd10']);

/**
 * Safe Harbor de-identification of one field (45 CFR 164.514(b)(2)): kept, reduced, or dropped
 * (undefined). Dates keep their year (or `90 or older`), ZIP codes three digits (or 000), ages
 * under 90 their value. Otherwise only types that cannot carry an identifier are kept, and never
 * an identifier field: free text of any type (string, text) is dropped, whatever its class.
 */
export function deidentified(f: Field): FieldView | undefined {
  if (f.typeName === 'date') return { kind: 'mask', mask: 'year' };
  if (f.typeName === 'zip') return { kind: 'mask', mask: 'zip3' };
  if (f.typeName === 'age') return { kind: 'mask', mask: 'age' };
  return f.class !== 'identifier' && CANNOT_IDENTIFY.has(f.typeName) ? PLAIN : undefined;
}

const isPhi = (f: Field) => f.class !== 'public';

export interface AuthorizeOptions {
  /** Fields that must be granted in full, not masked (search terms: matching on a masked value reveals it by trial). */
  plainOnly?: readonly string[];
  /** Every field name the request gave, checked to exist (default `touched`); an unknown one is 422 `unknown_field`. */
  named?: readonly string[];
  /** Where `named[i]` sits in the request, for the error: never the name itself. Default its key position. */
  where?: (index: number) => string;
}

export class Policy {
  /** Every purpose a role's rule names, and the operator's: the only purposes a request may state. */
  readonly purposes: ReadonlySet<string>;

  /** Each role's request rate, resolved once: it is asked on every request. */
  private readonly rates = new Map<string, { requests: number; perMs: number }>();

  constructor(private readonly roles: Readonly<Record<string, RoleSpec>>) {
    this.purposes = new Set([
      OPERATOR_PURPOSE,
      ...Object.values(roles).flatMap((r) => [...r.allow, ...(r.break_glass?.allow ?? [])].flatMap((rule) => rule.purposes)),
    ]);
    for (const [name, r] of Object.entries(roles))
      if (r.rate_limit) this.rates.set(name, { requests: r.rate_limit.requests, perMs: intervalMs(r.rate_limit.per) ?? 60_000 });
  }

  roleNames(): string[] {
    return Object.keys(this.roles);
  }

  hasRole(role: string): boolean {
    return Object.hasOwn(this.roles, role);
  }

  /**
   * Whether the role may `action` at all, for the purpose it stated, whatever records and fields
   * are involved: the refusal (`forbidden`, `purpose_required` or `purpose_not_permitted`) or
   * undefined. For decisions that must come before anything is looked up (detokenize: every token
   * stands for PHI).
   */
  refusal(ctx: RequestContext, action: Action): WardError | undefined {
    if (ctx.principal.operator) return undefined;
    const role = ctx.principal.role;
    const rules = this.rulesOf(ctx).filter((r) => r.actions.includes(action));
    if (!rules.length) return new WardError('forbidden', `role ${role} may not ${action}`);
    const purpose = ctx.purpose;
    if (purpose === undefined)
      return new WardError('purpose_required', 'this request touches PHI: state its purpose in the Ward-Purpose header');
    if (!rules.some((r) => r.purposes.includes(purpose)))
      return new WardError('purpose_not_permitted', `role ${role} may not ${action} for this purpose`);
    return undefined;
  }

  /** The rules that apply to a request: the role's, and its break-glass rules when it declared a use. */
  private rulesOf(ctx: RequestContext): readonly RuleSpec[] {
    const role = this.roles[ctx.principal.role];
    if (!role) return [];
    return ctx.breakGlass && role.break_glass ? [...role.allow, ...role.break_glass.allow] : role.allow;
  }

  /** How `role` may break glass, or undefined when it may not. */
  breakGlass(role: string): BreakGlassSpec | undefined {
    const bg = Object.hasOwn(this.roles, role) ? this.roles[role]?.break_glass : undefined;
    return bg && { windowMs: intervalMs(bg.window) ?? 3_600_000, maxUnreviewed: bg.max_unreviewed };
  }

  canReadAudit(ctx: RequestContext): boolean {
    return ctx.principal.operator === true || this.roles[ctx.principal.role]?.audit === true;
  }

  /** The request rate each key of `role` is held to, if its role sets one. */
  rateLimit(role: string): { requests: number; perMs: number } | undefined {
    return this.rates.get(role);
  }

  /** May manage API keys (create, list, revoke): the operator, and roles with `admin: true`. */
  canAdmin(ctx: RequestContext): boolean {
    return ctx.principal.operator === true || this.roles[ctx.principal.role]?.admin === true;
  }

  /**
   * Decides one request. `touched` are the fields the request names (input fields, `where`
   * fields, requested fields); undefined means "whatever the grant allows" (a plain read).
   * Fields in `plainOnly` (search terms) must be granted in full, not masked. Throws `forbidden`,
   * `purpose_required` or `purpose_not_permitted`; never returns an empty grant for a request that
   * names fields.
   */
  authorize(ctx: RequestContext, action: Action, c: Collection, touched?: readonly string[], o: AuthorizeOptions = {}): Grant {
    const plainOnly = o.plainOnly ?? [];
    const named = o.named ?? touched ?? [];
    const where = o.where ?? keyAt;
    if (ctx.principal.operator) {
      assertKnownFields(c, named, where);
      return grantOf(new Map([...c.fields.keys()].map((f) => [f, PLAIN])), false);
    }
    const rules = this.rulesOf(ctx).filter((r) => r.collections.includes(c.name) && r.actions.includes(action));
    if (!rules.length) throw new WardError('forbidden', `role ${ctx.principal.role} may not ${action} records of ${c.name}`);
    // A field the collection does not have is the request's mistake, not the role's: 422, as at the command line.
    assertKnownFields(c, named, where);
    const phi = touched ? touched.some((n) => c.fields.get(n)?.class !== 'public') : [...c.fields.values()].some(isPhi);
    const purpose = ctx.purpose;
    const usable = purpose === undefined ? [] : rules.filter((r) => r.purposes.includes(purpose));
    if (phi && purpose === undefined)
      throw new WardError('purpose_required', 'this request touches PHI: state its purpose in the Ward-Purpose header');
    if (phi && !usable.length)
      throw new WardError('purpose_not_permitted', `role ${ctx.principal.role} may not ${action} ${c.name} records for this purpose`);
    const grant = new Map<string, FieldView>();
    for (const rule of phi ? usable : rules)
      for (const f of c.fields.values()) {
        if (rule.fields !== '*' && !rule.fields.includes(f.name)) continue;
        const mask = rule.masks?.[f.name] as MaskName | undefined;
        const view = rule.view === 'deidentified' ? deidentified(f) : mask ? { kind: 'mask' as const, mask } : PLAIN;
        if (view && grant.get(f.name)?.kind !== 'plain') grant.set(f.name, view);
      }
    const denied = (touched ?? []).filter((n) => !grant.has(n));
    if (denied.length)
      throw new WardError('forbidden', `role ${ctx.principal.role} may not ${action} field(s) ${denied.join(', ')} of ${c.name}`);
    // Matching on a value one may only see masked would reveal it by trial (search terms).
    const masked = plainOnly.filter((n) => grant.get(n)?.kind !== 'plain');
    if (masked.length) throw new WardError('forbidden', `role ${ctx.principal.role} may not ${action} on ${masked.join(', ')}`);
    // Record dates in full only under a full-view rule for the stated purpose: a request that
    // touches no PHI is granted by rules of any purpose, or of none.
    return grantOf(grant, !usable.some((r) => r.view === 'full'));
  }
}
