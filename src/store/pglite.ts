/** The embedded driver: PGlite, persisted in a directory or held in memory. */
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { CHANNEL, type Db, type Queryable, type Row, type Statement, type Subscription, sqlText, translated } from './db.js';
import { lockDir } from './dir-lock.js';

/** Opens PGlite in `dir` (created if missing), or in memory when `dir` is undefined. */
export async function pgliteDb(dir?: string): Promise<Db> {
  if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const unlock = dir ? lockDir(dir) : () => {};
  let lite: PGlite;
  try {
    lite = await translated(() => PGlite.create(dir ? { dataDir: dir } : {}));
  } catch (e) {
    unlock();
    throw e;
  }
  const subscriptions = new Set<Subscription>();
  let closing = false;
  const on = (c: PGlite | Transaction): Queryable => ({
    query: <R extends Row>(sql: string | Statement, params: readonly unknown[] = []) =>
      translated(async () => (await c.query<R>(sqlText(sql), params as unknown[])).rows),
    exec: (sql: string) => translated(async () => void (await c.exec(sql))),
  });
  return {
    kind: 'pglite',
    size: 1,
    ...on(lite),
    transaction: (fn) => translated(() => lite.transaction((tx) => fn(on(tx)))),
    // One process holds the directory, through one connection: the session is that connection.
    session: async () => ({ ...on(lite), lost: false, release: async () => {} }),
    listen(channel, h) {
      // One process holds the directory, so the subscription lasts as long as the database.
      if (!CHANNEL.test(channel)) throw new TypeError(`not a channel name: ${channel}`);
      let closed = false;
      const unlisten = lite
        .listen(channel, (payload) => {
          if (!closed) h.message(payload);
        })
        .then(
          (stop) => {
            if (!closed) h.up();
            return stop;
          },
          () => {
            if (!closed) h.down();
            return undefined;
          },
        );
      const s: Subscription = {
        async close() {
          if (closed) return;
          closed = true;
          subscriptions.delete(s);
          const stop = await unlisten;
          if (stop && !lite.closed) await stop().catch(() => {});
        },
      };
      subscriptions.add(s);
      return s;
    },
    stats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => {
      if (closing) return; // idempotent: a second close must not release a lock another opener now holds
      closing = true;
      try {
        await Promise.all([...subscriptions].map((s) => s.close()));
        await lite.close();
      } finally {
        unlock();
      }
    },
  };
}
