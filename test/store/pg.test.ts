/** The node-postgres driver's failure handling: a lost connection fails its work, never the process. */
import { describe, expect, it } from 'vitest';
import { isWardError } from '../../src/errors.js';
import { freshDb } from '../helpers.js';

describe('pg driver', () => {
  it('a connection that drops inside a transaction fails that transaction; the process and the pool go on', async () => {
    const t = await freshDb('pg');
    try {
      await t.db.exec('CREATE TABLE t (x int)');
      const failed = await t.db
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1)');
          const [me] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // Ended from another connection while this one is idle in its transaction, as a
          // server restart or an administrator would: the client hears of it between queries.
          await t.db.query('SELECT pg_terminate_backend($1)', [me?.pid]);
          await new Promise((r) => setTimeout(r, 300));
          await tx.query('INSERT INTO t VALUES (2)');
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isWardError(failed)).toBe(true);
      // Nothing of it was kept, and the pool hands out working connections (not the dead one).
      const rows = await Promise.all(Array.from({ length: 8 }, () => t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')));
      expect(rows.map((r) => r[0]?.n)).toEqual(Array(8).fill(0));
      expect(await t.db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
    } finally {
      await t.dispose();
    }
  });
});
