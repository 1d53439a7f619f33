/**
 * Sync from files: CSV and NDJSON through a mapping in Heroku Connect's export shape. Only mapped
 * fields flow; passes are idempotent (an unchanged row is not written again); bad rows are kept
 * as failures by row number and rule, never by value; a pass cut short resumes without
 * duplicates; mappings are checked at load, naming the file, the path and the fix.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWardError } from '../../src/errors.js';
import { compileCollection } from '../../src/schema/collection.js';
import * as store from '../../src/store/sync.js';
import { loadMappings, type Mapping } from '../../src/sync/mapping.js';
import { runExclusive, runPass } from '../../src/sync/runner.js';
import type { Source } from '../../src/sync/source.js';
import type { Vault } from '../../src/vault/vault.js';
import { canaryPatient, DRIVERS, exampleConfig, type TestVault, testVault } from '../helpers.js';
import { scratchDir } from '../scratch.js';
import { mappingFile, SYNC_CONFIG } from './helpers.js';

const csvLine = (cells: readonly string[]) => cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(',');
const header = ['Id', 'MRN__c', 'Name', 'SSN__c', 'Plan__c', 'Secret_Notes__c', 'Description'];
const rowOf = (n: number, p = canaryPatient(n), plan = 'gold') => [
  `003${String(n).padStart(12, '0')}`,
  p.mrn,
  p.name,
  p.ssn,
  plan,
  `Secret ${p.name}`,
  `Seen for follow up ${n}`,
];

function mappings(t: TestVault, file: string): Mapping[] {
  return loadMappings(file, t.cfg, new Map(t.vault.collectionList().map((c) => [c.name, c])));
}

const count = async (v: Vault) => (await v.syncPort().db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records'))[0]?.n ?? 0;

describe.each(DRIVERS)('sync from files on %s', (driver) => {
  it('rule: a CSV pass creates records from mapped fields only; a second pass writes nothing; a changed row updates its record', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-csv-');
    try {
      const data = join(dir, 'contacts.csv');
      const patients = Array.from({ length: 12 }, (_, n) => canaryPatient(n));
      const write = (rows: string[][]) => writeFileSync(data, `${[header, ...rows].map(csvLine).join('\n')}\n`);
      write(patients.map((p, n) => rowOf(n, p)));
      const [m] = mappings(t, mappingFile(dir, { kind: 'csv', file: 'contacts.csv' }));
      const first = await runPass(t.vault, m as Mapping, { batch: 5 });
      expect(first).toMatchObject({ read: 12, created: 12, updated: 0, unchanged: 0, failed: 0, state: 'IDLE' });
      expect(first.freeText.scanned).toBe(12);
      const [found] = await t.vault.search('patients', { mrn: patients[3]?.mrn });
      expect(found?.fields).toMatchObject({ mrn: patients[3]?.mrn, name: patients[3]?.name, plan: 'gold', notes: 'Seen for follow up 3' });
      // An unmapped source field never flows: nothing of it is anywhere in the vault.
      expect(JSON.stringify(found?.fields)).not.toContain('Secret');

      const again = await runPass(t.vault, m as Mapping, { batch: 5 });
      expect(again).toMatchObject({ read: 12, created: 0, updated: 0, unchanged: 12, failed: 0 });
      const versions = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records WHERE version > 1');
      expect(versions[0]?.n).toBe(0);

      write(patients.map((p, n) => rowOf(n, p, n === 4 ? 'silver' : 'gold')));
      const changed = await runPass(t.vault, m as Mapping, { batch: 5 });
      expect(changed).toMatchObject({ created: 0, updated: 1, unchanged: 11 });
      expect((await t.vault.search('patients', { mrn: patients[4]?.mrn }))[0]?.fields.plan).toBe('silver');
      expect(await count(t.vault)).toBe(12);
      const audited = await t.db.query<{ actor: string; purpose: string }>(
        "SELECT DISTINCT actor, purpose FROM ward_audit_events WHERE action IN ('create', 'update') AND actor LIKE 'sync:%'",
      );
      expect(audited).toEqual([{ actor: 'sync:Contact', purpose: 'operations' }]);
    } finally {
      await t.dispose();
    }
  });

  it('rule: bad rows are kept as failures by row number, field names and rule, never by value; the good rows flow', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-bad-');
    try {
      const p = [canaryPatient(1), canaryPatient(2), canaryPatient(3), canaryPatient(4)];
      const rows = [rowOf(1, p[0]), [...rowOf(2, p[1]).slice(0, 3)], rowOf(3, p[2]), rowOf(4, p[3])];
      (rows[2] as string[])[3] = 'SSN-NOT-VALID-77';
      (rows[3] as string[])[1] = (rows[0] as string[])[1] as string; // the same external id as the first row
      writeFileSync(join(dir, 'contacts.csv'), `${[header, ...rows].map(csvLine).join('\n')}\n`);
      const [m] = mappings(t, mappingFile(dir, { kind: 'csv', file: 'contacts.csv' }));
      const r = await runPass(t.vault, m as Mapping);
      expect(r).toMatchObject({ read: 4, created: 1, failed: 3 });
      const errors = await store.selectErrors(t.db, new Date(0));
      expect(errors.map((e) => [e.sourceRef, e.fields, e.rule.split(':')[0]])).toEqual([
        ['row 2 (line 3)', [], 'unreadable'],
        ['row 4 (line 5)', ['MRN__c'], 'duplicate_external_id'],
        ['row 3 (line 4)', ['ssn'], 'validation_failed'],
      ]);
      const text = JSON.stringify(errors);
      for (const q of p) for (const v of [q.mrn, q.name, q.ssn]) expect(text).not.toContain(v);
      expect(text).not.toContain('SSN-NOT-VALID');
    } finally {
      await t.dispose();
    }
  });

  it('rule: two rows of one file with the same external id, batches apart, are a duplicate in every pass; the first one wins', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-dup-');
    try {
      const people = Array.from({ length: 30 }, (_, n) => canaryPatient(n));
      const rows = people.map((p, n) => rowOf(n, p));
      (rows[24] as string[])[1] = (rows[1] as string[])[1] as string; // row 25 repeats row 2's external id
      (rows[24] as string[])[4] = 'silver';
      writeFileSync(join(dir, 'contacts.csv'), `${[header, ...rows].map(csvLine).join('\n')}\n`);
      const [m] = mappings(t, mappingFile(dir, { kind: 'csv', file: 'contacts.csv' }));
      expect(await runPass(t.vault, m as Mapping, { batch: 5 })).toMatchObject({ created: 29, failed: 1 });
      expect(await runPass(t.vault, m as Mapping, { batch: 5 })).toMatchObject({ created: 0, updated: 0, unchanged: 29, failed: 1 });
      expect((await t.vault.search('patients', { mrn: people[1]?.mrn }))[0]?.fields.plan).toBe('gold');
      const dups = (await store.selectErrors(t.db, new Date(0))).filter((e) => e.rule.startsWith('duplicate_external_id'));
      expect(dups.map((e) => e.sourceRef)).toEqual(['row 25 (line 26)', 'row 25 (line 26)']);
    } finally {
      await t.dispose();
    }
  });

  it('rule: a CSV file whose first row is not field names (data, no header) is refused without quoting it', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-nohead-');
    try {
      const p = canaryPatient(1);
      writeFileSync(join(dir, 'contacts.csv'), `${csvLine(rowOf(1, p))}\n`);
      const [m] = mappings(t, mappingFile(dir, { kind: 'csv', file: 'contacts.csv' }));
      const e = await runPass(t.vault, m as Mapping).catch((x) => x);
      expect(isWardError(e, 'source_unavailable')).toBe(true);
      expect(String(e.message)).toContain('is not a field name');
      for (const v of [p.mrn, p.name, p.ssn]) expect(String(e.message)).not.toContain(v);
    } finally {
      await t.dispose();
    }
  });

  it('rule: NDJSON lines flow the same way; a line that is not JSON is reported by its number', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-ndjson-');
    try {
      const p = [canaryPatient(1), canaryPatient(2)];
      const lines = [
        JSON.stringify({ Id: '1', MRN__c: p[0]?.mrn, Name: p[0]?.name, Plan__c: 'gold', Extra: 'never flows' }),
        `{"Id": "2", "MRN__c": "${p[1]?.mrn}", "Name": `,
        JSON.stringify({ Id: '3', MRN__c: p[1]?.mrn, Name: p[1]?.name, Plan__c: 'silver' }),
      ];
      writeFileSync(join(dir, 'contacts.ndjson'), `${lines.join('\n')}\n`);
      const [m] = mappings(t, mappingFile(dir, { kind: 'ndjson', file: 'contacts.ndjson' }));
      expect(await runPass(t.vault, m as Mapping)).toMatchObject({ read: 3, created: 2, failed: 1 });
      expect((await store.selectErrors(t.db, new Date(0))).map((e) => [e.sourceRef, e.rule])).toEqual([
        ['line 2', 'unreadable: line 2 is not valid JSON'],
      ]);
    } finally {
      await t.dispose();
    }
  });

  it('rule: a pass cut short, and one whose bookkeeping was lost after its creates, resume with no duplicate and no lost row', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-resume-');
    try {
      const patients = Array.from({ length: 30 }, (_, n) => canaryPatient(n));
      writeFileSync(join(dir, 'contacts.csv'), `${[header, ...patients.map((p, n) => rowOf(n, p))].map(csvLine).join('\n')}\n`);
      const [m] = mappings(t, mappingFile(dir, { kind: 'csv', file: 'contacts.csv' }));
      // A source that fails after two batches, as a process killed mid-pass stops reading.
      const real = (await import('../../src/sync/files.js')).csvSource(join(dir, 'contacts.csv'));
      const broken: Source = {
        describe: () => real.describe(),
        async *read(w, batch) {
          let n = 0;
          for await (const b of real.read(w, batch)) {
            if (n++ === 2) throw new Error('killed');
            yield b;
          }
        },
        close: () => real.close(),
      };
      await expect(runPass(t.vault, m as Mapping, { batch: 7, source: broken })).rejects.toThrow('killed');
      expect(await count(t.vault)).toBe(14);
      // The bookkeeping of the first creates is lost too (a crash between a batch's create and its record).
      await t.db.query("DELETE FROM ward_sync_rows WHERE source_ref IN ('row 1 (line 2)', 'row 2 (line 3)')");
      const resumed = await runPass(t.vault, m as Mapping, { batch: 7 });
      expect(resumed.failed).toBe(0);
      expect(await count(t.vault)).toBe(30);
      const full = await runPass(t.vault, m as Mapping, { batch: 7 });
      expect(full).toMatchObject({ read: 30, created: 0, unchanged: 30, failed: 0 });
      expect(await count(t.vault)).toBe(30);
    } finally {
      await t.dispose();
    }
  });

  // PGlite serves one process (its directory is locked), so only a server has others to exclude.
  it.skipIf(driver === 'pglite')('rule: one sync runner at a time across processes', async () => {
    const t = await testVault(driver, undefined, exampleConfig(SYNC_CONFIG));
    try {
      let inner: unknown;
      await runExclusive(t.vault, async () => {
        inner = await runExclusive(t.vault, async () => 'ran').catch((e) => (isWardError(e) ? e.code : e));
      });
      expect(inner).toBe('invalid_request');
    } finally {
      await t.dispose();
    }
  });
});

describe('mapping files are checked at load', () => {
  it('rule: each mistake is named with the file, its path and the fix', () => {
    const cfg = exampleConfig(SYNC_CONFIG);
    const dir = scratchDir('ward-sync-map-');
    const file = mappingFile(
      dir,
      { kind: 'csv', file: 'x.csv' },
      {
        access: 'read_write',
        upsert_field: 'Name',
        fields: {
          MRN__c: { to: 'mrn' },
          Name: { to: 'name' },
          Notes: { to: 'notes' },
          Bad: { to: 'nope' },
          Dob: { to: 'dob', transform: 'hash' },
        },
      },
    );
    let error: unknown;
    try {
      loadMappings(file, cfg, compiled(cfg));
    } catch (e) {
      error = e;
    }
    expect(isWardError(error, 'config_invalid')).toBe(true);
    const message = String((error as Error).message);
    expect(message).toContain(file);
    expect(message).toContain('mappings.0.config.access: read_write (write-back to the source) is not supported yet');
    expect(message).toContain('mappings.0.config.upsert_field: it flows into patients.name, which must be unique and searchable');
    expect(message).toContain('mappings.0.config.fields.Notes.freeText: patients.notes holds free text');
    expect(message).toContain('mappings.0.config.fields.Bad.to: nope is not a field of patients');
    expect(message).toContain('mappings.0.config.fields.Dob.transform: hash writes a string; patients.dob is date');
  });
});

/** The configured collections, compiled as the vault compiles them. */
function compiled(cfg: ReturnType<typeof exampleConfig>) {
  return new Map(Object.entries(cfg.collections).map(([name, col]) => [name, compileCollection(name, col.fields, undefined)] as const));
}
