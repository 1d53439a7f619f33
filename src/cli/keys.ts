/** `ward migrate` and `ward keys ...`. */

import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import { migrate } from '../store/migrate.js';
import { assertSameSpace, beginMasterRotation, openDb } from '../vault/open.js';
import { type Cli, integer } from './run.js';

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
    .option('--master', 'rewrap every key under the master key named by keys (keys.previous: the one before); resumable')
    .option('--batch <n>', 'with --master: keys per batch', (v) => integer(v, '--batch', 1, 10_000), 100)
    .action(async (collection: string | undefined, o: { all?: boolean; auditSigning?: boolean; master?: boolean; batch: number }) => {
      if (o.master) return rotateMaster(cli, o.batch);
      return cli.withVault(async (v) => {
        if (o.auditSigning) return cli.printJson({ auditSigning: await v.rotateAuditSigningKey() });
        const names = o.all ? v.collectionList().map((c) => c.name) : collection ? [v.collection(collection).name] : [];
        if (!names.length) throw new WardError('invalid_request', 'name a collection to rotate, or pass --all');
        const rotated: Record<string, number> = {};
        for (const name of names) rotated[name] = await v.rotateKey(name);
        await cli.printJson({ rotated });
      });
    });

  keys
    .command('rewrap [collection]')
    .description('re-encrypt records to the active data key version, in batches, online; resumes where it stopped')
    .option('--all', 'every collection')
    .option('--batch <n>', 'records per batch (one transaction each)', (v) => integer(v, '--batch', 1, 10_000), 200)
    .option('--rate <n>', 'at most this many records a second', (v) => integer(v, '--rate', 1, 1_000_000))
    .action((collection: string | undefined, o: { all?: boolean; batch: number; rate?: number }) =>
      cli.withVault(async (v) => {
        const names = o.all ? v.collectionList().map((c) => c.name) : collection ? [v.collection(collection).name] : [];
        if (!names.length) throw new WardError('invalid_request', 'name a collection to rewrap, or pass --all');
        const tty = cli.io.stderr.isTTY === true;
        for (const name of names) {
          const bar = tty
            ? new cliProgress.SingleBar(
                { stream: cli.io.stderr, format: `rewrapping ${name} {bar} {value}/{total} records`, hideCursor: true },
                cliProgress.Presets.shades_classic,
              )
            : undefined;
          let started = false;
          const last = await v
            .rewrapKeys(name, {
              batch: o.batch,
              ...(o.rate ? { rate: o.rate } : {}),
              onProgress: (p) => {
                if (bar) {
                  if (!started) bar.start(p.total, 0);
                  started = true;
                  bar.update(p.done);
                } else cli.io.stderr.write(`${JSON.stringify(p)}\n`);
              },
            })
            .finally(() => bar?.stop());
          await cli.printJson({ collection: name, version: last.version, rewrapped: last.done });
        }
      }),
    );

  keys
    .command('retire <collection> <version>')
    .description('destroy a data key version no record uses (refused while any does, and for the active one)')
    .action((collection: string, version: string) =>
      cli.withVault(async (v) => {
        await v.retireKey(collection, integer(version, 'version', 1, 1_000_000));
        await cli.printJson({ retired: { collection, version: Number(version) } });
      }),
    );
}

/**
 * `ward keys rotate --master`: records the new master key, then rewraps every key under it with a
 * progress bar on a terminal (JSON lines otherwise). Run again after an interruption: it resumes.
 */
async function rotateMaster(cli: Cli, batch: number): Promise<void> {
  await beginMasterRotation(cli.config(), cli.io.env);
  await cli.withVault(async (v) => {
    const bar = cli.io.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: cli.io.stderr, format: 'rewrapping keys under the new master key {bar} {value}/{total}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    let started = false;
    const done = await v
      .rotateMaster({
        batch,
        onProgress: (p) => {
          if (!bar) return void cli.io.stderr.write(`${JSON.stringify(p)}\n`);
          if (!started) bar.start(p.total, 0);
          started = true;
          bar.update(p.done);
        },
      })
      .finally(() => bar?.stop());
    await cli.printJson({ master: done });
    if (done.complete)
      await cli.write('every key is wrapped under the new master key: remove keys.previous from ward.yaml\n', cli.io.stderr);
  });
}
