/** `ward init`: writes a commented example ward.yaml and a development master key. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXAMPLE_CONFIG, EXAMPLE_KEY_FILE, PRODUCTION_EXAMPLE_CONFIG } from '../config/example.js';
import { devKeyFileText } from '../crypto/master-key.js';
import { type Cli, UsageError } from './run.js';

export function initConfig(file: string, force: boolean): { config: string; key: string } {
  const key = resolve(dirname(file), EXAMPLE_KEY_FILE);
  if (!force && existsSync(file)) throw new UsageError(`${file} already exists; pass --force to overwrite it`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, EXAMPLE_CONFIG, { mode: 0o644 });
  if (force || !existsSync(key)) {
    mkdirSync(dirname(key), { recursive: true, mode: 0o700 });
    writeFileSync(key, devKeyFileText(), { mode: 0o600 });
  }
  return { config: file, key };
}

export function registerInit(program: Command, cli: Cli): void {
  program
    .command('init')
    .description('write an example ward.yaml and a development master key (nonproduction)')
    .option('--force', 'overwrite an existing ward.yaml and key file')
    .option(
      '--production',
      'write the production-ready variant instead: a PostgreSQL server over TLS, the master key from WARD_MASTER_KEY, no development key',
    )
    .action((opts: { force?: boolean; production?: boolean }) => {
      if (opts.production) {
        const file = cli.configFile();
        if (!opts.force && existsSync(file)) throw new UsageError(`${file} already exists; pass --force to overwrite it`);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, PRODUCTION_EXAMPLE_CONFIG, { mode: 0o644 });
        return cli.write(
          `wrote ${relative(cli.io.cwd, file) || file} (production): set DATABASE_URL (with sslmode=verify-full) and WARD_MASTER_KEY, then ward migrate and ward check --fail-on high\n`,
        );
      }
      const out = initConfig(cli.configFile(), opts.force ?? false);
      const rel = (p: string) => relative(cli.io.cwd, p) || p;
      return cli.write(
        `wrote ${rel(out.config)} and a development master key in ${rel(out.key)}\n` +
          'next: ward records create patients --json \'{"mrn": "MRN-0001", "name": "Ada Example"}\'\n',
      );
    });
}
