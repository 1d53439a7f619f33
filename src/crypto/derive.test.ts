import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndex, constantTimeEqual, deterministicToken, fieldKey, isTokenShaped, randomToken } from './derive.js';

const root = randomBytes(32);

describe('derived keys, blind indexes and tokens', () => {
  it('derives distinct keys per field and purpose', () => {
    const a = fieldKey(root, 'blind-index', 'name');
    expect(a.equals(fieldKey(root, 'blind-index', 'name'))).toBe(true);
    expect(a.equals(fieldKey(root, 'blind-index', 'mrn'))).toBe(false);
    expect(a.equals(fieldKey(root, 'token', 'name'))).toBe(false);
  });

  it('blind index is deterministic per key and differs across keys', () => {
    const k = fieldKey(root, 'blind-index', 'name');
    expect(blindIndex(k, 'ada').equals(blindIndex(k, 'ada'))).toBe(true);
    expect(blindIndex(k, 'ada').equals(blindIndex(k, 'bob'))).toBe(false);
    expect(blindIndex(k, 'ada').equals(blindIndex(fieldKey(randomBytes(32), 'blind-index', 'name'), 'ada'))).toBe(false);
    expect(blindIndex(k, 'ada')).toHaveLength(16);
  });

  it('tokens have a recognizable shape and carry no plaintext', () => {
    const k = fieldKey(root, 'token', 'ssn');
    const d = deterministicToken(k, '123456789');
    expect(d).toBe(deterministicToken(k, '123456789'));
    expect(d).not.toContain('123456789');
    expect(isTokenShaped(d)).toBe(true);
    expect(isTokenShaped(randomToken())).toBe(true);
    expect(randomToken()).not.toBe(randomToken());
    expect(isTokenShaped('tok_short')).toBe(false);
    expect(isTokenShaped(42)).toBe(false);
  });

  it('constant-time equality handles different lengths', () => {
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('ab'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('abc'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('ab'), Buffer.from('ac'))).toBe(false);
  });
});
