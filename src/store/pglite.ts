/** The embedded driver: PGlite, persisted in a directory or held in memory. */
import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { type Db, type Queryable, type Row, type Statement, sqlText, translated } from './db.js';
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
  const on = (c: PGlite | Transaction): Queryable => ({
    query: <R extends Row>(sql: string | Statement, params: readonly unknown[] = []) =>
      translated(async () => (await c.query<R>(sqlText(sql), params as unknown[])).rows),
    exec: (sql: string) => translated(async () => void (await c.exec(sql))),
  });
  return {
    kind: 'pglite',
    ...on(lite),
    transaction: (fn) => translated(() => lite.transaction((tx) => fn(on(tx)))),
    close: async () => {
      try {
        await lite.close();
      } finally {
        unlock();
      }
    },
  };
}
