/**
 * The SDK's types, checked by the compiler (`npm run typecheck` compiles this file: each
 * `@ts-expect-error` must be an error) and by expectTypeOf: a create takes exactly the
 * collection's Create schema, a read answers its Fields, an unknown collection is refused, and a
 * team's own generated `Collections` map retypes every record method.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  type Collections,
  type components,
  createClient,
  type ErrorCode,
  type WardClient,
  type WardError,
  type WardEvent,
  type WardRecord,
} from '../../packages/sdk/src/index.js';

type Schemas = components['schemas'];
// Never called: the client is only typed here.
const ward = createClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'ward_types' });
const never = <T>(f: () => T) => f;

describe('SDK types', () => {
  it('a create takes exactly the collection’s Create schema; an undeclared field is an error', () => {
    expectTypeOf(ward.records.create<'patients'>)
      .parameter(1)
      .toEqualTypeOf<Schemas['PatientsCreate']>();
    expectTypeOf(ward.records.update<'patients'>)
      .parameter(2)
      .toEqualTypeOf<Schemas['PatientsUpdate']>();
    expectTypeOf(ward.records.batch<'patients'>)
      .parameter(1)
      .toEqualTypeOf<readonly Schemas['PatientsCreate'][]>();
    never(() => {
      // @ts-expect-error favourite_colour is not a field of patients
      void ward.records.create('patients', { mrn: 'MRN-1', name: 'A B', favourite_colour: 'blue' });
      // @ts-expect-error name is required on create
      void ward.records.create('patients', { mrn: 'MRN-1' });
      // @ts-expect-error plan is an enum
      void ward.records.update('patients', 'id', { plan: 'platinum' });
      // null removes a field on update, never on create
      void ward.records.update('patients', 'id', { notes: null });
      // @ts-expect-error null is no value on create
      void ward.records.create('patients', { mrn: 'MRN-1', name: 'A B', notes: null });
    });
  });

  it('a read answers the collection’s Fields; field lists and searches name its fields', () => {
    expectTypeOf(ward.records.get<'patients'>).returns.resolves.toEqualTypeOf<WardRecord<Schemas['PatientsFields']>>();
    expectTypeOf<WardRecord<Schemas['PatientsFields']>>().toHaveProperty('fields').toEqualTypeOf<Schemas['PatientsFields']>();
    expectTypeOf<WardRecord<Schemas['PatientsFields']>['id']>().toEqualTypeOf<string>();
    expectTypeOf<WardRecord<Schemas['PatientsFields']>['version']>().toEqualTypeOf<number>();
    expectTypeOf(ward.records.search<'patients'>).returns.resolves.toEqualTypeOf<WardRecord<Schemas['PatientsFields']>[]>();
    never(() => {
      void ward.records.get('patients', 'id', { fields: ['ssn', 'plan'], masked: true, purpose: 'treatment' });
      // @ts-expect-error shoe_size is not a field of patients
      void ward.records.get('patients', 'id', { fields: ['shoe_size'] });
      // @ts-expect-error shoe_size is not a field of patients
      void ward.records.search('patients', { shoe_size: 42 });
    });
  });

  it('an unknown collection is an error', () => {
    expectTypeOf<Parameters<typeof ward.records.create>[0]>().toEqualTypeOf<'patients'>();
    never(() => {
      // @ts-expect-error visits is not a collection of this server
      void ward.records.create('visits', { mrn: 'MRN-1', name: 'A B' });
      // @ts-expect-error visits is not a collection of this server
      void ward.records.get('visits', 'id');
      // @ts-expect-error visits is not a collection of this server
      void ward.records.delete('visits', 'id');
    });
  });

  it('a team’s own Collections map (generated with --from their server) retypes the record methods', () => {
    type Mine = { visits: { create: { reason: string; patientId: string }; update: { reason?: string }; fields: { reason?: string } } };
    const mine = createClient<Mine>({ baseUrl: 'http://127.0.0.1:9', apiKey: 'ward_types' });
    expectTypeOf(mine).toEqualTypeOf<WardClient<Mine>>();
    expectTypeOf(mine.records.get<'visits'>)
      .returns.resolves.toHaveProperty('fields')
      .toEqualTypeOf<{ reason?: string }>();
    never(() => {
      void mine.records.create('visits', { reason: 'checkup', patientId: 'p1' });
      // @ts-expect-error patients is not one of Mine
      void mine.records.create('patients', { mrn: 'MRN-1', name: 'A B' });
    });
    expectTypeOf<keyof Collections>().toEqualTypeOf<'patients'>();
  });

  it('errors and events are typed', () => {
    expectTypeOf<WardError['code']>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<'purpose_not_permitted'>().toExtend<ErrorCode>();
    expectTypeOf<WardError['requestId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf(ward.events.stream).returns.toExtend<AsyncIterable<WardEvent>>();
    expectTypeOf<WardEvent['seq']>().toEqualTypeOf<number>();
  });
});
