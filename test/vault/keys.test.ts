/** Key rotation and the master key: old data stays readable, a wrong key reads nothing. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isWardError } from '../../src/errors.js';
import { openVault } from '../../src/vault/open.js';
import { canaryPatient, DRIVERS, exampleConfig, freshDb, newMasterKey, type TestDb, useTestVault } from '../helpers.js';

describe.each(DRIVERS)('key rotation on %s', (driver) => {
  const t = useTestVault(driver);

  const keyVersionOf = async (id: string) =>
    (await t.db.query<{ key_version: number }>('SELECT key_version FROM ward_records WHERE id = $1', [id]))[0]?.key_version;

  it('new writes use the new version; old records stay readable and move on update', async () => {
    const old = canaryPatient();
    const a = await t.vault.create('patients', old);
    expect(await keyVersionOf(a.id)).toBe(1);
    expect(await t.vault.rotateKey('patients')).toBe(2);
    const b = await t.vault.create('patients', canaryPatient());
    expect(await keyVersionOf(b.id)).toBe(2);
    const { ids } = await t.vault.createMany('patients', [canaryPatient()]);
    expect(await keyVersionOf(ids[0] as string)).toBe(2);
    expect((await t.vault.get('patients', a.id)).fields).toEqual(old);
    expect((await t.vault.search('patients', { mrn: old.mrn })).map((r) => r.id)).toEqual([a.id]);
    expect(await t.vault.detokenize([a.tokens.ssn])).toEqual({ [a.tokens.ssn as string]: old.ssn });
    await t.vault.update('patients', a.id, { plan: 'silver' });
    expect(await keyVersionOf(a.id)).toBe(2);
    expect((await t.vault.get('patients', a.id)).fields).toEqual({ ...old, plan: 'silver' });
    const [status] = (await t.vault.keyStatus()).collections;
    expect(status?.activeVersion).toBe(2);
    expect(status?.versions.map((v) => [v.version, v.active, v.records])).toEqual([
      [1, false, 0],
      [2, true, 3],
    ]);
  });

  it('when the active key is due for a re-read, concurrent writes share one read of it', async () => {
    // A vault of its own: the key it caches at the faked time stays out of the other tests.
    const vault = await openVault(t.cfg, { env: { WARD_MASTER_KEY: t.masterKey }, db: t.db });
    await vault.create('patients', canaryPatient());
    const spy = vi.spyOn(t.db, 'query');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 6_000);
      await Promise.all(Array.from({ length: 20 }, () => vault.create('patients', canaryPatient())));
      const reads = spy.mock.calls.filter(([sql]) => typeof sql === 'string' && sql.includes('FROM ward_keys') && sql.includes('active'));
      expect(reads).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      spy.mockRestore();
    }
  });

  it('a key close to its re-read is re-read in the background: writes meanwhile use it without waiting', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // the key's age is then exactly what the test sets
    const query = t.db.query.bind(t.db) as (sql: unknown, params?: readonly unknown[]) => Promise<unknown>;
    let reads = 0;
    let done = 0;
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const isKeyRead = (sql: unknown) => typeof sql === 'string' && sql.includes('FROM ward_keys') && sql.includes('active');
    const spy = vi.spyOn(t.db, 'query');
    try {
      const vault = await openVault(t.cfg, { env: { WARD_MASTER_KEY: t.masterKey }, db: t.db });
      await vault.create('patients', canaryPatient()); // reads and caches the key at this instant
      spy.mockImplementation((async (sql: unknown, params?: readonly unknown[]) => {
        if (!isKeyRead(sql)) return query(sql, params);
        reads++;
        await held; // the re-read does not finish until the writes below have
        const rows = await query(sql, params);
        done++;
        return rows;
      }) as typeof t.db.query);
      vi.setSystemTime(Date.now() + 4_500);
      const created = await Promise.all(Array.from({ length: 20 }, () => vault.create('patients', canaryPatient())));
      expect(created).toHaveLength(20);
      expect(reads).toBe(1);
      release();
      await vi.waitFor(() => expect(done).toBe(1)); // the background read has finished
      await new Promise((r) => setImmediate(r)); // and its result is cached
      // Renewed: a second later the key would be past its re-read age had it not been.
      vi.setSystemTime(Date.now() + 1_000);
      await vault.create('patients', canaryPatient());
      expect(reads).toBe(1);
    } finally {
      release();
      vi.useRealTimers();
      spy.mockRestore();
    }
  });

  it('a rotation made by another process applies to this one within seconds', async () => {
    const other = await openVault(t.cfg, { env: { WARD_MASTER_KEY: t.masterKey }, db: t.db });
    const before = (await t.vault.keyStatus()).collections.find((s) => s.collection === 'patients')?.activeVersion ?? 0;
    const v = await other.rotateKey('patients');
    expect(v).toBe(before + 1);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 6_000);
      const { id } = await t.vault.create('patients', canaryPatient());
      expect(await keyVersionOf(id)).toBe(v);
    } finally {
      vi.useRealTimers();
    }
  });

  it('updates of records under an older key finish in a process that has not read that key yet', async () => {
    // As many at once as the test pool has connections: each holds one in its transaction.
    const records = await Promise.all(Array.from({ length: 4 }, () => t.vault.create('patients', canaryPatient())));
    await t.vault.rotateKey('patients');
    // A process started after the rotation: the records' key version is not in its memory, and
    // reading it through the pool would wait for a connection its own transaction holds.
    const fresh = await openVault(t.cfg, { env: { WARD_MASTER_KEY: t.masterKey }, db: t.db });
    const updates = Promise.all(records.map((r) => fresh.update('patients', r.id, { plan: 'silver' })));
    const outcome = await Promise.race([
      updates.then(() => 'done'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000)),
    ]);
    expect(outcome).toBe('done');
    for (const r of records) expect((await fresh.get('patients', r.id)).fields.plan).toBe('silver');
  });
});

describe.each(DRIVERS)('master key on %s', (driver) => {
  let t: TestDb;
  const key = newMasterKey();
  let id = '';
  const p = canaryPatient();
  beforeAll(async () => {
    t = await freshDb(driver);
    const v = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: key }, db: t.db, migrations: 'auto' });
    id = (await v.create('patients', p)).id;
  });
  afterAll(() => t.dispose());

  it('a wrong master key is refused at open with a clear message, before any data is read', async () => {
    let vault: unknown;
    let error: unknown;
    try {
      vault = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: newMasterKey() }, db: t.db });
    } catch (e) {
      error = e;
    }
    expect(vault).toBeUndefined();
    expect(isWardError(error, 'master_key_mismatch')).toBe(true);
    expect((error as Error).message).toMatch(/master key from WARD_MASTER_KEY is not the key this database's keys were wrapped with/);
  });

  it('a missing or malformed master key is refused with the setting to fix', async () => {
    const cfg = { ...exampleConfig(), keys: { provider: 'env' as const } };
    await expect(openVault(cfg, { env: {}, db: t.db })).rejects.toMatchObject({
      code: 'master_key_invalid',
      message: expect.stringContaining('WARD_MASTER_KEY is not set'),
    });
    for (const bad of ['not base64!', Buffer.alloc(16).toString('base64')])
      await expect(openVault(exampleConfig(), { env: { WARD_MASTER_KEY: bad }, db: t.db })).rejects.toMatchObject({
        code: 'master_key_invalid',
        message: 'WARD_MASTER_KEY: the master key must be base64 of exactly 32 bytes',
      });
  });

  it('the right key reads the data back', async () => {
    const v = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: key }, db: t.db });
    expect((await v.get('patients', id)).fields).toEqual(p);
  });
});
