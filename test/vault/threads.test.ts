/** A vault whose field crypto runs on a crypto thread stores and reads exactly what an inline one does. */
import { describe, expect, it } from 'vitest';
import { openVault } from '../../src/vault/open.js';
import { canaryPatient, DRIVERS, useTestVault } from '../helpers.js';

describe.each(DRIVERS)('crypto threads on %s', (driver) => {
  const t = useTestVault(driver, { cryptoThreads: 1 });

  it('every operation works through the thread, and an inline vault reads what it wrote (and the reverse)', async () => {
    const inline = await openVault(t.cfg, { env: { WARD_MASTER_KEY: t.masterKey }, db: t.db });
    const a = canaryPatient();
    const b = canaryPatient();
    const { id, tokens } = await t.vault.create('patients', a);
    // Tokens in field order, random and deterministic alike, as when the crypto ran inline.
    const tokenFields = [...t.vault.collection('patients').fields.values()].filter((f) => f.token).map((f) => f.name);
    expect(new Set(tokenFields.map((f) => t.vault.collection('patients').fields.get(f)?.token))).toEqual(
      new Set(['random', 'deterministic']),
    );
    expect(Object.keys(tokens)).toEqual(tokenFields);
    const { ids } = await t.vault.createMany('patients', [b, canaryPatient(), canaryPatient()]);
    expect(t.vault.cryptoOffloaded).toBe(4);
    expect((await t.vault.get('patients', id)).fields).toEqual(a);
    expect((await inline.get('patients', id)).fields).toEqual(a);
    expect((await inline.search('patients', { mrn: b.mrn })).map((r) => r.id)).toEqual([ids[0]]);
    expect(await inline.detokenize([tokens.ssn])).toEqual({ [tokens.ssn as string]: a.ssn });
    // Written inline, read and updated through the thread.
    const c = canaryPatient();
    const other = await inline.create('patients', c);
    expect((await t.vault.get('patients', other.id)).fields).toEqual(c);
    await t.vault.update('patients', other.id, { plan: 'silver' });
    expect((await inline.get('patients', other.id)).fields).toEqual({ ...c, plan: 'silver' });
    expect((await t.vault.search('patients', { mrn: c.mrn })).map((r) => r.fields.plan)).toEqual(['silver']);
    expect(await t.vault.detokenize([other.tokens.ssn])).toEqual({ [other.tokens.ssn as string]: c.ssn });
    // Same blind indexes and deterministic tokens from either side.
    const [viaThread] = await t.vault.search('patients', { mrn: a.mrn });
    expect(viaThread?.id).toBe(id);
    expect(t.vault.cryptoOffloaded).toBeGreaterThan(10);
    expect(inline.cryptoOffloaded).toBe(0);
  });

  it('concurrent creates and reads share messages to the thread and each gets its own record', async () => {
    const patients = Array.from({ length: 40 }, () => canaryPatient());
    const created = await Promise.all(patients.map((p) => t.vault.create('patients', p)));
    const read = await Promise.all(created.map((c) => t.vault.get('patients', c.id)));
    expect(read.map((r) => r.fields)).toEqual(patients);
  });
});
