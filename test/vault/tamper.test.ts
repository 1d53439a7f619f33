/** Stored ciphertexts that were altered, moved or relabelled give one opaque error and no data. */
import { describe, expect, it } from 'vitest';
import { isWardError } from '../../src/errors.js';
import { canaryPatient, DRIVERS, useTestVault } from '../helpers.js';

// Field crypto on this thread and on a crypto thread: the same verdicts either way.
describe.each(DRIVERS.flatMap((d) => [0, 1].map((threads) => [d, threads] as const)))(
  'tamper detection on %s, %i crypto threads',
  (driver, cryptoThreads) => {
    const t = useTestVault(driver, { cryptoThreads });

    const sealed = async (id: string) =>
      (
        (await t.db.query<{ sealed: Record<string, string> }>('SELECT sealed FROM ward_records WHERE id = $1', [id]))[0] as {
          sealed: Record<string, string>;
        }
      ).sealed;
    const setSealed = (id: string, field: string, b64: string) =>
      t.db.query(`UPDATE ward_records SET sealed = jsonb_set(sealed::jsonb, ARRAY[$2], to_jsonb($3::text))::json WHERE id = $1`, [
        id,
        field,
        b64,
      ]);

    /** The read fails with the uniform integrity error and returns nothing; other fields still read. */
    async function expectIntegrityFailure(id: string, field: string, canaries: string[]) {
      let result: unknown;
      let error: unknown;
      try {
        result = await t.vault.get('patients', id);
      } catch (e) {
        error = e;
      }
      expect(result).toBeUndefined();
      expect(isWardError(error, 'integrity_error')).toBe(true);
      const message = (error as Error).message;
      expect(message).toBe('Stored data failed its integrity check');
      for (const c of canaries) expect(message).not.toContain(c);
      const others = await t.vault.get('patients', id, { fields: ['plan'] });
      expect(others.fields).toEqual({ plan: 'gold' });
      expect(field).toBeTruthy();
    }

    it('a flipped byte in a ciphertext', async () => {
      const p = canaryPatient();
      const { id } = await t.vault.create('patients', p);
      const blob = Buffer.from((await sealed(id)).ssn as string, 'base64');
      blob[blob.length - 3] = (blob[blob.length - 3] as number) ^ 0x40;
      await setSealed(id, 'ssn', blob.toString('base64'));
      await expectIntegrityFailure(id, 'ssn', [p.ssn]);
    });

    it('a ciphertext copied from another record', async () => {
      const a = canaryPatient();
      const b = canaryPatient();
      const ra = await t.vault.create('patients', a);
      const rb = await t.vault.create('patients', b);
      await setSealed(rb.id, 'ssn', (await sealed(ra.id)).ssn as string);
      await expectIntegrityFailure(rb.id, 'ssn', [a.ssn, b.ssn]);
    });

    it('a ciphertext moved to another field of the same record', async () => {
      const p = canaryPatient();
      const { id } = await t.vault.create('patients', p);
      await setSealed(id, 'email', (await sealed(id)).name as string);
      await expectIntegrityFailure(id, 'email', [p.name, p.email]);
    });

    it('a wrong key version, in the row or in the ciphertext header', async () => {
      const p = canaryPatient();
      const { id } = await t.vault.create('patients', p);
      const original = (await sealed(id)).ssn as string;
      const v2 = await t.vault.rotateKey('patients');
      await t.db.query('UPDATE ward_records SET key_version = $2 WHERE id = $1', [id, v2]);
      await expectIntegrityFailure(id, 'ssn', [p.ssn]);
      await t.db.query('UPDATE ward_records SET key_version = 1 WHERE id = $1', [id]);
      const relabelled = Buffer.from(original, 'base64');
      relabelled.writeUInt32BE(v2, 1);
      await setSealed(id, 'ssn', relabelled.toString('base64'));
      await expectIntegrityFailure(id, 'ssn', [p.ssn]);
      await t.db.query('UPDATE ward_records SET key_version = $2 WHERE id = $1', [id, v2]);
      await expectIntegrityFailure(id, 'ssn', [p.ssn]);
      await t.db.query('UPDATE ward_records SET key_version = 99 WHERE id = $1', [id]);
      await expectIntegrityFailure(id, 'ssn', [p.ssn]);
    });

    it('a search result with a tampered record fails as a whole', async () => {
      const p = canaryPatient();
      const { id } = await t.vault.create('patients', p);
      await setSealed(id, 'name', (await sealed(id)).mrn as string);
      await expect(t.vault.search('patients', { mrn: p.mrn })).rejects.toMatchObject({ code: 'integrity_error' });
    });
  },
);
