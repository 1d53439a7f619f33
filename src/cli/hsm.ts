/** `ward keys hsm-init`: creates the master key inside the PKCS#11 token that `keys.pkcs11` names. */

import type { Command } from 'commander';
import { createPkcs11Key } from '../crypto/pkcs11.js';
import { WardError } from '../errors.js';
import type { Cli } from './run.js';

/** Adds the token commands under `ward keys`; register it after `registerKeys`. */
export function hsmCommands(program: Command, cli: Cli): void {
  const keys = program.commands.find((c) => c.name() === 'keys');
  if (!keys) throw new Error('hsmCommands: the keys command must be registered first');
  addHsmInit(keys, cli);
}

/** `ward keys hsm-init [--label LABEL]`, added to the `keys` command given. */
export function addHsmInit(keys: Command, cli: Cli): void {
  keys
    .command('hsm-init')
    .description(
      'generate the master key in the PKCS#11 token named by keys.pkcs11: AES-256, non-extractable, sensitive; never replaces a key',
    )
    .option('--label <label>', 'label of the new key (default: keys.pkcs11.key)')
    .action(async (o: { label?: string }) => {
      const config = cli.config();
      const settings = config.keys.pkcs11;
      if (!settings)
        throw new WardError(
          'config_invalid',
          `${config.file}: keys.pkcs11 is not set: name the token's module, token label, key label and pin_env there first`,
        );
      const made = await createPkcs11Key(settings, cli.io.env, 'keys', o.label);
      const hint = made.label === settings.key ? '' : `; set keys.pkcs11.key to ${JSON.stringify(made.label)} to use it`;
      await cli.write(`created master key ${made.source} (AES-256, non-extractable, sensitive)${hint}\n`);
    });
}
