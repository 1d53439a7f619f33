/**
 * The SDK's canary test: a record of canary values is created, then calls that fail carry those
 * values in their bodies, paths and queries (a refused purpose, validation, a unique clash, not
 * found, an unknown collection, a search on a field that is not searchable, bad tokens, no
 * server at all). No canary value may appear in any WardError's message, stack, JSON or
 * inspection, and the SDK writes nothing to the console.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createClient, WardError } from '../../packages/sdk/src/index.js';
import { freePort } from '../free-port.js';
import { DRIVERS } from '../helpers.js';
import { patient, useSdkServer } from './helpers.js';

const CONSOLE = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

describe.each(DRIVERS)('no canary value escapes through the SDK on %s', (driver) => {
  const s = useSdkServer(driver);
  let spies: MockInstance[] = [];
  beforeEach(() => {
    spies = CONSOLE.map((m) => vi.spyOn(console, m));
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });

  it('rule: WardErrors hold no submitted or stored value, and the SDK logs nothing', async () => {
    const p = patient();
    const q = patient();
    const values = Object.entries(p)
      .filter(([k]) => k !== 'plan')
      .map(([, v]) => v);
    const ward = s.client('clinician');
    const { id, tokens } = await ward.records.create('patients', p);
    const c = 'patients' as const;
    const failures: Promise<unknown>[] = [
      // a purpose the role may not use, stated per call and as the client's default
      ward.records.get(c, id, { purpose: 'payment' }),
      s.client('clinician', { purpose: 'payment' }).records.search(c, { mrn: p.mrn, name: p.name }),
      // validation: canary values in the wrong fields
      ward.records.create(c, { ...q, dob: p.ssn, email: p.name, zip: p.mrn }),
      ward.records.update(c, id, { dob: p.notes, phone: p.diagnosis }),
      ward.records.batch(c, [q, { ...q, ssn: p.email }]),
      // a unique field's value taken
      ward.records.create(c, { ...q, mrn: p.mrn }),
      // undeclared fields whose names are canaries (the types refuse them; the server too)
      ward.records.create(c, { ...q, [p.notes]: p.name } as never),
      // not found, and an unknown collection
      ward.records.get(c, '00000000-0000-4000-8000-000000000000'),
      ward.records.create('no_such_collection' as never, p as never),
      // equality on a field that is not searchable
      ward.records.search(c, { notes: p.notes, diagnosis: p.diagnosis }),
      // tokens that are not tokens, and a role that may not detokenize
      ward.detokenize([p.ssn, `${tokens.ssn}x`]),
      s.client('billing').detokenize([tokens.ssn as string], { purpose: 'payment' }),
      // break-glass reasons that are canaries
      s.client('triage').records.get(c, id, { breakGlass: p.notes.slice(0, 10) }),
      s.client('triage').records.get(c, id, { breakGlass: `${p.notes} ${p.name} ${p.ssn} `.repeat(12) }),
    ];
    // No server at all: the request holds the canaries, the error must not.
    const dead = createClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: 'ward_dead', purpose: 'treatment', retries: 0 });
    failures.push(dead.records.create(c, p), dead.records.get(c, id, { fields: ['ssn'] }), dead.records.search(c, { mrn: p.mrn }));

    const errors = await Promise.all(
      failures.map((f) =>
        f.then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(errors.map((e) => (e instanceof WardError ? 'WardError' : String(e)))).toEqual(errors.map(() => 'WardError'));
    const codes = (errors as WardError[]).map((e) => e.code);
    expect(codes).toEqual([
      'purpose_not_permitted',
      'purpose_not_permitted',
      'validation_failed',
      'validation_failed',
      'validation_failed',
      'unique_violation',
      expect.stringMatching(/^(unknown_field|invalid_request)$/),
      'not_found',
      'unknown_collection',
      'not_searchable',
      'invalid_token',
      'forbidden',
      'break_glass_reason_invalid',
      'break_glass_reason_invalid',
      'network_error',
      'network_error',
      'network_error',
    ]);
    for (const e of errors as WardError[]) {
      const shown = [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 5 }), String(e)].join('\n');
      for (const v of [...values, id]) expect(shown).not.toContain(v);
      if (e.code === 'network_error') expect(shown).not.toContain('127.0.0.1');
      else expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });
});
