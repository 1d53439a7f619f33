import { describe, expect, it } from 'vitest';
import { operatorContext } from '../../src/access/actions.js';
import { isWardError, type WardError } from '../../src/errors.js';
import { canaryPatient, DRIVERS, useTestVault } from '../helpers.js';

async function failure(p: Promise<unknown> | (() => unknown)): Promise<WardError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isWardError(e)) return e;
    throw e;
  }
  throw new Error('expected a WardError');
}

describe.each(DRIVERS)('vault service on %s', (driver) => {
  const t = useTestVault(driver);

  /** Audit rows of the given request ids, oldest first. */
  const auditOf = (requestIds: string[]) =>
    t.db.query<{ request_id: string; record_ids: string[]; outcome: string; reason: string | null; txid: string }>(
      'SELECT request_id, record_ids, outcome, reason, txid::text AS txid FROM ward_audit_events WHERE request_id = ANY($1::text[]) ORDER BY seq',
      [requestIds],
    );
  const asRequest = (requestId: string) => ({ ...operatorContext(), requestId });

  it('concurrent reads share one statement, yet each caller gets only its own record and each read its own audit row', async () => {
    const patients = [0, 1, 2, 3, 4].map((i) => canaryPatient(100 + i));
    const ids = [];
    for (const p of patients) ids.push((await t.vault.create('patients', p)).id);
    const missing = '01890000-0000-7000-8000-000000000000';
    const tag = Math.random().toString(36).slice(2);
    const reads = [...ids, missing].map((id, i) => t.vault.get('patients', id, {}, asRequest(`read-${tag}-${i}`)));
    const settled = await Promise.allSettled(reads);
    for (const [i, p] of patients.entries()) {
      const r = settled[i];
      expect(r?.status).toBe('fulfilled');
      expect(r?.status === 'fulfilled' && r.value).toMatchObject({ id: ids[i], fields: p });
    }
    expect(settled[5]).toMatchObject({ status: 'rejected', reason: { code: 'not_found' } });
    const rows = await auditOf([0, 1, 2, 3, 4, 5].map((i) => `read-${tag}-${i}`));
    expect(rows.map((r) => [r.request_id, r.record_ids, r.outcome])).toEqual(
      // The missing one's id is only what the caller asked for: it is not kept.
      [...ids, missing].map((id, i) => [`read-${tag}-${i}`, i < 5 ? [id] : [], i < 5 ? 'allowed' : 'not_found']),
    );
    expect(new Set(rows.map((r) => r.txid)).size).toBe(1); // one statement, one transaction
  });

  it('rule: concurrent creates that collide on a unique value fail alone; the others are stored and each is audited', async () => {
    const tag = Math.random().toString(36).slice(2);
    const patients = [0, 1, 2, 3].map((i) => canaryPatient(200 + i));
    const twin = { ...canaryPatient(205), mrn: patients[1]?.mrn as string };
    const all = [...patients, twin];
    const settled = await Promise.allSettled(all.map((p, i) => t.vault.create('patients', p, asRequest(`create-${tag}-${i}`))));
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed.length).toBe(1);
    expect([1, 4]).toContain(failed[0]); // whichever of the two came second
    expect(settled[failed[0] as number]).toMatchObject({ status: 'rejected', reason: { code: 'unique_violation' } });
    const rows = await auditOf(all.map((_, i) => `create-${tag}-${i}`));
    expect(
      rows
        .filter((r) => r.outcome === 'allowed')
        .map((r) => r.request_id)
        .sort(),
    ).toEqual(all.map((_, i) => `create-${tag}-${i}`).filter((_, i) => i !== failed[0]));
    expect(rows.filter((r) => r.outcome === 'failed')).toMatchObject([
      { request_id: `create-${tag}-${failed[0]}`, reason: 'unique_violation' },
    ]);
    for (const [i, r] of settled.entries())
      if (r.status === 'fulfilled') expect((await t.vault.get('patients', r.value.id)).fields).toEqual(all[i]);
  });

  it('creates and reads back every field, with retention applied', async () => {
    const p = canaryPatient(1);
    const { id, version, tokens } = await t.vault.create('patients', p);
    expect(version).toBe(1);
    expect(Object.keys(tokens).sort()).toEqual(['email', 'ssn']);
    const got = await t.vault.get('patients', id);
    expect(got.fields).toEqual(p);
    expect(new Date(got.expiresAt as string).getUTCFullYear()).toBe(new Date().getUTCFullYear() + 7);
  });

  it('reads only the selected fields and masks on request', async () => {
    const p = canaryPatient(2);
    const { id } = await t.vault.create('patients', p);
    const got = await t.vault.get('patients', id, { fields: ['name', 'ssn', 'plan'], masked: true });
    expect(got.fields).toEqual({
      name: `C. ${p.name.split(' ')[1]?.[0]?.toUpperCase()}.`,
      ssn: `***-**-${p.ssn.slice(-4)}`,
      plan: 'gold',
    });
    const e = await failure(t.vault.get('patients', id, { fields: ['name', 'shoe_size'] }));
    expect(e.code).toBe('unknown_field');
  });

  it('rejects wrong types and malformed values by field name, never by value; an undeclared field by its position', async () => {
    const p = canaryPatient(3);
    const input = { ...p, ssn: '000-00-0000', email: 'not-an-email', dob: 19610704 };
    const e = await failure(t.vault.create('patients', input));
    expect(e.code).toBe('validation_failed');
    expect(e.issues.map((i) => i.field).sort()).toEqual(['dob', 'email', 'ssn']);
    expect(e.message).not.toContain('not-an-email');
    expect(e.message).not.toContain('000-00-0000');
    // A key the collection does not declare may be anything a caller typed: it is located, not quoted.
    const unknown = await failure(t.vault.create('patients', { ...p, Canaryname_Smith: 42 }));
    expect([unknown.code, unknown.message]).toEqual(['unknown_field', '(key 11): not a field of collection patients']);
    const missing = await failure(t.vault.create('patients', { name: p.name }));
    expect(missing.issues).toEqual([{ field: 'mrn', reason: 'is required' }]);
    for (const bad of [null, [], 'text', 42]) expect((await failure(t.vault.create('patients', bad))).code).toBe('validation_failed');
    const proto = await failure(t.vault.create('patients', JSON.parse(`{"mrn":"MRN-X1","name":"A B","__proto__":{"x":1}}`)));
    expect(proto.issues).toEqual([{ field: '(key 3)', reason: 'is not a field of collection patients' }]);
    expect((await failure(t.vault.create('nurses', p))).code).toBe('unknown_collection');
  });

  it('batch create is all or nothing and names the bad record by position', async () => {
    const good = [canaryPatient(10), canaryPatient(11), canaryPatient(12)];
    const e = await failure(t.vault.createMany('patients', [...good, { ...canaryPatient(13), zip: 'ABCDE' }]));
    expect(e.issues).toEqual([{ field: 'records[3].zip', reason: 'must be a US ZIP code as NNNNN or NNNNN-NNNN' }]);
    expect(await t.vault.search('patients', { mrn: good[0]?.mrn })).toEqual([]);
    // a unique clash inside the batch rolls back every record of it
    const clash = await failure(t.vault.createMany('patients', [...good, { ...canaryPatient(14), mrn: good[0]?.mrn }]));
    expect(clash.code).toBe('unique_violation');
    expect(await t.vault.search('patients', { mrn: good[1]?.mrn })).toEqual([]);
    const { ids } = await t.vault.createMany('patients', good);
    expect(ids).toHaveLength(3);
    expect((await t.vault.get('patients', ids[2] as string)).fields).toEqual(good[2]);
    expect((await failure(t.vault.createMany('patients', []))).code).toBe('invalid_request');
  });

  it('searches by blind index, normalized, on one or several fields', async () => {
    const p = canaryPatient(20);
    const { id } = await t.vault.create('patients', p);
    await t.vault.create('patients', { ...canaryPatient(21), name: p.name });
    const byName = await t.vault.search('patients', { name: `  ${p.name.toUpperCase()} ` });
    expect(byName).toHaveLength(2);
    const both = await t.vault.search('patients', { name: p.name, mrn: p.mrn.toLowerCase() });
    expect(both.map((r) => r.id)).toEqual([id]);
    expect(await t.vault.search('patients', { name: p.name }, { limit: 1 })).toHaveLength(1);
    expect((await failure(t.vault.search('patients', { diagnosis: p.diagnosis }))).code).toBe('not_searchable');
    expect((await failure(t.vault.search('patients', { ssn: p.ssn }))).code).toBe('not_searchable');
    expect((await failure(t.vault.search('patients', {}))).code).toBe('invalid_request');
    expect((await failure(t.vault.search('patients', { email: 'nope' }))).code).toBe('validation_failed');
  });

  it('unique fields refuse a second record with the same value, naming the field', async () => {
    const p = canaryPatient(30);
    await t.vault.create('patients', p);
    const e = await failure(t.vault.create('patients', { ...canaryPatient(31), mrn: p.mrn.toLowerCase() }));
    expect(e.code).toBe('unique_violation');
    expect(e.message).toBe('field mrn: another record already holds this value');
  });

  it('updates some fields, removes with null, keeps random tokens and bumps the version', async () => {
    const p = canaryPatient(40);
    const { id, tokens } = await t.vault.create('patients', p);
    const updated = await t.vault.update('patients', id, { plan: 'silver', notes: null, name: 'Renamed Person' });
    expect(updated).toEqual({ id, version: 2 });
    const got = await t.vault.get('patients', id);
    expect(got.fields.plan).toBe('silver');
    expect(got.fields.notes).toBeUndefined();
    expect(await t.vault.search('patients', { name: p.name })).toEqual([]);
    expect((await t.vault.search('patients', { name: 'renamed person' })).map((r) => r.id)).toEqual([id]);
    expect(await t.vault.detokenize([tokens.email])).toEqual({ [tokens.email as string]: p.email });
    await t.vault.update('patients', id, { email: 'new.address@example.org' });
    expect(await t.vault.detokenize([tokens.email])).toEqual({ [tokens.email as string]: 'new.address@example.org' });
    expect((await failure(t.vault.update('patients', id, { mrn: null }))).issues).toEqual([{ field: 'mrn', reason: 'is required' }]);
    expect((await t.vault.get('patients', id)).version).toBe(3);
  });

  it('deletes a record with its indexes and tokens', async () => {
    const p = canaryPatient(50);
    const { id, tokens } = await t.vault.create('patients', p);
    await t.vault.delete('patients', id);
    expect((await failure(t.vault.get('patients', id))).code).toBe('not_found');
    expect(await t.vault.search('patients', { mrn: p.mrn })).toEqual([]);
    expect((await failure(t.vault.detokenize([tokens.ssn]))).code).toBe('invalid_token');
    expect((await failure(t.vault.delete('patients', id))).code).toBe('not_found');
    expect((await failure(t.vault.get('patients', 'not-a-uuid'))).code).toBe('invalid_request');
  });

  it('tokenizes deterministically and detokenizes with every token checked', async () => {
    const p = canaryPatient(60);
    const { tokens } = await t.vault.create('patients', p);
    expect(t.vault.tokenize('patients', 'ssn', p.ssn.replace(/-/g, ''))).toBe(tokens.ssn);
    const values = await t.vault.detokenize([tokens.ssn, tokens.email]);
    expect(values).toEqual({ [tokens.ssn as string]: p.ssn, [tokens.email as string]: p.email });
    const e = await failure(t.vault.detokenize([tokens.ssn, 'tok_AAAAAAAAAAAAAAAAAAAAAAAA', p.ssn]));
    expect(e.code).toBe('invalid_token');
    expect(e.message).toBe('not a Ward token: tokens[2]');
    const unknown = await failure(t.vault.detokenize(['tok_AAAAAAAAAAAAAAAAAAAAAAAA']));
    expect(unknown.message).toBe('unknown token: tokens[0]');
    expect((await failure(() => t.vault.tokenize('patients', 'name', 'x'))).code).toBe('invalid_request');
  });
});
