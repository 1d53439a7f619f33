/** The README's SDK example, as written there: it type-checks (npm run typecheck) against the generated types. */
import { describe, expect, it } from 'vitest';
import { createClient, WardError } from '../../packages/sdk/src/index.js';

async function readmeExample(): Promise<void> {
  const ward = createClient({ baseUrl: 'https://ward.internal', apiKey: process.env.WARD_API_KEY ?? '', purpose: 'treatment' });
  const { id } = await ward.records.create('patients', { mrn: 'MRN-0001', name: 'Ada Example', plan: 'gold' });
  const record = await ward.records.get('patients', id, { fields: ['name', 'plan'] });
  const billing = await ward.records.get('patients', id, { purpose: 'payment' });
  try {
    await ward.records.get('patients', id, { purpose: 'marketing' });
  } catch (e) {
    if (e instanceof WardError) void [e.code, e.status, e.requestId];
  }
  for await (const event of ward.events.stream('prod.patients.refs.v1', { after: 0 })) void [event.seq, record, billing];
}

describe('the README example', () => {
  it('is a function the type checker accepts (it is not run: there is no server at ward.internal)', () => {
    expect(typeof readmeExample).toBe('function');
  });
});
