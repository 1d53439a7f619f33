/**
 * Signed reports: the signature binds the report's bytes and the checkpoint it names, and only a
 * genuine audit signing key of this database (made with the master key) can make one.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestVault, testVault } from '../helpers.js';

describe('signed reports', () => {
  let t: TestVault;
  beforeAll(async () => {
    t = await testVault('pglite');
  });
  afterAll(async () => t.dispose());

  it('rule: a report verifies against its own signature, and against no other report’s', async () => {
    const a = Buffer.from('{"report":"a"}\n');
    const sig = JSON.stringify(await t.vault.signReport(a));
    expect(await t.vault.verifyReport(a, sig, 'a.sig')).toMatchObject({ ok: true, checkpoint: expect.any(Number) });
    const b = Buffer.from('{"report":"b"}\n');
    expect(await t.vault.verifyReport(b, sig, 'a.sig')).toEqual({
      ok: false,
      problem: 'the report was altered: its SHA-256 differs from the signed one',
    });
  });

  it('rule: a signature that names no checkpoint is refused', async () => {
    const a = Buffer.from('{"report":"c"}\n');
    const sig = { ...(await t.vault.signReport(a)), checkpoint: null };
    expect(await t.vault.verifyReport(a, JSON.stringify(sig), 'c.sig')).toEqual({
      ok: false,
      problem: 'the signature names no checkpoint',
    });
  });

  it('rule: a signing key written into the database without the master key signs nothing that verifies', async () => {
    const report = Buffer.from('{"report":"forged"}\n');
    const genuine = await t.vault.signReport(report);
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const [row] = await t.db.query<{ v: number }>('SELECT max(version) + 1 AS v FROM ward_audit_signing_keys');
    const v = row?.v ?? 2;
    await t.db.query('INSERT INTO ward_audit_signing_keys (version, public_key, wrapped, master_epoch) VALUES ($1, $2, $3, 1)', [
      v,
      raw,
      Buffer.alloc(60, 1),
    ]);
    const message = Buffer.from(`ward-report/v1\n${genuine.sha256}\n${JSON.stringify(genuine.checkpoint)}\n`);
    const forged = {
      ...genuine,
      signature: { keyVersion: v, publicKey: raw.toString('base64'), value: sign(null, message, privateKey).toString('base64') },
    };
    expect(await t.vault.verifyReport(report, JSON.stringify(forged), 'f.sig')).toEqual({
      ok: false,
      problem: "the report is not signed by one of this database's audit signing keys",
    });
    // A genuine key's public half under another version number is refused too.
    const swapped = { ...genuine, signature: { ...genuine.signature, keyVersion: v } };
    expect((await t.vault.verifyReport(report, JSON.stringify(swapped), 's.sig')).ok).toBe(false);
  });
});
