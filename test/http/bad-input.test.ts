/**
 * Bad input over HTTP: malformed JSON, wrong types, huge bodies, unknown collections and fields,
 * prototype keys, invalid UTF-8 and injection strings in every parameter. Each gets a 4xx with a
 * code, repeats nothing it was sent, stores nothing, and the server stays up.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryPatient } from '../helpers.js';
import { type Call, call, count, type HttpFixture, httpFixture } from './helpers.js';

const INJECT = "x' OR '1'='1'; DROP TABLE ward_records; --";
const p = canaryPatient(1);
const C = '/v1/collections/patients';
const ID = '01a21781-981b-7347-b11b-0d5987c3b3a4';
const enc = encodeURIComponent;

type Case = [name: string, call: Omit<Call, 'key'>, status: number, code: string];

const cases: Case[] = [
  ['malformed JSON', { method: 'POST', url: `${C}/records`, raw: '{"mrn": "MRN-1", "name": ' }, 400, 'invalid_request'],
  ['an empty body', { method: 'POST', url: `${C}/records`, raw: '' }, 400, 'invalid_request'],
  ['JSON null as a record', { method: 'POST', url: `${C}/records`, raw: 'null' }, 400, 'invalid_request'],
  ['an array as a record', { method: 'POST', url: `${C}/records`, body: [p] }, 400, 'invalid_request'],
  [
    'wrong field types',
    { method: 'POST', url: `${C}/records`, body: { ...p, mrn: 123, name: true, dob: [1961] } },
    422,
    'validation_failed',
  ],
  ['a batch that is not an array', { method: 'POST', url: `${C}/records:batch`, body: { records: 'all' } }, 400, 'invalid_request'],
  ['an empty batch', { method: 'POST', url: `${C}/records:batch`, body: { records: [] } }, 400, 'invalid_request'],
  ['a batch with an extra key', { method: 'POST', url: `${C}/records:batch`, body: { records: [p], also: 1 } }, 400, 'invalid_request'],
  ['a search without where', { method: 'POST', url: `${C}/search`, body: { fields: ['name'] } }, 400, 'invalid_request'],
  [
    'a where with an object value',
    { method: 'POST', url: `${C}/search`, body: { where: { name: { $ne: null } } } },
    400,
    'invalid_request',
  ],
  [
    'a search limit out of range',
    { method: 'POST', url: `${C}/search`, body: { where: { name: p.name }, limit: 10_000 } },
    400,
    'invalid_request',
  ],
  ['a shred without a record id', { method: 'POST', url: `${C}/subjects/shred`, body: {} }, 400, 'invalid_request'],
  ['a shred naming its subject by value', { method: 'POST', url: `${C}/subjects/shred`, body: { mrn: p.mrn } }, 400, 'invalid_request'],
  ['tokens that are not an array', { method: 'POST', url: '/v1/detokenize', body: { tokens: 'tok_x' } }, 400, 'invalid_request'],
  ['a token that is not a string', { method: 'POST', url: '/v1/detokenize', body: { tokens: [42] } }, 400, 'invalid_request'],
  ['a value where a token belongs', { method: 'POST', url: '/v1/detokenize', body: { tokens: [p.ssn] } }, 422, 'invalid_token'],
  ['an unknown collection', { method: 'POST', url: '/v1/collections/nurses/records', body: p }, 404, 'unknown_collection'],
  // a field the collection does not have: 422, as at the command line (not a role's 403)
  ['an unknown field', { method: 'POST', url: `${C}/records`, body: { ...p, shoe_size: 42 } }, 422, 'unknown_field'],
  ['an unknown field in ?fields', { url: `${C}/records/${ID}?fields=shoe_size` }, 422, 'unknown_field'],
  ['an unknown query parameter', { url: `${C}/records/${ID}?colour=red` }, 400, 'invalid_request'],
  ['an empty ?fields (it would need no purpose)', { url: `${C}/records/${ID}?fields=,` }, 400, 'invalid_request'],
  [
    'an empty search field list',
    { method: 'POST', url: `${C}/search`, body: { where: { mrn: 'MRN-9' }, fields: [] } },
    400,
    'invalid_request',
  ],
  [
    'a break-glass use id that is not a UUID',
    { method: 'POST', url: '/v1/audit/break-glass/nope/review', body: {} },
    400,
    'invalid_request',
  ],
  [
    'a break-glass review with an extra key',
    { method: 'POST', url: `/v1/audit/break-glass/${ID}/review`, body: { note: 'x', approve: true } },
    400,
    'invalid_request',
  ],
  ['a break-glass listing with a bad limit', { url: '/v1/audit/break-glass?limit=lots' }, 400, 'invalid_request'],
  ['an empty patch (it would need no purpose)', { method: 'PATCH', url: `${C}/records/${ID}`, body: {} }, 400, 'invalid_request'],
  [
    'a __proto__ key',
    { method: 'POST', url: `${C}/records`, raw: `{"mrn":"MRN-9","name":"A B","__proto__":{"admin":true}}` },
    400,
    'invalid_request',
  ],
  [
    'a nested __proto__ key',
    { method: 'POST', url: `${C}/search`, raw: '{"where":{"name":"a"},"x":[{"__proto__":{}}]}' },
    400,
    'invalid_request',
  ],
  [
    'a constructor key',
    { method: 'POST', url: `${C}/records`, raw: '{"constructor":{"prototype":{"admin":true}}}' },
    400,
    'invalid_request',
  ],
  ['an escaped __proto__ key', { method: 'POST', url: `${C}/records`, raw: '{"\\u005f_proto__":{"admin":true}}' }, 400, 'invalid_request'],
  [
    'invalid UTF-8',
    { method: 'POST', url: `${C}/records`, raw: Buffer.from([0x7b, 0x22, 0x6d, 0x72, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    400,
    'invalid_request',
  ],
  ['text/plain', { method: 'POST', url: `${C}/records`, raw: JSON.stringify(p), contentType: 'text/plain' }, 415, 'unsupported_media_type'],
  [
    'form data',
    { method: 'POST', url: `${C}/records`, raw: 'mrn=MRN-1', contentType: 'application/x-www-form-urlencoded' },
    415,
    'unsupported_media_type',
  ],
  [
    'deeply nested JSON',
    { method: 'POST', url: `${C}/records`, raw: `${'['.repeat(20_000)}${']'.repeat(20_000)}` },
    400,
    'invalid_request',
  ],
  ['a bad percent-encoding', { url: '/v1/collections/%E0%A4%A/records/x' }, 400, 'invalid_request'],
  ['a malformed record id', { url: `${C}/records/42` }, 400, 'invalid_request'],
  ['a PUT', { method: 'PUT', url: `${C}/records/${ID}`, body: p }, 405, 'method_not_allowed'],
  ['an unknown route', { url: '/v2/anything' }, 404, 'route_not_found'],
  // injection strings in every parameter
  ['an injection in the collection', { method: 'POST', url: `/v1/collections/${enc(INJECT)}/records`, body: p }, 404, 'unknown_collection'],
  ['an injection in the record id', { url: `${C}/records/${enc(INJECT)}` }, 400, 'invalid_request'],
  ['an injection in ?fields', { url: `${C}/records/${ID}?fields=${enc(INJECT)}` }, 400, 'invalid_request'],
  ['an injection as a where key', { method: 'POST', url: `${C}/search`, body: { where: { [INJECT]: 'x' } } }, 422, 'unknown_field'],
  ['an injection as a where value', { method: 'POST', url: `${C}/search`, body: { where: { mrn: INJECT } } }, 422, 'validation_failed'],
  ['an injection as a field value', { method: 'POST', url: `${C}/records`, body: { ...p, mrn: INJECT } }, 422, 'validation_failed'],
  ['a NUL in a field value', { method: 'POST', url: `${C}/records`, body: { ...p, notes: 'a\u0000b' } }, 422, 'validation_failed'],
  [
    'an unpaired surrogate in a field value',
    { method: 'POST', url: `${C}/records`, raw: JSON.stringify({ ...p, notes: 'x' }).replace('"x"', '"\\ud800"') },
    422,
    'validation_failed',
  ],
  ['an injection as a field name', { method: 'POST', url: `${C}/records`, body: { ...p, [INJECT]: 1 } }, 422, 'unknown_field'],
  ['an injection in Ward-Purpose', { url: `${C}/records/${ID}`, purpose: INJECT }, 403, 'unknown_purpose'],
  ['an injection in an audit filter', { url: `/v1/audit/events?actor=${enc(INJECT)}` }, 400, 'invalid_request'],
  ['an injection in ?since', { url: `/v1/audit/events?since=${enc(INJECT)}` }, 400, 'invalid_request'],
  [
    'a leap second in ?since (a date-time that is no instant)',
    { url: '/v1/audit/events?since=2016-12-31T23:59:60Z' },
    400,
    'invalid_request',
  ],
  ['a leap second in ?until', { url: '/v1/audit/events?until=2016-12-31T23:59:60Z' }, 400, 'invalid_request'],
  ['an injection in ?after', { url: `/v1/audit/events?after=${enc(INJECT)}` }, 400, 'invalid_request'],
  ['an injection in ?limit', { url: `/v1/audit/events?limit=${enc(INJECT)}` }, 400, 'invalid_request'],
  ['an injection in ?recordId', { url: `/v1/audit/events?recordId=${enc(INJECT)}` }, 400, 'invalid_request'],
  ['an injection in ?masked', { url: `${C}/records/${ID}?masked=${enc(INJECT)}` }, 400, 'invalid_request'],
  [
    'an injection in a search field list',
    { method: 'POST', url: `${C}/search`, body: { where: { mrn: 'MRN-9' }, fields: [INJECT] } },
    422,
    'unknown_field',
  ],
  ['an injection as a token', { method: 'POST', url: '/v1/detokenize', body: { tokens: [INJECT] } }, 422, 'invalid_token'],
];

describe('bad input over HTTP (pglite)', () => {
  let f: HttpFixture;
  beforeAll(async () => {
    f = await httpFixture('pglite', { bodyLimit: 64 * 1024 });
  });
  afterAll(async () => f.close());

  it.each(cases)('%s gets a 4xx with a code, repeats nothing and stores nothing', async (_name, c, status, code) => {
    const records = await count(f, 'ward_records');
    const res = await call(f.app, { key: f.keys.clinician, purpose: 'treatment', headers: { 'x-request-id': INJECT }, ...c });
    expect([res.statusCode, res.json().code]).toEqual([status, code]);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    // (an unknown field that looks like a name, such as shoe_size, is named by design)
    for (const v of [INJECT, 'admin', 'MRN-9', ...Object.values(p).filter((v) => v !== 'gold')]) expect(res.body).not.toContain(v);
    expect(await count(f, 'ward_records')).toBe(records);
    expect((await call(f.app, { url: '/healthz' })).statusCode).toBe(200);
  });

  it('a body over the limit gets 413 payload_too_large, with or without Content-Length', async () => {
    const big = JSON.stringify({ ...p, notes: 'x'.repeat(70 * 1024) });
    const res = await call(f.app, { method: 'POST', url: `${C}/records`, raw: big, key: f.keys.clinician, purpose: 'treatment' });
    expect([res.statusCode, res.json().code]).toEqual([413, 'payload_too_large']);
    // A stream with no Content-Length (light-my-request sends none for one): the limit applies to what arrives.
    const chunks = Array.from({ length: Math.ceil(big.length / 1024) }, (_, i) => big.slice(i * 1024, (i + 1) * 1024));
    const chunked = await f.app.inject({
      method: 'POST',
      url: `${C}/records`,
      headers: { authorization: `Bearer ${f.keys.clinician}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' },
      payload: Readable.from(chunks.map((c) => Buffer.from(c))),
    });
    expect([chunked.statusCode, chunked.json().code]).toEqual([413, 'payload_too_large']);
    expect(await count(f, 'ward_records')).toBe(0);
  });

  it('an auditor asking from a leap second gets 400 naming the parameter, not a database error', async () => {
    for (const name of ['since', 'until']) {
      const res = await call(f.app, { url: `/v1/audit/events?${name}=2016-12-31T23:59:60Z`, key: f.keys.auditor });
      expect([res.statusCode, res.json().code, res.json().detail]).toEqual([
        400,
        'invalid_request',
        `${name} must be an ISO 8601 date-time`,
      ]);
    }
  });

  it('an unauthenticated huge body is refused before it is read', async () => {
    const res = await call(f.app, { method: 'POST', url: `${C}/records`, raw: 'x'.repeat(200 * 1024) });
    expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
  });

  it('no submitted value reaches the audit trail, and the server still works', async () => {
    const rows = JSON.stringify(await f.t.db.query('SELECT * FROM ward_audit_events'));
    for (const v of [INJECT, 'MRN-9', ...Object.values(p).filter((v) => v !== 'gold')]) expect(rows).not.toContain(v);
    const ok = await call(f.app, { method: 'POST', url: `${C}/records`, body: p, key: f.keys.clinician, purpose: 'treatment' });
    expect(ok.statusCode).toBe(201);
  });
});
