/**
 * A PostgreSQL table in another database as a source: keyset polling on an updated-at column and
 * the primary key (rows changed after the watermark, in that order), through node-postgres. The
 * watermark keeps the updated-at value as PostgreSQL prints it (microseconds and all).
 */
import { WardError } from '../errors.js';
import type { Db } from '../store/db.js';
import { pgDb } from '../store/pg.js';
import type { SourceSpec } from './mapping.js';
import type { Source, SourceBatch, SourceField } from './source.js';

type PostgresSpec = Extract<SourceSpec, { kind: 'postgres' }>;

const quote = (ident: string) =>
  ident
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');

/** Primary key types Ward keeps as row references. */
const SURROGATE = new Set(['integer', 'bigint', 'smallint', 'uuid']);

interface PgWatermark {
  at: string;
  key: string;
}

export function postgresSource(spec: PostgresSpec, fields: readonly string[], env: NodeJS.ProcessEnv): Source {
  const url = env[spec.urlEnv];
  if (!url)
    throw new WardError(
      'config_invalid',
      `the mapping's source.url_env names ${spec.urlEnv}, which is not set: export the source database's URL there`,
    );
  // The source's own credentials: Ward's database password (WARD_DATABASE_PASSWORD_FILE) is never offered to it.
  const db: Db = pgDb(url, { max: 1, passwordFile: '' });
  const table = quote(spec.table);
  const at = quote(spec.updatedAt);
  const key = quote(spec.primaryKey);
  const columns = [...new Set([spec.primaryKey, ...fields])].map(quote).join(', ');
  const deleted = spec.deleted ? `, ${quote(spec.deleted)} IS TRUE AS "__ward_deleted"` : '';
  const unavailable = (e: unknown): never => {
    throw new WardError(
      'source_unavailable',
      `source table ${spec.table}: ${(e as { message?: string }).message?.match(/SQLSTATE \w+/)?.[0] ?? 'cannot read it'}`,
    );
  };
  return {
    async describe(): Promise<SourceField[]> {
      const [schema, name] = spec.table.includes('.') ? spec.table.split('.') : [undefined, spec.table];
      const rows = await db
        .query<{ name: string; type: string; nullable: string }>(
          `SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns
           WHERE table_name = $1 AND table_schema = COALESCE($2, current_schema()) ORDER BY ordinal_position`,
          [name, schema ?? null],
        )
        .catch(unavailable);
      // The row reference Ward keeps is the primary key: a surrogate key, never a value such as an MRN.
      const pk = rows.find((r) => r.name === spec.primaryKey);
      if (pk && !SURROGATE.has(pk.type))
        throw new WardError(
          'config_invalid',
          `source table ${spec.table}: primary_key ${spec.primaryKey} is ${pk.type}; use an integer or uuid key (Ward keeps it as each row's reference, so it must not be a value such as an MRN)`,
        );
      // Keyset polling needs every row to have an updated-at.
      const at = rows.find((r) => r.name === spec.updatedAt);
      if (at && at.nullable !== 'NO')
        throw new WardError(
          'config_invalid',
          `source table ${spec.table}: updated_at column ${spec.updatedAt} must be NOT NULL for keyset polling`,
        );
      return rows.map(({ name, type }) => ({ name, type }));
    },
    async *read(watermark: unknown, batch: number): AsyncGenerator<SourceBatch> {
      let w = (watermark as PgWatermark | null | undefined) ?? undefined;
      for (;;) {
        const rows = await db
          .query<Record<string, unknown>>(
            `SELECT ${columns}${deleted}, ${at}::text AS "__ward_at", ${key}::text AS "__ward_key" FROM ${table}
             WHERE $1::text IS NULL OR (${at}, ${key}::text) > ($1::timestamptz, $2::text)
             ORDER BY ${at}, ${key}::text LIMIT $3`,
            [w?.at ?? null, w?.key ?? '', batch],
          )
          .catch(unavailable);
        if (!rows.length) return;
        const last = rows.at(-1) as Record<string, unknown>;
        if (last.__ward_at === null)
          throw new WardError('source_unavailable', `source table ${spec.table}: a row has no ${spec.updatedAt}`);
        w = { at: last.__ward_at as string, key: last.__ward_key as string };
        yield {
          rows: rows.map((r) => {
            const { __ward_at: _a, __ward_key: ref, __ward_deleted: gone, ...values } = r;
            return {
              ref: `${spec.primaryKey}=${ref as string}`,
              values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, plain(v)])),
              ...(gone === true ? { deleted: true } : {}),
            };
          }),
          watermark: w,
        };
        if (rows.length < batch) return;
      }
    },
    async exists(refs: readonly string[]): Promise<Set<string>> {
      const prefix = `${spec.primaryKey}=`;
      const keys = refs.filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length));
      const rows = await db
        .query<{ k: string }>(`SELECT ${key}::text AS k FROM ${table} WHERE ${key}::text = ANY($1::text[])`, [keys])
        .catch(unavailable);
      return new Set(rows.map((r) => `${prefix}${r.k}`));
    },
    close: () => db.close(),
  };
}

/** A value as a record field takes it: dates as ISO text. */
function plain(v: unknown): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  return v;
}
