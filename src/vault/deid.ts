/**
 * `ward deid refresh`: a Safe Harbor de-identified copy of each collection in the `ward_deid`
 * schema, one table per collection, for analysts with ordinary SQL tools. The same rules as the
 * de-identified view (access/policy `deidentified`): a keyed pseudonym instead of the id, dates as
 * years, ZIP codes as three digits, ages over 89 grouped, no identifier and no free text. Each
 * table is rebuilt aside and swapped in one transaction, readers never see half of it; the role
 * `ward_analytics`, when it exists, may read the schema and nothing else of Ward's.
 */
import type { RequestContext } from '../access/actions.js';
import { WardError } from '../errors.js';
import type { Collection } from '../schema/collection.js';
import type { Queryable } from '../store/db.js';
import { FIRST_ID } from '../store/records.js';
import type { Records } from './records.js';
import type { AuditTrail } from './trail.js';

const PAGE = 1000;
export const DEID_SCHEMA = 'ward_deid';
export const ANALYTICS_ROLE = 'ward_analytics';

/** An identifier the schema allows (collection and field names are checked by the config already). */
const ident = (name: string) => {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new WardError('invalid_request', 'not a plain identifier');
  return `"${name}"`;
};

export interface DeidReport {
  collection: string;
  table: string;
  records: number;
  columns: string[];
}

export async function refreshDeidentified(
  trail: AuditTrail,
  records: Records,
  collections: readonly Collection[],
  ctx: RequestContext,
): Promise<DeidReport[]> {
  if (!ctx.principal.operator)
    await trail.refuse(
      ctx,
      'deid.refresh',
      [],
      new WardError('forbidden', 'the de-identified copy is refreshed by the operator (ward deid refresh)'),
    );
  const out: DeidReport[] = [];
  for (const c of collections) {
    const report = await trail.run(trail.row(ctx, 'deid.refresh', c.name, [], []), (row) =>
      trail.transaction(async (tx, audit) => {
        const r = await rebuild(tx, records, c);
        await audit({ ...row, detail: `${r.records} record(s) into ${r.table}: ${r.columns.join(', ')}` });
        return r;
      }),
    );
    out.push(report);
  }
  return out;
}

async function rebuild(tx: Queryable, records: Records, c: Collection): Promise<DeidReport> {
  const table = `${DEID_SCHEMA}.${ident(c.name)}`;
  const next = `${DEID_SCHEMA}.${ident(`${c.name}__next`.slice(0, 63))}`;
  let page = await records.deidentifiedPage(c, FIRST_ID, PAGE, tx);
  // The columns: what the de-identified grant lets through, in the collection's order.
  const fields = records.deidentifiedColumns(c);
  const columns = ['pseudonym', 'version', 'created_year', ...fields];
  await tx.query(`CREATE SCHEMA IF NOT EXISTS ${DEID_SCHEMA}`);
  await tx.query(`DROP TABLE IF EXISTS ${next}`);
  await tx.query(
    `CREATE TABLE ${next} (pseudonym text PRIMARY KEY, version integer NOT NULL, created_year text NOT NULL${fields
      .map((f) => `, ${ident(f)} text`)
      .join('')})`,
  );
  let count = 0;
  for (;;) {
    if (page.views.length) {
      const cols: unknown[][] = columns.map(() => []);
      for (const v of page.views) {
        const row = [v.id, v.version, v.createdAt, ...fields.map((f) => (v.fields[f] === undefined ? null : String(v.fields[f])))];
        for (const [i, x] of row.entries()) cols[i]?.push(x);
      }
      await tx.query(
        `INSERT INTO ${next} (${columns.map(ident).join(', ')}) SELECT * FROM unnest(${columns
          .map((_, i) => `$${i + 1}::${i === 1 ? 'int' : 'text'}[]`)
          .join(', ')})`,
        cols,
      );
      count += page.views.length;
    }
    if (!page.last) break;
    page = await records.deidentifiedPage(c, page.last, PAGE, tx);
  }
  await tx.query(`DROP TABLE IF EXISTS ${table}`);
  await tx.query(`ALTER TABLE ${next} RENAME TO ${ident(c.name)}`);
  const analytics = await tx.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ANALYTICS_ROLE]);
  if (analytics.length) {
    await tx.query(`GRANT USAGE ON SCHEMA ${DEID_SCHEMA} TO ${ANALYTICS_ROLE}`);
    await tx.query(`GRANT SELECT ON ${table} TO ${ANALYTICS_ROLE}`);
  }
  return { collection: c.name, table: `${DEID_SCHEMA}.${c.name}`, records: count, columns };
}
