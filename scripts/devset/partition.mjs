/**
 * The value partition shared with the detector engineers: a value is "reserved" when the first
 * byte of the SHA-256 of its lower-cased form is divisible by 4 (about a quarter of all values).
 * The held-apart split draws person names, city names and other proper-noun list values only from
 * reserved values, the tuning split only from the others; gazetteers derived from faker (or any
 * list the devset draws from) must leave reserved values out, so apart values are never in them.
 */
import { createHash } from 'node:crypto';

/** True when `value` belongs to the held-apart side of the partition. */
export const reserved = (value) => createHash('sha256').update(value.toLowerCase()).digest()[0] % 4 === 0;

/** The part of `list` that a split may draw from: reserved values for apart, the rest for tune. */
export const sideOf = (list, split) => list.filter((v) => reserved(v) === (split === 'apart'));
