/**
 * The sealed log on a real PostgreSQL server: a transaction that commits late is still sealed,
 * and Ward's least-privilege role cannot rewrite the audit trail.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { type AuditRow, auditInsert, auditParams } from '../../src/store/audit.js';
import { migrations } from '../../src/store/migrate.js';
import { pgDb } from '../../src/store/pg.js';
import { SEAL_LOCK } from '../../src/store/seal.js';
import { beginMasterRotation, openVault } from '../../src/vault/open.js';
import { canaryPatient, exampleConfig, freshDb, serverUrl, type TestVault, testVault } from '../helpers.js';

/** A clinician's read, as the audit trail records it. */
const event = (actor: string): AuditRow => ({
  actor,
  role: 'clinician',
  action: 'read',
  collection: 'patients',
  recordIds: [],
  fields: ['name'],
  purpose: 'treatment',
  outcome: 'allowed',
  reason: null,
  requestId: null,
  client: null,
});

describe('the sealing function', () => {
  it("takes the sealer's own advisory lock (store/seal SEAL_LOCK)", () => {
    const sql = migrations().find((m) => m.name === '0006_hostile_clients.sql')?.sql ?? '';
    expect(sql).toContain(`pg_advisory_xact_lock(${SEAL_LOCK})`);
  });
});

/** A new login in the ward_app group on the test's database, and a pool logged in as it. */
async function appLogin(t: TestVault): Promise<{ role: string; appDb: ReturnType<typeof pgDb> }> {
  const role = `ward_app_test_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await t.db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' IN ROLE ward_app`);
  const url = new URL(t.location);
  url.username = role;
  url.password = password;
  return { role, appDb: pgDb(url.toString(), { max: 2 }) };
}

describe('sealing on PostgreSQL', () => {
  let t: TestVault;
  beforeAll(async () => {
    t = await testVault('pg');
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });

  it('an event whose transaction commits late is sealed after it commits, never skipped', async () => {
    const late = new pg.Client({ connectionString: t.location });
    await late.connect();
    try {
      // The late transaction starts (and takes its id) first, writes its event after others committed.
      await late.query('BEGIN');
      await late.query('SELECT pg_current_xact_id()');
      for (let i = 0; i < 3; i++) await t.vault.create('patients', canaryPatient());
      await late.query(auditInsert(1), auditParams(event('key:late')));
      const first = await t.vault.sealAudit();
      const [{ seq: lateSeq }] = (
        await late.query<{ seq: string }>("SELECT seq::text AS seq FROM ward_audit_events WHERE actor = 'key:late'")
      ).rows as [{ seq: string }];
      // Nothing at or after the open transaction is sealed while it is open.
      expect(first.unsealed).toBeGreaterThanOrEqual(3);
      await late.query('COMMIT');
      const second = await t.vault.sealAudit(10_000);
      expect(second.unsealed).toBe(0);
      const [leaf] = await t.db.query('SELECT idx FROM ward_audit_leaves WHERE seq = $1', [lateSeq]);
      expect(leaf).toBeDefined();
      // Sealed by transaction order: before the three creates, although its seq is higher.
      const later = await t.db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ward_audit_leaves l JOIN ward_audit_events e USING (seq) WHERE l.idx > $1 AND e.seq < $2`,
        [(leaf as { idx: string }).idx, lateSeq],
      );
      expect(Number(later[0]?.n)).toBe(3);
      const report = await t.vault.verifyAudit();
      expect(report).toMatchObject({ ok: true });
      const [{ n }] = (await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM ward_audit_events')) as [{ n: string }];
      // Counted before the verification wrote its own audit event.
      expect(report.treeSize + report.unsealed).toBe(Number(n) - 1);
    } finally {
      await late.end();
    }
  });

  it('rule: as ward_app, subject keys are made and shredded; a master rotation is refused and adds no master key', async () => {
    const { role, appDb } = await appLogin(t);
    const ks = await freshDb('pg', { empty: true });
    try {
      const cfg = exampleConfig(EXAMPLE_CONFIG.replace('\n  patients:\n', '\n  patients:\n    subject: mrn\n'));
      expect(cfg.collections.patients?.subject).toBe('mrn');
      const vault = await openVault(cfg, { env: { WARD_MASTER_KEY: t.masterKey }, db: appDb, subjectKeys: ks.db, migrations: 'check' });
      const { id } = await vault.create('patients', canaryPatient());
      expect((await vault.get('patients', id)).fields.plan).toBeDefined();
      expect((await vault.shredSubject('patients', id)).shredded).toEqual([id]);
      const rotating = { ...cfg, keys: { provider: 'env' as const, previous: { provider: 'env' as const } } };
      const both = { WARD_MASTER_KEY: randomBytes(32).toString('base64'), WARD_PREVIOUS_MASTER_KEY: t.masterKey };
      await expect(beginMasterRotation(rotating, both, appDb)).rejects.toMatchObject({ code: 'forbidden' });
      expect(await t.db.query('SELECT epoch FROM ward_master_epochs')).toEqual([{ epoch: 1 }]);
    } finally {
      await appDb.close();
      await ks.dispose();
      await t.db.query(`DROP ROLE ${role}`);
    }
  });

  it('rule: the ward_app role can run Ward but cannot UPDATE, DELETE or TRUNCATE audit rows', async () => {
    const { role, appDb } = await appLogin(t);
    try {
      const vault = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: t.masterKey }, db: appDb, migrations: 'check' });
      const { id } = await vault.create('patients', canaryPatient());
      await vault.get('patients', id);
      await vault.sealAudit(10_000);
      expect((await vault.verifyAudit()).ok).toBe(true);
      // Change events run under the role too: written, moved into the log, read, counted, expired.
      await vault.update('patients', id, { plan: 'silver' });
      const { id: gone } = await vault.create('patients', canaryPatient());
      await vault.delete('patients', gone);
      expect((await vault.events.backlog())[0]?.depth).toBeGreaterThan(0);
      const page = await vault.readEvents('local-dev.patients.refs.v1', { after: 0, limit: 100 });
      expect(page.events.map((e) => e.action)).toEqual(expect.arrayContaining(['create', 'update', 'delete']));
      expect((await vault.events.backlog())[0]?.depth).toBe(0);
      expect(await vault.events.expire()).toBe(0);
      expect((await vault.events.consumerReport(86_400_000)).map((c) => c.consumer)).toEqual(['billing_sync']);
      // Retention and holds run under the role too: archive, restore under a hold, remove for good.
      const olds = [(await vault.create('patients', canaryPatient())).id, (await vault.create('patients', canaryPatient())).id];
      await t.db.query(
        "UPDATE ward_records SET created_at = now() - make_interval(days => 2556), expires_at = now() - interval '1 day' WHERE id = ANY($1::uuid[])",
        [olds],
      );
      expect((await vault.runRetention()).collections).toEqual([expect.objectContaining({ archived: 2 })]);
      await vault.restoreRecord('patients', olds[0] as string, 'restored as ward_app');
      await t.db.query("UPDATE ward_records_archive SET purge_after = now() - interval '1 second'");
      expect((await vault.runRetention()).collections).toEqual([expect.objectContaining({ removed: 1 })]);
      // Rewrapping runs under the role; destroying a key version needs the owner.
      await vault.rotateKey('patients');
      await vault.rewrapKeys('patients');
      await expect(vault.retireKey('patients', 1, { settleMs: 0 })).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringContaining("database owner's login"),
      });
      for (const sql of ['DELETE FROM ward_outbox', 'UPDATE ward_events SET topic = topic'])
        await expect(appDb.query(sql), sql).rejects.toMatchObject({ message: expect.stringContaining('SQLSTATE 42501') });
      for (const sql of [
        "UPDATE ward_audit_events SET actor = 'x'",
        'DELETE FROM ward_audit_events',
        'TRUNCATE ward_audit_events',
        'DELETE FROM ward_audit_leaves',
        'TRUNCATE ward_audit_checkpoints',
        'UPDATE ward_audit_signing_keys SET version = 9',
        "INSERT INTO ward_audit_events (txid, actor, action, outcome) VALUES ('3', 'key:x', 'read', 'allowed')",
        "INSERT INTO ward_audit_events (seq, actor, action, outcome) VALUES (999999, 'key:x', 'read', 'allowed')",
        "INSERT INTO ward_audit_events (at, actor, action, outcome) VALUES ('2001-01-01', 'key:x', 'read', 'allowed')",
        'ALTER TABLE ward_audit_events DISABLE TRIGGER USER',
        'SET session_replication_role = replica',
        // Only the sealer writes leaves and checkpoints (through ward_seal_commit, as the schema owner).
        "INSERT INTO ward_audit_leaves (idx, seq, hash) SELECT max(idx) + 1, 999999999, sha256('x') FROM ward_audit_leaves",
        `INSERT INTO ward_audit_checkpoints (tree_size, previous_size, root, sealed_at, key_version, signature, last_txid, last_seq, frontier)
         VALUES (999999, 0, sha256('x'), 'now', 1, sha256('x') || sha256('y'), '1', 1, '{}')`,
      ])
        await expect(appDb.query(sql), sql).rejects.toMatchObject({ message: expect.stringContaining('SQLSTATE 42501') });
      // Through the function, only what the events themselves give: a made-up count or root is refused, nothing written.
      const [{ n: leavesBefore }] = (await appDb.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_audit_leaves')) as [
        { n: number },
      ];
      await vault.create('patients', canaryPatient());
      const [last] = await appDb.query<{ txid: string; seq: string }>(
        'SELECT txid::text AS txid, seq::text AS seq FROM ward_audit_events ORDER BY txid DESC, seq DESC LIMIT 1',
      );
      for (const [count, root] of [
        [99, randomBytes(32)],
        [1, randomBytes(32)],
      ] as const)
        await expect(
          appDb.query('SELECT ward_seal_commit($1, $2::xid8, $3, $4, $5, 1, $6)', [
            count,
            last?.txid,
            last?.seq,
            root,
            'now',
            randomBytes(64),
          ]),
        ).rejects.toMatchObject({ code: 'integrity_error' });
      expect((await appDb.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_audit_leaves'))[0]?.n).toBe(leavesBefore);
      await vault.sealAudit(10_000);
      expect((await vault.verifyAudit()).ok).toBe(true);
    } finally {
      await appDb.close();
      const admin = new pg.Client({ connectionString: serverUrl() });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
      await admin.end();
    }
  });
});
