/**
 * The aws-kms master key against a local server speaking the KMS JSON 1.1 API over HTTPS, with
 * SigV4 signatures checked (test/kms-server.ts; not AWS itself). Every request goes through
 * Ward's egress client, built here as vault start-up builds it for a master key: agreements from
 * the database's registry, each request written to the audit trail.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { operatorContext, type RequestContext } from '../../src/access/actions.js';
import { Policy } from '../../src/access/policy.js';
import { type AwsKmsSettings, awsKmsMasterKey } from '../../src/crypto/aws-kms.js';
import { loadMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { EgressHttpHandler } from '../../src/egress/aws-handler.js';
import { Egress, type EgressOptions, type EgressRecord } from '../../src/egress/client.js';
import { Agreements } from '../../src/vault/baa.js';
import { AuditTrail } from '../../src/vault/trail.js';
import { freshDb, type TestDb } from '../helpers.js';
import { type KmsServer, Sha256, startKmsServer } from '../kms-server.js';
import { testPki } from '../pki.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const EGRESS: RequestContext = { principal: { id: 'ward:egress', role: 'system' } };

const ACCESS_KEY = 'AKIAWARDTEST00000001';
const SECRET = `ward-test-secret-${randomBytes(12).toString('hex')}`;
const TEMP_KEY = 'ASIAWARDTEST00000002';
const TEMP_SECRET = `ward-temp-secret-${randomBytes(12).toString('hex')}`;
const TOKEN = `ward-session-token-${randomBytes(24).toString('hex')}`;
const KEY = randomUUID();
const OTHER = randomUUID();
const ENV = { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET };

describe('aws-kms master key: KMS Encrypt and Decrypt through egress', () => {
  const pki = testPki(['kms.test', 'nophi-kms.test']);
  let kms: KmsServer;
  let t: TestDb;
  let trail: AuditTrail;
  let agreements: Agreements;
  const opened: MasterKey[] = [];

  beforeAll(async () => {
    kms = await startKmsServer({
      pki,
      credentials: { [ACCESS_KEY]: { secretAccessKey: SECRET }, [TEMP_KEY]: { secretAccessKey: TEMP_SECRET, sessionToken: TOKEN } },
      keys: [KEY, OTHER],
      aliases: { 'alias/ward': KEY },
    });
    t = await freshDb('pglite');
    const policy = new Policy({});
    trail = new AuditTrail(t.db, policy);
    agreements = new Agreements(t.db, policy, trail);
    await agreements.add({ name: 'KMS (local)', hosts: ['127.0.0.1'], signed: day(-10), expires: day(100) }, operatorContext());
    await agreements.add(
      { name: 'Metrics only', hosts: ['nophi-kms.test'], signed: day(-10), expires: day(100), scope: 'no-phi' },
      operatorContext(),
    );
  });
  afterEach(async () => {
    for (const k of opened.splice(0)) await k.close();
  });
  afterAll(async () => {
    await kms?.close();
    await t?.dispose();
  });

  /** Egress as start-up builds it for a master key: the database's agreements, every request audited in the trail. */
  function egress(o: Pick<EgressOptions, 'resolve'> = {}): Egress {
    return new Egress({
      covering: (host, scope) => agreements.covering(host, scope),
      audit: (r: EgressRecord) =>
        trail.write({
          ...trail.row(EGRESS, 'egress', null, [], [], r.outcome === 'sent' ? 'allowed' : r.outcome, r.reason),
          detail: `${r.purpose} to ${r.host ?? '(no host)'}: ${r.bytes} bytes${r.status === null ? '' : `, status ${r.status}`}${
            r.agreement ? `, agreement ${r.agreement}` : ''
          }`,
        }),
      allowPrivate: true,
      ca: pki.ca,
      ...o,
    });
  }

  function key(settings: Partial<AwsKmsSettings> = {}, env: NodeJS.ProcessEnv = ENV, o: Pick<EgressOptions, 'resolve'> = {}): MasterKey {
    const k = awsKmsMasterKey({ key_id: KEY, region: 'us-east-1', endpoint: kms.url, ...settings }, env, 'keys');
    k.attach?.(new EgressHttpHandler(egress(o), 'master key', 'phi'));
    opened.push(k);
    return k;
  }

  const egressRows = () =>
    t.db.query<{ outcome: string; reason: string | null; detail: string }>(
      "SELECT outcome, reason, detail FROM ward_audit_events WHERE action = 'egress' ORDER BY seq",
    );

  it('rule: a data key wrapped through KMS unwraps through KMS for its place, over verified HTTPS via egress, every request signed and audited without its body', async () => {
    const k = key();
    const plain = randomBytes(32);
    const before = kms.requests.length;
    const auditedBefore = (await egressRows()).length;
    const wrapped = await k.wrap(plain, 'ward/key/v2/space/patients/data/1');
    expect(wrapped.includes(plain)).toBe(false);
    expect(await k.unwrap(wrapped, 'ward/key/v2/space/patients/data/1')).toEqual(plain);
    expect(kms.requests.slice(before)).toEqual([
      { target: 'TrentService.Encrypt', status: 200, context: { ward: 'ward/key/v2/space/patients/data/1' } },
      { target: 'TrentService.Decrypt', status: 200, context: { ward: 'ward/key/v2/space/patients/data/1' } },
    ]);
    const rows = (await egressRows()).slice(auditedBefore);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({ outcome: 'allowed', reason: null });
      expect(row.detail).toMatch(/^master key to 127\.0\.0\.1: \d+ bytes, status 200, agreement [0-9a-f-]{36}$/);
    }
    const all = JSON.stringify(await t.db.query('SELECT * FROM ward_audit_events'));
    expect(all).not.toContain(plain.toString('base64'));
    expect(all).not.toContain(wrapped.toString('base64'));
  });

  it('rule: a wrapped key does not unwrap for another place (another aad is another encryption context)', async () => {
    const k = key();
    const wrapped = await k.wrap(randomBytes(32), 'ward/key/v2/space/patients/data/1');
    await expect(k.unwrap(wrapped, 'ward/key/v2/space/patients/data/2')).rejects.toMatchObject({ code: 'integrity_error' });
    expect(kms.requests.at(-1)).toMatchObject({ target: 'TrentService.Decrypt', status: 400, error: 'InvalidCiphertextException' });
  });

  it('rule: a key wrapped under one KMS key does not unwrap under another (Decrypt names its key)', async () => {
    const wrapped = await key().wrap(randomBytes(32), 'ward/key/v2/space/patients/data/1');
    await expect(key({ key_id: OTHER }).unwrap(wrapped, 'ward/key/v2/space/patients/data/1')).rejects.toMatchObject({
      code: 'integrity_error',
    });
    expect(kms.requests.at(-1)).toMatchObject({ target: 'TrentService.Decrypt', status: 400, error: 'IncorrectKeyException' });
  });

  it('rule: a request signed with the wrong secret key is refused by the signature check and surfaces as master_key_invalid, no secret in the message', async () => {
    const wrong = `wrong-${SECRET}`;
    const k = key({}, { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: wrong });
    const e = await k.wrap(randomBytes(32), 'ward/key/v2/space/patients/data/1').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'master_key_invalid' });
    const message = (e as Error).message;
    expect(message).toContain('InvalidSignatureException');
    expect(message).toContain('AWS_SECRET_ACCESS_KEY');
    for (const secret of [wrong, SECRET]) expect(message).not.toContain(secret);
    expect(kms.requests.at(-1)).toMatchObject({ target: 'TrentService.Encrypt', status: 400, error: 'InvalidSignatureException' });
  });

  it('rule: temporary credentials are sent with AWS_SESSION_TOKEN; a wrong token is refused', async () => {
    const k = key({}, { AWS_ACCESS_KEY_ID: TEMP_KEY, AWS_SECRET_ACCESS_KEY: TEMP_SECRET, AWS_SESSION_TOKEN: TOKEN });
    const plain = randomBytes(32);
    expect(await k.unwrap(await k.wrap(plain, 'a'), 'a')).toEqual(plain);
    const wrong = key({}, { AWS_ACCESS_KEY_ID: TEMP_KEY, AWS_SECRET_ACCESS_KEY: TEMP_SECRET, AWS_SESSION_TOKEN: `${TOKEN}x` });
    const e = await wrong.wrap(plain, 'a').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'master_key_invalid' });
    expect((e as Error).message).not.toContain(TOKEN);
    expect(kms.requests.at(-1)).toMatchObject({ error: 'UnrecognizedClientException' });
  });

  it.each([
    ['no agreement covers the KMS host', 'kms.test'],
    ['only a no-phi agreement covers it (what KMS sees unwraps every data key)', 'nophi-kms.test'],
  ])('rule: %s: egress_denied naming the host, audited, and nothing reaches the server', async (_what, host) => {
    const before = kms.requests.length;
    const k = key({ endpoint: `https://${host}:${kms.port}` }, ENV, { resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const e = await k.checkValue().catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'egress_denied' });
    expect((e as Error).message).toContain(host);
    expect((e as Error).message).toContain('Business Associate Agreement');
    expect(kms.requests.length).toBe(before);
    const row = (await egressRows()).at(-1);
    expect(row).toMatchObject({ outcome: 'denied', reason: 'not_covered' });
    expect(row?.detail).toMatch(new RegExp(`^master key to ${host.replaceAll('.', '\\.')}: \\d+ bytes$`));
  });

  it('checkValue is stable across instances and key names (id, ARN, alias), differs for another key, and is SHA-256 over the label and the ARN', async () => {
    const a = await key().checkValue();
    const b = await key().checkValue();
    const byArn = await key({ key_id: kms.arn(KEY) }).checkValue();
    const byAlias = await key({ key_id: 'alias/ward' }).checkValue();
    const other = await key({ key_id: OTHER }).checkValue();
    expect(a).toHaveLength(32);
    expect(b).toEqual(a);
    expect(byArn).toEqual(a);
    expect(byAlias).toEqual(a);
    expect(other).not.toEqual(a);
    expect(a).toEqual(
      createHash('sha256')
        .update(`ward/master-key-check/aws-kms/v1\n${kms.arn(KEY)}`)
        .digest(),
    );
  });

  it('rule: an alias pointed at another key is noticed: another check value, and a running key refuses to wrap under it', async () => {
    kms.alias('alias/moving', KEY);
    const running = key({ key_id: 'alias/moving' });
    const first = await running.checkValue();
    kms.alias('alias/moving', OTHER);
    expect(await key({ key_id: 'alias/moving' }).checkValue()).not.toEqual(first);
    await expect(running.wrap(randomBytes(32), 'a')).rejects.toMatchObject({ code: 'master_key_mismatch' });
  });

  it.each([
    ['both variables missing', {}, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
    ['the secret missing', { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SESSION_TOKEN: TOKEN }, ['AWS_SECRET_ACCESS_KEY']],
    ['the key id missing', { AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN }, ['AWS_ACCESS_KEY_ID']],
    ['an empty secret', { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: '' }, ['AWS_SECRET_ACCESS_KEY']],
  ] as const)(
    'rule: missing credentials (%s) are refused at load with master_key_invalid naming the variables, no value, nothing sent',
    (_what, env, named) => {
      const before = kms.requests.length;
      let e: unknown;
      try {
        awsKmsMasterKey({ key_id: KEY, region: 'us-east-1', endpoint: kms.url }, env, 'keys');
      } catch (x) {
        e = x;
      }
      expect(e).toMatchObject({ code: 'master_key_invalid' });
      const message = (e as Error).message;
      for (const v of named) expect(message).toContain(v);
      for (const value of [ACCESS_KEY, SECRET, TOKEN]) expect(message).not.toContain(value);
      expect(kms.requests.length).toBe(before);
    },
  );

  it('rule: an endpoint that is not https is refused at load', () => {
    expect(() => awsKmsMasterKey({ key_id: KEY, region: 'us-east-1', endpoint: `http://127.0.0.1:${kms.port}` }, ENV, 'keys')).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });

  describe('with the SDK default credential chain and metadata endpoints pointed at a recorder', () => {
    let recorder: Server;
    const hits: string[] = [];
    const saved: Record<string, string | undefined> = {};
    const VARS = [
      'AWS_EC2_METADATA_SERVICE_ENDPOINT',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_DEFAULTS_MODE',
      'AWS_PROFILE',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
    ];
    beforeAll(async () => {
      recorder = createHttpServer((req, res) => {
        hits.push(req.url ?? '');
        res.writeHead(404);
        res.end();
      });
      await new Promise<void>((ok) => recorder.listen(0, '127.0.0.1', ok));
      const base = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
      for (const v of VARS) saved[v] = process.env[v];
      for (const v of VARS) delete process.env[v];
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = base;
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${base}/credentials`;
      process.env.AWS_DEFAULTS_MODE = 'auto';
      process.env.AWS_PROFILE = 'ward-test-no-such-profile';
    });
    afterAll(async () => {
      for (const v of VARS) {
        if (saved[v] === undefined) delete process.env[v];
        else process.env[v] = saved[v];
      }
      await new Promise((ok) => recorder?.close(ok));
    });

    it('rule: credentials come from the given environment only; the instance and container metadata services are never asked', async () => {
      const k = key();
      const plain = randomBytes(32);
      expect(await k.unwrap(await k.wrap(plain, 'a'), 'a')).toEqual(plain);
      await k.checkValue();
      expect(() => awsKmsMasterKey({ key_id: KEY, region: 'us-east-1' }, {}, 'keys')).toThrow(
        expect.objectContaining({ code: 'master_key_invalid' }),
      );
      expect(hits).toEqual([]);
    });
  });

  it('loadMasterKey gives the aws-kms key of keys.aws_kms: it sends nothing before attach, works after, and not after close', async () => {
    const before = kms.requests.length;
    const k = await loadMasterKey(
      { provider: 'aws-kms', aws_kms: { key_id: KEY, region: 'us-east-1', endpoint: `https://127.0.0.1:${kms.port}` } },
      ENV,
    );
    expect(k).toMatchObject({ provider: 'aws-kms', dev: false, exposed: false });
    expect(k.source).toContain(KEY);
    await expect(k.wrap(randomBytes(32), 'a')).rejects.toMatchObject({ code: 'internal_error' });
    expect(kms.requests.length).toBe(before);
    k.attach?.(new EgressHttpHandler(egress(), 'master key', 'phi'));
    const plain = randomBytes(32);
    expect(await k.unwrap(await k.wrap(plain, 'ward/key/v2/s/c/data/1'), 'ward/key/v2/s/c/data/1')).toEqual(plain);
    expect(await k.checkValue()).toEqual(
      createHash('sha256')
        .update(`ward/master-key-check/aws-kms/v1\n${kms.arn(KEY)}`)
        .digest(),
    );
    await k.close();
    await expect(k.wrap(plain, 'a')).rejects.toMatchObject({ code: 'master_key_invalid' });
    await expect(loadMasterKey({ provider: 'aws-kms' }, ENV)).rejects.toMatchObject({ code: 'config_invalid' });
  });

  it('the test server refuses a signed request whose body was changed after signing', async () => {
    const body = JSON.stringify({ KeyId: KEY, Plaintext: randomBytes(32).toString('base64') });
    const signed = await signRequest(body);
    const send = (b: string) =>
      new Promise<{ status: number; body: string }>((ok, fail) => {
        const req = httpsRequest({ host: '127.0.0.1', port: kms.port, method: 'POST', path: '/', headers: signed, ca: pki.ca }, (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', fail);
        req.end(b);
      });
    expect((await send(body)).status).toBe(200);
    const tampered = await send(body.replace(KEY, OTHER));
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.body)).toMatchObject({ __type: 'InvalidSignatureException' });
  });

  /** Signs an Encrypt as the SDK would, without the payload hash header, so only the signature binds the body. */
  async function signRequest(body: string): Promise<Record<string, string>> {
    const signer = new SignatureV4({
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      region: 'us-east-1',
      service: 'kms',
      sha256: Sha256,
      applyChecksum: false,
    });
    const r = await signer.sign({
      method: 'POST',
      protocol: 'https:',
      hostname: '127.0.0.1',
      port: kms.port,
      path: '/',
      headers: {
        host: `127.0.0.1:${kms.port}`,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.Encrypt',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    return r.headers;
  }
});
