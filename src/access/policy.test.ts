import { describe, expect, it } from 'vitest';
import { compileCollection } from '../schema/collection.js';
import { operatorContext, type RequestContext } from './actions.js';
import { deidentified, Policy, type RoleSpec } from './policy.js';

const patients = compileCollection(
  'patients',
  {
    name: { type: 'name', class: 'identifier' },
    dob: { type: 'date', class: 'identifier' },
    zip: { type: 'zip', class: 'identifier' },
    plan: { type: 'enum', values: ['gold'], class: 'public' },
  },
  undefined,
);
const rule = (view: 'full' | 'deidentified', purposes: string[]): RoleSpec['allow'][number] => ({
  collections: ['patients'],
  actions: ['read'],
  fields: '*',
  purposes,
  view,
});
const policy = new Policy({
  research: { allow: [rule('deidentified', ['research'])] },
  mixed: { allow: [rule('deidentified', ['research']), rule('full', ['research'])] },
  split: { allow: [rule('deidentified', ['research']), rule('full', ['treatment'])] },
});
const as = (role: string, purpose?: string): RequestContext => ({ principal: { id: `key:${role}`, role }, purpose });

describe('Safe Harbor de-identification of a field (45 CFR 164.514(b)(2))', () => {
  const field = (type: string, cls: string) =>
    compileCollection('c', { f: { type, class: cls, ...(type === 'enum' ? { values: ['a'] } : {}) } }, undefined).fields.get('f') as never;
  const cases: [type: string, cls: string, view: ReturnType<typeof deidentified> | undefined][] = [
    ['date', 'identifier', { kind: 'mask', mask: 'year' }],
    ['date', 'clinical', { kind: 'mask', mask: 'year' }],
    ['zip', 'identifier', { kind: 'mask', mask: 'zip3' }],
    ['age', 'clinical', { kind: 'mask', mask: 'age' }],
    ['enum', 'public', { kind: 'plain' }],
    ['boolean', 'clinical', { kind: 'plain' }],
    ['number', 'clinical', { kind: 'plain' }],
    ['integer', 'public', { kind: 'plain' }],
    ['icd10', 'clinical', { kind: 'plain' }],
    // free text of any type and class, and every other identifier, is dropped
    ['string', 'clinical', undefined],
    ['string', 'public', undefined],
    ['text', 'clinical', undefined],
    ['integer', 'identifier', undefined],
    ['enum', 'identifier', undefined],
    ['name', 'identifier', undefined],
    ['ssn', 'identifier', undefined],
    ['mrn', 'identifier', undefined],
    ['email', 'identifier', undefined],
    ['phone', 'identifier', undefined],
  ];
  it.each(cases)('a %s field of class %s', (type, cls, view) => {
    expect(deidentified(field(type, cls))).toEqual(view);
  });
});

describe('grants', () => {
  it('are de-identified unless a rule for the stated purpose gives a full view', () => {
    const research = policy.authorize(as('research', 'research'), 'read', patients);
    expect([research.deidentified, [...research.keys()].sort()]).toEqual([true, ['dob', 'plan', 'zip']]);
    expect(research.get('dob')).toEqual({ kind: 'mask', mask: 'year' });
    // A full rule for the same purpose shows everything in full, the record's dates too.
    const mixed = policy.authorize(as('mixed', 'research'), 'read', patients);
    expect([mixed.deidentified, mixed.get('dob')]).toEqual([false, { kind: 'plain' }]);
    // Rules for other purposes do not count.
    expect(policy.authorize(as('split', 'research'), 'read', patients).deidentified).toBe(true);
    expect(policy.authorize(as('split', 'treatment'), 'read', patients).deidentified).toBe(false);
    expect(policy.authorize(operatorContext('test'), 'read', patients).deidentified).toBe(false);
    // A request for public fields only is granted by rules of any purpose (or none): its record
    // dates are full only under a full rule for the purpose it states.
    expect(policy.authorize(as('split', 'research'), 'read', patients, ['plan']).deidentified).toBe(true);
    expect(policy.authorize(as('split'), 'read', patients, ['plan']).deidentified).toBe(true);
    expect(policy.authorize(as('split', 'treatment'), 'read', patients, ['plan']).deidentified).toBe(false);
  });

  it('refusal: judged from the role and stated purpose alone, before anything is looked up', () => {
    const p = new Policy({
      research: { allow: [{ ...rule('deidentified', ['research']), actions: ['detokenize'] }] },
      reader: { allow: [rule('full', ['treatment'])] },
    });
    const cases: [RequestContext, string | undefined][] = [
      [as('research', 'research'), undefined],
      [as('research'), 'purpose_required'],
      [as('research', 'treatment'), 'purpose_not_permitted'],
      [as('reader', 'treatment'), 'forbidden'],
      [as('nobody', 'research'), 'forbidden'],
      [operatorContext('test'), undefined],
    ];
    for (const [ctx, code] of cases) expect(p.refusal(ctx, 'detokenize')?.code, `${ctx.principal.role} ${ctx.purpose}`).toBe(code);
  });
});
