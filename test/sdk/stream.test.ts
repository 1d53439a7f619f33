/**
 * `events.stream` over a server restart, on both drivers: the iterator reconnects by itself with
 * backoff while the server is down and resumes after the last event it yielded, so every event
 * arrives exactly once and in order; it ends on abort and throws a WardError on a refusal.
 */
import { describe, expect, it } from 'vitest';
import type { WardEvent } from '../../packages/sdk/src/index.js';
import { DRIVERS } from '../helpers.js';
import { patient, TOPIC, useSdkServer } from './helpers.js';

/** Waits until `f()` holds, checking every 20 ms, at most `ms`. */
async function until(f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(DRIVERS)('events.stream on %s', (driver) => {
  const s = useSdkServer(driver);

  it('rule: across a server restart every event is yielded exactly once, in order', async () => {
    const clinician = () => s.client('clinician');
    const billing = s.client('billing');
    const { next: head } = await billing.events.read(TOPIC, { after: 0, limit: 1000 });
    const ac = new AbortController();
    const seen: WardEvent[] = [];
    const consumed = (async () => {
      for await (const e of billing.events.stream(TOPIC, { after: head, signal: ac.signal, backoff: { initialMs: 50, maxMs: 400 } }))
        seen.push(e);
    })();
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await clinician().records.create('patients', patient())).id);
    await until(() => seen.length === 3);

    await s.stop();
    // Down for a while: the stream's reconnections are refused, with growing delays.
    await new Promise((r) => setTimeout(r, 300));
    await s.start();
    for (let i = 0; i < 3; i++) created.push((await clinician().records.create('patients', patient())).id);
    await until(() => seen.length >= 6);
    await new Promise((r) => setTimeout(r, 100)); // nothing more may come
    ac.abort();
    await consumed; // an abort ends the loop without an error

    expect(seen.map((e) => e.recordId)).toEqual(created);
    const seqs = seen.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs[0]).toBeGreaterThan(head);
    expect(seen.every((e) => e.topic === TOPIC && e.action === 'create' && e.version === 1)).toBe(true);
  });

  it('breaking out of the loop closes the connection; a refused topic throws a WardError', async () => {
    const billing = s.client('billing');
    for await (const e of billing.events.stream(TOPIC, { after: 0 })) {
      expect(e.seq).toBeGreaterThan(0);
      break;
    }
    const clinician = s.client('clinician');
    const refusal = await (async () => {
      for await (const _ of clinician.events.stream(TOPIC)) return undefined;
    })().catch((e: unknown) => e);
    expect(refusal).toMatchObject({ name: 'WardError', status: 403 });
    const unknown = await (async () => {
      for await (const _ of billing.events.stream('local-dev.nothing.meta.v1')) return undefined;
    })().catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'unknown_topic', status: 404 });
  });
});
