/**
 * Tokens: the deterministic token a value would get, and detokenization (current values behind
 * tokens) through the same audit trail as every PHI operation.
 */
import type { RequestContext } from '../access/actions.js';
import type { Grant, Policy } from '../access/policy.js';
import { constantTimeEqual, isTokenShaped } from '../crypto/derive.js';
import { isWardError, WardError } from '../errors.js';
import { type Collection, type Field, validationError } from '../schema/collection.js';
import type { FieldValue } from '../schema/types.js';
import type { Db } from '../store/db.js';
import * as records from '../store/records.js';
import type { RecordCodec } from './codec.js';
import { MAX_BATCH, show } from './records.js';
import type { AuditTrail } from './trail.js';

/** A token found and granted: the record that holds it, its field, and how the role sees it. */
interface TokenHit {
  c: Collection;
  field: Field;
  recordId: string;
  grant: Grant;
}

export class Tokens {
  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
    private readonly codec: RecordCodec,
    private readonly trail: AuditTrail,
    private readonly collections: ReadonlyMap<string, Collection>,
  ) {}

  /** The deterministic token a value would get, for joins across systems without PHI. */
  tokenize(c: Collection, field: string, value: unknown): string {
    const f = c.fields.get(field);
    if (f?.token !== 'deterministic')
      throw new WardError(
        'invalid_request',
        `${f ? `field ${field}` : 'the field named'} of ${c.name} has no deterministic token${f ? '' : ' (it is not a field of the collection)'}`,
      );
    const parsed = f.type.parse(value);
    if (!parsed.ok) throw validationError([{ field, reason: parsed.reason }]);
    return this.codec.deterministicToken(c, f, parsed.value);
  }

  /** Current values behind tokens; an unknown, malformed or forbidden token fails the whole call. */
  async detokenize(tokens: unknown, ctx: RequestContext): Promise<Record<string, FieldValue>> {
    if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > MAX_BATCH)
      throw new WardError('invalid_request', `tokens must be an array of 1 to ${MAX_BATCH} tokens`);
    const bad = tokens.flatMap((t, i) => (isTokenShaped(t) ? [] : [`tokens[${i}]`]));
    if (bad.length) throw new WardError('invalid_token', `not a Ward token: ${bad.join(', ')}`);
    // The role and its purpose are judged before any token is looked up: the answer must not
    // depend on whether a token (a person's, for deterministic ones) is in the vault.
    const refusal = this.policy.refusal(ctx, 'detokenize');
    if (refusal) {
      await this.trail.write(this.trail.row(ctx, 'detokenize', null, [], [], 'denied', refusal.code));
      throw refusal;
    }
    // One index probe per token, reading nothing of any record, however many hold it.
    const holders = await records.tokenHolders(this.db, tokens as string[]);
    const hits = holders.map((h) => h && this.tokenGrant(ctx, h));
    const missing = hits.flatMap((h, i) => (h ? [] : [`tokens[${i}]`]));
    if (missing.length) {
      // A token of a field the role may not see answers as an unknown one, at the same cost: one
      // audit row either way (which records the real reason).
      const refused = holders.filter((h, i): h is records.TokenHolder => !!h && !hits[i]);
      const fields = [...new Set(refused.map((h) => h.field))];
      const row = refused.length
        ? this.trail.row(ctx, 'detokenize', refused[0]?.collection ?? null, [], fields, 'denied', 'forbidden')
        : this.trail.row(ctx, 'detokenize', null, [], [], 'not_found', 'invalid_token');
      await this.trail.write(row);
      throw new WardError('invalid_token', `unknown token: ${missing.join(', ')}`);
    }
    const found = hits as TokenHit[];
    // One audit row per collection, written before any value leaves the vault.
    for (const c of new Set(found.map((h) => h.c))) {
      const mine = found.filter((h) => h.c === c);
      const row = this.trail.row(
        ctx,
        'detokenize',
        c.name,
        [...new Set(mine.map((h) => h.recordId))],
        [...new Set(mine.map((h) => h.field.name))],
      );
      await this.trail.run(row, (a) => this.trail.write(a));
    }
    const rows = new Map((await records.selectByIds(this.db, [...new Set(found.map((h) => h.recordId))])).map((r) => [r.id, r]));
    const out: Record<string, FieldValue> = {};
    for (const [i, h] of found.entries()) {
      const row = rows.get(h.recordId);
      // Deleted, or its value (and so its token) changed, between the lookup and the read: as
      // unknown as any other token, never the record's new value.
      const held = row?.tokens[h.field.name];
      const same = held !== undefined && constantTimeEqual(Buffer.from(held), Buffer.from(tokens[i] as string));
      const value = same && row ? (await this.codec.open(h.c, row, [h.field])).get(h.field.name) : undefined;
      if (value === undefined) throw new WardError('invalid_token', `unknown token: tokens[${i}]`);
      out[tokens[i] as string] = show(h.grant.get(h.field.name), value);
    }
    return out;
  }

  /** A token's field, if the caller may detokenize it for the purpose it stated. */
  private tokenGrant(ctx: RequestContext, h: records.TokenHolder): TokenHit | undefined {
    const c = this.collections.get(h.collection);
    const field = c?.fields.get(h.field);
    if (!c || !field) return undefined;
    try {
      return { c, field, recordId: h.recordId, grant: this.policy.authorize(ctx, 'detokenize', c, [field.name]) };
    } catch (e) {
      if (isWardError(e)) return undefined;
      throw e;
    }
  }
}
