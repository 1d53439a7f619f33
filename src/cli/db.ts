/**
 * `ward db provision` and `ward db rotate-password`: the database roles for least privilege
 * (store/roles), their random passwords written once to a credentials file of mode 0600, never
 * printed. stdout names roles and files only; errors never repeat the admin URL.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import { credentialUrl, DEFAULT_PREFIX, DEID_SCHEMA, type IssuedPassword, provisionRoles, rotateRolePassword } from '../store/roles.js';
import { type Cli, UsageError } from './run.js';

/** Where `ward db provision` writes the credentials unless told otherwise (relative to the working directory). */
export const DEFAULT_CREDENTIALS_FILE = 'ward-db-credentials.env';
/** The admin URL when `--admin-url` is not given (a URL on the command line is visible to `ps` and shell history). */
export const ADMIN_URL_ENV = 'WARD_ADMIN_DATABASE_URL';

/** The admin URL from `--admin-url` or the environment, checked; messages never repeat it. */
function adminUrl(cli: Cli, given: string | undefined): string {
  const text = (given ?? cli.io.env[ADMIN_URL_ENV] ?? '').trim();
  if (!text) throw new UsageError(`--admin-url: required (or set ${ADMIN_URL_ENV})`);
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new WardError('invalid_request', '--admin-url: not a URL; expected postgres://USER@HOST:PORT/DATABASE');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new WardError('invalid_request', '--admin-url: expected a postgres:// or postgresql:// URL');
  if (u.pathname.length <= 1)
    throw new WardError('invalid_request', '--admin-url: name the database to provision in the URL (postgres://USER@HOST:PORT/DATABASE)');
  return text;
}

/** A file's new content staged beside it (same directory, mode 0600), then put in place at once or thrown away. */
interface Staged {
  path: string;
  /** Renames it into place; without `replace`, refuses (EEXIST) when the file exists by then. */
  commit(): void;
  discard(): void;
}

function stage(path: string, content: string, replace: boolean): Staged {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o600);
  } catch (e) {
    throw new WardError(
      'invalid_request',
      `cannot create a file in ${dirname(path)} (${codeOf(e)}): check the directory exists and is writable`,
    );
  }
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw new WardError('invalid_request', `cannot write ${path} (${codeOf(e)})`);
  }
  closeSync(fd);
  return {
    path: temp,
    commit() {
      if (replace) return renameSync(temp, path);
      linkSync(temp, path); // fails when the file appeared meanwhile: never clobbered
      unlinkSync(temp);
    },
    discard: () => rmSync(temp, { force: true }),
  };
}

const codeOf = (e: unknown) => String((e as { code?: unknown }).code ?? 'error');

/** The credentials file's text with one `NAME=url` line per issued password replaced (or added); every other line kept. */
function credentials(previous: string | undefined, admin: string, issued: IssuedPassword[]): string {
  const lines = previous === undefined ? header() : previous.replace(/\n$/, '').split('\n');
  for (const { role, password } of issued) {
    const line = `${role.envVar}=${credentialUrl(admin, role.name, password)}`;
    const at = lines.findIndex((l) => l.startsWith(`${role.envVar}=`));
    if (at >= 0) lines[at] = line;
    else lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

const header = () => [
  '# Ward database credentials (ward db provision). Secret: keep this file mode 0600 and out of version control.',
  '# WARD_OWNER_DATABASE_URL: the owner, for ward migrate and ward deid refresh only; never for ward serve.',
  "# DATABASE_URL: the application login (ward_app's rights) for ward serve and the other commands.",
  `# WARD_ANALYTICS_DATABASE_URL: reads the ${DEID_SCHEMA} schema only.`,
];

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (codeOf(e) === 'ENOENT') return undefined;
    throw new WardError('invalid_request', `cannot read ${path} (${codeOf(e)})`);
  }
}

/** Puts staged files in place; a failure leaves the staged file for the user to move (its path is no secret). */
function commitAll(staged: Staged[], targets: string[]): void {
  for (const [i, s] of staged.entries()) {
    try {
      s.commit();
    } catch (e) {
      throw new WardError(
        'invalid_request',
        `the new password is set, but ${targets[i]} could not be written (${codeOf(e)}); it is in ${s.path}: move it there`,
      );
    }
  }
}

export function registerDb(program: Command, cli: Cli): void {
  const db = program.command('db').description('database roles for least privilege: provision them, rotate their passwords');

  db.command('provision')
    .description(
      'create the owner, application and analytics logins (and the ward_app and ward_analytics groups); ' +
        'safe to re-run; new passwords go to the credentials file only',
    )
    .option('--admin-url <url>', `a superuser or CREATEROLE connection to the database to provision (default: $${ADMIN_URL_ENV})`)
    .option('--out <file>', 'credentials file to write (mode 0600)', DEFAULT_CREDENTIALS_FILE)
    .option('--force', 'update an existing credentials or password file (its other lines are kept)')
    .option('--rotate', 'new passwords for logins that already exist too (default: they keep theirs)')
    .option('--prefix <name>', 'login names: <name>_owner, <name>_server, <name>_analyst', DEFAULT_PREFIX)
    .option('--password-file <file>', "also write the application login's new password alone here (for WARD_DATABASE_PASSWORD_FILE)")
    .action(async (o: { adminUrl?: string; out: string; force?: boolean; rotate?: boolean; prefix: string; passwordFile?: string }) => {
      const admin = adminUrl(cli, o.adminUrl);
      const out = cli.path(o.out);
      const pwFile = o.passwordFile === undefined ? undefined : cli.path(o.passwordFile);
      const staged: Staged[] = [];
      const targets: string[] = [];
      const report = await provisionRoles(admin, {
        prefix: o.prefix,
        rotate: o.rotate === true,
        beforeCommit: (issued) => {
          if (!issued.length) return;
          const previous = readIfThere(out);
          if (previous !== undefined && !o.force)
            throw new WardError('invalid_request', `${out} exists: pass --force to update its lines, or --out for another file`);
          const app = issued.find((i) => i.role.kind === 'app');
          if (pwFile && app && existsSync(pwFile) && !o.force)
            throw new WardError('invalid_request', `${pwFile} exists: pass --force to replace it`);
          staged.push(stage(out, credentials(previous, admin, issued), o.force === true));
          targets.push(out);
          if (pwFile && app) {
            staged.push(stage(pwFile, `${app.password}\n`, o.force === true));
            targets.push(pwFile);
          }
        },
      }).catch((e: unknown) => {
        for (const s of staged) s.discard();
        throw e;
      });
      commitAll(staged, targets);
      const lines: string[] = [];
      for (const g of report.groups) if (g.created) lines.push(`${g.name}: created (group role, NOLOGIN)`);
      for (const { role, action } of report.roles) {
        const what =
          role.kind === 'owner'
            ? `owns the database and Ward's tables; run ward migrate as it`
            : role.kind === 'app'
              ? `member of ${role.group}; run ward serve as it`
              : `member of ${role.group}; reads ${DEID_SCHEMA} only`;
        const done = action === 'kept' ? 'exists, password kept' : action;
        lines.push(`${role.name}: ${done} (LOGIN, ${what})`);
      }
      if (report.adminJoined) lines.push(`the admin role: now a member of ${report.roles[0]?.role.name} (to hand it the database)`);
      if (report.adopted) lines.push(`${report.roles[0]?.role.name}: now owns ${report.adopted} existing object(s) of Ward's`);
      if (report.issued.length) {
        lines.push(`credentials: ${out} (mode 0600)`);
        if (pwFile && targets.includes(pwFile)) lines.push(`password file: ${pwFile} (mode 0600)`);
      } else lines.push(`no new passwords (pass --rotate for new ones); ${out} not written`);
      await cli.write(`${lines.join('\n')}\n`);
    });

  db.command('rotate-password <role>')
    .description(
      'set a new random password for one provisioned login and rewrite its line in the credentials file; open connections keep working, ' +
        'a ward serve reading WARD_DATABASE_PASSWORD_FILE uses it for new ones',
    )
    .option('--admin-url <url>', `a superuser or CREATEROLE connection to the database (default: $${ADMIN_URL_ENV})`)
    .option('--out <file>', 'credentials file whose line to rewrite (mode 0600; created when missing)', DEFAULT_CREDENTIALS_FILE)
    .option('--prefix <name>', 'login names: <name>_owner, <name>_server, <name>_analyst', DEFAULT_PREFIX)
    .option('--password-file <file>', 'also write the new password alone here (the file WARD_DATABASE_PASSWORD_FILE names)')
    .action(async (role: string, o: { adminUrl?: string; out: string; prefix: string; passwordFile?: string }) => {
      const admin = adminUrl(cli, o.adminUrl);
      const out = cli.path(o.out);
      const pwFile = o.passwordFile === undefined ? undefined : cli.path(o.passwordFile);
      const staged: Staged[] = [];
      const targets: string[] = [];
      const issued = await rotateRolePassword(admin, role, {
        prefix: o.prefix,
        beforeCommit: ([one]) => {
          if (!one) return;
          // The password file first: a ward serve reading it needs the new password as soon as the role has it.
          if (pwFile) {
            staged.push(stage(pwFile, `${one.password}\n`, true));
            targets.push(pwFile);
          }
          staged.push(stage(out, credentials(readIfThere(out), admin, [one]), true));
          targets.push(out);
        },
      }).catch((e: unknown) => {
        for (const s of staged) s.discard();
        throw e;
      });
      commitAll(staged, targets);
      const lines = [`${issued.role.name}: password rotated`, `credentials: ${out} (${issued.role.envVar} rewritten, mode 0600)`];
      if (pwFile) lines.push(`password file: ${pwFile} (mode 0600)`);
      await cli.write(`${lines.join('\n')}\n`);
    });
}
