/** `ward audit seal | verify | checkpoint | disclosures` and signing-key rotation, end to end on the embedded database. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgliteDb } from '../../src/store/pglite.js';
import { canaryPatient } from '../helpers.js';
import { initialized, ward } from './harness.js';

const w = (cwd: string, ...args: string[]) => ward(cwd, args);

describe('ward audit on the embedded database', () => {
  let dir: string;
  let id: string;
  const p = canaryPatient(31);

  beforeAll(async () => {
    dir = await initialized('ward-cli-audit-');
    id = JSON.parse((await w(dir, 'records', 'create', 'patients', '--json', JSON.stringify(p))).stdout).id;
    expect((await w(dir, 'records', 'get', 'patients', id)).code).toBe(0);
  });

  it('seal, export a checkpoint, grow the log, and verify --since proves it still extends the checkpoint', async () => {
    const sealed = await w(dir, 'audit', 'seal');
    expect(sealed).toMatchObject({ code: 0, stderr: '' });
    expect(sealed.stdout).toMatch(/^sealed \d+ events; the log holds \d+\n$/);
    const file = join(dir, 'checkpoint.json');
    expect((await w(dir, 'audit', 'checkpoint', '--export', '--out', file)).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(file, 'utf8'));
    expect(kept).toMatchObject({ format: 'ward-audit-checkpoint/v1', treeSize: expect.any(Number) });
    // A new signing key version: old checkpoints still verify, new ones are signed by it.
    const rotated = await w(dir, 'keys', 'rotate', '--audit-signing');
    expect(JSON.parse(rotated.stdout)).toEqual({ auditSigning: 2 });
    expect((await w(dir, 'records', 'get', 'patients', id)).code).toBe(0);
    expect((await w(dir, 'audit', 'seal')).code).toBe(0);
    const verified = await w(dir, 'audit', 'verify', '--since', file);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^audit log verified: \d+ sealed events, \d+ signed checkpoints, root /);
    expect(verified.stdout).toContain(`extends the given checkpoint of ${kept.treeSize} events`);
    const status = JSON.parse((await w(dir, 'keys', 'status')).stdout);
    expect(status.auditSigning.map((k: { version: number }) => k.version)).toEqual([1, 2]);
  });

  it('disclosures --csv lists each touch of the record with a header and no values', async () => {
    const r = await w(dir, 'audit', 'disclosures', id, '--csv');
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toBe('at,actor,role,action,collection,fields,purpose,outcome,reason,requestId,client,seq');
    expect(rows.map((l) => l.split(',').slice(1, 5).join(','))).toEqual([
      expect.stringMatching(/^cli:.*,operator,create,patients$/),
      expect.stringMatching(/^cli:.*,operator,read,patients$/),
      expect.stringMatching(/^cli:.*,operator,read,patients$/),
    ]);
    for (const v of Object.values(p)) if (v !== 'gold') expect(r.stdout).not.toContain(v);
    const bad = await w(dir, 'audit', 'disclosures', 'nope');
    expect(bad).toMatchObject({ code: 1, stderr: 'ward: record id must be a UUID [invalid_request]\n' });
  });

  it('a bad checkpoint file is refused with a message naming the problem', async () => {
    const r = await w(dir, 'audit', 'verify', '--since', join(dir, 'ward.yaml'));
    expect(r).toMatchObject({ code: 1, stderr: 'ward: --since: not a JSON checkpoint [invalid_request]\n' });
  });

  it('verify exits 1 and names the first bad event after an event was edited', async () => {
    const db = await pgliteDb(join(dir, '.ward/pgdata'));
    let seq = '';
    try {
      const [row] = await db.query<{ seq: string }>('SELECT seq::text AS seq FROM ward_audit_leaves WHERE idx = 1');
      seq = (row as { seq: string }).seq;
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query("UPDATE ward_audit_events SET outcome = 'denied' WHERE seq = $1", [seq]);
      });
    } finally {
      await db.close();
    }
    const r = await w(dir, 'audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `AUDIT LOG VERIFICATION FAILED (modified): event ${seq} was modified after it was sealed [first bad event: seq ${seq}]`,
    );
    const j = await w(dir, 'audit', 'verify', '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, problem: { kind: 'modified', seq } });
  });
});
