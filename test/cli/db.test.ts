/**
 * `ward db provision` and `ward db rotate-password` against a real PostgreSQL server.
 *
 * Roles are cluster-wide: each test provisions under a prefix of its own (`wt<hex>_owner`, ...),
 * and the roles are dropped at the end, after the databases they own; the shared group roles
 * `ward_app` and `ward_analytics` are created when missing and never dropped.
 *
 * The run's server may not check passwords: a local server with `trust` for 127.0.0.1 (as
 * postgres://postgres@127.0.0.1:5432/test is here) logs anyone in as any role, whatever the
 * password. So the first suite checks what trust cannot fake (roles, memberships, privileges,
 * `pg_authid` verifiers recomputed from the file's passwords), and the second runs on a server
 * that does check passwords: the run's own when it does (the throwaway server of
 * test/global-setup), else a throwaway server started here.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { CommanderError } from 'commander';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDb } from '../../src/cli/db.js';
import { buildProgram, usageMessage } from '../../src/cli/program.js';
import { type CliIo, report } from '../../src/cli/run.js';
import { migrate } from '../../src/store/migrate.js';
import { pgDb } from '../../src/store/pg.js';
import { ANALYTICS_GROUP, APP_GROUP, credentialUrl, DEID_SCHEMA, scramVerifier } from '../../src/store/roles.js';
import { ANALYTICS_ROLE, DEID_SCHEMA as VAULT_DEID_SCHEMA } from '../../src/vault/deid.js';
import { openVault } from '../../src/vault/open.js';
import { freePort } from '../free-port.js';
import { canaryPatient, exampleConfig, freshDb, newMasterKey, serverUrl, type TestDb } from '../helpers.js';
import { startThrowaway, type ThrowawayServer } from '../pg-server.js';
import { scratchDir } from '../scratch.js';
import { cleanEnv, type Result } from './harness.js';

/** Everything any `ward db` run printed, on stdout or stderr: no password may ever be in it. */
const printed: string[] = [];

/**
 * Runs `ward <args>` in-process like the harness's `ward()`, with the `db` commands registered
 * here when program.ts does not register them yet.
 */
async function ward(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        add(String(chunk));
        done();
      },
    });
  const io: CliIo = {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    stdin: Readable.from(['']),
    env: { ...cleanEnv(), ...env },
    cwd,
  };
  const { program, cli } = buildProgram(io);
  if (!program.commands.some((c) => c.name() === 'db')) registerDb(program, cli);
  let code: number;
  try {
    await program.parseAsync(args, { from: 'user' });
    code = cli.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      code = e.exitCode === 0 ? 0 : 2;
      if (code) io.stderr.write(`ward: ${usageMessage(e.message, args, program)}\n`);
    } else code = report(e, io.stderr);
  }
  printed.push(stdout, stderr);
  return { code, stdout, stderr };
}

const names = (prefix: string) => ({ owner: `${prefix}_owner`, server: `${prefix}_server`, analyst: `${prefix}_analyst` });
const prefixes: string[] = [];
const newPrefix = () => {
  const p = `wt${randomBytes(4).toString('hex')}`;
  prefixes.push(p);
  return p;
};

/** `NAME=value` lines of a credentials file (comments left out). */
function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

/** `url` with another user and password. */
function urlAs(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);

/** Whether `password` is the one a stored SCRAM verifier was made from (recomputed with its salt and iterations). */
function verifies(password: string, stored: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored);
  return !!m && scramVerifier(password, Buffer.from(m[2] as string, 'base64'), Number(m[1])) === stored;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

/** One statement as the run's superuser, on the database of `url` (default: the server's own). */
const superQuery = <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], url = serverUrl()) =>
  withClient(url, async (c) => (await c.query<R>(sql, params)).rows);

async function verifiers(prefix: string, url = serverUrl()): Promise<Record<string, string>> {
  const rows = await superQuery<{ rolname: string; rolpassword: string }>(
    'SELECT rolname::text AS rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1::text[])',
    [Object.values(names(prefix))],
    url,
  );
  return Object.fromEntries(rows.map((r) => [r.rolname, r.rolpassword]));
}

const denied = { code: '42501' };

afterAll(async () => {
  // The roles' databases are gone by now (each suite drops its own first).
  for (const p of prefixes)
    for (const role of [...Object.values(names(p)), `${p}_plain`, `${p}_adm`])
      await superQuery(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
});

describe('ward db helpers', () => {
  it("the SCRAM-SHA-256 verifier answers RFC 7677's test exchange", () => {
    const verifier = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
    const [head, keys] = verifier.split('$').slice(1) as [string, string];
    expect(head).toBe('4096:W22ZaJ0SNY7soEsUEjb6gQ==');
    const [storedKey, serverKey] = keys.split(':').map((k) => Buffer.from(k, 'base64')) as [Buffer, Buffer];
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const auth = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
    // The server's signature from the RFC, and the client's proof checked the way the server checks it.
    expect(hmac(serverKey, auth).toString('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    const clientSignature = hmac(storedKey, auth);
    const clientKey = Buffer.from(proof.map((b, i) => b ^ (clientSignature[i] as number)));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  it('credential URLs keep the admin URL’s host, port, database and parameters, with the login’s user and password', () => {
    const url = credentialUrl('postgres://admin:secret@db.example:6543/ward?sslmode=verify-full', 'ward_server', 'pw-1_x');
    expect(url).toBe('postgres://ward_server:pw-1_x@db.example:6543/ward?sslmode=verify-full');
    expect(credentialUrl('postgres:///ward?host=/var/run/postgresql&password=old', 'ward_owner', 'pw')).toBe(
      'postgres:///ward?host=%2Fvar%2Frun%2Fpostgresql&user=ward_owner&password=pw',
    );
  });

  it('the group and schema names are the ones vault/deid and the migrations use', () => {
    expect([ANALYTICS_GROUP, DEID_SCHEMA, APP_GROUP]).toEqual([ANALYTICS_ROLE, VAULT_DEID_SCHEMA, 'ward_app']);
  });
});

describe('ward db provision and rotate-password on the run’s server', () => {
  const prefix = newPrefix();
  const role = names(prefix);
  let t: TestDb;
  let migrated: TestDb;
  let dir: string;
  let out: string;
  let first: Result;
  let creds: Record<string, string>;
  const masterKey = newMasterKey();

  beforeAll(async () => {
    // A new, empty database: provisioned first, then migrated as the owner login, as in production.
    t = await freshDb('pg', { empty: true });
    dir = scratchDir('ward-cli-db-');
    out = join(dir, 'creds.env');
    first = await ward(dir, ['db', 'provision', '--admin-url', t.location, '--out', 'creds.env', '--prefix', prefix]);
    if (first.code !== 0) throw new Error(`provision failed: ${first.stderr}`);
    creds = envFile(out);
    const ownerDb = pgDb(creds.WARD_OWNER_DATABASE_URL as string, { max: 1 });
    try {
      await migrate(ownerDb);
    } finally {
      await ownerDb.close();
    }
  });

  afterAll(async () => {
    await t?.dispose();
    await migrated?.dispose();
  });

  it('rule: provision creates the owner, application and analytics logins with LOGIN and only their own group roles', async () => {
    expect(first.stdout).toContain(`${role.owner}: created (LOGIN`);
    expect(first.stdout).toContain(`${role.server}: created (LOGIN, member of ward_app`);
    expect(first.stdout).toContain(`${role.analyst}: created (LOGIN, member of ward_analytics`);
    expect(first.stdout).toContain(`credentials: ${out} (mode 0600)`);
    expect(first.stderr).toBe('');
    const rows = await superQuery<Record<string, unknown>>(
      `SELECT r.rolname::text AS name, r.rolcanlogin AS login, r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls AS powers,
         r.rolinherit AS inherit,
         ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS groups
       FROM pg_roles r WHERE r.rolname = ANY($1::text[]) ORDER BY 1`,
      [[...Object.values(role), 'ward_app', 'ward_analytics']],
    );
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(by[role.owner]).toMatchObject({ login: true, powers: false, groups: [] });
    expect(by[role.server]).toMatchObject({ login: true, powers: false, inherit: true, groups: ['ward_app'] });
    expect(by[role.analyst]).toMatchObject({ login: true, powers: false, inherit: true, groups: ['ward_analytics'] });
    expect(by.ward_app).toMatchObject({ login: false });
    expect(by.ward_analytics).toMatchObject({ login: false });
    // The owner owns the database, and the migrations it ran made it the owner of every table and function of Ward's.
    const [db] = await superQuery<{ owner: string }>(
      'SELECT pg_get_userbyid(datdba)::text AS owner FROM pg_database WHERE datname = current_database()',
      [],
      t.location,
    );
    expect(db?.owner).toBe(role.owner);
    const owners = await superQuery<{ owner: string }>(
      `SELECT DISTINCT pg_get_userbyid(relowner)::text AS owner FROM pg_class WHERE relname LIKE 'ward\\_%' AND relkind IN ('r', 'S')
       UNION SELECT DISTINCT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname LIKE 'ward\\_%'`,
      [],
      t.location,
    );
    expect(owners).toEqual([{ owner: role.owner }]);
  });

  it('rule: the credentials file is mode 0600, holds working URLs, and nothing printed holds a password', async () => {
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(Object.keys(creds).sort()).toEqual(['DATABASE_URL', 'WARD_ANALYTICS_DATABASE_URL', 'WARD_OWNER_DATABASE_URL']);
    expect(readdirSync(dir)).toEqual(['creds.env']); // no staged file left behind
    const stored = await verifiers(prefix);
    for (const [name, user] of [
      ['WARD_OWNER_DATABASE_URL', role.owner],
      ['DATABASE_URL', role.server],
      ['WARD_ANALYTICS_DATABASE_URL', role.analyst],
    ] as const) {
      const url = creds[name] as string;
      const password = passwordOf(url);
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
      expect(new URL(url).pathname).toBe(new URL(t.location).pathname);
      // The server stored a SCRAM verifier, not the password, and it is the file's password's.
      expect(stored[user]).toMatch(/^SCRAM-SHA-256\$4096:/);
      expect(verifies(password, stored[user] as string)).toBe(true);
      expect(await withClient(url, async (c) => (await c.query('SELECT current_user AS u')).rows[0]?.u)).toBe(user);
      expect(printed.join('\n')).not.toContain(password);
    }
  });

  it('rule: re-running provision is idempotent: the roles keep their passwords and the file is left alone', async () => {
    const before = await verifiers(prefix);
    const text = readFileSync(out, 'utf8');
    const again = await ward(dir, ['db', 'provision', '--admin-url', t.location, '--out', 'creds.env', '--prefix', prefix]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toContain(`${role.server}: exists, password kept`);
    expect(again.stdout).toContain('no new passwords (pass --rotate for new ones)');
    expect(await verifiers(prefix)).toEqual(before);
    expect(readFileSync(out, 'utf8')).toBe(text);
  });

  it('rule: provision --rotate never sets a password it cannot write down: an existing file without --force rolls it back', async () => {
    const before = await verifiers(prefix);
    const refused = await ward(dir, ['db', 'provision', '--admin-url', t.location, '--out', 'creds.env', '--prefix', prefix, '--rotate']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/creds\.env exists: pass --force .*\[invalid_request\]/);
    expect(await verifiers(prefix)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['creds.env']);
    // With --force: every login gets a new password, and the file its three new lines, the rest kept.
    const text = readFileSync(out, 'utf8');
    const forced = await ward(dir, [
      'db',
      'provision',
      '--admin-url',
      t.location,
      '--out',
      'creds.env',
      '--prefix',
      prefix,
      '--rotate',
      '--force',
    ]);
    expect(forced).toMatchObject({ code: 0, stderr: '' });
    expect(forced.stdout).toContain(`${role.owner}: rotated (LOGIN`);
    const after = await verifiers(prefix);
    const fresh = envFile(out);
    for (const [name, user] of [
      ['WARD_OWNER_DATABASE_URL', role.owner],
      ['DATABASE_URL', role.server],
      ['WARD_ANALYTICS_DATABASE_URL', role.analyst],
    ] as const) {
      expect(after[user]).not.toBe(before[user]);
      expect(verifies(passwordOf(fresh[name] as string), after[user] as string)).toBe(true);
    }
    const comments = (t: string) => t.split('\n').filter((l) => l.startsWith('#'));
    expect(comments(readFileSync(out, 'utf8'))).toEqual(comments(text));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['creds.env']);
    creds = fresh;
  });

  it('rule: the application login cannot run DDL, rewrite audit rows, or write audit leaves and checkpoints', async () => {
    // It runs Ward, though: a vault on it writes, seals and verifies.
    const appDb = pgDb(creds.DATABASE_URL as string, { max: 2 });
    const vault = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: masterKey }, db: appDb, migrations: 'check' });
    try {
      await vault.create('patients', canaryPatient());
      await vault.sealAudit(10_000);
      expect((await vault.verifyAudit()).ok).toBe(true);
    } finally {
      await vault.close();
    }
    await withClient(creds.DATABASE_URL as string, async (c) => {
      for (const sql of [
        'CREATE TABLE ward_probe (i int)',
        `CREATE TABLE ${DEID_SCHEMA}.probe (i int)`,
        'CREATE SCHEMA ward_probe',
        'ALTER TABLE ward_records ADD COLUMN probe int',
        'DROP TABLE ward_audit_events',
        'ALTER TABLE ward_audit_events DISABLE TRIGGER USER',
        "UPDATE ward_audit_events SET actor = 'x'",
        'DELETE FROM ward_audit_events',
        'TRUNCATE ward_audit_events',
        // Migration 0003 granted INSERT on leaves and checkpoints; 0006 revoked it: only ward_seal_commit writes them.
        "INSERT INTO ward_audit_leaves (idx, seq, hash) VALUES (999999, 999999, sha256('x'))",
        `INSERT INTO ward_audit_checkpoints (tree_size, previous_size, root, sealed_at, key_version, signature, last_txid, last_seq, frontier)
         VALUES (999999, 0, sha256('x'), 'now', 1, sha256('x') || sha256('y'), '1', 1, '{}')`,
      ])
        await expect(c.query(sql), sql).rejects.toMatchObject(denied);
      // What it may do, it can.
      expect((await c.query('SELECT count(*)::int AS n FROM ward_records')).rows[0]?.n).toBe(1);
    });
  });

  it('rule: the analytics login reads the ward_deid schema and nothing else of Ward’s', async () => {
    // The de-identified copy is built by the owner (the application login may not create tables).
    const ownerDb = pgDb(creds.WARD_OWNER_DATABASE_URL as string, { max: 2 });
    const vault = await openVault(exampleConfig(), { env: { WARD_MASTER_KEY: masterKey }, db: ownerDb, migrations: 'check' });
    try {
      await vault.refreshDeidentified();
      await ownerDb.query(`CREATE TABLE ${DEID_SCHEMA}.later (i int)`); // readable too: default privileges
    } finally {
      await vault.close();
    }
    await withClient(creds.WARD_ANALYTICS_DATABASE_URL as string, async (c) => {
      expect((await c.query(`SELECT count(*)::int AS n FROM ${DEID_SCHEMA}.patients`)).rows[0]?.n).toBe(1);
      expect((await c.query(`SELECT count(*)::int AS n FROM ${DEID_SCHEMA}.later`)).rows[0]?.n).toBe(0);
      for (const sql of [
        'SELECT * FROM ward_records',
        'SELECT * FROM ward_audit_events',
        'SELECT * FROM ward_keys',
        `CREATE TABLE ${DEID_SCHEMA}.probe (i int)`,
        'CREATE TABLE ward_probe (i int)',
        `INSERT INTO ${DEID_SCHEMA}.later VALUES (1)`,
      ])
        await expect(c.query(sql), sql).rejects.toMatchObject(denied);
    });
  });

  it("rule: rotate-password changes only that role's password and rewrites only its line of the file", async () => {
    const before = await verifiers(prefix);
    const text = readFileSync(out, 'utf8');
    const r = await ward(dir, ['db', 'rotate-password', role.server, '--admin-url', t.location, '--out', 'creds.env', '--prefix', prefix]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${role.server}: password rotated\ncredentials: ${out} (DATABASE_URL rewritten, mode 0600)\n`);
    const after = await verifiers(prefix);
    expect(after[role.server]).not.toBe(before[role.server]);
    expect(after[role.owner]).toBe(before[role.owner]);
    expect(after[role.analyst]).toBe(before[role.analyst]);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const [was, now] = [text.split('\n'), readFileSync(out, 'utf8').split('\n')];
    const changed = now.flatMap((line, i) => (line === was[i] ? [] : [i]));
    expect(changed).toEqual([was.findIndex((l) => l.startsWith('DATABASE_URL='))]);
    const password = passwordOf(envFile(out).DATABASE_URL as string);
    expect(verifies(password, after[role.server] as string)).toBe(true);
    expect(verifies(passwordOf(creds.DATABASE_URL as string), after[role.server] as string)).toBe(false);
    expect(printed.join('\n')).not.toContain(password);
    creds = envFile(out);
  });

  it('rule: rotate-password refuses a role that provision did not make', async () => {
    const r = await ward(dir, ['db', 'rotate-password', 'postgres', '--admin-url', t.location, '--out', 'creds.env', '--prefix', prefix]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`name one of the provisioned login roles: ${role.owner}, ${role.server}, ${role.analyst}`);
  });

  it('rule: an admin that is neither a superuser nor has CREATEROLE is refused, naming the fix, and nothing is made', async () => {
    const plain = `${prefix}_plain`;
    const password = randomBytes(12).toString('hex');
    await superQuery(`CREATE ROLE ${plain} LOGIN PASSWORD '${password}'`);
    const url = new URL(t.location);
    url.username = plain;
    url.password = password;
    const other = newPrefix();
    const r = await ward(dir, ['db', 'provision', '--admin-url', url.toString(), '--out', 'other.env', '--prefix', other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/neither a superuser nor has CREATEROLE: connect as one that is .*\[forbidden\]/);
    expect(r.stderr).not.toContain(password);
    expect(await verifiers(other)).toEqual({});
    expect(readdirSync(dir)).toEqual(['creds.env']);
  });

  it('a CREATEROLE admin that is not a superuser provisions a database it owns (with CREATEDB)', async () => {
    const other = newPrefix();
    const adm = `${other}_adm`;
    const password = randomBytes(12).toString('hex');
    const db = await freshDb('pg', { empty: true });
    try {
      await superQuery(`CREATE ROLE ${adm} LOGIN CREATEROLE CREATEDB PASSWORD '${password}'`);
      await superQuery(`ALTER DATABASE ${new URL(db.location).pathname.slice(1)} OWNER TO ${adm}`);
      const [{ v } = { v: 0 }] = await superQuery<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
      // From PostgreSQL 16 on, granting a group takes ADMIN OPTION on it (ward db provision names this fix when it is missing).
      if (v >= 160000) {
        const r = await ward(dir, [
          'db',
          'provision',
          '--admin-url',
          urlAs(db.location, adm, password),
          '--out',
          'adm.env',
          '--prefix',
          other,
        ]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/needs ADMIN OPTION on ward_(app|analytics) \(GRANT ward_\w+ TO <admin> WITH ADMIN OPTION/);
        await superQuery(`GRANT ward_app, ward_analytics TO ${adm} WITH ADMIN OPTION`);
      }
      const r = await ward(dir, [
        'db',
        'provision',
        '--admin-url',
        urlAs(db.location, adm, password),
        '--out',
        'adm.env',
        '--prefix',
        other,
      ]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain(`the admin role: now a member of ${other}_owner (to hand it the database)`);
      const [owner] = await superQuery<{ owner: string }>(
        'SELECT pg_get_userbyid(datdba)::text AS owner FROM pg_database WHERE datname = current_database()',
        [],
        db.location,
      );
      expect(owner?.owner).toBe(`${other}_owner`);
      const again = await ward(dir, [
        'db',
        'provision',
        '--admin-url',
        urlAs(db.location, adm, password),
        '--out',
        'adm.env',
        '--prefix',
        other,
      ]);
      expect(again).toMatchObject({ code: 0, stderr: '' });
      expect(again.stdout).not.toContain('now a member');
    } finally {
      await db.dispose();
      rmSync(join(dir, 'adm.env'), { force: true });
    }
  });

  it('rule: errors about the admin URL never repeat its password', async () => {
    const canary = `Canary${randomBytes(6).toString('hex')}`;
    const port = await freePort(); // nothing listens there
    for (const url of [
      `postgres://postgres:${canary}@127.0.0.1:${port}/ward`,
      `postgres://postgres:${canary}@127.0.0.1:${port}`,
      `http://postgres:${canary}@127.0.0.1/ward`,
      `postgres://postgres:${canary}@[not a host/ward`,
    ]) {
      const r = await ward(dir, ['db', 'provision', '--admin-url', url, '--out', 'x.env']);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/^ward: .*(admin URL|--admin-url)/);
      expect(`${r.stdout}${r.stderr}`).not.toContain(canary);
    }
    // Through the environment too (a URL on the command line is visible to ps).
    const r = await ward(dir, ['db', 'rotate-password', role.server, '--prefix', prefix], {
      WARD_ADMIN_DATABASE_URL: `postgres://u:${canary}@127.0.0.1:${port}/ward`,
    });
    expect(r.stderr).toMatch(/^ward: cannot connect with the admin URL \(ECONNREFUSED\)/);
    expect(r.stderr).not.toContain(canary);
  });

  it("rule: provision on a database another role migrated makes the owner login the owner of Ward's tables, and ward_app keeps its grants", async () => {
    migrated = await freshDb('pg');
    const other = newPrefix();
    const r = await ward(dir, ['db', 'provision', '--admin-url', migrated.location, '--out', 'migrated.env', '--prefix', other]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`${other}_owner: now owns \\d+ existing object\\(s\\) of Ward's`));
    const owners = await superQuery<{ owner: string }>(
      `SELECT DISTINCT pg_get_userbyid(relowner)::text AS owner FROM pg_class WHERE relname LIKE 'ward\\_%' AND relkind IN ('r', 'S')
       UNION SELECT DISTINCT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname LIKE 'ward\\_%'`,
      [],
      migrated.location,
    );
    expect(owners).toEqual([{ owner: `${other}_owner` }]);
    const app = envFile(join(dir, 'migrated.env')).DATABASE_URL as string;
    await withClient(app, async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM ward_records')).rows[0]?.n).toBe(0);
      await expect(c.query("UPDATE ward_audit_events SET actor = 'x'")).rejects.toMatchObject(denied);
    });
  });
});

describe('passwords on a server that checks them', () => {
  // Here the passwords themselves are tested: on a trust server any password logs in.
  const prefix = newPrefix();
  const role = names(prefix);
  let own: ThrowawayServer | undefined;
  let t: TestDb | undefined;
  let admin: string;
  let dir: string;

  beforeAll(async () => {
    const probe = `${prefix}_plain`;
    await superQuery(`CREATE ROLE ${probe} LOGIN PASSWORD 'right-${randomBytes(8).toString('hex')}'`);
    const wrong = new URL(serverUrl());
    wrong.username = probe;
    wrong.password = 'wrong';
    const checks = await withClient(wrong.toString(), async () => false).catch((e: { code?: string }) => e.code === '28P01');
    await superQuery(`DROP ROLE ${probe}`);
    if (checks) {
      t = await freshDb('pg', { empty: true });
      admin = t.location;
    } else {
      // The run's server accepts any password (trust): start one that checks them.
      own = await startThrowaway(await freePort());
      await superQuery('CREATE DATABASE ward_pw', [], own.url);
      const u = new URL(own.url);
      u.pathname = '/ward_pw';
      admin = u.toString();
    }
    dir = scratchDir('ward-cli-db-pw-');
  });

  afterAll(async () => {
    await t?.dispose();
    if (own) await own.stop();
  });

  it('rule: the provisioned passwords log in and a wrong one does not', async () => {
    const r = await ward(dir, ['db', 'provision', '--admin-url', admin, '--prefix', prefix, '--password-file', 'app.pw']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`credentials: ${join(dir, 'ward-db-credentials.env')} (mode 0600)`);
    expect(r.stdout).toContain(`password file: ${join(dir, 'app.pw')} (mode 0600)`);
    const creds = envFile(join(dir, 'ward-db-credentials.env'));
    expect(statSync(join(dir, 'app.pw')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'app.pw'), 'utf8')).toBe(`${passwordOf(creds.DATABASE_URL as string)}\n`);
    for (const [name, user] of [
      ['WARD_OWNER_DATABASE_URL', role.owner],
      ['DATABASE_URL', role.server],
      ['WARD_ANALYTICS_DATABASE_URL', role.analyst],
    ] as const) {
      const url = creds[name] as string;
      expect(await withClient(url, async (c) => (await c.query('SELECT current_user AS u')).rows[0]?.u)).toBe(user);
      const wrong = new URL(url);
      wrong.password = 'wrong';
      await expect(withClient(wrong.toString(), async () => {})).rejects.toMatchObject({ code: '28P01' });
    }
  });

  it('rule: a pool reading WARD_DATABASE_PASSWORD_FILE uses a rotated password for new connections while open ones keep working', async () => {
    const pwFile = join(dir, 'app.pw');
    const creds = envFile(join(dir, 'ward-db-credentials.env'));
    const oldUrl = creds.DATABASE_URL as string;
    const bare = new URL(oldUrl);
    bare.password = ''; // the password comes from the file
    const db = pgDb(bare.toString(), { max: 2, passwordFile: pwFile });
    try {
      const who = async (q: { query: typeof db.query }) => (await q.query<{ u: string }>('SELECT current_user AS u'))[0]?.u;
      expect(await who(db)).toBe(role.server);
      const session = await db.session(); // an open connection, logged in with the old password
      expect(db.stats().total).toBe(1);

      const r = await ward(dir, [
        'db',
        'rotate-password',
        role.server,
        '--admin-url',
        admin,
        '--prefix',
        prefix,
        '--password-file',
        'app.pw',
      ]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const fresh = envFile(join(dir, 'ward-db-credentials.env')).DATABASE_URL as string;
      expect(readFileSync(pwFile, 'utf8')).toBe(`${passwordOf(fresh)}\n`);
      expect(printed.join('\n')).not.toContain(passwordOf(fresh));
      // The old password no longer logs in; the connections made with it still work.
      await expect(withClient(oldUrl, async () => {})).rejects.toMatchObject({ code: '28P01' });
      expect(await who(session)).toBe(role.server);
      expect(await who(db)).toBe(role.server);
      // A new connection reads the file again: the pool grows to two, logged in with the new password.
      await Promise.all([db.query('SELECT pg_sleep(0.2)'), db.query('SELECT pg_sleep(0.2)')]);
      expect(db.stats().total).toBe(2);
      const second = await db.session();
      expect(await who(second)).toBe(role.server);
      await second.release();
      // It is read for every new login: a wrong password in the file fails the next one, not the open ones.
      writeFileSync(pwFile, 'wrong\n', { mode: 0o600 });
      await expect(db.session()).rejects.toMatchObject({ code: 'database_error' });
      expect(await who(session)).toBe(role.server);
      await session.release();
    } finally {
      await db.close();
    }
    // Without the option, WARD_DATABASE_PASSWORD_FILE names the file.
    writeFileSync(pwFile, `${passwordOf(envFile(join(dir, 'ward-db-credentials.env')).DATABASE_URL as string)}\n`);
    const saved = process.env.WARD_DATABASE_PASSWORD_FILE;
    process.env.WARD_DATABASE_PASSWORD_FILE = pwFile;
    const fromEnv = pgDb(bare.toString(), { max: 1 });
    try {
      expect((await fromEnv.query<{ u: string }>('SELECT current_user AS u'))[0]?.u).toBe(role.server);
    } finally {
      await fromEnv.close();
      if (saved === undefined) delete process.env.WARD_DATABASE_PASSWORD_FILE;
      else process.env.WARD_DATABASE_PASSWORD_FILE = saved;
    }
  });
});

describe('what ward db printed', () => {
  it('rule: no run printed a URL with a password in it', () => {
    expect(printed.length).toBeGreaterThan(10);
    expect(printed.join('\n')).not.toMatch(/postgres(ql)?:\/\/[^\s:/@]*:[^\s@]+@/);
  });
});
