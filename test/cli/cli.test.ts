/** The `ward` command line end to end: the built CLI in a temp directory, as a user runs it. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/program.js';
import { NDJSON_BATCH } from '../../src/cli/records.js';
import { pgliteDb } from '../../src/store/pglite.js';
import { canaryPatient, freshDb } from '../helpers.js';
import { scratchDir } from '../scratch.js';
import { initialized, json, ward } from './harness.js';

describe('ward CLI on the embedded database', () => {
  let dir: string;
  const p = canaryPatient(7);
  let id: string;

  beforeAll(async () => {
    dir = scratchDir('ward-cli-');
    const init = await ward(dir, ['init']);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('wrote ward.yaml and a development master key in .ward/dev-master.key');
  });

  it('init writes a config and a private dev key, and refuses to overwrite them', async () => {
    expect(readFileSync(join(dir, 'ward.yaml'), 'utf8')).toContain('tier: nonproduction');
    expect(statSync(join(dir, '.ward/dev-master.key')).mode & 0o777).toBe(0o600);
    const again = await ward(dir, ['init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists; pass --force to overwrite it');
  });

  it('create, get, search, update and delete print JSON', async () => {
    const created = json(await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify(p)]));
    id = created.id;
    expect(created).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), version: 1 });
    expect(json(await ward(dir, ['records', 'get', 'patients', id])).fields).toEqual(p);
    const masked = json(await ward(dir, ['records', 'get', 'patients', id, '--fields', 'ssn,plan', '--masked']));
    expect(masked.fields).toEqual({ ssn: `***-**-${p.ssn.slice(-4)}`, plan: 'gold' });
    const found = json(
      await ward(dir, ['records', 'search', 'patients', '--where', `name=${p.name.toLowerCase()}`, '--where', `mrn=${p.mrn}`]),
    );
    expect(found.records.map((r: { id: string }) => r.id)).toEqual([id]);
    expect(json(await ward(dir, ['records', 'update', 'patients', id, '--json', '{"plan":"silver"}']))).toEqual({ id, version: 2 });
    const batch = json(await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify([canaryPatient(8), canaryPatient(9)])]));
    expect(batch.ids).toHaveLength(2);
    expect(json(await ward(dir, ['detokenize', created.tokens.ssn])).values).toEqual({ [created.tokens.ssn]: p.ssn });
    expect(json(await ward(dir, ['records', 'delete', 'patients', batch.ids[0]]))).toEqual({ deleted: batch.ids[0] });
    const gone = await ward(dir, ['records', 'get', 'patients', batch.ids[0]]);
    expect(gone).toMatchObject({ code: 1, stdout: '', stderr: 'ward: no such record in collection patients [not_found]\n' });
  });

  it('keys status and rotate', async () => {
    expect(json(await ward(dir, ['keys', 'rotate', 'patients']))).toEqual({ rotated: { patients: 2 } });
    const status = json(await ward(dir, ['keys', 'status']));
    expect(status.collections[0]).toMatchObject({ collection: 'patients', activeVersion: 2 });
    const none = await ward(dir, ['keys', 'rotate']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('name a collection to rotate, or pass --all');
  });

  it('apikey create shows the key once; list never shows it; revoke marks it', async () => {
    const created = json(await ward(dir, ['apikey', 'create', '--role', 'billing', '--name', 'billing svc', '--expires', '90d', '--json']));
    expect(created.key).toMatch(/^ward_[a-z0-9]{10}_/);
    const listed = await ward(dir, ['apikey', 'list']);
    expect(listed.stdout).not.toContain(created.key);
    const listedKey = JSON.parse(listed.stdout).keys[0];
    expect(listedKey).toMatchObject({ id: created.id, role: 'billing', revokedAt: null });
    // --expires 90d: ninety days after creation, to the second.
    expect(Date.parse(listedKey.expiresAt) - Date.parse(listedKey.createdAt)).toBeGreaterThan(90 * 86_400_000 - 2_000);
    expect(Date.parse(listedKey.expiresAt) - Date.parse(listedKey.createdAt)).toBeLessThan(90 * 86_400_000 + 2_000);
    expect(json(await ward(dir, ['apikey', 'revoke', created.id]))).toEqual({ revoked: created.id });
    expect(JSON.parse((await ward(dir, ['apikey', 'list'])).stdout).keys[0].revokedAt).not.toBeNull();
    const bad = await ward(dir, ['apikey', 'create', '--role', 'root', '--name', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('the role named is not declared under roles in ward.yaml');
    expect(bad.stderr).not.toContain('root');
    const soon = await ward(dir, ['apikey', 'create', '--role', 'billing', '--name', 'x', '--expires', 'soon']);
    expect(soon.code).toBe(1);
    expect(soon.stderr).toContain('--expires must be a duration such as 12h, 90d, 2w or 1y');
    expect(JSON.parse((await ward(dir, ['apikey', 'list'])).stdout).keys).toHaveLength(1); // nothing created
  });

  it('audit export writes the trail as JSON lines, values never included', async () => {
    const r = await ward(dir, ['audit', 'export', '--record', id]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.action)).toEqual(expect.arrayContaining(['create', 'read', 'search', 'update', 'detokenize']));
    expect(lines.every((e) => e.actor.startsWith('cli:') && e.recordIds.includes(id))).toBe(true);
    for (const v of Object.values(p)) if (v.length > 5) expect(r.stdout).not.toContain(v);
    const out = join(dir, 'audit.jsonl');
    expect((await ward(dir, ['audit', 'export', '--out', out])).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8').trim().split('\n').length).toBeGreaterThan(lines.length);
    expect((await ward(dir, ['audit', 'export', '--since', 'yesterday'])).stderr).toContain('--since must be an ISO 8601 date');
  });

  it('errors go to stderr with a code and a non-zero exit, never echoing the input', async () => {
    const bad = { ...canaryPatient(10), ssn: '999-99-9999', email: `${p.notes}@nowhere` };
    const r = await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify(bad)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'ward: invalid record: ssn: has an SSN area number that is never issued; email: must be an email address [validation_failed]\n',
    );
    const notJson = await ward(dir, ['records', 'create', 'patients', '--json', `{"ssn": "${p.ssn}"`]);
    expect(notJson).toMatchObject({ code: 2, stderr: 'ward: --json: not valid JSON\n' });
    const where = await ward(dir, ['records', 'search', 'patients', '--where', p.ssn]);
    expect(where).toMatchObject({ code: 2, stderr: 'ward: --where #1: expected field=value\n' });
    const dup = await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify({ ...canaryPatient(11), mrn: p.mrn })]);
    expect(dup.stderr).toBe('ward: field mrn: another record already holds this value [unique_violation]\n');
    const noFields = await ward(dir, ['records', 'search', 'patients', '--where', `mrn=${p.mrn}`, '--fields', '']);
    expect(noFields).toMatchObject({ code: 1, stderr: 'ward: fields must name at least one field [invalid_request]\n' });
    for (const out of [r, notJson, where, dup, noFields])
      for (const v of Object.values(p)) if (v.length > 5) expect(out.stderr).not.toContain(v);
  });

  it('a wrong master key and a bad config are refused with what to fix', async () => {
    const wrong = await ward(dir, ['records', 'get', 'patients', id], { env: { WARD_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('[master_key_mismatch]');
    const other = scratchDir('ward-cli-bad-');
    writeFileSync(join(other, 'custom.yaml'), readFileSync(join(dir, 'ward.yaml'), 'utf8').replace('type: ssn', 'type: social'));
    const cfg = await ward(other, ['--config', 'custom.yaml', 'records', 'get', 'patients', id]);
    expect(cfg.code).toBe(1);
    expect(cfg.stderr).toContain(`${join(other, 'custom.yaml')}:\n  collections.patients.fields.ssn.type: must be one of:`);
    const missing = await ward(other, ['keys', 'status'], { env: { WARD_CONFIG: join(other, 'nope.yaml') } });
    expect(missing.stderr).toContain('nope.yaml: cannot read the file; create one with `ward init` or pass --config');
  });
});

describe('ward CLI on a PostgreSQL server', () => {
  it('refuses to run before `ward migrate`, then works', async () => {
    const t = await freshDb('pg', { empty: true });
    await t.db.close();
    const dir = scratchDir('ward-cli-pg-');
    expect((await ward(dir, ['init'])).code).toBe(0);
    const env = { env: { DATABASE_URL: t.location } };
    const early = await ward(dir, ['records', 'create', 'patients', '--json', '{}'], env);
    expect(early.stderr).toBe(
      'ward: 18 migration(s) pending (0001_init.sql, 0002_access_audit.sql, 0003_audit_seal.sql, 0004_api_key_notify.sql, 0005_gin_direct_insert.sql, 0006_hostile_clients.sql, 0007_events.sql, 0008_baa.sql, 0009_webhooks.sql, 0010_space.sql, 0011_key_space.sql, 0012_break_glass.sql, 0013_retention.sql, 0014_destroy.sql, 0015_master_rotation.sql, 0016_subjects.sql, 0017_sync.sql, 0018_attestations.sql): run `ward migrate` [schema_outdated]\n',
    );
    expect((await ward(dir, ['migrate'], env)).stdout).toBe(
      'applied 0001_init.sql, 0002_access_audit.sql, 0003_audit_seal.sql, 0004_api_key_notify.sql, 0005_gin_direct_insert.sql, 0006_hostile_clients.sql, 0007_events.sql, 0008_baa.sql, 0009_webhooks.sql, 0010_space.sql, 0011_key_space.sql, 0012_break_glass.sql, 0013_retention.sql, 0014_destroy.sql, 0015_master_rotation.sql, 0016_subjects.sql, 0017_sync.sql, 0018_attestations.sql\n',
    );
    expect((await ward(dir, ['migrate'], env)).stdout).toBe('database schema is up to date\n');
    const p = canaryPatient(12);
    const { id } = json(await ward(dir, ['records', 'create', 'patients', '--json', JSON.stringify(p)], env));
    expect(json(await ward(dir, ['records', 'get', 'patients', id], env)).fields).toEqual(p);
    await t.dispose();
  });
});

describe('ward CLI input and usage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await initialized('ward-cli-input-');
  });

  it('records create and update read --json - from stdin and --json @FILE, so no PHI goes into shell history', async () => {
    const p = canaryPatient(40);
    const fromStdin = json(await ward(dir, ['records', 'create', 'patients', '--json', '-'], { stdin: JSON.stringify(p) }));
    expect(json(await ward(dir, ['records', 'get', 'patients', fromStdin.id])).fields).toEqual(p);
    writeFileSync(join(dir, 'patient.json'), JSON.stringify(canaryPatient(41), null, 2));
    const fromFile = json(await ward(dir, ['records', 'create', 'patients', '--json', '@patient.json']));
    expect(fromFile.id).toMatch(/^[0-9a-f-]{36}$/);
    writeFileSync(join(dir, 'patch.json'), '{"plan": "silver"}');
    expect(json(await ward(dir, ['records', 'update', 'patients', fromFile.id, '--json', '@patch.json']))).toEqual({
      id: fromFile.id,
      version: 2,
    });
    const missing = await ward(dir, ['records', 'create', 'patients', '--json', `@${p.mrn}.json`]);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'ward: --json: cannot read the file named after @\n' });
  });

  it('NDJSON creates many records in batches, one output line per record, with a progress bar on a terminal', async () => {
    const many = Array.from({ length: NDJSON_BATCH + 20 }, (_, i) => canaryPatient(1000 + i));
    const r = await ward(dir, ['records', 'create', 'patients', '--json', '-'], {
      stdin: `${many.map((x) => JSON.stringify(x)).join('\n')}\n`,
      tty: true,
    });
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(many.length);
    expect(lines.map((l) => l.line)).toEqual(many.map((_, i) => i + 1));
    expect(r.stderr).toContain(`${many.length}/${many.length} records`);
    const last = json(await ward(dir, ['records', 'get', 'patients', lines.at(-1).id]));
    expect(last.fields).toEqual(many.at(-1));
    // No terminal, no bar: stderr stays empty.
    const quiet = await ward(dir, ['records', 'create', 'patients', '--json', '-'], {
      stdin: [canaryPatient(2000), canaryPatient(2001)].map((x) => JSON.stringify(x)).join('\n'),
    });
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
  });

  it('a bad NDJSON record is named by its line; its batch and the rest are not written, the batches before are', async () => {
    const before = (await ward(dir, ['audit', 'export'])).stdout.split('\n').length;
    const good = Array.from({ length: NDJSON_BATCH }, (_, i) => JSON.stringify(canaryPatient(3000 + i)));
    const bad = { ...canaryPatient(3999), ssn: '000-12-3456' };
    const input = [...good, JSON.stringify(canaryPatient(4000)), JSON.stringify(bad), JSON.stringify(canaryPatient(4001))].join('\n');
    const r = await ward(dir, ['records', 'create', 'patients', '--json', '-'], { stdin: input });
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toHaveLength(NDJSON_BATCH);
    expect(r.stderr).toBe(
      `ward: invalid record: line ${NDJSON_BATCH + 2}.ssn: has an SSN area number that is never issued; the ${NDJSON_BATCH} records ` +
        `before line ${NDJSON_BATCH + 1} were created; nothing from line ${NDJSON_BATCH + 1} on was written [validation_failed]\n`,
    );
    const found = await ward(dir, ['records', 'search', 'patients', '--where', `mrn=${canaryPatient(4000).mrn}`]);
    expect(json(found).records).toEqual([]);
    expect(r.stderr).not.toContain(bad.ssn);
    const notJson = await ward(dir, ['records', 'create', 'patients', '--json', '-'], { stdin: `${good[0]}\n{"mrn": \n` });
    expect(notJson).toEqual({ code: 2, stdout: '', stderr: 'ward: --json: line 2 is not valid JSON\n' });
    expect((await ward(dir, ['audit', 'export'])).stdout.split('\n').length).toBeGreaterThan(before);
  });

  it('usage errors are one line, `ward: <message>`, exit 2, naming what was typed by its position, not repeating it', async () => {
    const typed = 'Canaryname-Smith';
    const unknownCommand = await ward(dir, [typed]);
    expect(unknownCommand).toEqual({ code: 2, stdout: '', stderr: 'ward: unknown command (argument 1)\n' });
    const unknownOption = await ward(dir, ['records', 'get', 'patients', 'x', `--${typed}`]);
    expect(unknownOption).toEqual({ code: 2, stdout: '', stderr: 'ward: unknown option (argument 5)\n' });
    const missing = await ward(dir, ['apikey', 'create', '--name', typed]);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: "ward: required option '--role <role>' not specified\n" });
    const extra = await ward(dir, ['records', 'delete', 'patients', 'x', typed]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^ward: too many arguments for 'delete'\. Expected 2 arguments but got 3\.\n$/);
    const quoted = await ward(dir, ['records', 'get', 'patients', 'x', "--name=O'Canaryname"]);
    expect(quoted).toEqual({ code: 2, stdout: '', stderr: 'ward: unknown option (argument 5)\n' });
    const noArg = await ward(dir, ['records', 'create', 'patients', '--json']);
    expect(noArg).toEqual({ code: 2, stdout: '', stderr: "ward: option '--json <object|-|@file>' argument missing\n" });
    for (const r of [unknownCommand, unknownOption, missing, extra, noArg]) expect(r.stderr).not.toContain('Canaryname');
  });

  it('while a server holds the embedded database, ward apikey says to manage keys over HTTP with an admin key', async () => {
    const held = await pgliteDb(join(dir, '.ward/pgdata')); // as ward serve would hold it
    try {
      const r = await ward(dir, ['apikey', 'list']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`is in use by process ${process.pid}`);
      expect(r.stderr).toContain('manage API keys over HTTP with the key of a role that has admin: true');
      expect(r.stderr).toContain('/v1/admin/api-keys');
    } finally {
      await held.close();
    }
  });

  it('--version prints the version; --help exits 0', async () => {
    expect(await ward(dir, ['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    const help = await ward(dir, ['records', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('create [options] <collection>');
  });
});
