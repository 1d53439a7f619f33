/**
 * The API-key cache: a validated key is read once, yet a wrong secret, an expired key and a
 * revocation from any connection (another process) are refused from the next request on; a
 * lost listening connection empties the cache and turns it off until it listens again.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Policy } from '../../src/access/policy.js';
import { buildApp } from '../../src/http/app.js';
import * as store from '../../src/store/apikeys.js';
import { type Db, type ListenHandlers, type Row, type Statement, sqlText } from '../../src/store/db.js';
import { pgDb } from '../../src/store/pg.js';
import { ApiKeys } from '../../src/vault/apikeys.js';
import { canaryPatient, DRIVERS } from '../helpers.js';
import { call, type HttpFixture, httpFixture, memoryLogger } from './helpers.js';

/** The Db under test's ApiKeys, counting key lookups and recording what its listener reports. */
interface Spy {
  db: Db;
  lookups: number;
  /** Key lookups the database has answered. */
  answered: number;
  messages: string[];
  events: ('up' | 'down')[];
  /** While set, key lookups wait for it before reaching the database. */
  gate: Promise<void> | undefined;
  /** While set, key lookups wait for it after the database has answered (they hold an old row). */
  gateAfter?: Promise<void> | undefined;
  /** When set, `listen` hands the handlers here instead of to the database (the test drives them). */
  takeOver?: (h: ListenHandlers) => void;
}

function spy(db: Db): Spy {
  const s: Spy = { db, lookups: 0, answered: 0, messages: [], events: [], gate: undefined };
  s.db = {
    ...db,
    async query<R extends Row = Row>(sql: string | Statement, params?: readonly unknown[]) {
      if (!sqlText(sql).includes('FROM ward_api_keys WHERE prefix')) return db.query<R>(sql, params);
      s.lookups++;
      await s.gate;
      const after = s.gateAfter;
      const rows = await db.query<R>(sql, params);
      s.answered++;
      await after;
      return rows;
    },
    listen(channel, h) {
      const recorded: ListenHandlers = {
        message: (p) => {
          s.messages.push(p);
          h.message(p);
        },
        up: () => {
          s.events.push('up');
          h.up();
        },
        down: () => {
          s.events.push('down');
          h.down();
        },
      };
      if (!s.takeOver) return db.listen(channel, recorded);
      s.takeOver(recorded);
      return { close: async () => {} };
    },
  };
  return s;
}

/** Holds the spy's key lookups at `where` until the returned function is called. */
function hold(s: Spy, where: 'gate' | 'gateAfter'): () => void {
  let open = () => {};
  s[where] = new Promise((r) => {
    open = r;
  });
  return open;
}

describe.each(DRIVERS)('API-key cache on %s', (driver) => {
  let f: HttpFixture;
  let id = '';
  const opened: { keys: ApiKeys; app: FastifyInstance }[] = [];

  beforeAll(async () => {
    f = await httpFixture(driver);
    const res = await call(f.app, {
      method: 'POST',
      url: '/v1/collections/patients/records',
      body: canaryPatient(1),
      key: f.keys.clinician,
      purpose: 'treatment',
    });
    id = res.json().id;
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const o of opened.splice(0)) {
      await o.app.close();
      await o.keys.close();
    }
  });
  afterAll(async () => f.close());

  /** An app whose ApiKeys reads through a spy; caching started unless `takeOver` drives the listener. */
  async function cachedApp(takeOver?: (h: ListenHandlers) => void) {
    const s = spy(f.t.db);
    if (takeOver) s.takeOver = takeOver;
    const keys = new ApiKeys(s.db, new Policy(f.t.cfg.roles));
    const started = keys.startCache();
    if (!takeOver) await started;
    const app = await buildApp({ vault: f.t.vault, apiKeys: keys, logger: memoryLogger([]) });
    opened.push({ keys, app });
    const created = await keys.create('clinician', 'cached');
    const get = (key = created.key) => call(app, { url: `/v1/collections/patients/records/${id}`, key, purpose: 'treatment' });
    return { s, keys, app, get, ...created };
  }

  it('a validated key is read from the database once, then served from the cache', async () => {
    const { s, keys, get } = await cachedApp();
    expect(keys.caching).toBe(true);
    for (let i = 0; i < 5; i++) expect((await get()).statusCode).toBe(200);
    expect(s.lookups).toBe(1);
  });

  it('a wrong secret for a cached prefix still gets 401', async () => {
    const { s, get, key, prefix } = await cachedApp();
    expect((await get()).statusCode).toBe(200);
    const lastCharFlipped = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [`ward_${prefix}_${'A'.repeat(43)}`, lastCharFlipped]) {
      const res = await get(forged);
      expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
    }
    expect((await get()).statusCode).toBe(200);
    expect(s.lookups).toBe(1); // the forgeries were checked against the cached hash, not waved through
  });

  it('an expired key is refused when cached (expiry is checked against the clock on every request)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, keys, get } = await cachedApp();
    const expiring = await keys.create('clinician', 'expiring', new Date(Date.now() + 5_000));
    expect((await get(expiring.key)).statusCode).toBe(200);
    vi.setSystemTime(Date.now() + 6_000); // past its expiry, well within the cache's 30 s
    expect((await get(expiring.key)).statusCode).toBe(401);
    expect(s.lookups).toBe(1);
  });

  it('a cached key not used in the last seconds of its TTL is read again after it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, get } = await cachedApp();
    await get();
    vi.setSystemTime(Date.now() + 20_000);
    await get();
    expect(s.lookups).toBe(1);
    vi.setSystemTime(Date.now() + 11_000);
    expect((await get()).statusCode).toBe(200);
    expect(s.lookups).toBe(2);
  });

  it('a key used in the last seconds of its TTL is renewed in the background: requests do not wait for the read', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, get } = await cachedApp();
    await get();
    const open = hold(s, 'gate');
    vi.setSystemTime(Date.now() + 26_000);
    const during = await Promise.all(Array.from({ length: 10 }, () => get())); // answered while the read is held
    expect(during.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(s.lookups).toBe(2); // one renewal read, not one per request
    open();
    s.gate = undefined;
    await vi.waitFor(() => expect(s.answered).toBe(2));
    await new Promise((r) => setImmediate(r)); // the renewed row is cached
    // 24 s after the renewal (50 s after the first read): still served from the cache.
    vi.setSystemTime(Date.now() + 24_000);
    expect((await get()).statusCode).toBe(200);
    expect(s.lookups).toBe(2);
  });

  it('a request after a revocation notice does not share a read that started before it', async () => {
    const { s, get, prefix } = await cachedApp();
    const open = hold(s, 'gateAfter');
    const first = get(); // misses the empty cache: a read that gets the unrevoked row, then is held
    await vi.waitFor(() => expect(s.answered).toBe(1));
    s.gateAfter = undefined;
    await f.t.db.query('UPDATE ward_api_keys SET revoked_at = now() WHERE prefix = $1', [prefix]);
    await vi.waitFor(() => expect(s.messages).toContain(prefix), { timeout: 2_000, interval: 1 });
    const res = await get(); // its own read, which sees the revocation
    expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
    expect(s.lookups).toBe(2);
    open();
    expect((await first).statusCode).toBe(200); // it read the key before the revocation committed
    const again = await get(); // and did not cache it
    expect(again.statusCode).toBe(401);
  });

  it('requests for a key whose cache entry ran out share one read', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, get } = await cachedApp();
    await get();
    vi.setSystemTime(Date.now() + 31_000);
    const after = await Promise.all(Array.from({ length: 20 }, () => get()));
    expect(after.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    expect(s.lookups).toBe(2);
  });

  it('a renewal read that started before a revocation notice does not put the revoked key back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, get, prefix } = await cachedApp();
    await get();
    const open = hold(s, 'gateAfter');
    vi.setSystemTime(Date.now() + 26_000);
    expect((await get()).statusCode).toBe(200); // starts the renewal: it reads the unrevoked row, then is held
    await vi.waitFor(() => expect(s.lookups).toBe(2));
    s.gateAfter = undefined;
    await f.t.db.query('UPDATE ward_api_keys SET revoked_at = now() WHERE prefix = $1', [prefix]);
    await vi.waitFor(() => expect(s.messages).toContain(prefix), { timeout: 2_000, interval: 1 });
    open(); // the renewal now delivers its row from before the revocation
    await new Promise((r) => setTimeout(r, 20));
    const res = await get();
    expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
    expect(s.lookups).toBe(3); // read again, not served the renewed row
  });

  it('a revocation through another connection (as by `ward apikey revoke` in another process) is honoured from the next request after its NOTIFY', async () => {
    const { s, get, prefix } = await cachedApp();
    expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(200);
    expect(s.lookups).toBe(1);
    // pg: a second connection pool, as the CLI opens; PGlite (one process per directory): another ApiKeys.
    const other = driver === 'pg' ? pgDb(f.t.location, { max: 1 }) : undefined;
    try {
      await new ApiKeys(other ?? f.t.db, new Policy(f.t.cfg.roles)).revoke(prefix);
    } finally {
      await other?.close();
    }
    // The notification arrives asynchronously, within milliseconds of the commit.
    await vi.waitFor(() => expect(s.messages).toContain(prefix), { timeout: 2_000, interval: 1 });
    const res = await get();
    expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
  });

  it('a key revoked or deleted directly in SQL is dropped from the cache too (a trigger notifies)', async () => {
    for (const sql of ['UPDATE ward_api_keys SET revoked_at = now() WHERE prefix = $1', 'DELETE FROM ward_api_keys WHERE prefix = $1']) {
      const { s, get, prefix } = await cachedApp();
      expect((await get()).statusCode).toBe(200);
      expect((await get()).statusCode).toBe(200);
      expect(s.lookups).toBe(1);
      await f.t.db.query(sql, [prefix]);
      await vi.waitFor(() => expect(s.messages).toContain(prefix), { timeout: 2_000, interval: 1 });
      const res = await get();
      expect([res.statusCode, res.json().code]).toEqual([401, 'unauthenticated']);
    }
  });

  it('a revocation in this process is honoured on the very next request', async () => {
    const { keys, get, id: keyId } = await cachedApp();
    expect((await get()).statusCode).toBe(200);
    await keys.revoke(keyId);
    expect((await get()).statusCode).toBe(401);
  });

  it('a key read before a revocation notice is not cached (it may predate the revocation)', async () => {
    const { s, get } = await cachedApp();
    const open = hold(s, 'gate');
    const pending = get();
    await vi.waitFor(() => expect(s.lookups).toBe(1));
    const unrelated = await f.apiKeys.create('billing', 'revoked meanwhile');
    await f.apiKeys.revoke(unrelated.id);
    await vi.waitFor(() => expect(s.messages).toContain(unrelated.prefix), { timeout: 2_000, interval: 1 });
    open();
    s.gate = undefined;
    expect((await pending).statusCode).toBe(200);
    await get();
    expect(s.lookups).toBe(2);
    await get();
    expect(s.lookups).toBe(2);
  });

  it('nothing is cached until the listener is up; losing it empties the cache and turns caching off until it is back', async () => {
    let h: ListenHandlers | undefined;
    const { s, keys, get } = await cachedApp((handlers) => {
      h = handlers;
    });
    const listener = h as ListenHandlers;
    await get();
    await get();
    expect([keys.caching, s.lookups]).toEqual([false, 2]);
    listener.up();
    await get();
    await get();
    expect([keys.caching, s.lookups]).toEqual([true, 3]);
    listener.down();
    expect(keys.caching).toBe(false);
    await get();
    await get();
    expect(s.lookups).toBe(5);
    listener.up();
    await get();
    await get();
    expect(s.lookups).toBe(6);
  });

  it.runIf(driver === 'pg')('when the listening connection is terminated, the cache is emptied and the listener reconnects', async () => {
    const { s, keys, get, id: keyId, prefix } = await cachedApp();
    await get();
    await get();
    expect(s.lookups).toBe(1);
    const killed = await f.t.db.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND query = 'LISTEN ${store.API_KEYS_CHANNEL}'`,
    );
    expect(killed.length).toBeGreaterThanOrEqual(1); // this spy's listener and the fixture's
    await vi.waitFor(() => expect(s.events).toEqual(['up', 'down', 'up']), { timeout: 5_000, interval: 10 });
    expect(keys.caching).toBe(true);
    await get();
    expect(s.lookups).toBe(2); // emptied: read again
    await get();
    expect(s.lookups).toBe(2); // and cached again
    // Revocations reach the new connection.
    const other = pgDb(f.t.location, { max: 1 });
    try {
      await new ApiKeys(other, new Policy(f.t.cfg.roles)).revoke(keyId);
    } finally {
      await other.close();
    }
    await vi.waitFor(() => expect(s.messages).toContain(prefix), { timeout: 2_000, interval: 1 });
    expect((await get()).statusCode).toBe(401);
  });
});
