/** The node-postgres driver: a pool, transactions on one checked-out client. */
import pg from 'pg';
import { type Db, type Queryable, type Row, type Statement, translated } from './db.js';

export interface PgOptions {
  /** Pool size; default 10. */
  max?: number;
}

export function pgDb(connectionString: string, options: PgOptions = {}): Db {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  // An idle client's error (server restart) must not crash the process; the next query reports it.
  pool.on('error', () => {});
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
    ...on(pool),
    async transaction(fn) {
      const client = await translated(() => pool.connect());
      try {
        await translated(() => client.query('BEGIN'));
        const result = await fn(on(client));
        await translated(() => client.query('COMMIT'));
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
