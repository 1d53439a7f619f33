/**
 * Subjects and crypto-shredding: a collection naming a subject field seals each subject's records
 * under the subject's own key, kept in a key store outside Ward's database. A shred destroys that
 * key: a dump of Ward's database taken before the shred, restored after, holds no readable field
 * of the subject, while other subjects still read; the shred is audited and accounted for.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/access/actions.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { isWardError } from '../../src/errors.js';
import type { Db } from '../../src/store/db.js';
import { pgDb } from '../../src/store/pg.js';
import { pgliteDb } from '../../src/store/pglite.js';
import { openVault } from '../../src/vault/open.js';
import { DRIVERS, exampleConfig, freshDb, newMasterKey, type TestDb } from '../helpers.js';

const VISITS = `collections:
  visits:
    description: Visits, several per patient; the patient's MRN is the subject
    retention: 7y
    subject: mrn
    fields:
      mrn: { type: mrn, class: identifier, required: true, search: exact }
      note: { type: text, class: clinical }
      ssn: { type: ssn, class: identifier, token: random }
      site: { type: string, class: public }
`;
const ROLES = `roles:
  privacy_officer:
    description: Carries out erasure requests
    allow:
      - collections: [visits]
        actions: [shred]
        purposes: [operations]
  front_desk:
    description: Reads visits, may not shred
    allow:
      - collections: [visits]
        actions: [read, search]
        purposes: [treatment]
`;
const CONFIG = EXAMPLE_CONFIG.replace('\ncollections:\n', `\n${VISITS}`).replace('\nroles:\n', `\n${ROLES}`);
const officer: RequestContext = { principal: { id: 'key:officer', role: 'privacy_officer' }, purpose: 'operations' };
const desk: RequestContext = { principal: { id: 'key:desk', role: 'front_desk' }, purpose: 'treatment' };
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e) => (isWardError(e) ? e.code : String(e)),
  );

function systemBin(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':');
  if (existsSync('/usr/lib/postgresql')) for (const v of readdirSync('/usr/lib/postgresql')) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  return dirs.map((d) => join(d, name)).find((p) => existsSync(p));
}

const reopen = (driver: string, location: string): Promise<Db> | Db => (driver === 'pg' ? pgDb(location, { max: 4 }) : pgliteDb(location));

/** A plain SQL dump of Ward's database on the server, as a backup would hold it; undefined when no pg_dump fits it. */
function dump(location: string): string | undefined {
  const bin = systemBin('pg_dump');
  try {
    if (bin) return execFileSync(bin, ['--no-owner', '--no-privileges', location], { maxBuffer: 1 << 28 }).toString('utf8');
  } catch (e) {
    if (process.env.WARD_REQUIRE_PG_DUMP) throw e;
  }
  if (process.env.WARD_REQUIRE_PG_DUMP) throw new Error('no pg_dump on this machine');
  return undefined;
}

/** The dump restored into a new, empty database on the server (the restore an operator would run). */
async function restore(text: string): Promise<TestDb> {
  const r = await freshDb('pg', { empty: true });
  const psql = systemBin('psql') as string;
  execFileSync(psql, ['-q', '-v', 'ON_ERROR_STOP=1', '-d', r.location, '-f', '-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
  return r;
}

describe.each(DRIVERS)('subjects and crypto-shredding on %s', (driver) => {
  it('rule: a shred destroys the subject key: a dump taken before, restored after, reads no field of that subject; others still read', async () => {
    const t = await freshDb(driver);
    const ks = await freshDb(driver, { empty: true });
    const env = { WARD_MASTER_KEY: newMasterKey() };
    const cfg = exampleConfig(CONFIG);
    let restored: TestDb | undefined;
    try {
      const v = await openVault(cfg, { env, db: t.db, subjectKeys: ks.db, migrations: 'auto' });
      const a1 = (await v.create('visits', { mrn: 'MRN-SHRED-A', note: 'Alpha first visit, chest pain', ssn: '219-09-4001', site: 'east' }))
        .id;
      const { ids } = await v.createMany('visits', [
        { mrn: 'mrn-shred-a', note: 'Alpha second visit', site: 'west' },
        { mrn: 'MRN-SHRED-B', note: 'Bravo only visit', site: 'east' },
      ]);
      const [a2, b1] = ids as [string, string];
      await v.update('visits', a2, { note: 'Alpha second visit, amended' });
      // Each subject's key lives in the key store, wrapped; Ward's database holds only ids and MACs.
      expect((await ks.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_subject_keys'))[0]?.n).toBe(2);
      expect(await t.db.query("SELECT to_regclass('ward_subject_keys') AS t")).toEqual([{ t: null }]);
      await v.close();

      // The backup: pg_dump on a server; on PGlite a copy of its data directory (pglite-tools' pg_dump
      // and a restore through exec take twenty seconds; the dump path is covered on the server).
      const before = driver === 'pg' ? dump(t.location) : undefined;
      const fileBackup = driver === 'pglite' ? await freshDb('pglite', { copyOf: t.location }) : undefined;

      const db = await reopen(driver, t.location);
      const keystore = await reopen(driver, ks.location);
      const w = await openVault(cfg, { env, db, subjectKeys: keystore });
      // A role without `shred` is refused, audited.
      await expect(code(w.shredSubject('visits', a1, desk))).resolves.toBe('forbidden');
      await expect(code(w.shredSubject('patients', a1, officer))).resolves.toBe('forbidden');
      const done = await w.shredSubject('visits', a2, officer);
      expect(done.shredded.sort()).toEqual([a1, a2].sort());
      await expect(code(w.get('visits', a1))).resolves.toBe('not_found');
      expect((await w.search('visits', { mrn: 'MRN-SHRED-A' })).length).toBe(0);
      expect((await w.get('visits', b1)).fields).toMatchObject({ mrn: 'MRN-SHRED-B', note: 'Bravo only visit' });
      expect((await keystore.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_subject_keys'))[0]?.n).toBe(1);
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_tokens WHERE record_id = $1', [a1]))[0]?.n).toBe(0);
      // The shred is audited with every record it took, and is in each one's accounting of disclosures.
      const audited = await db.query<{ record_ids: string[]; outcome: string; actor: string }>(
        "SELECT record_ids, outcome, actor FROM ward_audit_events WHERE action = 'shred' ORDER BY seq",
      );
      expect(audited.map((a) => a.outcome)).toEqual(['denied', 'denied', 'allowed']);
      expect(audited.at(-1)?.record_ids.sort()).toEqual([a1, a2].sort());
      const disclosures = await w.disclosures(a1, { limit: 50 });
      expect(disclosures.map((d) => d.action)).toContain('shred');
      // The subject may come back (a new visit): a new key, the old records stay unreadable.
      const a3 = (await w.create('visits', { mrn: 'MRN-SHRED-A', note: 'Alpha returns' })).id;
      expect((await w.get('visits', a3)).fields.note).toBe('Alpha returns');
      await w.close();

      if (before !== undefined || fileBackup) {
        restored = fileBackup ?? (await restore(before as string));
        const k2 = await reopen(driver, ks.location);
        const r = await openVault(cfg, { env, db: restored.db, subjectKeys: k2 });
        // The restored copy still has the subject's rows, but their key is gone: nothing of them reads.
        expect(
          (await restored.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records WHERE collection = $1', ['visits']))[0]?.n,
        ).toBe(3);
        await expect(code(r.get('visits', a1))).resolves.toBe('subject_shredded');
        await expect(code(r.get('visits', a2))).resolves.toBe('subject_shredded');
        await expect(
          code(
            r.detokenize([
              (await restored.db.query<{ tokens: { ssn: string } }>('SELECT tokens FROM ward_records WHERE id = $1', [a1]))[0]?.tokens.ssn,
            ]),
          ),
        ).resolves.toBe('subject_shredded');
        expect((await r.get('visits', b1)).fields).toMatchObject({ mrn: 'MRN-SHRED-B', note: 'Bravo only visit', site: 'east' });
        await r.close();
      }
    } finally {
      await restored?.dispose();
      await ks.dispose();
      await t.dispose();
    }
  }, 60_000);

  it('rule: a write racing a shred lands under a new key; a process holding the old key reads the new records; a legal hold refuses the shred', async () => {
    const t = await freshDb(driver);
    const ks = await freshDb(driver, { empty: true });
    const env = { WARD_MASTER_KEY: newMasterKey() };
    const cfg = exampleConfig(CONFIG);
    try {
      // Two processes on one database and key store (on PGlite, two handles in turn).
      const v = await openVault(cfg, { env, db: t.db, subjectKeys: ks.db, migrations: 'auto' });
      const first = (await v.create('visits', { mrn: 'MRN-RACE-A', note: 'first' })).id;
      expect((await v.get('visits', first)).fields.note).toBe('first'); // v holds the subject's key
      const w = await openVault(cfg, { env, db: t.db, subjectKeys: ks.db });
      expect((await w.shredSubject('visits', first, officer)).shredded).toEqual([first]);
      // v still holds the destroyed key in memory: its write is refused by the database and redone under a new key.
      const second = (await v.create('visits', { mrn: 'MRN-RACE-A', note: 'second' })).id;
      expect((await w.get('visits', second)).fields.note).toBe('second');
      const third = (await w.create('visits', { mrn: 'MRN-RACE-A', note: 'third' })).id;
      expect((await v.get('visits', third)).fields.note).toBe('third');
      const keys = await ks.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_subject_keys');
      expect(keys[0]?.n).toBe(1);
      const shreds = await t.db.query<{ done: boolean }>('SELECT key_destroyed_at IS NOT NULL AS done FROM ward_subject_shreds');
      expect(shreds).toEqual([{ done: true }]);

      // A legal hold on any record of the subject keeps every record of it.
      await v.addHold('visits', third, 'litigation hold for the race test');
      await expect(code(v.shredSubject('visits', second, officer))).resolves.toBe('record_held');
      expect((await v.get('visits', second)).fields.note).toBe('second');
    } finally {
      await ks.dispose();
      await t.dispose();
    }
  });

  it('rule: with subjects no longer named, a data key version still wrapping subject keys is not retired', async () => {
    const t = await freshDb(driver);
    const ks = await freshDb(driver, { empty: true });
    const env = { WARD_MASTER_KEY: newMasterKey() };
    try {
      const v = await openVault(exampleConfig(CONFIG), { env, db: t.db, subjectKeys: ks.db, migrations: 'auto' });
      const { id } = await v.create('visits', { mrn: 'MRN-RETIRE-A', note: 'kept' });
      await v.rotateKey('visits');
      await v.update('visits', id, { note: 'kept, moved to version 2' });
      const plain = exampleConfig(CONFIG.replace('    subject: mrn\n', ''));
      expect(plain.collections.visits?.subject).toBeUndefined();
      const without = await openVault(plain, { env, db: t.db });
      await expect(code(without.retireKey('visits', 1, { settleMs: 0 }))).resolves.toBe('key_in_use');
      // With the key store: the subject key is still wrapped by version 1 until a rewrap moves it.
      const back = await openVault(exampleConfig(CONFIG), { env, db: t.db, subjectKeys: ks.db });
      await expect(code(back.retireKey('visits', 1, { settleMs: 0 }))).resolves.toBe('key_in_use');
      await back.rewrapKeys('visits');
      await back.retireKey('visits', 1, { settleMs: 0 });
      expect((await back.get('visits', id)).fields.note).toBe('kept, moved to version 2');
    } finally {
      await ks.dispose();
      await t.dispose();
    }
  });

  it("rule: subject keys never live in Ward's own database", async () => {
    const t = await freshDb(driver);
    try {
      const same = await openVault(exampleConfig(CONFIG), {
        env: { WARD_MASTER_KEY: newMasterKey() },
        db: t.db,
        subjectKeys: t.db,
        migrations: 'auto',
      }).catch((e) => e);
      expect(isWardError(same, 'config_invalid')).toBe(true);
      expect(String(same.message)).toContain("Ward's own database");
    } finally {
      await t.dispose();
    }
  });
});
