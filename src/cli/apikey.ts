/** `ward apikey ...`: create (shown once), list and revoke API keys. */
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import { DirLocked } from '../store/dir-lock.js';
import { lifetimeMs } from '../vault/apikeys.js';
import type { Vault } from '../vault/vault.js';
import type { Cli } from './run.js';

/** Runs `fn` on the vault; while a server holds the embedded database, says how to manage keys over HTTP instead. */
async function withKeys<T>(cli: Cli, fn: (v: Vault) => Promise<T>): Promise<T> {
  try {
    return await cli.withVault(fn);
  } catch (e) {
    if (!(e instanceof DirLocked)) throw e;
    throw new WardError(
      e.code,
      `${e.message}; while it runs, manage API keys over HTTP with the key of a role that has admin: true ` +
        '(POST, GET /v1/admin/api-keys; DELETE /v1/admin/api-keys/{id})',
    );
  }
}

export function registerApiKey(program: Command, cli: Cli): void {
  const apikey = program.command('apikey').description('API keys for the HTTP API: create, list, revoke');

  apikey
    .command('create')
    .description('create an API key for a role; the key is shown once and only its hash is stored')
    .requiredOption('--role <role>', 'a role declared under roles in ward.yaml')
    .requiredOption('--name <name>', 'what the key is for, e.g. the calling service')
    .option('--expires <duration>', 'expire after this long: 12h, 90d, 2w, 1y (default: never)')
    .option('--json', 'print {"id": ..., "key": ...}')
    .action(async (o: { role: string; name: string; expires?: string; json?: boolean }) => {
      const lifetime = o.expires ? lifetimeMs(o.expires) : undefined; // refused before the database is opened
      await withKeys(cli, async (v) => {
        const { id, key, expiresAt } = await v.createApiKey(o.role, o.name, lifetime);
        if (o.json) await cli.printJson({ id, key });
        else
          await cli.write(
            `API key for role ${o.role} (id ${id}${expiresAt ? `, expires ${expiresAt}` : ''}):\n\n  ${key}\n\n` +
              'It is shown only now: store it in your secret manager.\n',
          );
      });
    });

  apikey
    .command('list')
    .description('list API keys (never the keys themselves); expiringSoon flags active keys ending within 14 days')
    .action(() => withKeys(cli, async (v) => cli.printJson({ keys: await v.listApiKeys() })));

  apikey
    .command('rotate <idOrPrefix>')
    .description('issue a successor key for the same role (shown once); the old key ends after the overlap')
    .option('--overlap <duration>', 'how long the old key keeps working: 12h, 7d, 2w', '7d')
    .option('--json', 'print {"id": ..., "key": ..., "replaces": ..., "oldExpiresAt": ...}')
    .action(async (idOrPrefix: string, o: { overlap: string; json?: boolean }) => {
      const overlap = lifetimeMs(o.overlap, '--overlap');
      await withKeys(cli, async (v) => {
        const { old, successor } = await v.rotateApiKey(idOrPrefix, overlap);
        if (o.json) await cli.printJson({ id: successor.id, key: successor.key, replaces: old.id, oldExpiresAt: old.expiresAt });
        else
          await cli.write(
            `API key for role ${successor.role} (id ${successor.id}${successor.expiresAt ? `, expires ${successor.expiresAt}` : ''}), replacing ${old.id}:\n\n` +
              `  ${successor.key}\n\nIt is shown only now: store it in your secret manager. The old key stops working at ${old.expiresAt}.\n`,
          );
      });
    });

  apikey
    .command('revoke <idOrPrefix>')
    .description('revoke an API key; effective on its next request')
    .action((idOrPrefix: string) =>
      withKeys(cli, async (v) => {
        await v.revokeApiKey(idOrPrefix);
        await cli.printJson({ revoked: idOrPrefix });
      }),
    );
}
