import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isWardError } from '../errors.js';
import { keyVersionOf, openWith, sealWith } from './aead.js';

const key = randomBytes(32);
const aad = Buffer.from('ward/field/v1 patients id ssn 1');
const open = (blob: Buffer, k = key, a = aad) =>
  openWith(
    () => k,
    () => a,
    blob,
  );

function expectIntegrityError(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(isWardError(e, 'integrity_error')).toBe(true);
    expect((e as Error).message).toBe('Stored data failed its integrity check');
    return;
  }
  throw new Error('expected an integrity error');
}

describe('AES-256-GCM envelope', () => {
  it('round-trips and records the key version in the header', () => {
    const blob = sealWith(key, 7, aad, Buffer.from('secret'));
    expect(keyVersionOf(blob)).toBe(7);
    expect(open(blob).toString()).toBe('secret');
  });

  it('uses a fresh IV per seal, so equal plaintexts differ', () => {
    expect(sealWith(key, 1, aad, Buffer.from('x')).equals(sealWith(key, 1, aad, Buffer.from('x')))).toBe(false);
  });

  it('a flipped byte anywhere gives the one opaque integrity error', () => {
    const blob = sealWith(key, 1, aad, Buffer.from('a value long enough'));
    for (let i = 5; i < blob.length; i++) {
      const bad = Buffer.from(blob);
      bad[i] = (bad[i] as number) ^ 0x01;
      expectIntegrityError(() => open(bad));
    }
  });

  it('other additional data (another record or field) fails to open', () => {
    const blob = sealWith(key, 1, aad, Buffer.from('v'));
    expectIntegrityError(() => open(blob, key, Buffer.from('ward/field/v1 patients id name 1')));
  });

  it('a wrong key, an unknown format or a truncated blob fail the same way', () => {
    const blob = sealWith(key, 1, aad, Buffer.from('v'));
    expectIntegrityError(() => open(blob, randomBytes(32)));
    expectIntegrityError(() => open(Buffer.concat([Buffer.from([9]), blob.subarray(1)])));
    expectIntegrityError(() => open(blob.subarray(0, 20)));
    expectIntegrityError(() =>
      openWith(
        () => undefined,
        () => aad,
        blob,
      ),
    );
  });
});
