/**
 * The master key (KEK): it only wraps and unwraps data keys. Providers: the WARD_MASTER_KEY
 * environment variable (wins when set, for the file and env providers) or a key file; a PKCS#11
 * token and AWS KMS hold the key themselves and do the wrapping (see pkcs11.ts and aws-kms.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { WardError } from '../errors.js';
import { openWith, sealWith } from './aead.js';
import type { AwsHttpHandler, AwsKmsSettings } from './aws-kms.js';
import type { Pkcs11Settings } from './pkcs11.js';

export const DEV_KEY_PREFIX = 'ward-dev-key:';
const KEY_BYTES = 32;

export type MasterProvider = 'file' | 'env' | 'pkcs11' | 'aws-kms';

export interface MasterKey {
  /** Where the key came from, for messages: `WARD_MASTER_KEY`, the file's path, the token or KMS key. */
  readonly source: string;
  readonly provider: MasterProvider;
  /** True for a key `ward init` generated; a production space refuses it. */
  readonly dev: boolean;
  /** True when the key file can be read by group or others. */
  readonly exposed: boolean;
  wrap(plain: Buffer, aad: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, aad: string): Promise<Buffer>;
  /** A key check value: proves which master key wrapped a database's keys, reveals nothing. */
  checkValue(): Promise<Buffer>;
  /** Releases what the provider holds (a token session); the key is unusable after. */
  close(): Promise<void>;
  /**
   * Providers that reach a key service over HTTPS (aws-kms) only: their way out, an HTTP handler
   * over Ward's egress client (egress/aws-handler), given by start-up once the database is open
   * and before the key is first used. Such a key sends nothing without it.
   */
  attach?(handler: AwsHttpHandler): void;
}

export function localMasterKey(
  bytes: Buffer,
  source: string,
  dev = false,
  exposed = false,
  provider: MasterProvider = source.includes('MASTER_KEY') ? 'env' : 'file',
): MasterKey {
  if (bytes.length !== KEY_BYTES) throw new WardError('master_key_invalid', `${source}: the master key must be base64 of exactly 32 bytes`);
  const key = Buffer.from(bytes);
  return {
    source,
    provider,
    dev,
    exposed,
    wrap: async (plain, aad) => sealWith(key, 0, Buffer.from(aad), plain),
    unwrap: async (wrapped, aad) =>
      openWith(
        () => key,
        () => Buffer.from(aad),
        wrapped,
      ),
    checkValue: async () => createHmac('sha256', key).update('ward/master-key-check/v1').digest(),
    close: async () => {
      key.fill(0);
    },
  };
}

/** Where a master key comes from: `keys` in ward.yaml (and `keys.previous` during a rotation). */
export interface MasterSettings {
  provider: MasterProvider;
  file?: string;
  pkcs11?: Pkcs11Settings;
  aws_kms?: AwsKmsSettings;
}

export interface KeySettings extends MasterSettings {
  /** The master key being rotated away from, while `ward keys rotate --master` runs. */
  previous?: MasterSettings;
}

/** The master key (and, during a rotation, the one before it). */
export interface Masters {
  current: MasterKey;
  previous?: MasterKey;
}

export type MasterRole = 'current' | 'previous';

/**
 * Loads a master key. WARD_MASTER_KEY (WARD_PREVIOUS_MASTER_KEY for `keys.previous`) wins for the
 * file and env providers; a token or KMS key is named only in the configuration.
 */
export async function loadMasterKey(
  settings: MasterSettings,
  env: NodeJS.ProcessEnv = process.env,
  role: MasterRole = 'current',
): Promise<MasterKey> {
  const path = role === 'current' ? 'keys' : 'keys.previous';
  if (settings.provider === 'pkcs11') return (await import('./pkcs11.js')).pkcs11MasterKey(settings.pkcs11, env, path);
  if (settings.provider === 'aws-kms') return (await import('./aws-kms.js')).awsKmsMasterKey(settings.aws_kms, env, path);
  const variable = role === 'current' ? 'WARD_MASTER_KEY' : 'WARD_PREVIOUS_MASTER_KEY';
  const fromEnv = env[variable]?.trim();
  if (fromEnv) return localMasterKey(decodeKey(fromEnv, variable), variable, false, false, 'env');
  if (settings.provider === 'env' || !settings.file)
    throw new WardError('master_key_invalid', `${variable} is not set: export it as base64 of 32 random bytes (${path}.provider is env)`);
  return readKeyFile(settings.file);
}

/** The configured master key and, when `keys.previous` is set, the one a rotation moves away from. */
export async function loadMasters(settings: KeySettings, env: NodeJS.ProcessEnv = process.env): Promise<Masters> {
  const current = await loadMasterKey(settings, env, 'current');
  if (!settings.previous) return { current };
  try {
    return { current, previous: await loadMasterKey(settings.previous, env, 'previous') };
  } catch (e) {
    await current.close();
    throw e;
  }
}

/** Closes what the master keys hold (token sessions); errors on the way out are not the caller's concern. */
export async function closeMasters(m: Masters): Promise<void> {
  await m.current.close().catch(() => {});
  await m.previous?.close().catch(() => {});
}

function readKeyFile(file: string): MasterKey {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch {
    throw new WardError(
      'master_key_invalid',
      `${file}: cannot read the master key file named by keys.file; create it or set WARD_MASTER_KEY`,
    );
  }
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!line) throw new WardError('master_key_invalid', `${file}: the master key file holds no key`);
  const dev = line.startsWith(DEV_KEY_PREFIX);
  const b64 = dev ? line.slice(DEV_KEY_PREFIX.length) : line;
  return localMasterKey(decodeKey(b64, file), file, dev, (mode & 0o077) !== 0, 'file');
}

function decodeKey(b64: string, source: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new WardError('master_key_invalid', `${source}: the master key must be base64 of exactly 32 bytes`);
  return Buffer.from(b64, 'base64');
}

/** Text of a new development key file, as `ward init` writes it. */
export function devKeyFileText(now = new Date()): string {
  return [
    '# Ward development master key. NOT for production: a production space refuses it.',
    `# Generated by \`ward init\` on ${now.toISOString()}. Keep this file out of version control.`,
    `${DEV_KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64')}`,
    '',
  ].join('\n');
}
