/** `ward migrate` and `ward keys ...`. */
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import { migrate } from '../store/migrate.js';
import { assertSameSpace, openDb } from '../vault/open.js';
import type { Cli } from './run.js';

export function registerKeys(program: Command, cli: Cli): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to re-run)')
    .action(async () => {
      const db = await openDb(cli.config());
      try {
        const applied = await migrate(db);
        await assertSameSpace(db, cli.config());
        await cli.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database schema is up to date\n');
      } finally {
        await db.close();
      }
    });

  const keys = program.command('keys').description('data keys: status and rotation');

  keys
    .command('status')
    .description("print each collection's data key versions and how many records each protects")
    .action(() => cli.withVault(async (v) => cli.printJson(await v.keyStatus())));

  keys
    .command('rotate [collection]')
    .description('add a new data key version; new writes use it, older records stay readable')
    .option('--all', 'rotate every collection')
    .option('--audit-signing', 'rotate the Ed25519 key that signs audit checkpoints instead')
    .action((collection: string | undefined, o: { all?: boolean; auditSigning?: boolean }) =>
      cli.withVault(async (v) => {
        if (o.auditSigning) return cli.printJson({ auditSigning: await v.rotateAuditSigningKey() });
        const names = o.all ? v.collectionList().map((c) => c.name) : collection ? [v.collection(collection).name] : [];
        if (!names.length) throw new WardError('invalid_request', 'name a collection to rotate, or pass --all');
        const rotated: Record<string, number> = {};
        for (const name of names) rotated[name] = await v.rotateKey(name);
        await cli.printJson({ rotated });
      }),
    );
}
