/**
 * The sealed audit log on both drivers: sealing, verification, exported checkpoints and
 * consistency, and randomized tampering, each kind detected and named by its sequence number.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventLeaf } from '../../src/audit/checkpoint.js';
import type { Db } from '../../src/store/db.js';
import { LEAF_HASH } from '../../src/store/seal.js';
import { auditLogOf, canaryPatient, DRIVERS, type TestVault, testVault } from '../helpers.js';

/** Rounds of writes with a seal after each: several checkpoints, events from many transactions. */
async function populate(t: TestVault, rounds = 3, perRound = 4): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) {
      const { id } = await t.vault.create('patients', canaryPatient());
      await t.vault.get('patients', id);
    }
    await t.vault.sealAudit(5_000);
  }
}

/** A change made the way an attacker with database superuser rights would: triggers off. */
async function tamper(db: Db, sql: string | string[], params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const s of Array.isArray(sql) ? sql : [sql]) await tx.query(s, s.includes('$') ? params : []);
  });
}

interface Sealed {
  seq: string;
  txid: string;
}

async function sealedOrder(db: Db): Promise<Sealed[]> {
  return db.query<{ seq: string; txid: string }>(
    'SELECT e.seq::text AS seq, e.txid::text AS txid FROM ward_audit_events e JOIN ward_audit_leaves l USING (seq) ORDER BY l.idx',
  );
}

/** Two sealed events, the first before the second in sealed order, picked at random. */
async function twoSealed(db: Db, pick: (n: number) => number): Promise<[Sealed, Sealed]> {
  const order = await sealedOrder(db);
  const i = pick(order.length - 1);
  const j = i + 1 + pick(order.length - i - 1);
  return [order[i] as Sealed, order[j] as Sealed];
}

/** A deterministic pseudo-random pick, reported on failure through the test name's seed. */
function picker(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

const SEED = Number(process.env.WARD_TAMPER_SEED ?? Date.now() % 100_000);

describe.each(DRIVERS)('sealed audit log on %s', (driver) => {
  let t: TestVault;
  beforeAll(async () => {
    t = await testVault(driver);
    await populate(t);
  });
  afterAll(async () => {
    await t.vault.close();
    await t.dispose();
  });

  it('seals every event in (txid, seq) order with one signed checkpoint per round, and verifies', async () => {
    const [{ n }] = (await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM ward_audit_events')) as [{ n: string }];
    const report = await t.vault.verifyAudit();
    expect(report).toMatchObject({ ok: true, problem: null });
    // One per round, or more when a transaction elsewhere on the server held a round back.
    expect(report.checkpoints).toBeGreaterThanOrEqual(3);
    // Counted before the verification writes its own audit event.
    expect(report.treeSize + report.unsealed).toBe(Number(n));
    const order = await sealedOrder(t.db);
    const sorted = [...order].sort((a, b) => Number(BigInt(a.txid) - BigInt(b.txid)) || Number(BigInt(a.seq) - BigInt(b.seq)));
    expect(order).toEqual(sorted);
    expect(await t.vault.sealAudit()).toMatchObject({ unsealed: 0 });
  });

  it('an exported checkpoint verifies on its own, and the grown log is proven consistent with it', async () => {
    const first = await t.vault.auditCheckpoint();
    expect(first).toMatchObject({ format: 'ward-audit-checkpoint/v1', origin: 'ward-audit/v1' });
    if (!first) throw new Error('no checkpoint');
    await populate(t, 2, 3);
    const report = await t.vault.verifyAudit(first);
    expect(report).toMatchObject({ ok: true, since: { treeSize: first.treeSize, consistent: true } });
    expect(report.treeSize).toBeGreaterThan(first.treeSize);
    expect(report.since?.proofHashes).toBeGreaterThan(0);
  });

  it('a checkpoint edited after export, or signed by another vault, is refused', async () => {
    const c = await t.vault.auditCheckpoint();
    if (!c) throw new Error('no checkpoint');
    const edited = { ...c, treeSize: c.treeSize - 1 };
    expect((await t.vault.verifyAudit(edited)).problem).toMatchObject({ kind: 'since_forged' });
    const other = await testVault(driver);
    try {
      await other.vault.create('patients', canaryPatient());
      await other.vault.sealAudit(5_000);
      const foreign = await other.vault.auditCheckpoint();
      if (!foreign) throw new Error('no checkpoint');
      expect((await t.vault.verifyAudit(foreign)).problem).toMatchObject({ kind: 'since_unknown_key' });
    } finally {
      await other.vault.close();
      await other.dispose();
    }
  });

  it("the database's leaf hash is the documented rendering: the TypeScript leafData gives the same bytes", async () => {
    await t.db.query(
      `INSERT INTO ward_audit_events (actor, role, action, collection, record_ids, fields, purpose, outcome, reason, request_id, client)
       VALUES ('cli:o''brien', NULL, 'read', NULL, '{}', '{}', '', 'denied', 'back\\slash, comma', NULL, '::1')`,
    );
    await t.db.query(
      `INSERT INTO ward_audit_events (actor, role, action, outcome, reason, client, detail)
       VALUES ('anonymous', 'none', 'authenticate', 'denied', 'too_many_failures', '192.0.2.1', 'client failures=20 window=60s lockout=300s')`,
    );
    await t.db.query(
      `INSERT INTO ward_audit_events (actor, role, action, outcome, reason, client, detail, leaf_format)
       VALUES ('anonymous', 'none', 'authenticate', 'denied', 'too_many_failures', '192.0.2.1', 'old format', 1),
              ('anonymous', 'none', 'authenticate', 'denied', 'unauthenticated', '192.0.2.1', NULL, 1)`,
    );
    const rows = await t.db.query<Record<string, string | null>>(
      `SELECT e.seq::text AS seq, e.txid::text AS txid, to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, e.actor, e.role,
              e.action, e.collection, e.record_ids::text AS "recordIds", e.fields::text AS fields, e.purpose, e.outcome, e.reason,
              e.request_id AS "requestId", e.client, e.detail, e.leaf_format::text AS "leafFormat", ${LEAF_HASH} AS leaf
       FROM ward_audit_events e ORDER BY e.seq`,
    );
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows)
      expect(eventLeaf(r as never).toString('hex'), `seq ${r.seq}`).toBe(Buffer.from(r.leaf as unknown as Uint8Array).toString('hex'));
  });

  it('rule: events of an older leaf format keep verifying beside new ones, and a format changed after sealing is caught', async () => {
    const t = await testVault(driver);
    try {
      // Events written before leaf formats were recorded are format 1 (detail only when set).
      await t.db.query(
        `INSERT INTO ward_audit_events (actor, role, action, outcome, reason, client, detail, leaf_format)
       VALUES ('anonymous', 'none', 'authenticate', 'denied', 'too_many_failures', '192.0.2.1', 'client failures=20', 1),
              ('anonymous', 'none', 'authenticate', 'unauthenticated', 'unauthenticated', '192.0.2.1', NULL, 1)`,
      );
      await populate(t, 1, 2);
      const formats = await t.db.query<{ f: number; n: number }>(
        'SELECT leaf_format AS f, count(*)::int AS n FROM ward_audit_events GROUP BY 1 ORDER BY 1',
      );
      expect(formats.map((r) => r.f)).toEqual([1, 2]);
      expect((await t.vault.verifyAudit()).ok).toBe(true);
      const [old] = await t.db.query<{ seq: string }>(
        'SELECT e.seq::text AS seq FROM ward_audit_events e JOIN ward_audit_leaves l USING (seq) WHERE e.leaf_format = 1 AND e.detail IS NULL LIMIT 1',
      );
      await tamper(t.db, 'UPDATE ward_audit_events SET leaf_format = 2 WHERE seq = $1', [old?.seq]);
      const report = await t.vault.verifyAudit();
      expect(report.ok).toBe(false);
      expect(report.problem?.seq).toBe(old?.seq);
      await tamper(t.db, 'UPDATE ward_audit_events SET leaf_format = 1 WHERE seq = $1', [old?.seq]);
      expect((await t.vault.verifyAudit()).ok).toBe(true);
    } finally {
      await t.vault.close();
      await t.dispose();
    }
  });

  it('verification while a seal runs concurrently (another pool connection) never reports a problem that is not there', async () => {
    for (let i = 0; i < 15; i++) {
      await t.vault.create('patients', canaryPatient());
      const [report] = await Promise.all([t.vault.verifyAudit(), t.vault.sealAudit()]);
      expect(report.problem).toBeNull();
    }
  });

  it('rule: a leaf the sealer did not write never wedges sealing silently: the seal names its position, verify too', async () => {
    const u = await testVault(driver);
    try {
      await populate(u, 1, 2);
      const [{ next }] = (await u.db.query<{ next: string }>('SELECT (max(idx) + 1)::text AS next FROM ward_audit_leaves')) as [
        { next: string },
      ];
      await u.db.query("INSERT INTO ward_audit_leaves (idx, seq, hash) VALUES ($1, 999999999, sha256('stray'))", [next]);
      await u.vault.create('patients', canaryPatient());
      await expect(u.vault.sealAudit()).rejects.toMatchObject({
        code: 'integrity_error',
        message: expect.stringContaining(`the audit leaf at position ${next} was not written by the sealer`),
      });
      expect((await u.vault.verifyAudit()).problem).toMatchObject({ kind: 'leaf_forged', seq: '999999999' });
    } finally {
      await u.vault.close();
      await u.dispose();
    }
  });

  it('rule: audit rows cannot be updated, deleted or truncated, even by their owner', async () => {
    for (const sql of [
      "UPDATE ward_audit_events SET actor = 'someone else'",
      'DELETE FROM ward_audit_events',
      'TRUNCATE ward_audit_events',
      'DELETE FROM ward_audit_leaves',
      'UPDATE ward_audit_checkpoints SET root = root',
      'TRUNCATE ward_audit_checkpoints',
      'DELETE FROM ward_audit_signing_keys',
    ])
      await expect(t.db.query(sql), sql).rejects.toMatchObject({ code: 'database_error', message: expect.stringContaining('42501') });
    expect((await t.vault.verifyAudit()).ok).toBe(true);
  });
});

type Expect = { kind: string | string[]; seq?: string; treeSize?: number };

/** Each tampering, on a fresh populated vault: returns what verification must report. */
const TAMPERINGS: Record<string, (t: TestVault, pick: (n: number) => number) => Promise<Expect>> = {
  async update(t, pick) {
    const order = await sealedOrder(t.db);
    const e = order[pick(order.length)] as Sealed;
    await tamper(t.db, "UPDATE ward_audit_events SET outcome = 'allowed', actor = actor || '-x' WHERE seq = $1", [e.seq]);
    return { kind: 'modified', seq: e.seq };
  },
  async delete(t, pick) {
    const order = await sealedOrder(t.db);
    const e = order[pick(order.length)] as Sealed;
    await tamper(t.db, 'DELETE FROM ward_audit_events WHERE seq = $1', [e.seq]);
    return { kind: 'deleted', seq: e.seq };
  },
  async insert(t, pick) {
    const order = await sealedOrder(t.db);
    const last = (order.at(-1) as Sealed).txid;
    const inside = order.filter((e) => e.txid !== last);
    const at = inside[pick(inside.length)] as Sealed;
    const [row] = await t.db.query<{ seq: string }>(
      `INSERT INTO ward_audit_events (txid, actor, action, outcome) VALUES ($1::xid8, 'key:forged', 'read', 'allowed') RETURNING seq::text AS seq`,
      [at.txid],
    );
    return { kind: 'inserted', seq: (row as { seq: string }).seq };
  },
  async swap(t, pick) {
    const [a, b] = await twoSealed(t.db, pick);
    await tamper(
      t.db,
      `UPDATE ward_audit_events e SET at = o.at, actor = o.actor, action = o.action, record_ids = o.record_ids, fields = o.fields, request_id = o.request_id
       FROM ward_audit_events o WHERE (e.seq, o.seq) IN (($1::bigint, $2::bigint), ($2::bigint, $1::bigint))`,
      [a.seq, b.seq],
    );
    return { kind: 'modified', seq: a.seq };
  },
  async reorder(t, pick) {
    const [a, b] = await twoSealed(t.db, pick);
    await tamper(
      t.db,
      [
        'UPDATE ward_audit_events SET seq = -seq WHERE seq IN ($1::bigint, $2::bigint)',
        'UPDATE ward_audit_events SET seq = CASE seq WHEN -$1::bigint THEN $2::bigint ELSE $1::bigint END WHERE seq IN (-$1::bigint, -$2::bigint)',
      ],
      [a.seq, b.seq],
    );
    return { kind: ['reordered', 'modified'], seq: a.seq };
  },
  async truncate(t) {
    const [first] = await sealedOrder(t.db);
    await tamper(t.db, 'TRUNCATE ward_audit_events');
    return { kind: 'deleted', seq: (first as Sealed).seq };
  },
  async 'forged signature'(t, pick) {
    const sizes = (await t.db.query<{ s: string }>('SELECT tree_size::text AS s FROM ward_audit_checkpoints ORDER BY 1')).map((r) => r.s);
    const size = Number(sizes[pick(sizes.length)]);
    const [{ first }] = (await t.db.query<{ first: string }>('SELECT min(tree_size)::text AS first FROM ward_audit_checkpoints')) as [
      { first: string },
    ];
    await tamper(t.db, 'UPDATE ward_audit_checkpoints SET signature = $1 WHERE tree_size = $2', [randomBytes(64), size]);
    expect(Number(first)).toBeLessThanOrEqual(size);
    return { kind: 'checkpoint_forged', treeSize: size };
  },
  async 'altered checkpoint'(t, pick) {
    const sizes = (await t.db.query<{ s: string }>('SELECT tree_size::text AS s FROM ward_audit_checkpoints ORDER BY 1')).map((r) => r.s);
    const size = Number(sizes[pick(sizes.length)]);
    await tamper(t.db, 'UPDATE ward_audit_checkpoints SET root = $1 WHERE tree_size = $2', [randomBytes(32), size]);
    return { kind: 'checkpoint_forged', treeSize: size };
  },
  async 'deleted checkpoint'(t) {
    const [{ s }] = (await t.db.query<{ s: string }>('SELECT max(tree_size)::text AS s FROM ward_audit_checkpoints')) as [{ s: string }];
    const [prev] = await t.db.query<{ s: string }>('SELECT max(tree_size)::text AS s FROM ward_audit_checkpoints WHERE tree_size < $1', [
      s,
    ]);
    const [leaf] = await t.db.query<{ seq: string }>('SELECT seq::text AS seq FROM ward_audit_leaves WHERE idx = $1', [
      Number(prev?.s ?? 0),
    ]);
    await tamper(t.db, 'DELETE FROM ward_audit_checkpoints WHERE tree_size = $1', [s]);
    return { kind: 'checkpoint_missing', seq: (leaf as { seq: string }).seq };
  },
  async 'rewritten event and leaf'(t, pick) {
    const order = await sealedOrder(t.db);
    const e = order[pick(order.length)] as Sealed;
    await tamper(
      t.db,
      [
        "UPDATE ward_audit_events SET purpose = 'marketing' WHERE seq = $1",
        `UPDATE ward_audit_leaves l SET hash = (SELECT ${LEAF_HASH} FROM ward_audit_events e WHERE e.seq = l.seq) WHERE l.seq = $1`,
      ],
      [e.seq],
    );
    const [c] = await t.db.query<{ s: string }>(
      'SELECT min(c.tree_size)::text AS s FROM ward_audit_checkpoints c, ward_audit_leaves l WHERE l.seq = $1 AND c.tree_size > l.idx',
      [e.seq],
    );
    return { kind: 'checkpoint_mismatch', treeSize: Number(c?.s) };
  },
  async 'forged signing key'(t) {
    await t.db.query('INSERT INTO ward_audit_signing_keys (version, public_key, wrapped) VALUES (2, $1, $2)', [
      randomBytes(32),
      randomBytes(60),
    ]);
    // Sealing goes on with the newest genuine key; verification reports the forged one.
    await t.vault.create('patients', canaryPatient());
    expect((await t.vault.sealAudit(5_000)).unsealed).toBe(0);
    return { kind: 'signing_key_forged' };
  },
  async 'deleted middle checkpoint'(t, pick) {
    const sizes = (await t.db.query<{ s: string }>('SELECT tree_size::text AS s FROM ward_audit_checkpoints ORDER BY tree_size')).map((r) =>
      Number(r.s),
    );
    const size = sizes[pick(sizes.length - 1)] as number;
    await tamper(t.db, 'DELETE FROM ward_audit_checkpoints WHERE tree_size = $1', [size]);
    return { kind: 'checkpoint_missing', treeSize: size };
  },
  async 'sealer position moved forward'(t) {
    await t.vault.create('patients', canaryPatient()); // an unsealed event the moved position would skip
    await tamper(
      t.db,
      `UPDATE ward_audit_checkpoints SET (last_txid, last_seq) = (SELECT txid, seq FROM ward_audit_events ORDER BY txid DESC, seq DESC LIMIT 1)
       WHERE tree_size = (SELECT max(tree_size) FROM ward_audit_checkpoints)`,
    );
    const [{ s }] = (await t.db.query<{ s: string }>('SELECT max(tree_size)::text AS s FROM ward_audit_checkpoints')) as [{ s: string }];
    return { kind: 'checkpoint_state', treeSize: Number(s) };
  },
  async 'altered stored frontier'(t, pick) {
    const sizes = (await t.db.query<{ s: string }>('SELECT tree_size::text AS s FROM ward_audit_checkpoints ORDER BY tree_size')).map((r) =>
      Number(r.s),
    );
    const size = sizes[pick(sizes.length)] as number;
    await tamper(t.db, 'UPDATE ward_audit_checkpoints SET frontier[1] = $1 WHERE tree_size = $2', [randomBytes(32), size]);
    return { kind: 'checkpoint_state', treeSize: size };
  },
  async 'stray leaf'(t) {
    // A row the sealer never wrote, at the next position: before, it made every later seal fail
    // with a unique violation and verification report a checkpoint as deleted.
    await t.db.query(
      "INSERT INTO ward_audit_leaves (idx, seq, hash) SELECT max(idx) + 1, 999999999, sha256('stray') FROM ward_audit_leaves",
    );
    return { kind: 'leaf_forged', seq: '999999999' };
  },
  async 'altered sealer state'(t) {
    await tamper(
      t.db,
      'UPDATE ward_audit_checkpoints SET last_seq = last_seq - 3 WHERE tree_size = (SELECT max(tree_size) FROM ward_audit_checkpoints)',
    );
    const [{ s }] = (await t.db.query<{ s: string }>('SELECT max(tree_size)::text AS s FROM ward_audit_checkpoints')) as [{ s: string }];
    return { kind: 'checkpoint_state', treeSize: Number(s) };
  },
};

describe.each(DRIVERS)('a seal round larger than one leaf slice on %s', (driver) => {
  it.each([
    ['at full speed', false],
    ['paced, as the background sealer runs it', true],
  ])('2,500 events are sealed in one round %s, one checkpoint, in order, and the log verifies', async (_how, paced) => {
    const t = await testVault(driver);
    try {
      await populate(t, 1, 2);
      const before = await t.vault.sealAudit();
      await t.db.query(
        `INSERT INTO ward_audit_events (actor, role, action, collection, record_ids, fields, purpose, outcome, request_id, client)
         SELECT 'key:slicetest0', 'clinician', 'read', 'patients', ARRAY[gen_random_uuid()], ARRAY['name'], 'treatment', 'allowed',
                'req-' || g, '127.0.0.1'
         FROM generate_series(1, 2500) AS g`,
      );
      const checkpoints = async () =>
        Number(((await t.db.query<{ n: string }>('SELECT count(*)::text AS n FROM ward_audit_checkpoints')) as [{ n: string }])[0].n);
      const cpBefore = await checkpoints();
      const round = await (await auditLogOf(t)).sealer.round(paced);
      expect(round).toEqual({ sealed: 2500, treeSize: before.treeSize + 2500, busy: false });
      expect(await checkpoints()).toBe(cpBefore + 1);
      const order = await sealedOrder(t.db);
      expect(order).toHaveLength(round.treeSize);
      expect((await t.vault.verifyAudit()).ok).toBe(true);
    } finally {
      await t.vault.close();
      await t.dispose();
    }
  });
});

describe('a paced seal round on PGlite', () => {
  it('does not rest between slices (a rest inside its transaction would hold the only connection)', async () => {
    const t = await testVault('pglite');
    try {
      await t.db.query(
        `INSERT INTO ward_audit_events (actor, role, action, collection, record_ids, fields, purpose, outcome, request_id, client)
         SELECT 'key:slicetest0', 'clinician', 'read', 'patients', ARRAY[gen_random_uuid()], ARRAY['name'], 'treatment', 'allowed',
                'req-' || g, '127.0.0.1'
         FROM generate_series(1, 2500) AS g`,
      );
      vi.useFakeTimers({ toFake: ['setTimeout'] }); // a rest would never end
      const round = await (await auditLogOf(t)).sealer.round(true);
      expect(round.sealed).toBeGreaterThanOrEqual(2500);
    } finally {
      vi.useRealTimers();
      await t.vault.close();
      await t.dispose();
    }
  });
});

describe.each(DRIVERS)(`randomized tampering on %s (seed ${SEED})`, (driver) => {
  const pick = picker(SEED + (driver === 'pg' ? 1 : 0));
  it.each(Object.keys(TAMPERINGS))('%s is detected and named', async (name) => {
    const t = await testVault(driver);
    try {
      await populate(t);
      expect((await t.vault.verifyAudit()).ok).toBe(true);
      await t.vault.sealAudit(5_000);
      const want = await (TAMPERINGS[name] as (typeof TAMPERINGS)[string])(t, pick);
      const report = await t.vault.verifyAudit();
      expect(report.ok, `seed ${SEED}`).toBe(false);
      const kinds = Array.isArray(want.kind) ? want.kind : [want.kind];
      expect(kinds, `seed ${SEED}: ${report.problem?.message}`).toContain(report.problem?.kind);
      if (want.seq) expect(report.problem?.seq, `seed ${SEED}`).toBe(want.seq);
      if (want.treeSize) expect(report.problem?.treeSize, `seed ${SEED}`).toBe(want.treeSize);
    } finally {
      await t.vault.close();
      await t.dispose();
    }
  });

  it('a log truncated whole (events, leaves and checkpoints) is caught by the checkpoint an auditor kept', async () => {
    const t = await testVault(driver);
    try {
      await populate(t, 1, 3);
      const kept = await t.vault.auditCheckpoint();
      if (!kept) throw new Error('no checkpoint');
      await tamper(t.db, 'TRUNCATE ward_audit_events, ward_audit_leaves, ward_audit_checkpoints');
      expect((await t.vault.verifyAudit()).ok).toBe(true); // nothing left to contradict
      expect((await t.vault.verifyAudit(kept)).problem).toMatchObject({ kind: 'since_truncated', treeSize: kept.treeSize });
    } finally {
      await t.vault.close();
      await t.dispose();
    }
  });
});
