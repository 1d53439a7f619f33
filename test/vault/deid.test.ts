/**
 * The de-identified copy for analysts: ward_deid.<collection>, Safe Harbor as the de-identified
 * view, rebuilt by `ward deid refresh`; the analytics role reads it and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pgDb } from '../../src/store/pg.js';
import { canaryPatient, DRIVERS, testVault } from '../helpers.js';

describe.each(DRIVERS)('ward deid refresh on %s', (driver) => {
  it('rule: the copy holds no identifier and no free text, dates as years and ZIP codes to three digits, a pseudonym for the id', async () => {
    const t = await testVault(driver);
    try {
      const v = t.vault;
      const p = canaryPatient();
      const { id } = await v.create('patients', p);
      const other = await v.create('patients', canaryPatient());
      const [report] = await v.refreshDeidentified();
      expect(report).toMatchObject({ collection: 'patients', table: 'ward_deid.patients', records: 2 });
      expect(report?.columns).not.toEqual(expect.arrayContaining(['name']));
      const rows = await t.db.query<Record<string, string | null>>('SELECT * FROM ward_deid.patients ORDER BY pseudonym');
      expect(rows).toHaveLength(2);
      const dump = JSON.stringify(rows);
      for (const value of [p.name, p.ssn, p.mrn, p.email, p.phone, p.notes, p.diagnosis, id, '1961-07-04', '02139'])
        expect(dump, String(value)).not.toContain(value);
      const mine = rows.find((r) => r.dob === '1961');
      expect(mine).toMatchObject({ zip: '021**', created_year: String(new Date().getUTCFullYear()) });
      expect(mine?.pseudonym).toMatch(/^psn_/);
      // Rebuilt in place: a deleted record goes, an update shows.
      await v.delete('patients', other.id);
      await v.update('patients', id, { plan: 'silver' });
      await v.refreshDeidentified();
      expect(await t.db.query('SELECT plan, version FROM ward_deid.patients')).toEqual([{ plan: 'silver', version: 2 }]);
      const [audit] = await t.db.query<{ detail: string }>(
        "SELECT detail FROM ward_audit_events WHERE action = 'deid.refresh' ORDER BY seq DESC LIMIT 1",
      );
      expect(audit?.detail).toMatch(/^1 record\(s\) into ward_deid\.patients: pseudonym, version, created_year, /);
    } finally {
      await t.vault.close();
      await t.dispose();
    }
  });
});

describe('the analytics role', () => {
  it('rule: ward_analytics reads the de-identified schema and no table of Ward’s own', async () => {
    const t = await testVault('pg');
    const login = `ward_analytics_test_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    try {
      await t.db.query(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ward_analytics') THEN CREATE ROLE ward_analytics NOLOGIN; END IF; END $$",
      );
      await t.db.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE ward_analytics`);
      await t.vault.create('patients', canaryPatient());
      await t.vault.refreshDeidentified();
      const url = new URL(t.location);
      url.username = login;
      url.password = password;
      const analyst = pgDb(url.toString(), { max: 1 });
      try {
        expect((await analyst.query('SELECT count(*)::int AS n FROM ward_deid.patients'))[0]).toEqual({ n: 1 });
        for (const sql of ['SELECT * FROM ward_records', 'SELECT * FROM ward_audit_events', 'SELECT * FROM ward_keys'])
          await expect(analyst.query(sql), sql).rejects.toMatchObject({ message: expect.stringContaining('SQLSTATE 42501') });
      } finally {
        await analyst.close();
      }
    } finally {
      await t.db.query(`DROP OWNED BY ${login}`).catch(() => {});
      await t.db.query(`DROP ROLE IF EXISTS ${login}`).catch(() => {});
      await t.vault.close();
      await t.dispose();
    }
  });
});
