/**
 * The outbox: every committed create, update and delete writes its events with the change (the
 * same statement or transaction), carrying ids, versions, field names, tokens of key fields and
 * public values, never a value of an identifier or clinical field; a denied or failed operation
 * writes none; positions come in commit order, so in order per record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorContext } from '../../src/access/actions.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { isWardError } from '../../src/errors.js';
import { canaryPatient, DRIVERS, exampleConfig, type TestVault, testVault } from '../helpers.js';

const TOPIC = 'local-dev.patients.refs.v1';
/** A second topic that carries deletes only, as metadata. */
const WITH_META = EXAMPLE_CONFIG.replace(
  '  consumers:',
  `    - name: local-dev.patients.meta.v1
      collections: [patients]
      actions: [delete]
      retention: 1d
  consumers:`,
);

type OutboxRow = {
  pos: string;
  topic: string;
  record_id: string;
  body: Record<string, unknown>;
};

/** Every event written so far, in the order written (the sequencer moves them into the log first). */
const rows = async (t: TestVault) => {
  await t.db.query('SELECT ward_sequence_events()');
  return t.db.query<OutboxRow>(
    'SELECT o.pos::text AS pos, o.topic, o.record_id::text AS record_id, o.body FROM ward_events o ORDER BY o.pos',
  );
};

/** Every canary value of a patient (plan is public: it may travel). */
const secrets = (p: ReturnType<typeof canaryPatient>) => [p.mrn, p.name, p.ssn, p.email, p.diagnosis, p.notes, p.dob, p.phone];

describe.each(DRIVERS)('the outbox on %s', (driver) => {
  let t: TestVault;
  beforeAll(async () => {
    t = await testVault(driver, undefined, exampleConfig(WITH_META));
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });

  it('rule: a create, an update and a delete each write one event per topic that carries them, with ids, version, field names, key tokens and public values only', async () => {
    const before = (await rows(t)).length;
    const p = canaryPatient();
    const { id, tokens } = await t.vault.create('patients', p);
    await t.vault.update('patients', id, { plan: 'silver', notes: null });
    await t.vault.delete('patients', id);
    const mine = (await rows(t)).slice(before);
    expect(mine.map((r) => [r.topic, r.body.action, r.body.version])).toEqual([
      [TOPIC, 'create', 1],
      [TOPIC, 'update', 2],
      [TOPIC, 'delete', 3],
      ['local-dev.patients.meta.v1', 'delete', 3],
    ]);
    const [created, updated, deleted, meta] = mine.map((r) => r.body);
    expect(created).toMatchObject({
      topic: TOPIC,
      space: 'local-dev',
      collection: 'patients',
      recordId: id,
      keys: { ssn: tokens.ssn },
      public: { plan: 'gold' },
    });
    expect(created?.fields).toEqual(Object.keys(p).sort());
    expect(updated).toMatchObject({ fields: ['notes', 'plan'], keys: { ssn: tokens.ssn }, public: { plan: 'silver' } });
    expect(deleted).toMatchObject({ fields: [], keys: { ssn: tokens.ssn }, public: { plan: 'silver' } });
    expect(meta).toMatchObject({ keys: {}, public: {}, fields: [] });
    for (const r of mine) {
      expect(r.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
      const text = JSON.stringify(r);
      for (const s of secrets(p)) expect(text).not.toContain(s);
    }
  });

  it('rule: a batch, and single creates that share one statement, write one event per record', async () => {
    const before = (await rows(t)).length;
    const batch = [canaryPatient(), canaryPatient(), canaryPatient()];
    const { ids } = await t.vault.createMany('patients', batch);
    const single = await Promise.all(
      [canaryPatient(), canaryPatient(), canaryPatient(), canaryPatient()].map((p) => t.vault.create('patients', p)),
    );
    const mine = (await rows(t)).slice(before);
    expect(mine.map((r) => r.record_id).sort()).toEqual([...ids, ...single.map((s) => s.id)].sort());
    expect(new Set(mine.map((r) => r.body.id)).size).toBe(mine.length);
  });

  it('rule: a denied, invalid or failed operation writes no event', async () => {
    const before = (await rows(t)).length;
    const billing = { principal: { id: 'key:test', role: 'billing' }, purpose: 'payment', requestId: 'r1' };
    await expect(t.vault.create('patients', canaryPatient(), billing)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(t.vault.create('patients', { ...canaryPatient(), ssn: 'not an ssn' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    const p = canaryPatient();
    const { id } = await t.vault.create('patients', p);
    const afterCreate = (await rows(t)).length;
    expect(afterCreate).toBe(before + 1);
    // A unique value another record holds: the whole statement, its event included, rolls back.
    await expect(t.vault.create('patients', { ...canaryPatient(), mrn: p.mrn })).rejects.toMatchObject({ code: 'unique_violation' });
    await expect(t.vault.update('patients', id, { mrn: 'x'.repeat(40) })).rejects.toSatisfy(isWardError);
    await expect(t.vault.update('patients', '0190a0a0-0000-7000-8000-000000000000', { plan: 'gold' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(t.vault.delete('patients', '0190a0a0-0000-7000-8000-000000000000')).rejects.toMatchObject({ code: 'not_found' });
    expect((await rows(t)).length).toBe(afterCreate);
  });

  it('rule: positions are given in commit order, so each record’s events read in order, and a reader never finds a new event below a position it has seen', async () => {
    const { id } = await t.vault.create('patients', canaryPatient());
    // Updates of one record race each other; their events must come out in version order.
    await Promise.all(Array.from({ length: 6 }, (_, i) => t.vault.update('patients', id, { plan: i % 2 ? 'gold' : 'silver' })));
    const page = await t.vault.readEvents(TOPIC, { after: 0, limit: 1000 }, operatorContext());
    const versions = page.events.filter((e) => e.recordId === id).map((e) => e.version);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const seqs = page.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(page.next).toBe(seqs.at(-1));
    const again = await t.vault.readEvents(TOPIC, { after: page.next, limit: 1000 }, operatorContext());
    expect(again.events).toEqual([]);
  });
});
