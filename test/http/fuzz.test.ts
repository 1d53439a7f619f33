/**
 * A bounded fuzz over every route (fast-check): thousands of generated requests, with and
 * without valid keys and purposes, with bodies of any shape and planted canary values. None may
 * get a 5xx; a refused one stores nothing; no refusal, log line or audit row repeats a canary.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryPatient } from '../helpers.js';
import { type Call, call, count, type HttpFixture, httpFixture, ROLES } from './helpers.js';

/** Planted in names, values, keys, headers and paths: it must come back in no refusal, log or audit row. */
const CANARY = 'Canaryfuzz-387-29-4615';
const SEED = Number(process.env.WARD_FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.WARD_FUZZ_RUNS ?? 2_000);

const plain = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(CANARY, `${CANARY}@example.org`, 'treatment', '../../etc', '%00'));
const scalar = fc.oneof(plain, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const fieldName = fc.constantFrom('mrn', 'name', 'ssn', 'dob', 'email', 'zip', 'diagnosis', 'notes', 'plan', CANARY, '__proto__', '');
/** Records near the schema (declared fields, some values right) and far from it. */
const record = fc.oneof(
  fc.dictionary(fieldName, scalar, { maxKeys: 8 }),
  fc.constant(canaryPatient(1)).map((p) => ({ ...p, mrn: `CANARY-${Math.floor(Math.random() * 1e9)}` })),
  fc.jsonValue({ maxDepth: 4 }),
);
const body = fc.oneof(
  record,
  fc.record({ records: fc.array(record, { maxLength: 4 }) }, { requiredKeys: [] }),
  fc.record(
    { where: fc.dictionary(fieldName, scalar, { maxKeys: 3 }), fields: fc.array(fieldName, { maxLength: 3 }), limit: fc.integer() },
    { requiredKeys: [] },
  ),
  fc.record({ recordId: fc.oneof(fc.uuid(), plain) }),
  fc.record({ tokens: fc.array(fc.oneof(plain, fc.constant(`tok_${'A'.repeat(24)}`)), { maxLength: 3 }) }),
  fc.record(
    { role: fc.constantFrom('billing', 'admin', CANARY), name: plain, expires: fc.constantFrom('90d', '0d', CANARY) },
    { requiredKeys: [] },
  ),
  fc.anything({ maxDepth: 3 }),
);
const segment = fc.oneof(fc.constantFrom('patients', CANARY, '01a21781-981b-7347-b11b-0d5987c3b3a4', 'x%2F..', ''), fc.uuid());
const path = fc.oneof(
  fc.tuple(segment, segment).map(([c, id]) => `/v1/collections/${c}/records/${id}`),
  segment.map((c) => `/v1/collections/${c}/records`),
  segment.map((c) => `/v1/collections/${c}/records:batch`),
  segment.map((c) => `/v1/collections/${c}/search`),
  segment.map((c) => `/v1/collections/${c}/subjects/shred`),
  segment.map((id) => `/v1/admin/api-keys/${id}`),
  segment.map((id) => `/v1/admin/baa/${id}`),
  segment.map((id) => `/v1/audit/break-glass/${id}/review`),
  segment.map((id) => `/v1/audit/subjects/${id}/disclosures`),
  segment.map((t) => `/v1/events/${t}`),
  segment.map((t) => `/v1/events/${t}/stream`),
  fc.constantFrom(
    '/v1/detokenize',
    '/v1/admin/api-keys',
    '/v1/admin/baa',
    '/v1/audit/events',
    '/v1/audit/verify',
    '/v1/audit/checkpoint',
    '/v1/audit/break-glass',
    '/v1/compliance/checks',
    '/v1/events/schemas',
    '/healthz',
    '/readyz',
    '/metrics',
    '/openapi.json',
    `/${CANARY}`,
  ),
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?fields=name,plan',
    `?fields=${CANARY}`,
    '?masked=true',
    `?actor=${CANARY}`,
    '?limit=5000',
    `?${CANARY}=1`,
    '?since=yesterday',
  ),
);

describe('fuzzing every route (pglite)', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite');
  });
  afterAll(() => f.close());

  it(`rule: no generated request gets a 5xx, a refused one stores nothing, and no refusal, log or audit row repeats a canary (seed ${SEED})`, async () => {
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
      url: fc.tuple(path, query).map(([p, q]) => p + q),
      key: fc.oneof(fc.constantFrom(...ROLES), fc.constantFrom('none', 'forged', CANARY)),
      purpose: fc.constantFrom(undefined, 'treatment', 'payment', 'research', CANARY, ''),
      body: fc.option(body, { nil: undefined }),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1'),
      requestId: fc.constantFrom(undefined, CANARY, '3872946150000000'),
    });
    const refusals: string[] = [];
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const key = (ROLES as readonly string[]).includes(r.key)
          ? f.keys[r.key as (typeof ROLES)[number]]
          : r.key === 'forged'
            ? `ward_canaryfuzz_${'A'.repeat(43)}`
            : r.key === 'none'
              ? undefined
              : r.key;
        const c: Call = {
          method: r.method as NonNullable<Call['method']>,
          url: r.url,
          key,
          purpose: r.purpose,
          ...(r.body === undefined ? {} : { raw: JSON.stringify(r.body) ?? 'null', contentType: r.contentType }),
          ...(r.requestId ? { headers: { 'x-request-id': r.requestId } } : {}),
        };
        const [records, tokens] = [await count(f, 'ward_records'), await tokenCount(f)];
        const res = await call(f.app, c);
        expect(res.statusCode, `${r.method} ${r.url}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          refusals.push(res.body);
          expect(res.body).not.toContain('Canaryfuzz');
          expect([await count(f, 'ward_records'), await tokenCount(f)]).toEqual([records, tokens]);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(refusals.length).toBeGreaterThan(RUNS / 2);
    expect(f.logs.join('\n')).not.toContain('Canaryfuzz');
    const audit = JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'));
    expect(audit).not.toMatch(/canaryfuzz/i);
    expect(audit).not.toContain('387-29-4615');
  }, 120_000);
});

async function tokenCount(f: HttpFixture): Promise<number> {
  const [row] = await f.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_tokens');
  return row?.n ?? 0;
}
