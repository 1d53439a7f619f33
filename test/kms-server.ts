/**
 * A local stand-in for AWS KMS, for tests of the aws-kms master key: an HTTPS server on 127.0.0.1
 * (certificate from test/pki) speaking the KMS JSON 1.1 API for `TrentService.Encrypt` and
 * `TrentService.Decrypt`. It is strict where KMS is:
 * - every request must carry a valid AWS Signature Version 4 (`Authorization` header): the
 *   signature is computed again with @smithy/signature-v4 over the request as received (its
 *   signed headers, path, query and body) and the secret the server knows for the access key; a
 *   body whose `x-amz-content-sha256` is not its hash, a date more than 15 minutes off, another
 *   region or service, or a missing or wrong session token is refused, with KMS's error shapes
 *   (`{"__type":"InvalidSignatureException","message":...}`, status 400);
 * - each key id has its own AES-256 key; a ciphertext blob names its key and is bound to the
 *   encryption context, so Decrypt under another context is `InvalidCiphertextException`, and
 *   Decrypt naming another key than the blob's is `IncorrectKeyException`;
 * - keys are named by id, ARN, alias (`alias/x`) or alias ARN; an unknown one is `NotFoundException`;
 * - answers have KMS's shapes: `CiphertextBlob`/`Plaintext` in base64, `KeyId` as the key's ARN,
 *   `EncryptionAlgorithm`.
 * It records every request it received (answered or refused), so a test can tell nothing arrived.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export interface KmsCredential {
  secretAccessKey: string;
  /** When set, requests must carry it as `x-amz-security-token` (temporary credentials). */
  sessionToken?: string;
}

export interface KmsServerOptions {
  pki: { cert: string; key: string };
  /** Access key id → its secret (and session token). */
  credentials: Record<string, KmsCredential>;
  /** Key ids (UUIDs) the server holds. */
  keys: readonly string[];
  /** Alias names (`alias/ward`) → key id. */
  aliases?: Record<string, string>;
  region?: string;
  account?: string;
}

/** What the server received: the operation, and how it answered (the error type when refused). */
export interface KmsRequest {
  target: string | undefined;
  status: number;
  error?: string;
  /** The encryption context of an Encrypt or Decrypt. */
  context?: Record<string, string>;
}

export interface KmsServer {
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  region: string;
  requests: KmsRequest[];
  /** The ARN of a key id, as KMS names it in its answers. */
  arn(keyId: string): string;
  /** Points an alias at another key (or a new alias at a key). */
  alias(name: string, keyId: string): void;
  close(): Promise<void>;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A Smithy hash constructor over node:crypto: SHA-256, or HMAC-SHA256 when given a secret. */
export class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

function bytes(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (d instanceof ArrayBuffer) return Buffer.from(d);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MAX_SKEW_MS = 15 * 60_000;
const BLOB_VERSION = 1;
const UUID_LENGTH = 36;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Checks the request's SigV4 signature as KMS does; throws a KmsError when it does not hold. */
async function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  credentials: Record<string, KmsCredential>,
  region: string,
): Promise<void> {
  const auth = header(req, 'authorization');
  if (!auth) throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = AUTH.exec(auth);
  if (!m) throw new KmsError('IncompleteSignatureException', 'The Authorization header is not a well-formed AWS4-HMAC-SHA256 signature');
  const [, accessKeyId, day, scopeRegion, service, signedList, signature] = m as unknown as string[];
  const credential = credentials[accessKeyId as string];
  if (!credential) throw new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (credential.sessionToken !== undefined && header(req, 'x-amz-security-token') !== credential.sessionToken)
    throw new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (scopeRegion !== region || service !== 'kms')
    throw new KmsError('InvalidSignatureException', `Credential should be scoped to a valid region and to the kms service`);
  const date = AMZ_DATE.exec(header(req, 'x-amz-date') ?? '');
  if (!date) throw new KmsError('IncompleteSignatureException', 'The request has no valid X-Amz-Date header');
  const [, y, mo, d, h, mi, s] = date.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  if (`${date[1]}${date[2]}${date[3]}` !== day)
    throw new KmsError('InvalidSignatureException', 'The credential date does not match X-Amz-Date');
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) throw new KmsError('InvalidSignatureException', 'Signature expired');
  const signed = (signedList as string).split(';');
  if (!signed.includes('host')) throw new KmsError('InvalidSignatureException', 'The host header must be signed');
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(req, name);
    if (value === undefined) throw new KmsError('InvalidSignatureException', `The signed header ${name} is missing`);
    headers[name] = value;
  }
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(body).digest('hex'))
    throw new KmsError('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
  const url = new URL(req.url ?? '/', 'https://kms.invalid');
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const had = query[k];
    query[k] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
  }
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: accessKeyId as string,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken ? { sessionToken: credential.sessionToken } : {}),
    },
    region,
    service: 'kms',
    sha256: Sha256,
    applyChecksum: false,
  });
  const again = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'https:',
      hostname: 'kms.invalid',
      path: (req.url ?? '/').split('?')[0] as string,
      query,
      headers,
      body,
    },
    { signingDate, signableHeaders: new Set(signed) },
  );
  const expected = AUTH.exec(again.headers.authorization ?? '');
  const ok =
    expected?.[5] === signedList &&
    timingSafeEqual(Buffer.from(expected?.[6] ?? '0'.repeat(64), 'hex'), Buffer.from(signature as string, 'hex'));
  if (!ok)
    throw new KmsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
}

/** The encryption context as bound into a blob: its pairs, sorted. */
const contextAad = (context: Record<string, string>) =>
  Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))));

export async function startKmsServer(o: KmsServerOptions): Promise<KmsServer> {
  const region = o.region ?? 'us-east-1';
  const account = o.account ?? '111122223333';
  const keys = new Map(o.keys.map((id) => [id, randomBytes(32)]));
  const aliases = new Map(Object.entries(o.aliases ?? {}));
  const requests: KmsRequest[] = [];
  const arn = (keyId: string) => `arn:aws:kms:${region}:${account}:key/${keyId}`;

  /** The key id a KeyId parameter names (id, key ARN, alias, alias ARN). */
  const resolveKey = (name: unknown): string => {
    if (typeof name !== 'string' || !name) throw new KmsError('ValidationException', 'KeyId is required');
    const prefix = `arn:aws:kms:${region}:${account}:`;
    const local = name.startsWith(prefix) ? name.slice(prefix.length) : name;
    const id = local.startsWith('alias/') ? aliases.get(local) : local.startsWith('key/') ? local.slice(4) : local;
    if (!id || !keys.has(id)) throw new KmsError('NotFoundException', `Key '${name}' does not exist`);
    return id;
  };
  const contextOf = (v: unknown): Record<string, string> => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string'))
      throw new KmsError('ValidationException', 'EncryptionContext must map strings to strings');
    return v as Record<string, string>;
  };
  const algorithmOf = (v: unknown) => {
    if (v !== undefined && v !== 'SYMMETRIC_DEFAULT')
      throw new KmsError('InvalidKeyUsageException', 'The key does not support this algorithm');
    return 'SYMMETRIC_DEFAULT';
  };

  const encrypt = (p: Record<string, unknown>, seen: KmsRequest) => {
    const id = resolveKey(p.KeyId);
    const context = contextOf(p.EncryptionContext);
    seen.context = context;
    const plain = Buffer.from(typeof p.Plaintext === 'string' ? p.Plaintext : '', 'base64');
    if (plain.length < 1 || plain.length > 4096) throw new KmsError('ValidationException', 'Plaintext must be 1 to 4096 bytes');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keys.get(id) as Buffer, iv);
    cipher.setAAD(contextAad(context));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const blob = Buffer.concat([Buffer.from([BLOB_VERSION]), Buffer.from(id, 'ascii'), iv, cipher.getAuthTag(), body]);
    return { CiphertextBlob: blob.toString('base64'), KeyId: arn(id), EncryptionAlgorithm: algorithmOf(p.EncryptionAlgorithm) };
  };

  const decrypt = (p: Record<string, unknown>, seen: KmsRequest) => {
    const context = contextOf(p.EncryptionContext);
    seen.context = context;
    const algorithm = algorithmOf(p.EncryptionAlgorithm);
    const blob = Buffer.from(typeof p.CiphertextBlob === 'string' ? p.CiphertextBlob : '', 'base64');
    const invalid = () => new KmsError('InvalidCiphertextException', '');
    if (blob.length < 1 + UUID_LENGTH + 12 + 16 || blob[0] !== BLOB_VERSION) throw invalid();
    const id = blob.subarray(1, 1 + UUID_LENGTH).toString('ascii');
    if (p.KeyId !== undefined && resolveKey(p.KeyId) !== id)
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    const key = keys.get(id);
    if (!key) throw invalid();
    const at = 1 + UUID_LENGTH;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(at, at + 12));
      decipher.setAAD(contextAad(context));
      decipher.setAuthTag(blob.subarray(at + 12, at + 28));
      const plain = Buffer.concat([decipher.update(blob.subarray(at + 28)), decipher.final()]);
      return { KeyId: arn(id), Plaintext: plain.toString('base64'), EncryptionAlgorithm: algorithm };
    } catch {
      throw invalid();
    }
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomBytes(16).toString('hex'),
    });
    res.end(text);
  };

  const server = createServer({ cert: o.pki.cert, key: o.pki.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const seen: KmsRequest = { target: header(req, 'x-amz-target'), status: 200 };
      requests.push(seen);
      void (async () => {
        await verifySignature(req, body, o.credentials, region);
        if (req.method !== 'POST' || header(req, 'content-type') !== 'application/x-amz-json-1.1')
          throw new KmsError('SerializationException', 'Expected a POST of application/x-amz-json-1.1');
        let params: Record<string, unknown>;
        try {
          params = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          throw new KmsError('SerializationException', 'The body is not JSON');
        }
        if (seen.target === 'TrentService.Encrypt') return encrypt(params, seen);
        if (seen.target === 'TrentService.Decrypt') return decrypt(params, seen);
        throw new KmsError('UnknownOperationException', '');
      })().then(
        (out) => answer(res, 200, out),
        (e: unknown) => {
          const type = e instanceof KmsError ? e.type : 'KMSInternalException';
          seen.status = e instanceof KmsError ? 400 : 500;
          seen.error = type;
          answer(res, seen.status, { __type: type, message: e instanceof Error ? e.message : '' });
        },
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    region,
    requests,
    arn,
    alias: (name, keyId) => {
      aliases.set(name, keyId);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
