/**
 * Retention and legal hold: an expired record is gone (410, audited as expired), the purge
 * archives expired records no hold keeps in audited batches, the archive is restorable within its
 * grace and removed after it, and a changed retention applies to the records already stored.
 */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { isWardError } from '../../src/errors.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey, type TestDb } from '../helpers.js';

const RETENTION = '\nretention:\n  archive_grace: 1d\n  every: off\n  batch: 2\n';
const patient = (n: number) => ({
  mrn: `MRN-RET-${n}`,
  name: `Kept Person${String.fromCharCode(65 + n)}`,
  plan: 'gold',
  ssn: `219-09-${1000 + n}`,
});

async function withVault(
  driver: (typeof DRIVERS)[number],
  text: string,
  fn: (v: Vault, t: TestDb, reopen: (text: string) => Promise<Vault>) => Promise<void>,
) {
  const t = await freshDb(driver);
  const env = { WARD_MASTER_KEY: newMasterKey() };
  try {
    const v = await openVault(exampleConfig(text), { env, db: t.db, migrations: 'auto' });
    await fn(v, t, (next) => openVault(exampleConfig(next), { env, db: t.db }));
  } finally {
    await t.dispose();
  }
}

/** Makes records old enough for the example's 7-year retention to have run out a day ago. */
const expire = (t: TestDb, ids: string[]) =>
  t.db.query(
    `UPDATE ward_records SET created_at = now() - make_interval(days => ${7 * 365 + 1}), expires_at = now() - interval '1 day'
     WHERE id = ANY($1::uuid[])`,
    [ids],
  );
const lastAudit = async (t: TestDb) =>
  (
    await t.db.query<{ action: string; outcome: string; record_ids: string[] }>(
      'SELECT action, outcome, record_ids FROM ward_audit_events ORDER BY seq DESC LIMIT 1',
    )
  )[0];
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (isWardError(e) ? e.code : String(e)),
  );

describe.each(DRIVERS)('retention on %s', (driver) => {
  it('rule: a record past its expiry is not served: reads and updates answer record_expired (410), audited as expired; search and detokenize leave it out', async () => {
    await withVault(driver, EXAMPLE_CONFIG + RETENTION, async (v, t) => {
      const a = await v.create('patients', patient(1));
      const live = await v.create('patients', patient(2));
      await expire(t, [a.id]);
      await expect(v.get('patients', a.id)).rejects.toMatchObject({ code: 'record_expired', status: 410 });
      expect(await lastAudit(t)).toEqual({ action: 'read', outcome: 'expired', record_ids: [a.id] });
      // Reads that arrive together share one statement: each is judged on its own.
      const together = await Promise.all([a.id, live.id, a.id].map((id) => code(v.get('patients', id))));
      expect(together).toEqual(['record_expired', 'ok', 'record_expired']);
      const rows = await t.db.query<{ outcome: string }>(
        "SELECT outcome FROM ward_audit_events WHERE action = 'read' ORDER BY seq DESC LIMIT 3",
      );
      expect(rows.map((r) => r.outcome).sort()).toEqual(['allowed', 'expired', 'expired']);
      expect(await v.search('patients', { mrn: 'MRN-RET-1' })).toEqual([]);
      expect((await v.search('patients', { mrn: 'MRN-RET-2' })).map((r) => r.id)).toEqual([live.id]);
      await expect(v.detokenize([a.tokens?.ssn])).rejects.toMatchObject({ code: 'invalid_token' });
      expect(await v.detokenize([live.tokens?.ssn])).toEqual({ [live.tokens?.ssn as string]: '219-09-1002' });
      expect(await code(v.update('patients', a.id, { plan: 'silver' }))).toBe('record_expired');
      expect(await lastAudit(t)).toEqual({ action: 'update', outcome: 'expired', record_ids: [a.id] });
      // Nor deleted by a caller: retention removes it (archived, restorable).
      expect(await code(v.delete('patients', a.id))).toBe('record_expired');
      expect(await lastAudit(t)).toEqual({ action: 'delete', outcome: 'expired', record_ids: [a.id] });
      expect((await t.db.query('SELECT 1 FROM ward_records WHERE id = $1', [a.id])).length).toBe(1);
      // Never there at all is something else.
      expect(await code(v.get('patients', '01a21781-981b-7347-b11b-0d5987c3b3a4'))).toBe('not_found');
    });
  });

  it('rule: the purge archives expired records no hold keeps, in audited batches; archived ones are restorable, then removed for good', async () => {
    await withVault(driver, EXAMPLE_CONFIG + RETENTION, async (v, t) => {
      const ids = [];
      for (let n = 0; n < 5; n++) ids.push((await v.create('patients', patient(n))).id);
      const [held, a, b, c, keep] = ids as [string, string, string, string, string];
      await expire(t, [held, a, b, c]);
      const hold = await v.addHold('patients', held, 'Matter 2026-114, litigation hold');
      // A hold keeps a live record from a caller's delete too.
      const liveHold = await v.addHold('patients', keep, 'Matter 2026-115');
      expect(await code(v.delete('patients', keep))).toBe('record_held');
      await v.removeHold(liveHold.id);
      const dry = await v.runRetention({ dryRun: true });
      expect(dry.collections).toEqual([expect.objectContaining({ collection: 'patients', expired: 3, held: 1, archiveDue: 0 })]);
      expect((await t.db.query('SELECT id FROM ward_records')).length).toBe(5);

      const run = await v.runRetention();
      expect(run.collections).toEqual([{ collection: 'patients', archived: 3, removed: 0, held: 1 }]);
      const batches = await t.db.query<{ actor: string; record_ids: string[] }>(
        "SELECT actor, record_ids FROM ward_audit_events WHERE action = 'retention.purge' ORDER BY seq",
      );
      expect(batches.map((r) => r.record_ids.length)).toEqual([2, 1]);
      expect(batches.flatMap((r) => r.record_ids).sort()).toEqual([a, b, c].sort());
      expect(batches.every((r) => r.actor === 'ward:retention')).toBe(true);
      const left = (await t.db.query<{ id: string }>('SELECT id::text AS id FROM ward_records ORDER BY id')).map((r) => r.id);
      expect(left.sort()).toEqual([held, keep].sort());
      expect((await t.db.query('SELECT 1 FROM ward_tokens WHERE record_id = ANY($1::uuid[])', [[a, b, c]])).length).toBe(0);
      expect(await code(v.get('patients', a))).toBe('record_expired');
      expect(await code(v.get('patients', held))).toBe('record_expired'); // held: kept, still not served

      // Its unique MRN stays reserved while it is archived, so a restore never finds it taken.
      await expect(v.create('patients', patient(1))).rejects.toMatchObject({ code: 'unique_violation' });
      // Restored within its grace: served again, under a hold, its unique MRN and tokens back.
      const restored = await v.restoreRecord('patients', a, 'Needed for the appeal');
      expect(restored.recordId).toBe(a);
      expect((await v.get('patients', a)).fields.mrn).toBe('MRN-RET-1');
      expect((await v.search('patients', { mrn: 'MRN-RET-1' })).map((r) => r.id)).toEqual([a]);
      await expect(v.create('patients', patient(1))).rejects.toMatchObject({ code: 'unique_violation' });

      // Past the grace, the rest are removed for good; a restore then finds nothing.
      await t.db.query("UPDATE ward_records_archive SET purge_after = now() - interval '1 second'");
      const removed = await v.runRetention();
      expect(removed.collections).toEqual([expect.objectContaining({ collection: 'patients', removed: 2 })]);
      expect((await t.db.query('SELECT 1 FROM ward_records_archive')).length).toBe(0);
      expect(await code(v.restoreRecord('patients', b, 'too late'))).toBe('not_found');
      expect(await code(v.get('patients', b))).toBe('record_expired');
      const [gone] = await t.db.query<{ record_ids: string[] }>(
        "SELECT record_ids FROM ward_audit_events WHERE action = 'retention.remove'",
      );
      expect(gone?.record_ids.sort()).toEqual([b, c].sort());
      // Removed for good, their unique values are free again.
      expect((await v.create('patients', patient(2))).id).toBeDefined();

      // Ending a hold lets retention take the record at the next purge.
      await v.removeHold(hold.id);
      expect((await v.runRetention()).collections).toEqual([expect.objectContaining({ archived: 1 })]);
      expect(await v.holds()).toEqual([expect.objectContaining({ recordId: a, reason: 'Needed for the appeal' })]);
      // A restored record keeps no expiry while held; its hold ended, it has its collection's again.
      const restoredHold = (await v.holds())[0];
      await v.removeHold(restoredHold?.id ?? '');
      const [exp] = await t.db.query<{ days: number }>(
        'SELECT round(extract(epoch FROM expires_at - created_at) / 86400)::int AS days FROM ward_records WHERE id = $1',
        [a],
      );
      expect(exp?.days).toBe(7 * 365);
    });
  });

  it('rule: a changed retention applies to the records already stored; holds name a record that exists', async () => {
    await withVault(driver, EXAMPLE_CONFIG + RETENTION, async (v, t, reopen) => {
      const old = await v.create('patients', patient(7));
      const recent = await v.create('patients', patient(8));
      await v.runRetention();
      await t.db.query("UPDATE ward_records SET created_at = now() - interval '60 days' WHERE id = $1", [old.id]);
      const shorter = await reopen(EXAMPLE_CONFIG.replace('retention: 7y', 'retention: 30d') + RETENTION);
      // A dry run forecasts with the retention about to be applied.
      const dry = await shorter.runRetention({ dryRun: true });
      expect(dry.reapplied).toEqual([{ collection: 'patients', days: 30, records: 0 }]);
      expect(dry.collections).toEqual([expect.objectContaining({ collection: 'patients', expired: 1, held: 0 })]);
      const run = await shorter.runRetention();
      expect(run.reapplied).toEqual([{ collection: 'patients', days: 30, records: 2 }]);
      expect(run.collections).toEqual([expect.objectContaining({ collection: 'patients', archived: 1 })]);
      expect(await code(shorter.get('patients', old.id))).toBe('record_expired');
      expect(await code(shorter.get('patients', recent.id))).toBe('ok');
      const [applied] = await t.db.query<{ detail: string }>(
        "SELECT detail FROM ward_audit_events WHERE action = 'retention.apply' ORDER BY seq DESC LIMIT 1",
      );
      expect(applied?.detail).toBe('retention 30 days: expiry recomputed for 2 record(s)');
      expect(await code(shorter.addHold('patients', '01a21781-981b-7347-b11b-0d5987c3b3a4', 'x'))).toBe('not_found');
      expect(await code(shorter.addHold('patients', recent.id, ''))).toBe('invalid_request');
    });
  });
});
