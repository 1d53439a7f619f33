/**
 * The SDK's pure parts, table-driven and without a server: the SSE parser, Retry-After, errors
 * from answers that are no problem, option checks, and the stream's reconnection rules driven
 * through its `fetch` seam (an idle connection, 429 and 5xx answers, a refusal).
 */
import { describe, expect, it } from 'vitest';
import { errorFromResponse, retryAfterSeconds } from '../../packages/sdk/src/errors.js';
import { createClient, type Fetch, WardError } from '../../packages/sdk/src/index.js';
import { SseParser } from '../../packages/sdk/src/sse.js';
import { backoff, retrying } from '../../packages/sdk/src/transport.js';

const BASE = 'http://ward.test';

describe('SseParser', () => {
  it.each([
    ['one event', ['id: 1\nevent: create\ndata: {"seq":1}\n\n'], [{ id: '1', event: 'create', data: '{"seq":1}' }]],
    ['split across chunks', ['id: 2\nda', 'ta: {"seq"', ':2}\n', '\n'], [{ id: '2', event: 'message', data: '{"seq":2}' }]],
    ['CRLF and CR line ends', ['id: 3\r\ndata: a\r', '\ndata: b\r\r\n'], [{ id: '3', event: 'message', data: 'a\nb' }]],
    ['comments and blank keep-alives only', [': idle\n\n', ': idle\n\n'], []],
    [
      'an error event without id',
      ['event: error\ndata: {"code":"unauthenticated"}\n\n'],
      [{ id: undefined, event: 'error', data: '{"code":"unauthenticated"}' }],
    ],
  ])('%s', (_name, chunks, want) => {
    const p = new SseParser();
    expect(chunks.flatMap((c) => p.push(c))).toEqual(want);
  });
});

describe('answers and options', () => {
  it.each([
    ['2', 2],
    [' 0 ', 0],
    [new Date(Date.now() + 3000).toUTCString(), 3],
    ['soon', undefined],
    [null, undefined],
  ])('Retry-After %s is %s s', (header, want) => {
    const got = retryAfterSeconds(header);
    if (typeof want === 'number' && want > 0) expect(got).toBeGreaterThanOrEqual(want - 1);
    else expect(got).toBe(want);
  });

  it('rule: an answer that is no problem becomes unexpected_response, quoting none of its text', () => {
    const body = '<html>Canaryname Smith 123-45-6789</html>';
    const e = errorFromResponse(new Response(body, { status: 502, headers: { 'x-request-id': 'r1' } }), body);
    expect([e.code, e.status, e.requestId, e.message]).toEqual([
      'unexpected_response',
      502,
      'r1',
      'unexpected_response: HTTP 502 without a problem+json body',
    ]);
    // A "code" that is not a code is not believed either.
    const odd = errorFromResponse(new Response('', { status: 400 }), { code: 'Canaryname Smith', title: 't' });
    expect(odd.code).toBe('unexpected_response');
    expect(JSON.stringify([e, odd])).not.toContain('Canaryname');
  });

  it('rule: misuse fails at construction, naming the option and not its value', () => {
    expect(() => createClient({ baseUrl: 'ward.internal', apiKey: 'ward_x' })).toThrow('createClient: baseUrl must be an http(s) URL');
    expect(() => createClient({ baseUrl: BASE, apiKey: '' })).toThrow('createClient: apiKey is required');
    expect(() => createClient({ baseUrl: BASE, apiKey: 'ward_x', retries: -1 })).toThrow('retries must be an integer from 0 to 10');
  });

  it('backoff doubles with jitter up to its cap', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const full = Math.min(5000, 200 * 2 ** attempt);
      const d = backoff(attempt);
      expect(d).toBeGreaterThanOrEqual(full / 2);
      expect(d).toBeLessThanOrEqual(full);
    }
  });

  it('rule: a Retry-After longer than 30 s is not waited out: the 503 is the answer', async () => {
    let calls = 0;
    const f = retrying(async () => {
      calls++;
      return new Response('{}', { status: 503, headers: { 'retry-after': '120' } });
    }, 2);
    expect((await f(new Request(`${BASE}/healthz`))).status).toBe(503);
    expect(calls).toBe(1);
  });

  it('an aborted call rejects with the signal’s reason, not a WardError', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const ward = createClient({ baseUrl: BASE, apiKey: 'ward_x', fetch: (r) => fetch(r) });
    await expect(ward.health({ signal: ac.signal })).rejects.toThrow('stop');
  });
});

/** An SSE answer of `text`, optionally never ending (an idle connection). */
function sse(text: string, open = false): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(text));
      if (!open) c.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}
const event = (seq: number) => `id: ${seq}\nevent: create\ndata: ${JSON.stringify({ seq, recordId: `r${seq}` })}\n\n`;
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: `urn:ward:problem:${code}`, title: code, status, code, detail: '', requestId: 'r' }), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

describe('events.stream through the fetch seam', () => {
  it('reconnects after an idle connection, a 429 and a 503, resuming after the last id; throws on a 401', async () => {
    const answers: (() => Response | Promise<Response>)[] = [
      () => sse(event(1) + event(2), true), // then silence: the idle timeout cuts it
      () => problem(429, 'too_many_requests', { 'retry-after': '0' }),
      () => problem(503, 'shutting_down'),
      () => Promise.reject(new TypeError('fetch failed')),
      () => sse(`event: error\ndata: {"code":"database_error"}\n\n${event(3)}`),
      () => problem(401, 'unauthenticated'),
    ];
    const lastIds: (string | null)[] = [];
    const seam: Fetch = async (request) => {
      lastIds.push(request.headers.get('last-event-id'));
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next();
    };
    const ward = createClient({ baseUrl: BASE, apiKey: 'ward_x', fetch: seam });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const e of ward.events.stream('t.v1', { after: 0, idleTimeoutMs: 100, backoff: { initialMs: 5, maxMs: 20 } }))
        seen.push(e.seq);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2, 3]);
    expect(lastIds).toEqual(['0', '2', '2', '2', '2', '3']);
    expect(error).toBeInstanceOf(WardError);
    expect(error).toMatchObject({ code: 'unauthenticated', status: 401 });
  });

  it('an abort during the wait between connections ends the loop quietly', async () => {
    const ac = new AbortController();
    const seam: Fetch = async () => {
      setTimeout(() => ac.abort(), 10);
      return problem(503, 'shutting_down');
    };
    const ward = createClient({ baseUrl: BASE, apiKey: 'ward_x', fetch: seam });
    const seen: unknown[] = [];
    for await (const e of ward.events.stream('t.v1', { signal: ac.signal, backoff: { initialMs: 10_000 } })) seen.push(e);
    expect(seen).toEqual([]);
  });
});
