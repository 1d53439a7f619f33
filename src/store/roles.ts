/**
 * Database roles for running Ward with least privilege (README, "Database roles"), made by
 * `ward db provision` over an administrator's connection:
 *
 * - an owner login (`<prefix>_owner`): owns the database, Ward's tables and the `ward_deid`
 *   schema; `ward migrate` (and `ward deid refresh`, which builds tables) run as it, `ward serve`
 *   never does (the owner could disable the audit tables' append-only triggers);
 * - the application login (`<prefix>_server`): a member of the group role `ward_app`, which holds
 *   what the migrations grant (data access, audit tables `SELECT` and `INSERT` only, leaves and
 *   checkpoints written only through the owner's `ward_seal_commit`) and no DDL;
 * - an analytics login (`<prefix>_analyst`): a member of `ward_analytics`, which reads the
 *   `ward_deid` schema and nothing else of Ward's.
 *
 * Ward has no separate sealer role: the sealer runs inside `ward serve` as the application login.
 *
 * Passwords are random and reach the server only as SCRAM-SHA-256 verifiers computed here
 * (`ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`), so the plain password is in no statement, log
 * or `pg_stat_activity`. Errors carry SQLSTATEs and role names, never a URL or a password.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { WardError } from '../errors.js';

/** The group roles and schema the migrations and `ward deid refresh` (vault/deid) name. */
export const APP_GROUP = 'ward_app';
export const ANALYTICS_GROUP = 'ward_analytics';
export const DEID_SCHEMA = 'ward_deid';

export type LoginKind = 'owner' | 'app' | 'analytics';

/** One login role `ward db provision` makes, and the credentials-file variable holding its URL. */
export interface LoginRole {
  kind: LoginKind;
  name: string;
  /** The group role it is a member of (none for the owner). */
  group?: string;
  envVar: 'WARD_OWNER_DATABASE_URL' | 'DATABASE_URL' | 'WARD_ANALYTICS_DATABASE_URL';
}

export const DEFAULT_PREFIX = 'ward';
const PREFIX = /^[a-z][a-z0-9_]{0,39}$/;

/** The login roles for a name prefix: `<prefix>_owner`, `<prefix>_server`, `<prefix>_analyst`. */
export function loginRoles(prefix: string = DEFAULT_PREFIX): LoginRole[] {
  if (!PREFIX.test(prefix) || prefix === 'pg' || prefix.startsWith('pg_'))
    throw new WardError('invalid_request', '--prefix: expected a lower-case name of up to 40 letters, digits and _, not starting with pg');
  return [
    { kind: 'owner', name: `${prefix}_owner`, envVar: 'WARD_OWNER_DATABASE_URL' },
    { kind: 'app', name: `${prefix}_server`, group: APP_GROUP, envVar: 'DATABASE_URL' },
    { kind: 'analytics', name: `${prefix}_analyst`, group: ANALYTICS_GROUP, envVar: 'WARD_ANALYTICS_DATABASE_URL' },
  ];
}

/** A new random password: 32 bytes from node:crypto, base64url (safe in a URL as it is). */
export const newPassword = (): string => randomBytes(32).toString('base64url');

/** PostgreSQL's default iteration count for SCRAM-SHA-256 verifiers (`scram_iterations`). */
export const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677, as `pg_authid`
 * holds it): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. The passwords made
 * here are ASCII, which SASLprep leaves as they are.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * The admin URL with another user and password: the same host, port, database and parameters
 * (sslmode and the like). A URL without a host (a Unix socket in `?host=`) gets them as parameters.
 */
export function credentialUrl(adminUrl: string, user: string, password: string): string {
  const u = new URL(adminUrl);
  u.searchParams.delete('user');
  u.searchParams.delete('password');
  if (u.host) {
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
  } else {
    u.username = '';
    u.password = '';
    u.searchParams.set('user', user);
    u.searchParams.set('password', password);
  }
  return u.toString();
}

/** A new password for one login role, set in this run. */
export interface IssuedPassword {
  role: LoginRole;
  password: string;
}

/**
 * Called after every statement succeeded and before COMMIT, with the passwords set in this run
 * (stage the credentials file here); a throw rolls everything back, so no password is set that
 * was not written down.
 */
export type BeforeCommit = (issued: IssuedPassword[]) => void | Promise<void>;

export interface ProvisionOptions {
  prefix?: string;
  /** New passwords for login roles that already exist too (default: they keep theirs). */
  rotate?: boolean;
  beforeCommit?: BeforeCommit;
}

export interface ProvisionReport {
  database: string;
  schema: string;
  groups: { name: string; created: boolean }[];
  roles: { role: LoginRole; action: 'created' | 'rotated' | 'kept' }[];
  /** Ward's tables, views, sequences and functions (and `ward_deid`'s) handed to the owner login in this run. */
  adopted: number;
  /** The admin role (not a superuser) was made a member of the owner login in this run, to act for it. */
  adminJoined: boolean;
  issued: IssuedPassword[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A driver or server failure as a WardError naming the step and its SQLSTATE (never the driver's text). */
function failed(what: string, e: unknown, hint?: string): WardError {
  if (e instanceof WardError) return e;
  const code = (e as { code?: unknown }).code;
  const state = typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'unknown';
  if (state === '42501')
    return new WardError(
      'forbidden',
      `${what}: permission denied (SQLSTATE 42501); ${hint ?? 'run ward db provision as a superuser, or give the admin role what this step needs'}`,
    );
  return new WardError('database_error', `${what} failed (SQLSTATE ${state})`);
}

const CONNECT_HINTS: Record<string, string> = {
  '28P01': "the server refused the admin URL's password",
  '28000': "the server refused the admin URL's user (pg_hba.conf)",
  '3D000': "the admin URL's database does not exist; create it first (CREATE DATABASE)",
  ECONNREFUSED: 'nothing listens at the host and port',
  ENOTFOUND: 'the host name does not resolve',
};

/** One administrator session in one transaction; rolled back unless `fn` and `beforeCommit` succeed. */
async function asAdmin<T>(adminUrl: string, fn: (q: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 15_000 });
  client.on('error', () => {}); // a dropped connection fails the next query instead
  try {
    await client.connect();
  } catch (e) {
    const code = String((e as { code?: unknown }).code ?? 'unknown');
    const hint = CONNECT_HINTS[code] ?? 'check its host, port, user, password, database and sslmode';
    await client.end().catch(() => {});
    throw new WardError('database_error', `cannot connect with the admin URL (${code}): ${hint}`);
  }
  try {
    await step('BEGIN', () => client.query('BEGIN'));
    const result = await fn(client);
    await step('COMMIT', () => client.query('COMMIT'));
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await client.end().catch(() => {});
  }
}

/** One statement or more, its failure named `what` (with `hint` for a refused privilege). */
async function step<T>(what: string, op: () => Promise<T>, hint?: string): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw failed(what, e, hint);
  }
}

/** What a CREATEROLE admin that is not a superuser lacks when it may not grant a group (PostgreSQL 16 and later). */
const adminOption = (group: string) =>
  `an admin that is not a superuser needs ADMIN OPTION on ${group} (GRANT ${group} TO <admin> WITH ADMIN OPTION, as a superuser)`;

/** Refuses an admin that can neither create roles nor is a superuser. */
async function assertAdmin(q: pg.Client): Promise<{ superuser: boolean }> {
  const { rows } = await step('reading the admin role', () =>
    q.query<{ rolsuper: boolean; rolcreaterole: boolean; user: string }>(
      'SELECT rolsuper, rolcreaterole, rolname::text AS user FROM pg_roles WHERE rolname = current_user',
    ),
  );
  const me = rows[0];
  if (!me || (!me.rolsuper && !me.rolcreaterole))
    throw new WardError(
      'forbidden',
      `the admin URL's role ${me?.user ?? '(unknown)'} is neither a superuser nor has CREATEROLE: connect as one that is ` +
        '(on Heroku Postgres, where no credential may create roles, use heroku pg:credentials:create instead)',
    );
  return { superuser: me.rolsuper };
}

interface ExistingRole {
  name: string;
  login: boolean;
  flags: string[];
  memberOf: string[];
}

async function existingRoles(q: pg.Client, names: string[]): Promise<Map<string, ExistingRole>> {
  const { rows } = await step('reading the roles', () =>
    q.query<{ name: string; login: boolean; flags: string[]; member_of: string[] }>(
      `SELECT r.rolname::text AS name, r.rolcanlogin AS login,
         array_remove(ARRAY[CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
           CASE WHEN r.rolcreatedb THEN 'CREATEDB' END, CASE WHEN r.rolreplication THEN 'REPLICATION' END,
           CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END], NULL) AS flags,
         ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of
       FROM pg_roles r WHERE r.rolname = ANY($1::text[])`,
      [names],
    ),
  );
  return new Map(rows.map((r) => [r.name, { name: r.name, login: r.login, flags: r.flags, memberOf: r.member_of }]));
}

/** A login role that exists must be what provisioning would have made, or be left for a person to fix. */
function assertShape(role: LoginRole, found: ExistingRole): void {
  if (found.flags.length)
    throw new WardError(
      'forbidden',
      `role ${role.name} exists with ${found.flags.join(', ')}; Ward's logins hold none of these: ALTER ROLE ${role.name} ` +
        `${found.flags.map((f) => `NO${f}`).join(' ')}, or choose other names with --prefix`,
    );
  const extra = found.memberOf.filter((g) => g !== role.group);
  if (extra.length)
    throw new WardError(
      'forbidden',
      `role ${role.name} is also a member of ${extra.join(', ')}; it should be a member of ${role.group ? `${role.group} only` : 'no role'}: ` +
        `REVOKE ${extra.join(', ')} FROM ${role.name}, or choose other names with --prefix`,
    );
}

/** Creates a NOLOGIN group role unless it exists (another database's migration may create it at the same time). */
async function ensureGroup(q: pg.Client, name: string): Promise<boolean> {
  const before = await step('reading the roles', () => q.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]));
  if (before.rows.length) return false;
  await step(`creating group role ${name}`, () =>
    q.query(`DO $$ BEGIN CREATE ROLE ${ident(name)} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`),
  );
  return true;
}

/** Hands Ward's objects in `schema`, and `ward_deid` with its tables, to `owner`; returns how many changed hands. */
async function adopt(q: pg.Client, schema: string, owner: string): Promise<number> {
  const KINDS: Record<string, string> = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW', S: 'SEQUENCE', f: 'FOREIGN TABLE' };
  let n = 0;
  // Tables first: their serial and identity sequences go with them (ALTER TABLE recurses to them).
  for (const kinds of [['r', 'p', 'v', 'm', 'f'], ['S']]) {
    const { rows } = await step("reading Ward's tables", () =>
      q.query<{ name: string; kind: string }>(
        `SELECT c.oid::regclass::text AS name, c.relkind::text AS kind
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
          WHERE ((s.nspname = $1 AND left(c.relname, 5) = 'ward_') OR s.nspname = $2)
            AND c.relkind::text = ANY($3::text[]) AND c.relowner <> $4::regrole
          ORDER BY 1`,
        [schema, DEID_SCHEMA, kinds, owner],
      ),
    );
    for (const r of rows) {
      await step(
        `handing ${r.name} to ${owner}`,
        () => q.query(`ALTER ${KINDS[r.kind]} ${r.name} OWNER TO ${ident(owner)}`),
        'an admin that is not a superuser must own it (or be a member of its owner)',
      );
      n++;
    }
  }
  const { rows: routines } = await step("reading Ward's functions", () =>
    q.query<{ name: string }>(
      `SELECT p.oid::regprocedure::text AS name FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
        WHERE s.nspname = $1 AND left(p.proname, 5) = 'ward_' AND p.proowner <> $2::regrole ORDER BY 1`,
      [schema, owner],
    ),
  );
  for (const r of routines) {
    await step(`handing ${r.name} to ${owner}`, () => q.query(`ALTER ROUTINE ${r.name} OWNER TO ${ident(owner)}`));
    n++;
  }
  return n;
}

/**
 * Creates (or checks) the group roles, the login roles and their memberships, makes the owner
 * login the owner of the database, of Ward's existing objects and of `ward_deid`, and grants the
 * analytics group that schema. Safe to re-run: roles that exist keep their passwords unless
 * `rotate`. All in one transaction.
 */
export async function provisionRoles(adminUrl: string, o: ProvisionOptions = {}): Promise<ProvisionReport> {
  const roles = loginRoles(o.prefix);
  const owner = roles[0] as LoginRole;
  return asAdmin(adminUrl, async (q) => {
    const me = await assertAdmin(q);
    const { rows: where } = await step('reading the database', () =>
      q.query<{ database: string; schema: string | null; dba: string }>(
        `SELECT current_database()::text AS database, current_schema()::text AS schema, pg_get_userbyid(datdba)::text AS dba
           FROM pg_database WHERE datname = current_database()`,
      ),
    );
    const { database, schema, dba } = where[0] as { database: string; schema: string | null; dba: string };
    if (!schema) throw new WardError('invalid_request', "the admin connection has no current schema; set the admin role's search_path");

    const existing = await existingRoles(
      q,
      roles.map((r) => r.name),
    );
    for (const r of roles) {
      const found = existing.get(r.name);
      if (found) assertShape(r, found);
    }
    const groups = [
      { name: APP_GROUP, created: await ensureGroup(q, APP_GROUP) },
      { name: ANALYTICS_GROUP, created: await ensureGroup(q, ANALYTICS_GROUP) },
    ];

    const issued: IssuedPassword[] = [];
    const report: ProvisionReport['roles'] = [];
    for (const r of roles) {
      const found = existing.get(r.name);
      const password = !found || o.rotate ? newPassword() : undefined;
      const secret = password === undefined ? '' : ` PASSWORD ${literal(scramVerifier(password))}`;
      if (!found) {
        await step(
          `creating role ${r.name}`,
          () => q.query(`CREATE ROLE ${ident(r.name)} LOGIN${secret}${r.group ? ` IN ROLE ${ident(r.group)}` : ''}`),
          r.group ? adminOption(r.group) : undefined,
        );
      } else {
        if (!found.login || secret) await step(`altering role ${r.name}`, () => q.query(`ALTER ROLE ${ident(r.name)} LOGIN${secret}`));
        if (r.group && !found.memberOf.includes(r.group))
          await step(
            `granting ${r.group} to ${r.name}`,
            () => q.query(`GRANT ${ident(r.group as string)} TO ${ident(r.name)}`),
            adminOption(r.group),
          );
      }
      if (password !== undefined) issued.push({ role: r, password });
      report.push({ role: r, action: !found ? 'created' : password !== undefined ? 'rotated' : 'kept' });
    }

    // An admin that is not a superuser acts for the owner login as a member of it (what handing
    // it the database and creating its schema take): PostgreSQL lets a role with CREATEROLE
    // grant itself a role it administers.
    let adminJoined = false;
    if (!me.superuser) {
      const { rows } = await step('reading the admin role', () =>
        q.query<{ member: boolean }>("SELECT pg_has_role(current_user, $1, 'USAGE') AS member", [owner.name]),
      );
      if (!rows[0]?.member) {
        await step(
          `granting ${owner.name} to the admin role`,
          () => q.query(`GRANT ${ident(owner.name)} TO CURRENT_USER`),
          adminOption(owner.name),
        );
        adminJoined = true;
      }
    }

    // The owner login owns the database and may create in Ward's schema; nobody else may.
    if (dba !== owner.name)
      await step(
        `making ${owner.name} the owner of the database`,
        () => q.query(`ALTER DATABASE ${ident(database)} OWNER TO ${ident(owner.name)}`),
        'an admin that is not a superuser must own the database and have CREATEDB',
      );
    await step(`granting ${owner.name} CREATE on schema ${schema}`, () =>
      q.query(`GRANT USAGE, CREATE ON SCHEMA ${ident(schema)} TO ${ident(owner.name)}`),
    );
    await step(`revoking CREATE on schema ${schema} from PUBLIC`, () => q.query(`REVOKE CREATE ON SCHEMA ${ident(schema)} FROM PUBLIC`));

    // The de-identified copy: the owner's schema (ward deid refresh builds its tables as the
    // owner), readable by the analytics group, including tables made later.
    await step(`creating schema ${DEID_SCHEMA}`, () =>
      q.query(`CREATE SCHEMA IF NOT EXISTS ${ident(DEID_SCHEMA)} AUTHORIZATION ${ident(owner.name)}`),
    );
    const { rows: deid } = await step(`reading schema ${DEID_SCHEMA}`, () =>
      q.query<{ owner: string }>('SELECT pg_get_userbyid(nspowner)::text AS owner FROM pg_namespace WHERE nspname = $1', [DEID_SCHEMA]),
    );
    if (deid[0]?.owner !== owner.name)
      await step(`handing schema ${DEID_SCHEMA} to ${owner.name}`, () =>
        q.query(`ALTER SCHEMA ${ident(DEID_SCHEMA)} OWNER TO ${ident(owner.name)}`),
      );
    const adopted = await adopt(q, schema, owner.name);
    await step(`granting ${ANALYTICS_GROUP} the schema ${DEID_SCHEMA}`, async () => {
      await q.query(`REVOKE ALL ON SCHEMA ${ident(DEID_SCHEMA)} FROM PUBLIC`);
      await q.query(`GRANT USAGE ON SCHEMA ${ident(DEID_SCHEMA)} TO ${ident(ANALYTICS_GROUP)}`);
      await q.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${ident(DEID_SCHEMA)} TO ${ident(ANALYTICS_GROUP)}`);
      await q.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(owner.name)} IN SCHEMA ${ident(DEID_SCHEMA)} GRANT SELECT ON TABLES TO ${ident(ANALYTICS_GROUP)}`,
      );
    });

    await o.beforeCommit?.(issued);
    return { database, schema, groups, roles: report, adopted, adminJoined, issued };
  });
}

export interface RotateOptions {
  prefix?: string;
  beforeCommit?: BeforeCommit;
}

/** Sets a new random password for one of the provisioned login roles (`ALTER ROLE ... PASSWORD`, a SCRAM verifier). */
export async function rotateRolePassword(adminUrl: string, name: string, o: RotateOptions = {}): Promise<IssuedPassword> {
  const roles = loginRoles(o.prefix);
  const role = roles.find((r) => r.name === name);
  if (!role)
    throw new WardError(
      'invalid_request',
      `name one of the provisioned login roles: ${roles.map((r) => r.name).join(', ')} (give --prefix for other names)`,
    );
  return asAdmin(adminUrl, async (q) => {
    await assertAdmin(q);
    const found = (await existingRoles(q, [role.name])).get(role.name);
    // No check of its shape here (provision does that): a leaked password must be replaceable at once.
    if (!found?.login)
      throw new WardError('invalid_request', `role ${role.name} does not exist or cannot log in: run ward db provision first`);
    const password = newPassword();
    await step(`altering role ${role.name}`, () => q.query(`ALTER ROLE ${ident(role.name)} PASSWORD ${literal(scramVerifier(password))}`));
    const issued = { role, password };
    await o.beforeCommit?.([issued]);
    return issued;
  });
}
