/**
 * The aws-kms master key provider: the master key is a symmetric AWS KMS key that never leaves
 * KMS; Ward's data keys are wrapped with KMS `Encrypt` and unwrapped with `Decrypt`, each bound to
 * its place by the encryption context `{ ward: aad }` (a wrapped key moved to another place does
 * not decrypt), and `Decrypt` names the key too, so KMS refuses a ciphertext of another key.
 *
 * - Credentials come from the environment only: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and,
 *   for temporary credentials, AWS_SESSION_TOKEN. The SDK's default chain (profiles, SSO, the
 *   container and instance metadata services) is never consulted, nor are its shared config
 *   files for the endpoint, retries or defaults mode.
 * - Every request leaves through Ward's egress client: this module opens no connection. Vault
 *   start-up builds an HTTP handler over egress (egress/aws-handler) once the database is open and
 *   hands it over with `attach`, before the key is first used; the KMS host (the region's
 *   `kms.<region>.amazonaws.com`, or `endpoint`) must be covered by an agreement in force for PHI
 *   (what KMS sees unwraps every data key), and each request is audited as `egress`.
 * - The key check value is SHA-256 over `ward/master-key-check/aws-kms/v1`, a newline and the
 *   key's ARN as KMS returns it from `Encrypt`: deterministic, secret-free, and the same for a key
 *   named by id, ARN or alias, but different when an alias is pointed at another key (a database
 *   opened under the wrong key is refused as for any provider). Computing it also decrypts what it
 *   encrypted, so a key Ward may encrypt under but not decrypt with is refused at start. An ARN
 *   seen later that differs (an alias moved while Ward runs) is refused as `master_key_mismatch`.
 *   A multi-Region replica has its own ARN, so it counts as another master key.
 */

import { createHash } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { HttpHandler } from '@smithy/core/protocols';
import { isWardError, WardError } from '../errors.js';

/** `keys.aws_kms` in ward.yaml. */
export interface AwsKmsSettings {
  /** The key's id, ARN, alias (`alias/ward`) or alias ARN: a symmetric encryption key. */
  key_id: string;
  region: string;
  /** Another KMS endpoint (a VPC endpoint, a test server); https only. */
  endpoint?: string;
}

/** The HTTP handler an aws-kms master key sends through: egress/aws-handler's, over Ward's egress client. */
export type AwsHttpHandler = HttpHandler;

const CHECK_LABEL = 'ward/master-key-check/aws-kms/v1';
/** What `checkValue` encrypts and decrypts again: a constant, under a context no data key uses. */
const PROBE = Buffer.from('ward master key probe');
const PROBE_CONTEXT = 'ward/master-key-probe/v1';
const ALGORITHM = 'SYMMETRIC_DEFAULT';

/** KMS answers that mean the credentials or the key policy are wrong. */
const REFUSED = new Set([
  'AccessDeniedException',
  'ExpiredTokenException',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'UnrecognizedClientException',
]);
/** KMS answers that mean the key cannot serve as a master key. */
const UNUSABLE = new Set([
  'DisabledException',
  'InvalidKeyUsageException',
  'KMSInvalidStateException',
  'NotFoundException',
  'UnsupportedOperationException',
]);
/** KMS answers that mean this ciphertext does not decrypt here (another place, key or bytes). */
const NOT_MINE = new Set(['IncorrectKeyException', 'InvalidCiphertextException']);

/** The environment's AWS credentials; a clear refusal naming the variables (never a value) when one is missing. */
function credentialsFrom(env: NodeJS.ProcessEnv, path: string): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const missing = [!accessKeyId && 'AWS_ACCESS_KEY_ID', !secretAccessKey && 'AWS_SECRET_ACCESS_KEY'].filter(Boolean);
  if (!accessKeyId || !secretAccessKey)
    throw new WardError(
      'master_key_invalid',
      `${path}.provider is aws-kms but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: ` +
        'Ward reads AWS credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary credentials, ' +
        'AWS_SESSION_TOKEN only (never from profiles or the instance metadata service)',
    );
  const sessionToken = env.AWS_SESSION_TOKEN;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

function checkEndpoint(endpoint: string | undefined, path: string): void {
  if (endpoint === undefined) return;
  const u = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
  if (u?.protocol !== 'https:' || u.username || u.password || u.search || u.hash)
    throw new WardError('config_invalid', `${path}.aws_kms.endpoint: must be an https:// URL without credentials, query or fragment`);
}

/**
 * The aws-kms master key of `settings` (`keys.aws_kms`, or `keys.previous.aws_kms` as `path`
 * says), with credentials from `env`. It sends nothing until `attach` gives it the way out.
 */
export function awsKmsMasterKey(settings: AwsKmsSettings | undefined, env: NodeJS.ProcessEnv, path: string): AwsKmsMasterKey {
  if (!settings)
    throw new WardError('config_invalid', `${path}.aws_kms: is required when ${path}.provider is aws-kms: name key_id and region`);
  checkEndpoint(settings.endpoint, path);
  return new AwsKmsMasterKey(settings, credentialsFrom(env, path), path);
}

/**
 * A `MasterKey` (master-key.ts) held by AWS KMS. It does not name that interface: master-key.ts
 * imports this module, and an import back would be a cycle; `loadMasterKey` returning it checks
 * that the two agree.
 */
export class AwsKmsMasterKey {
  readonly provider = 'aws-kms';
  readonly dev = false;
  readonly exposed = false;
  readonly source: string;
  private client: KMSClient | undefined;
  private closed = false;
  /** The key's ARN, from the first answer: every later answer must name the same key. */
  private arn: string | undefined;
  private check: Promise<Buffer> | undefined;

  constructor(
    private readonly settings: AwsKmsSettings,
    private readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    private readonly path: string,
  ) {
    this.source = `AWS KMS key ${settings.key_id} (${settings.region})`;
  }

  /** Gives the key its way out (a handler over Ward's egress client); a second call replaces the first. */
  attach(handler: AwsHttpHandler): void {
    if (this.closed) throw this.unusable('was closed');
    this.client?.destroy();
    this.client = new KMSClient({
      region: this.settings.region,
      ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
      credentials: this.credentials,
      // Belt and braces: with credentials given the default chain is never asked; if it were, it refuses.
      credentialDefaultProvider: () => async () => {
        throw new WardError('master_key_invalid', `${this.path}: AWS credentials come from the environment only`);
      },
      requestHandler: handler,
      // Fixed here, so neither ~/.aws/config nor AWS_* variables steer the endpoint or the defaults
      // (the `auto` defaults mode would ask the instance metadata service for the region).
      defaultsMode: 'standard',
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      maxAttempts: 3,
      retryMode: 'standard',
    });
  }

  async wrap(plain: Buffer, aad: string): Promise<Buffer> {
    const out = await this.call('Encrypt', (kms) =>
      kms.send(
        new EncryptCommand({
          KeyId: this.settings.key_id,
          Plaintext: plain,
          EncryptionContext: { ward: aad },
          EncryptionAlgorithm: ALGORITHM,
        }),
      ),
    );
    this.pin(out.KeyId);
    if (!out.CiphertextBlob?.length) throw this.unusable('got no ciphertext from Encrypt');
    return Buffer.from(out.CiphertextBlob);
  }

  async unwrap(wrapped: Buffer, aad: string): Promise<Buffer> {
    const out = await this.call('Decrypt', (kms) =>
      kms.send(
        new DecryptCommand({
          KeyId: this.settings.key_id,
          CiphertextBlob: wrapped,
          EncryptionContext: { ward: aad },
          EncryptionAlgorithm: ALGORITHM,
        }),
      ),
    );
    this.pin(out.KeyId);
    if (!out.Plaintext) throw new WardError('integrity_error');
    const plain = Buffer.from(out.Plaintext);
    out.Plaintext.fill(0);
    return plain;
  }

  /** See the module's comment: SHA-256 over the label and the key's ARN, after a round trip through the key. */
  checkValue(): Promise<Buffer> {
    this.check ??= this.computeCheck().catch((e) => {
      this.check = undefined;
      throw e;
    });
    return this.check;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client?.destroy();
    this.client = undefined;
  }

  private async computeCheck(): Promise<Buffer> {
    const wrapped = await this.wrap(PROBE, PROBE_CONTEXT);
    const back = await this.unwrap(wrapped, PROBE_CONTEXT);
    if (!back.equals(PROBE)) throw new WardError('integrity_error');
    return createHash('sha256')
      .update(`${CHECK_LABEL}\n${this.arn as string}`)
      .digest();
  }

  /** Holds the key to the ARN KMS named first: a later answer naming another key is refused. */
  private pin(keyId: string | undefined): void {
    if (!keyId) throw this.unusable('got an answer that names no key');
    this.arn ??= keyId;
    if (keyId !== this.arn)
      throw new WardError(
        'master_key_mismatch',
        `${this.path}.aws_kms.key_id ${this.settings.key_id} named ${this.arn} and now names ${keyId} (an alias moved?): ` +
          'a master key is changed with ward keys rotate --master, never by pointing an alias elsewhere',
      );
  }

  /** Runs one KMS operation; its failures become Ward's errors, with no text from the answer. */
  private async call<T>(operation: string, run: (kms: KMSClient) => Promise<T>): Promise<T> {
    if (this.closed) throw this.unusable('was closed');
    if (!this.client)
      throw new WardError(
        'internal_error',
        `${this.source} was used before Ward attached its egress client (MasterKey.attach): a bug in Ward's start-up`,
      );
    try {
      return await run(this.client);
    } catch (e) {
      throw this.failure(operation, e);
    }
  }

  private failure(operation: string, e: unknown): WardError {
    // Egress refused (no agreement, an address not allowed) or could not connect: its own code.
    if (isWardError(e, 'egress_denied'))
      return new WardError(
        'egress_denied',
        `${this.source}: KMS ${operation}: ${e.message}; the KMS host ${this.host()} needs a Business Associate Agreement ` +
          'in force with scope phi (ward baa add), and an address egress may reach',
      );
    if (isWardError(e, 'egress_failed')) return new WardError('egress_failed', `${this.source}: KMS ${operation}: ${e.message}`);
    if (isWardError(e)) return e;
    const name = e instanceof Error && /^[A-Za-z]{1,64}$/.test(e.name) ? e.name : 'an unknown error';
    if (NOT_MINE.has(name)) return new WardError('integrity_error');
    if (REFUSED.has(name))
      return new WardError(
        'master_key_invalid',
        `${this.source}: AWS KMS refused ${operation} (${name}): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ` +
          'AWS_SESSION_TOKEN and the key policy (Ward needs kms:Encrypt and kms:Decrypt on the key)',
      );
    if (UNUSABLE.has(name))
      return new WardError(
        'master_key_invalid',
        `${this.source}: AWS KMS cannot ${operation} with ${this.path}.aws_kms.key_id (${name}): ` +
          'name an enabled symmetric encryption key (ENCRYPT_DECRYPT) in this region',
      );
    return new WardError('egress_failed', `${this.source}: AWS KMS could not ${operation} (${name}); try again`);
  }

  /** The host requests go to: the endpoint's, else the region's KMS endpoint (as the SDK resolves it). */
  private host(): string {
    if (this.settings.endpoint) return new URL(this.settings.endpoint).hostname;
    return `kms.${this.settings.region}.amazonaws.com${this.settings.region.startsWith('cn-') ? '.cn' : ''}`;
  }

  private unusable(what: string): WardError {
    return new WardError('master_key_invalid', `${this.source} ${what}`);
  }
}
