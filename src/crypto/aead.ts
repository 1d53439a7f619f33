/**
 * AES-256-GCM with a self-describing envelope: [format][key version u32][iv][tag][ciphertext].
 * The caller's additional data binds a ciphertext to its place (collection, record, field, key
 * version). Every failure to open is the same opaque integrity error.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { WardError } from '../errors.js';
import { randomView } from './random.js';

interface Algorithm {
  cipher: 'aes-256-gcm';
  ivLength: number;
  tagLength: number;
}

/** Envelope formats by their first byte; unknown bytes fail closed. */
const FORMATS: Readonly<Record<number, Algorithm>> = {
  1: { cipher: 'aes-256-gcm', ivLength: 12, tagLength: 16 },
};
const CURRENT = 1;
const HEADER = 5;

export const integrityError = () => new WardError('integrity_error');

function algorithm(format: number | undefined): Algorithm {
  return (format !== undefined && FORMATS[format]) || unsupported();
}

function unsupported(): never {
  throw integrityError();
}

// node:crypto imports a raw key on every cipher it creates; a KeyObject per key (the same bytes,
// held as long as the key buffer itself) skips that for the keys in use. Keys are never mutated.
const keyObjects = new WeakMap<Buffer, KeyObject>();

function keyObject(key: Buffer): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return k;
}

export function sealWith(key: Buffer, keyVersion: number, aad: Buffer, plaintext: Buffer): Buffer {
  const alg = algorithm(CURRENT);
  const out = Buffer.allocUnsafe(HEADER + alg.ivLength + alg.tagLength + plaintext.length);
  out.writeUInt8(CURRENT, 0);
  out.writeUInt32BE(keyVersion, 1);
  const iv = randomView(alg.ivLength);
  iv.copy(out, HEADER);
  const cipher = createCipheriv(alg.cipher, keyObject(key), iv, { authTagLength: alg.tagLength });
  cipher.setAAD(aad);
  // GCM is a stream mode: the ciphertext is exactly as long as the plaintext.
  let at = HEADER + alg.ivLength + alg.tagLength;
  at += cipher.update(plaintext).copy(out, at);
  cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, HEADER + alg.ivLength);
  return out;
}

/** The key version a sealed blob claims; it is authenticated when the blob is opened. */
export function keyVersionOf(blob: Buffer): number {
  if (blob.length < HEADER) throw integrityError();
  return blob.readUInt32BE(1);
}

export function openWith(keyFor: (version: number) => Buffer | undefined, aadFor: (version: number) => Buffer, blob: Buffer): Buffer {
  const alg = algorithm(blob[0]);
  const version = keyVersionOf(blob);
  const key = keyFor(version);
  if (!key || blob.length < HEADER + alg.ivLength + alg.tagLength) throw integrityError();
  const iv = blob.subarray(HEADER, HEADER + alg.ivLength);
  const tag = blob.subarray(HEADER + alg.ivLength, HEADER + alg.ivLength + alg.tagLength);
  try {
    const decipher = createDecipheriv(alg.cipher, keyObject(key), iv, { authTagLength: alg.tagLength });
    decipher.setAAD(aadFor(version));
    decipher.setAuthTag(tag);
    const plain = decipher.update(blob.subarray(HEADER + alg.ivLength + alg.tagLength));
    decipher.final(); // GCM: verifies the tag (throws on a mismatch) and returns nothing more
    return plain;
  } catch {
    throw integrityError();
  }
}
