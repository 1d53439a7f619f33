/**
 * Plain SQL migrations, applied in file-name order, each in its own transaction together
 * with its row in ward_migrations. Safe to re-run; concurrent runs serialize on a lock; an
 * applied file whose text changed is refused rather than silently skipped.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WardError } from '../errors.js';
import type { Db } from './db.js';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK_KEY = 0x77617264; // "ward"

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function migrations(dir = DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(`${dir}${name}`, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Creates the bookkeeping table under the lock: concurrent IF NOT EXISTS creations can collide. */
async function ensureTable(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS ward_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
}

async function applied(db: Db): Promise<Map<string, string>> {
  const rows = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM ward_migrations');
  return new Map(rows.map((r) => [r.name, r.checksum]));
}

/** Names of migrations not yet applied; throws when an applied one was edited. */
export async function pending(db: Db, all = migrations()): Promise<string[]> {
  const [{ exists } = { exists: false }] = await db.query<{ exists: boolean }>(
    "SELECT to_regclass('ward_migrations') IS NOT NULL AS exists",
  );
  const done = exists ? await applied(db) : new Map<string, string>();
  for (const m of all) {
    const sum = done.get(m.name);
    if (sum !== undefined && sum !== m.checksum)
      throw new WardError('migration_changed', `migration ${m.name} changed after it was applied; restore the original file`);
  }
  return all.filter((m) => !done.has(m.name)).map((m) => m.name);
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(db: Db, all = migrations()): Promise<string[]> {
  await ensureTable(db);
  const done: string[] = [];
  for (const m of all) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const rows = await tx.query<{ checksum: string }>('SELECT checksum FROM ward_migrations WHERE name = $1', [m.name]);
      if (rows[0]) {
        if (rows[0].checksum !== m.checksum)
          throw new WardError('migration_changed', `migration ${m.name} changed after it was applied; restore the original file`);
        return false;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO ward_migrations (name, checksum) VALUES ($1, $2)', [m.name, m.checksum]);
      return true;
    });
    if (ran) done.push(m.name);
  }
  return done;
}
