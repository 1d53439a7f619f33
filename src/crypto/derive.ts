/**
 * Keyed derivations over plaintext that must never leave the vault: blind indexes for
 * equality search and tokens. Per-field keys come from a per-collection root key via HKDF,
 * so an index of one field says nothing about another field or collection.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { randomView } from './random.js';

export type DerivedPurpose = 'blind-index' | 'token' | 'pseudonym' | 'subject';

export function fieldKey(root: Buffer, purpose: DerivedPurpose, field: string): Buffer {
  return Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `ward/${purpose}/v1/${field}`, 32));
}

/** 128-bit HMAC-SHA256 of the normalized value: equal inputs give equal indexes, nothing more. */
export function blindIndex(key: Buffer, normalized: string): Buffer {
  return createHmac('sha256', key).update(normalized, 'utf8').digest().subarray(0, 16);
}

export const RANDOM_TOKEN_PREFIX = 'tok_';
export const DETERMINISTIC_TOKEN_PREFIX = 'dtk_';
const TOKEN_SHAPE = /^(tok|dtk)_[A-Za-z0-9_-]{24}$/;

/** A pointer token: random, meaningless outside the vault. */
export function randomToken(): string {
  return RANDOM_TOKEN_PREFIX + randomView(18).toString('base64url');
}

/** A deterministic token: the same value gives the same token, for joins without PHI. */
export function deterministicToken(key: Buffer, normalized: string): string {
  return DETERMINISTIC_TOKEN_PREFIX + createHmac('sha256', key).update(normalized, 'utf8').digest().subarray(0, 18).toString('base64url');
}

/**
 * A keyed pseudonym of a record id, for de-identified views: stable for the record, unlinkable to
 * its id (which, a UUIDv7, carries its creation time) without the key. No endpoint accepts one.
 */
export function pseudonym(key: Buffer, recordId: string): string {
  return `psn_${createHmac('sha256', key).update(recordId, 'utf8').digest().subarray(0, 18).toString('base64url')}`;
}

export function isTokenShaped(s: unknown): s is string {
  return typeof s === 'string' && TOKEN_SHAPE.test(s);
}

/** A UUIDv7 (time-ordered, so inserts stay at the right edge of the primary key index). */
export function newRecordId(): string {
  return uuidv7({ random: randomView(16) });
}

/** Constant-time equality for secrets, MACs and key check values. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
