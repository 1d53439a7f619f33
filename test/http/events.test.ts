/**
 * Change events over HTTP: a role reads only the topics its declared consumers name; every read
 * and refusal is audited; bad positions are refused by name; a long poll returns as soon as an
 * event commits; the SSE stream resumes after Last-Event-ID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { call, type HttpFixture, httpFixture, PURPOSE, ROLES } from './helpers.js';

const TOPIC = 'local-dev.patients.refs.v1';
const url = (q = '') => `/v1/events/${TOPIC}${q}`;

describe.each(DRIVERS)('change events over HTTP on %s', (driver) => {
  let f: HttpFixture;
  const create = async () => {
    const res = await call(f.app, {
      method: 'POST',
      url: '/v1/collections/patients/records',
      key: f.keys.clinician,
      purpose: 'treatment',
      body: canaryPatient(),
    });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; tokens: Record<string, string> };
  };
  const lastAudit = async () =>
    (
      await f.t.db.query<{
        action: string;
        outcome: string;
        reason: string | null;
        role: string;
        detail: string | null;
        record_ids: string[];
      }>('SELECT action, outcome, reason, role, detail, record_ids::text[] AS record_ids FROM ward_audit_events ORDER BY seq DESC LIMIT 1')
    )[0];

  beforeAll(async () => {
    f = await httpFixture(driver);
  });
  afterAll(async () => f.close());

  it('a consumer role reads the events of its topic, and the read is audited with the topic and the records it disclosed', async () => {
    const { id, tokens } = await create();
    const res = await call(f.app, { url: url('?after=0'), key: f.keys.billing });
    expect(res.statusCode).toBe(200);
    const { events, next } = res.json();
    const mine = events.find((e: { recordId: string }) => e.recordId === id);
    expect(mine).toMatchObject({ topic: TOPIC, action: 'create', version: 1, keys: { ssn: tokens.ssn }, public: { plan: 'gold' } });
    expect(mine.seq).toBeGreaterThan(0);
    expect(next).toBeGreaterThanOrEqual(mine.seq);
    expect(await lastAudit()).toMatchObject({
      action: 'events.read',
      outcome: 'allowed',
      role: 'billing',
      record_ids: expect.arrayContaining([id]),
    });
    expect((await lastAudit())?.detail).toMatch(new RegExp(`^topic ${TOPIC.replace(/\./g, '\\.')}: \\d+ event\\(s\\) after 0$`));
    // Paging: after `next` there is nothing new.
    expect((await call(f.app, { url: url(`?after=${next}`), key: f.keys.billing })).json().events).toEqual([]);
  });

  it.each(ROLES.filter((r) => r !== 'billing'))(
    'rule: role %s, no consumer of the topic, is refused 403 and the refusal is audited',
    async (role) => {
      const res = await call(f.app, { url: url('?after=0'), key: f.keys[role], purpose: PURPOSE[role] });
      expect([res.statusCode, res.json().code]).toEqual([403, 'forbidden']);
      expect(res.json()).not.toHaveProperty('events');
      expect(await lastAudit()).toMatchObject({
        action: 'events.read',
        outcome: 'denied',
        reason: 'forbidden',
        role,
        detail: `topic ${TOPIC}`,
      });
    },
  );

  it('rule: an unknown topic is 404 unknown_topic, audited, and the name is not repeated', async () => {
    const res = await call(f.app, { url: '/v1/events/local-dev.canaryname-smith.refs.v1', key: f.keys.billing });
    expect([res.statusCode, res.json().code]).toEqual([404, 'unknown_topic']);
    expect(res.body).not.toContain('canaryname');
    expect(await lastAudit()).toMatchObject({ action: 'events.read', outcome: 'failed', reason: 'unknown_topic', detail: null });
  });

  it('rule: a position beyond the newest, or malformed, or a bad limit or wait, is refused by name', async () => {
    const head = (await call(f.app, { url: url('?after=0'), key: f.keys.billing })).json().next;
    const beyond = await call(f.app, { url: url(`?after=${head + 1000}`), key: f.keys.billing });
    expect([beyond.statusCode, beyond.json().code]).toEqual([400, 'after_out_of_range']);
    expect(beyond.json().detail).toContain('after is beyond the newest position');
    for (const q of ['?after=-1', '?after=abc', '?limit=0', '?limit=5000', '?wait=31', '?wait=x', '?other=1']) {
      const res = await call(f.app, { url: url(q), key: f.keys.billing });
      expect([q, res.statusCode, res.json().code]).toEqual([q, 400, expect.stringMatching(/^invalid_request$/)]);
    }
    expect((await call(f.app, { url: url('?after=0') })).statusCode).toBe(401);
  });

  it('a long poll waits for the next event and returns as soon as it commits', async () => {
    const head = (await call(f.app, { url: url('?after=0&limit=1000'), key: f.keys.billing })).json().next;
    const started = Date.now();
    const polling = call(f.app, { url: url(`?after=${head}&wait=10`), key: f.keys.billing });
    await new Promise((r) => setTimeout(r, 300));
    const { id } = await create();
    const res = await polling;
    expect(res.json().events.map((e: { recordId: string }) => e.recordId)).toEqual([id]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('metrics report the outbox depth and the oldest event’s age per topic, labelled only with declared topic names', async () => {
    await create();
    const body = await f.metrics.registry.metrics();
    expect(body).toMatch(new RegExp(`^ward_events_outbox_depth\\{topic="${TOPIC.replace(/\./g, '\\.')}"\\} [1-9]\\d*$`, 'm'));
    expect(body).toMatch(/^ward_events_relay_lag_seconds\{topic="local-dev\.patients\.refs\.v1"\} [\d.e-]+$/m);
    expect(body).toMatch(/^ward_events_publish_failures\{topic="local-dev\.patients\.refs\.v1"\} 0$/m);
    // A read gives positions; the depth counts what has none yet (there is no broker here).
    await call(f.app, { url: url('?after=0'), key: f.keys.billing });
    const after = await f.metrics.registry.metrics();
    expect(after).toMatch(/^ward_events_outbox_depth\{topic="local-dev\.patients\.refs\.v1"\} 0$/m);
    for (const line of after.split('\n').filter((l) => l.startsWith('ward_events_')))
      expect(line).toMatch(/topic="local-dev\.patients\.refs\.v1"/);
  });

  it('publishes each topic’s JSON Schema', async () => {
    const res = await call(f.app, { url: '/v1/events/schemas', key: f.keys.auditor });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().topics)).toEqual([TOPIC]);
    expect(res.json().topics[TOPIC]).toMatchObject({ additionalProperties: false, properties: { keys: { properties: { ssn: {} } } } });
  });

  it('the SSE stream sends events with their positions as ids and resumes after Last-Event-ID', async () => {
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    const address = f.app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const first = await create();
    const read = async (lastEventId: string | undefined, want: number) => {
      const ac = new AbortController();
      const res = await fetch(`${base}${url('/stream')}`, {
        headers: { authorization: `Bearer ${f.keys.billing}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal: ac.signal,
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const events: { id: string; data: { recordId: string } }[] = [];
      while (events.length < want) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        const blocks = text.split('\n\n');
        text = blocks.pop() ?? '';
        for (const b of blocks) {
          const id = /^id: (\d+)$/m.exec(b)?.[1];
          const data = /^data: (.*)$/m.exec(b)?.[1];
          if (id && data) events.push({ id, data: JSON.parse(data) });
        }
      }
      ac.abort();
      return events;
    };
    // From the start: every event so far, the first record's among them.
    const count = (await call(f.app, { url: url('?after=0&limit=1000'), key: f.keys.billing })).json().events.length;
    const all = await read(undefined, count);
    expect(all.map((e) => e.data.recordId)).toContain(first.id);
    // Resumed after the newest id seen: only what commits later.
    const mark = all.at(-1)?.id as string;
    const streamed = read(mark, 1);
    const second = await create();
    const after = await streamed;
    expect(after.map((e) => e.data.recordId)).toEqual([second.id]);
    expect(Number(after[0]?.id)).toBeGreaterThan(Number(mark));
  });

  it('rule: a stream ends when its key is revoked: the next page is not sent', async () => {
    const address = f.app.server.address();
    if (!address || typeof address !== 'object') await f.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (f.app.server.address() as { port: number }).port;
    const mine = await f.apiKeys.create('billing', 'sse revocation');
    const head = (await call(f.app, { url: url('?after=0&limit=1000'), key: mine.key })).json().next;
    const res = await fetch(`http://127.0.0.1:${port}${url('/stream')}`, {
      headers: { authorization: `Bearer ${mine.key}`, 'last-event-id': String(head) },
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the opening (an idle comment: nothing new yet)
    await f.apiKeys.revoke(mine.id);
    const { id } = await create();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('event: error\ndata: {"code":"unauthenticated"}');
    expect(text).not.toContain(id);
  });
});
