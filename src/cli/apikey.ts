/** `ward apikey ...`: create (shown once), list and revoke API keys. */
import type { Command } from 'commander';
import { ApiKeys, lifetimeMs } from '../vault/apikeys.js';
import { type GlobalOptions, printJson, withVault } from './run.js';

export function registerApiKey(program: Command): void {
  const g = () => program.opts<GlobalOptions>();
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
      await withVault(g(), async (v) => {
        const expires = lifetime === undefined ? null : new Date(Date.now() + lifetime); // from the key's creation
        const { id, key } = await new ApiKeys(v.db, v.policy).create(o.role, o.name, expires);
        if (o.json) printJson({ id, key });
        else
          process.stdout.write(
            `API key for role ${o.role} (id ${id}${expires ? `, expires ${expires.toISOString()}` : ''}):\n\n  ${key}\n\n` +
              'It is shown only now: store it in your secret manager.\n',
          );
      });
    });

  apikey
    .command('list')
    .description('list API keys (never the keys themselves)')
    .action(() => withVault(g(), async (v) => printJson({ keys: await new ApiKeys(v.db, v.policy).list() })));

  apikey
    .command('revoke <idOrPrefix>')
    .description('revoke an API key; effective on its next request')
    .action((idOrPrefix: string) =>
      withVault(g(), async (v) => {
        await new ApiKeys(v.db, v.policy).revoke(idOrPrefix);
        printJson({ revoked: idOrPrefix });
      }),
    );
}
