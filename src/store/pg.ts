/** The node-postgres driver: a pool, transactions on one checked-out client, a dedicated listening connection. */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { WardError } from '../errors.js';
import {
  CHANNEL,
  type Db,
  type ListenHandlers,
  type Queryable,
  type Row,
  type Session,
  type Statement,
  type Subscription,
  translated,
} from './db.js';

export interface PgOptions {
  /** Pool size; default 10. */
  max?: number;
  /**
   * A file holding the database password alone (surrounding whitespace ignored), for a URL without
   * one: read each time a connection logs in, so after `ward db rotate-password` new connections
   * use the new password while open ones keep working. Default: `WARD_DATABASE_PASSWORD_FILE`;
   * `''` for none. A URL with a password ignores it.
   */
  passwordFile?: string;
}

/** True when a connection string carries a password of its own (in the user part or as `?password=`). */
function hasPassword(connectionString: string): boolean {
  try {
    const u = new URL(connectionString);
    return u.password !== '' || u.searchParams.has('password');
  } catch {
    return true; // not a URL: leave it to node-postgres
  }
}

/**
 * node-postgres's Client, or with a password file one whose password is a function: node-postgres
 * calls it for every connection it opens (pool, session, listener), so each login reads the file.
 */
function clientClass(connectionString: string, options: PgOptions): typeof pg.Client {
  const file = options.passwordFile ?? process.env.WARD_DATABASE_PASSWORD_FILE ?? '';
  if (!file || hasPassword(connectionString)) return pg.Client;
  const password = async (): Promise<string> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new WardError(
        'database_error',
        `cannot read the database password file (${(e as { code?: string }).code ?? 'error'}): check WARD_DATABASE_PASSWORD_FILE`,
      );
    }
    const secret = text.trim();
    if (!secret) throw new WardError('database_error', 'the database password file is empty: check WARD_DATABASE_PASSWORD_FILE');
    return secret;
  };
  return class extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      // After the constructor: the connection string's empty password would replace the option.
      (this as { password?: unknown }).password = password;
    }
  };
}

/** Wait before the first reconnect of a dropped listening connection; doubled up to `MAX_RETRY_MS`. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export function pgDb(connectionString: string, options: PgOptions = {}): Db {
  const Client = clientClass(connectionString, options);
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, Client });
  // An idle client's error (server restart) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const subscriptions = new Set<Subscription>();
  const sessions = new Set<pg.Client>();
  const on = (c: pg.Pool | pg.PoolClient): Queryable => ({
    query: <R extends Row>(sql: string | Statement, params: readonly unknown[] = []) =>
      translated(async () => {
        const values = params as unknown[];
        const q = typeof sql === 'string' ? { text: sql, values } : { name: sql.name, text: sql.text, values };
        return (await c.query<R>(q)).rows;
      }),
    exec: (sql: string) => translated(async () => void (await c.query(sql))),
  });
  return {
    kind: 'pg',
    size: options.max ?? 10,
    ...on(pool),
    async transaction(fn) {
      const client = await translated(() => pool.connect());
      // The pool stops listening for a client's errors while it is checked out: a connection
      // that drops between the transaction's queries (a server restart, a terminated backend)
      // would be an unhandled 'error' and end the process. It fails the transaction instead, and
      // the client is thrown away, not pooled again.
      let broken: unknown;
      const onError = (e: unknown) => {
        broken ??= e;
      };
      client.on('error', onError);
      try {
        await translated(() => client.query('BEGIN'));
        const result = await fn(on(client));
        await translated(() => client.query('COMMIT'));
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch((r: unknown) => onError(r));
        throw e;
      } finally {
        client.off('error', onError);
        client.release(broken === undefined ? undefined : true);
      }
    },
    async session(): Promise<Session> {
      const c = new Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 10_000 });
      let lost = false;
      c.on('error', () => {
        lost = true;
      });
      c.on('end', () => {
        lost = true;
      });
      await translated(() => c.connect());
      sessions.add(c);
      return {
        ...on(c as unknown as pg.PoolClient),
        get lost() {
          return lost;
        },
        async release() {
          sessions.delete(c);
          await c.end().catch(() => {});
        },
      };
    },
    listen(channel, handlers) {
      const s = listenOn(connectionString, channel, handlers, () => subscriptions.delete(s), Client);
      subscriptions.add(s);
      return s;
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await Promise.all([...subscriptions].map((s) => s.close()));
      await Promise.all([...sessions].map((c) => c.end().catch(() => {})));
      await pool.end();
    },
  };
}

/**
 * One connection that only listens. When it errors or ends, `down` is called and a new one is
 * made after a growing pause; `up` follows once its `LISTEN` is in place.
 */
function listenOn(
  connectionString: string,
  channel: string,
  h: ListenHandlers,
  forget: () => void,
  Client: typeof pg.Client = pg.Client,
): Subscription {
  if (!CHANNEL.test(channel)) throw new TypeError(`not a channel name: ${channel}`);
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let pause = FIRST_RETRY_MS;

  const connect = async () => {
    const c = new Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 10_000 });
    client = c;
    let lost = false;
    const drop = () => {
      if (lost) return;
      lost = true;
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      if (closed) return;
      h.down();
      retry = setTimeout(() => void connect(), pause);
      retry.unref();
      pause = Math.min(pause * 2, MAX_RETRY_MS);
    };
    c.on('error', drop);
    c.on('end', drop);
    c.on('notification', (n) => {
      if (!lost && !closed && n.channel === channel) h.message(n.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch {
      drop();
      return;
    }
    if (lost || closed) return;
    pause = FIRST_RETRY_MS;
    h.up();
  };
  void connect();
  return {
    async close() {
      if (closed) return;
      closed = true;
      forget();
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
