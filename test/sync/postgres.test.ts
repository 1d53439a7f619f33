/**
 * Sync from a PostgreSQL table in another database: keyset polling on updated-at and the primary
 * key, a watermark kept between passes (only rows changed after it are read), and drift: a new
 * source column never flows and marks the schema changed; a mapped column dropped pauses the
 * mapping until it is accepted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as store from '../../src/store/sync.js';
import { loadMappings, type Mapping } from '../../src/sync/mapping.js';
import { runPass } from '../../src/sync/runner.js';
import { canaryPatient, exampleConfig, freshDb, type TestVault, testVault } from '../helpers.js';
import { scratchDir } from '../scratch.js';
import { SYNC_CONFIG } from './helpers.js';

/** A mapping of the source table `contacts` (key id, updated_at) into patients, written to `dir` and loaded. */
function pgMapping(
  t: TestVault,
  dir: string,
  source: Record<string, string> = {},
  fields: Record<string, unknown> = { mrn: { to: 'mrn' }, full_name: { to: 'name' }, plan: { to: 'plan' } },
): Mapping {
  const file = join(dir, 'mapping.json');
  const spec = {
    kind: 'postgres',
    url_env: 'SOURCE_DATABASE_URL',
    table: 'contacts',
    updated_at: 'updated_at',
    primary_key: 'id',
    ...source,
  };
  const mapping = { object_name: 'contacts', collection: 'patients', purpose: 'operations', role: 'sync_writer', source: spec };
  writeFileSync(file, JSON.stringify({ version: 1, mappings: [{ ...mapping, config: { upsert_field: 'mrn', fields } }] }));
  const [m] = loadMappings(file, t.cfg, new Map(t.vault.collectionList().map((c) => [c.name, c])));
  return m as Mapping;
}

describe('sync from a PostgreSQL table', () => {
  it('rule: a pass reads only rows changed after the watermark; a new column never flows and is flagged; a dropped mapped column pauses the mapping', async () => {
    const t = await testVault('pg', undefined, exampleConfig(SYNC_CONFIG));
    const src = await freshDb('pg', { empty: true });
    const dir = scratchDir('ward-sync-pg-');
    try {
      // A text column is free text (it may carry incidental PHI): short values are varchar here, the notes text.
      await src.db.exec(`CREATE TABLE contacts (id bigint PRIMARY KEY, mrn varchar(32) NOT NULL, full_name varchar(80) NOT NULL,
        plan varchar(16), secret_notes text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      const p = Array.from({ length: 25 }, (_, n) => canaryPatient(n));
      for (const [n, q] of p.entries())
        await src.db.query('INSERT INTO contacts (id, mrn, full_name, plan, secret_notes) VALUES ($1, $2, $3, $4, $5)', [
          n + 1,
          q.mrn,
          q.name,
          'gold',
          `secret ${q.name}`,
        ]);
      const m = pgMapping(
        t,
        dir,
        {},
        { id: {}, mrn: { to: 'mrn' }, full_name: { to: 'name' }, plan: { to: 'plan' }, secret_notes: {}, updated_at: {} },
      );
      const env = { SOURCE_DATABASE_URL: src.location };
      const first = await runPass(t.vault, m, { env, batch: 10 });
      expect(first, JSON.stringify(first)).toMatchObject({ read: 25, created: 25, state: 'IDLE' });
      expect(await runPass(t.vault, m, { env, batch: 10 })).toMatchObject({ read: 0, created: 0 });

      // A row changed while a pass runs comes again in a later batch: its newer version, not a duplicate.
      await src.db.query("UPDATE contacts SET plan = 'bronze', updated_at = clock_timestamp() WHERE id IN (1, 2, 3, 4, 5, 6)");
      let touched = false;
      const during = await runPass(t.vault, m, {
        env,
        batch: 3,
        onProgress: () => {
          if (touched) return;
          touched = true;
          void src.db.query("UPDATE contacts SET plan = 'medicare', updated_at = clock_timestamp() WHERE id = 2");
        },
      });
      expect(during.failed).toBe(0);
      expect(await runPass(t.vault, m, { env })).toMatchObject({ failed: 0 });
      expect((await t.vault.search('patients', { mrn: p[1]?.mrn }))[0]?.fields.plan).toBe('medicare');

      // An operator's pause stops a pass between batches, and stands after it.
      await src.db.query("UPDATE contacts SET plan = 'gold', updated_at = clock_timestamp() WHERE id <= 12");
      const paused = await runPass(t.vault, m, {
        env,
        batch: 3,
        onProgress: () => void store.setState(t.db, 'contacts', { state: 'PAUSED', pausedReason: 'paused by an operator' }),
      });
      expect(paused).toMatchObject({ state: 'PAUSED' });
      expect(paused.read).toBeLessThan(12);
      await store.setState(t.db, 'contacts', { state: 'IDLE', pausedReason: null });
      expect(await runPass(t.vault, m, { env })).toMatchObject({ state: 'IDLE', failed: 0 });

      await src.db.query("UPDATE contacts SET plan = 'silver', updated_at = clock_timestamp() WHERE id IN (3, 17)");
      expect(await runPass(t.vault, m, { env, batch: 10 })).toMatchObject({ read: 2, updated: 2 });
      expect((await t.vault.search('patients', { mrn: p[2]?.mrn }))[0]?.fields.plan).toBe('silver');
      const stored = JSON.stringify(await t.db.query('SELECT public, sealed FROM ward_records'));
      expect(stored).not.toContain('secret');

      // A new source column: it never flows; the mapping says SCHEMA_CHANGED and keeps syncing.
      await src.db.exec('ALTER TABLE contacts ADD COLUMN diagnosis text');
      await src.db.query("UPDATE contacts SET diagnosis = 'never flows', updated_at = clock_timestamp() WHERE id = 5");
      const changed = await runPass(t.vault, m, { env });
      expect(changed).toMatchObject({ state: 'SCHEMA_CHANGED', read: 1, unchanged: 1, drift: { added: ['diagnosis'] } });
      expect((await t.vault.search('patients', { mrn: p[4]?.mrn }))[0]?.fields.diagnosis).toBeUndefined();
      expect(await runPass(t.vault, m, { env })).toMatchObject({ state: 'SCHEMA_CHANGED', drift: { added: ['diagnosis'] } });
      const audited = await t.db.query<{ detail: string }>("SELECT detail FROM ward_audit_events WHERE action = 'sync.schema_changed'");
      expect(audited.map((a) => a.detail)).toEqual(['contacts: 1 new source field(s) (diagnosis); they do not flow']); // announced once

      // A text column mapped without "freeText": "allow" pauses the mapping; so does a mapped column dropped.
      await src.db.exec('ALTER TABLE contacts ALTER COLUMN full_name TYPE text');
      const freeText = await runPass(t.vault, m, { env });
      expect(freeText).toMatchObject({ state: 'PAUSED', read: 0, drift: { retyped: ['full_name'] } });
      await src.db.exec('ALTER TABLE contacts ALTER COLUMN full_name TYPE varchar(80)');
      await t.db.query("UPDATE ward_sync_state SET state = 'IDLE', paused_reason = NULL, schema = NULL");
      expect(await runPass(t.vault, m, { env })).toMatchObject({ state: 'IDLE' });
      // A mapped column dropped: the mapping pauses, reading nothing, until the schema is accepted.
      await src.db.exec('ALTER TABLE contacts DROP COLUMN plan');
      expect(await runPass(t.vault, m, { env })).toMatchObject({ state: 'PAUSED', read: 0, drift: { removed: ['plan'] } });
      expect(await runPass(t.vault, m, { env })).toMatchObject({ state: 'PAUSED', read: 0 });
      const [state] = await store.selectStates(t.db);
      expect(state?.pausedReason).toContain('plan');
    } finally {
      await src.dispose();
      await t.dispose();
    }
  });
});

describe('a PostgreSQL source table is checked', () => {
  it('rule: a primary key that could hold a value (text) or a nullable updated-at is refused, naming the fix', async () => {
    const t = await testVault('pg', undefined, exampleConfig(SYNC_CONFIG));
    const src = await freshDb('pg', { empty: true });
    const dir = scratchDir('ward-sync-pg-check-');
    try {
      await src.db.exec(`CREATE TABLE contacts (mrn varchar(32) PRIMARY KEY, full_name varchar(80) NOT NULL, plan varchar(16),
        updated_at timestamptz)`);
      const env = { SOURCE_DATABASE_URL: src.location };
      const m = pgMapping(t, dir, { primary_key: 'mrn' });
      await expect(runPass(t.vault, m, { env })).rejects.toMatchObject({
        code: 'config_invalid',
        message: expect.stringContaining('use an integer or uuid key'),
      });
      await src.db.exec(
        'ALTER TABLE contacts DROP CONSTRAINT contacts_pkey, ADD COLUMN id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY',
      );
      const m2 = pgMapping(t, dir);
      await expect(runPass(t.vault, m2, { env })).rejects.toMatchObject({
        code: 'config_invalid',
        message: expect.stringContaining('must be NOT NULL'),
      });
    } finally {
      await src.dispose();
      await t.dispose();
    }
  });
});

describe('deletions in a PostgreSQL source', () => {
  it('rule: a row marked deleted (the deleted column) deletes its record', async () => {
    const t = await testVault('pg', undefined, exampleConfig(SYNC_CONFIG));
    const src = await freshDb('pg', { empty: true });
    const dir = scratchDir('ward-sync-pg-del-');
    try {
      await src.db.exec(`CREATE TABLE contacts (id bigint PRIMARY KEY, mrn varchar(32) NOT NULL, full_name varchar(80) NOT NULL,
        plan varchar(16), is_deleted boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
      const p = [canaryPatient(1), canaryPatient(2)];
      for (const [n, q] of p.entries())
        await src.db.query('INSERT INTO contacts (id, mrn, full_name, plan) VALUES ($1, $2, $3, $4)', [n + 1, q.mrn, q.name, 'gold']);
      const m = pgMapping(t, dir, { deleted: 'is_deleted' });
      const env = { SOURCE_DATABASE_URL: src.location };
      expect(await runPass(t.vault, m, { env })).toMatchObject({ created: 2 });
      await src.db.query('UPDATE contacts SET is_deleted = true, updated_at = clock_timestamp() WHERE id = 2');
      expect(await runPass(t.vault, m, { env })).toMatchObject({ read: 1, deleted: 1, failed: 0 });
      expect(await t.vault.search('patients', { mrn: p[1]?.mrn })).toEqual([]);
      expect((await t.vault.search('patients', { mrn: p[0]?.mrn })).length).toBe(1);
    } finally {
      await src.dispose();
      await t.dispose();
    }
  });
});
