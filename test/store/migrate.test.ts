/** Migrations: applied in order, recorded, safe to re-run and to run concurrently; edits refused. */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { migrate, migrations, pending } from '../../src/store/migrate.js';
import { pgDb } from '../../src/store/pg.js';
import { openVault } from '../../src/vault/open.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey } from '../helpers.js';
import { scratchDir } from '../scratch.js';

describe.each(DRIVERS)('migrations on %s', (driver) => {
  it('apply once, record themselves and are safe to re-run', async () => {
    const t = await freshDb(driver, { empty: true });
    const all = migrations().map((m) => m.name);
    expect(await pending(t.db)).toEqual(all);
    expect(await migrate(t.db)).toEqual(all);
    expect(await migrate(t.db)).toEqual([]);
    expect(await pending(t.db)).toEqual([]);
    const rows = await t.db.query<{ name: string }>('SELECT name FROM ward_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(all);
    await t.db.close();
    await t.dispose();
  });

  it('the GIN indexes that writes grow take entries directly, with no pending list to merge on a write', async () => {
    const t = await freshDb(driver, { empty: true });
    await migrate(t.db);
    const rows = await t.db.query<{ relname: string; reloptions: string[] | null }>(
      "SELECT relname, reloptions FROM pg_class WHERE relname IN ('ward_records_lookup', 'ward_audit_events_records') ORDER BY relname",
    );
    expect(rows.map((r) => [r.relname, r.reloptions?.includes('fastupdate=off')])).toEqual([
      ['ward_audit_events_records', true],
      ['ward_records_lookup', true],
    ]);
    await t.db.close();
    await t.dispose();
  });

  it('a migration edited after it was applied is refused', async () => {
    const t = await freshDb(driver, { empty: true });
    const dir = `${scratchDir('ward-mig-')}/`;
    writeFileSync(`${dir}0001_a.sql`, 'CREATE TABLE a (x int);');
    await migrate(t.db, migrations(dir));
    writeFileSync(`${dir}0001_a.sql`, 'CREATE TABLE a (x bigint);');
    await expect(migrate(t.db, migrations(dir))).rejects.toMatchObject({ code: 'migration_changed' });
    await expect(pending(t.db, migrations(dir))).rejects.toMatchObject({ code: 'migration_changed' });
    // a failing migration leaves nothing half-applied
    writeFileSync(`${dir}0001_a.sql`, 'CREATE TABLE a (x int);');
    writeFileSync(`${dir}0002_b.sql`, 'CREATE TABLE b (y int); CREATE TABLE b (y int);');
    await expect(migrate(t.db, migrations(dir))).rejects.toMatchObject({ code: 'database_error' });
    expect(await t.db.query("SELECT 1 FROM pg_tables WHERE tablename = 'b'")).toEqual([]);
    expect(await pending(t.db, migrations(dir))).toEqual(['0002_b.sql']);
    await t.db.close();
    await t.dispose();
  });

  it('a server database with pending migrations refuses to open unless told to migrate', async () => {
    const t = await freshDb(driver, { empty: true });
    const env = { WARD_MASTER_KEY: newMasterKey() };
    await expect(openVault(exampleConfig(), { env, db: t.db, migrations: 'check' })).rejects.toMatchObject({
      code: 'schema_outdated',
      message: expect.stringContaining('run `ward migrate`'),
    });
    const v = await openVault(exampleConfig(), { env, db: t.db, migrations: 'auto' });
    expect(v.collectionList().map((c) => c.name)).toContain('patients');
    await v.close();
    await t.dispose();
  });
});

describe('concurrent migrations on a server', () => {
  it('serialize on a lock: every migration is applied exactly once', async () => {
    const t = await freshDb('pg', { empty: true });
    const dbs = [pgDb(t.location), pgDb(t.location), pgDb(t.location)];
    const applied = await Promise.all(dbs.map((db) => migrate(db)));
    expect(applied.flat().sort()).toEqual(migrations().map((m) => m.name));
    await Promise.all(dbs.map((db) => db.close()));
    await t.dispose();
  });
});
