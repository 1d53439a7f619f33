/**
 * The pkcs11 master key provider against a real token: a throwaway SoftHSM2 token store in a temp
 * directory (softhsm2.conf named by SOFTHSM2_CONF, tokens made with softhsm2-util). Skipped, and
 * said so in the suite's name, only where SoftHSM2's module is not installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hsmCommands } from '../../src/cli/hsm.js';
import { Cli } from '../../src/cli/run.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { loadMasterKey, type MasterKey } from '../../src/crypto/master-key.js';
import { createPkcs11Key, type Pkcs11Settings, pkcs11MasterKey } from '../../src/crypto/pkcs11.js';
import { isWardError } from '../../src/errors.js';
import { scratchDir } from '../scratch.js';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const HAVE_SOFTHSM = existsSync(MODULE);
const TOKEN = 'ward-test';
const OTHER_TOKEN = 'ward-other';
const PIN = '8675309-user';
const SO_PIN = '5550100-so';
const PIN_ENV = 'WARD_TEST_PKCS11_PIN';
const env: NodeJS.ProcessEnv = { [PIN_ENV]: PIN };

const settings = (key: string, over: Partial<Pkcs11Settings> = {}): Pkcs11Settings => ({
  module: MODULE,
  token: TOKEN,
  key,
  pin_env: PIN_ENV,
  ...over,
});

/** The WardError a promise rejects with (failing the test when it resolves or rejects otherwise). */
async function refusal(p: Promise<unknown>, code = 'master_key_invalid'): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isWardError(e)) throw new Error(`expected a WardError, got ${e === undefined ? 'success' : String(e)}`);
  expect(e.code).toBe(code);
  return e.message;
}

// The few graphene-pk11 calls the tests make on their own session, to look at the token from
// outside the provider (loaded by a name TypeScript does not resolve: the package is optional).
interface RawObject {
  getAttribute(attrs: Record<string, null>): Record<string, unknown>;
  getAttribute(name: string): unknown;
}
interface RawSession {
  login(pin: string, type: number): void;
  logout(): void;
  close(): void;
  find(t: Record<string, unknown>): { length: number; items(i: number): { toType<T>(): T } };
  generateKey(mech: unknown, t: Record<string, unknown>): RawObject;
}
interface RawGraphene {
  Module: {
    load(file: string): {
      initialize(): void;
      finalize(): void;
      close(): void;
      getSlots(present: boolean): {
        length: number;
        items(i: number): { getToken(): { label: string }; open(flags: number): RawSession };
      };
    };
  };
  SessionFlag: { SERIAL_SESSION: number; RW_SESSION: number };
  UserType: { USER: number };
  ObjectClass: { SECRET_KEY: number };
  KeyType: { AES: number };
  KeyGenMechanism: { AES: unknown };
}
const GRAPHENE = 'graphene-pk11' as string;

/** Runs `fn` on a logged-in read-write session of the test token; no provider key may be open meanwhile. */
async function rawSession<T>(fn: (s: RawSession, g: RawGraphene) => T): Promise<T> {
  const g = (await import(GRAPHENE)) as RawGraphene;
  const module = g.Module.load(MODULE);
  module.initialize();
  try {
    const slots = module.getSlots(true);
    const slot = Array.from({ length: slots.length }, (_, i) => slots.items(i)).find((s) => s.getToken().label === TOKEN);
    if (!slot) throw new Error('the test token is missing');
    const session = slot.open(g.SessionFlag.SERIAL_SESSION | g.SessionFlag.RW_SESSION);
    session.login(PIN, g.UserType.USER);
    try {
      return fn(session, g);
    } finally {
      session.logout();
      session.close();
    }
  } finally {
    module.finalize();
    module.close();
  }
}

const rawKey = (s: RawSession, g: RawGraphene, label: string): RawObject => {
  const found = s.find({ class: g.ObjectClass.SECRET_KEY, label });
  expect(found.length).toBe(1);
  return found.items(0).toType<RawObject>();
};

/** Opens a master key, runs `fn`, and closes it whatever happens. */
async function withKey<T>(s: Pkcs11Settings, fn: (k: MasterKey) => Promise<T>, e: NodeJS.ProcessEnv = env): Promise<T> {
  const k = await pkcs11MasterKey(s, e, 'keys');
  try {
    return await fn(k);
  } finally {
    await k.close();
  }
}

describe.skipIf(!HAVE_SOFTHSM)(
  HAVE_SOFTHSM
    ? 'pkcs11 master key on a throwaway SoftHSM2 token'
    : `pkcs11 master key: SKIPPED, SoftHSM2 is not installed (no ${MODULE}; apt-get install softhsm2 to run these tests)`,
  () => {
    let savedConf: string | undefined;

    beforeAll(async () => {
      const dir = scratchDir('ward-pkcs11-'); // removed after the file's tests (test/setup.ts)
      const tokens = join(dir, 'tokens');
      mkdirSync(tokens);
      const conf = join(dir, 'softhsm2.conf');
      writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
      savedConf = process.env.SOFTHSM2_CONF;
      process.env.SOFTHSM2_CONF = conf; // read by the module at C_Initialize
      for (const label of [TOKEN, OTHER_TOKEN])
        execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', PIN, '--so-pin', SO_PIN], {
          env: { ...process.env, SOFTHSM2_CONF: conf },
          stdio: 'pipe',
        });
      await createPkcs11Key(settings('master'), env, 'keys');
      await createPkcs11Key(settings('another'), env, 'keys');
    });

    afterAll(() => {
      if (savedConf === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = savedConf;
    });

    it('hsm-init creates the key in the token as AES-256, non-extractable, sensitive, private and persistent', async () => {
      const made = await createPkcs11Key(settings('fresh'), env, 'keys');
      expect(made).toEqual({ source: `pkcs11:token=${TOKEN};object=fresh`, token: TOKEN, label: 'fresh' });
      const attrs = await rawSession((s, g) =>
        rawKey(s, g, 'fresh').getAttribute({
          keyType: null,
          valueLen: null,
          token: null,
          private: null,
          sensitive: null,
          extractable: null,
          alwaysSensitive: null,
          neverExtractable: null,
          encrypt: null,
          decrypt: null,
          wrap: null,
        }),
      );
      expect(attrs).toEqual({
        keyType: 0x1f, // CKK_AES
        valueLen: 32,
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        alwaysSensitive: true,
        neverExtractable: true,
        encrypt: true,
        decrypt: true,
        wrap: false,
      });
    });

    it('the key value cannot be read out of the token (CKA_VALUE is refused)', async () => {
      const attempt = await rawSession((s, g) => {
        try {
          return { value: rawKey(s, g, 'master').getAttribute('value') };
        } catch (e) {
          return { error: (e as Error).message };
        }
      });
      expect(attempt).toEqual({ error: expect.stringContaining('CKR_ATTRIBUTE_SENSITIVE') });
    });

    it('hsm-init never replaces an existing key', async () => {
      const message = await refusal(createPkcs11Key(settings('master'), env, 'keys'));
      expect(message).toContain('already holds a secret key labelled "master"');
      expect(message).not.toContain(PIN);
    });

    it('wrap then unwrap returns the plaintext, in a self-describing envelope with a fresh IV each time', async () => {
      await withKey(settings('master'), async (k) => {
        expect(k).toMatchObject({ provider: 'pkcs11', dev: false, exposed: false, source: `pkcs11:token=${TOKEN};object=master` });
        const plain = Buffer.from('0123456789abcdef0123456789abcdef');
        const a = await k.wrap(plain, 'ward/key/patients/data/1');
        const b = await k.wrap(plain, 'ward/key/patients/data/1');
        expect(a[0]).toBe(0x11);
        expect(a.length).toBe(1 + 12 + 32 + 16);
        expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
        expect(a.includes(plain)).toBe(false);
        expect(await k.unwrap(a, 'ward/key/patients/data/1')).toEqual(plain);
        expect(await k.unwrap(b, 'ward/key/patients/data/1')).toEqual(plain);
      });
    });

    it('a key wrapped in one session unwraps in another (the key persists in the token)', async () => {
      const plain = Buffer.alloc(32, 7);
      const wrapped = await withKey(settings('master'), (k) => k.wrap(plain, 'aad'));
      expect(await withKey(settings('master'), (k) => k.unwrap(wrapped, 'aad'))).toEqual(plain);
    });

    it('unwrap with a different aad fails with an opaque integrity error', async () => {
      await withKey(settings('master'), async (k) => {
        const wrapped = await k.wrap(Buffer.alloc(32, 1), 'ward/key/patients/data/1');
        expect(await refusal(k.unwrap(wrapped, 'ward/key/patients/data/2'), 'integrity_error')).toBe(
          'Stored data failed its integrity check',
        );
        expect(await k.unwrap(wrapped, 'ward/key/patients/data/1')).toEqual(Buffer.alloc(32, 1)); // the session still works
      });
    });

    it('a tampered, truncated or foreign envelope fails with an opaque integrity error', async () => {
      await withKey(settings('master'), async (k) => {
        const wrapped = await k.wrap(Buffer.alloc(32, 2), 'aad');
        const flip = (at: number) => {
          const t = Buffer.from(wrapped);
          t[at] = (t[at] as number) ^ 1;
          return t;
        };
        const bad = [
          flip(0), // format byte
          flip(5), // IV
          flip(20), // ciphertext
          flip(wrapped.length - 1), // tag
          wrapped.subarray(0, wrapped.length - 1),
          wrapped.subarray(0, 28),
          Buffer.alloc(0),
          Buffer.concat([wrapped, Buffer.of(0)]),
        ];
        for (const t of bad) await refusal(k.unwrap(t, 'aad'), 'integrity_error');
        // Another key in the same token cannot open it either.
        await withKey(settings('another'), async (other) => refusal(other.unwrap(wrapped, 'aad'), 'integrity_error'));
        expect(await k.unwrap(wrapped, 'aad')).toEqual(Buffer.alloc(32, 2));
      });
    });

    it('checkValue is the same in every session and differs for another key', async () => {
      const first = await withKey(settings('master'), (k) => k.checkValue());
      const second = await withKey(settings('master'), (k) => k.checkValue());
      const other = await withKey(settings('another'), (k) => k.checkValue());
      expect(first.length).toBe(32);
      expect(second).toEqual(first);
      expect(other).not.toEqual(first);
    });

    it('a key without CKA_SIGN (no AES-CMAC) gets a check value that is still the same in every session', async () => {
      await rawSession((s, g) =>
        s.generateKey(g.KeyGenMechanism.AES, {
          class: g.ObjectClass.SECRET_KEY,
          keyType: g.KeyType.AES,
          valueLen: 32,
          label: 'no-sign',
          token: true,
          private: true,
          sensitive: true,
          extractable: false,
          encrypt: true,
          decrypt: true,
          sign: false,
        }),
      );
      const first = await withKey(settings('no-sign'), (k) => k.checkValue());
      const second = await withKey(settings('no-sign'), (k) => k.checkValue());
      expect(second).toEqual(first);
      expect(first).not.toEqual(await withKey(settings('master'), (k) => k.checkValue()));
    });

    it('two master keys open on one token share its login: closing one leaves the other working', async () => {
      const a = await pkcs11MasterKey(settings('master'), env, 'keys');
      const b = await pkcs11MasterKey(settings('another'), env, 'keys.previous');
      try {
        const wrapped = await b.wrap(Buffer.alloc(32, 3), 'aad');
        await a.close();
        expect(await b.unwrap(wrapped, 'aad')).toEqual(Buffer.alloc(32, 3));
        expect((await b.checkValue()).length).toBe(32);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a wrong PIN is refused with a clear error that never contains the PIN', async () => {
      const wrong = 'not-the-pin-24680';
      const message = await refusal(pkcs11MasterKey(settings('master'), { [PIN_ENV]: wrong }, 'keys'));
      expect(message).toBe(`keys.pkcs11: the token "${TOKEN}" refused the PIN in ${PIN_ENV} (wrong PIN)`);
      expect(message).not.toContain(wrong);
      expect(message).not.toContain(PIN);
      // Nothing was left open: the right PIN still logs in.
      expect((await withKey(settings('master'), (k) => k.checkValue())).length).toBe(32);
    });

    it('an unset PIN variable is refused, naming the variable and the setting', async () => {
      const message = await refusal(pkcs11MasterKey(settings('master'), {}, 'keys.previous'));
      expect(message).toBe(`${PIN_ENV} is not set: export the user PIN of token "${TOKEN}" in it (keys.previous.pkcs11.pin_env)`);
    });

    it('an unknown token label is refused, listing the tokens present', async () => {
      const message = await refusal(pkcs11MasterKey(settings('master', { token: 'no-such-token' }), env, 'keys'));
      expect(message).toContain('keys.pkcs11.token: no token labelled "no-such-token"');
      expect(message).toMatch(/; tokens present: "[^"]+", "[^"]+"$/);
      expect(message).toContain(`"${TOKEN}"`);
      expect(message).toContain(`"${OTHER_TOKEN}"`);
      expect(message).not.toContain(PIN);
    });

    it('an unknown key label is refused, pointing to ward keys hsm-init', async () => {
      const message = await refusal(pkcs11MasterKey(settings('no-such-key'), env, 'keys'));
      expect(message).toBe(
        `keys.pkcs11.key: no secret key labelled "no-such-key" in token "${TOKEN}"; create it with \`ward keys hsm-init\``,
      );
    });

    it('a module that cannot be loaded is refused, naming its path and the module setting', async () => {
      const message = await refusal(pkcs11MasterKey(settings('master', { module: '/nonexistent/libnope.so' }), env, 'keys'));
      expect(message).toContain('keys.pkcs11.module: cannot load the PKCS#11 module /nonexistent/libnope.so');
      expect(message).not.toContain(PIN);
    });

    it('a key that is extractable, or not sensitive, is refused', async () => {
      await rawSession((s, g) => {
        const base = {
          class: g.ObjectClass.SECRET_KEY,
          keyType: g.KeyType.AES,
          valueLen: 32,
          token: true,
          private: true,
          encrypt: true,
          decrypt: true,
        };
        s.generateKey(g.KeyGenMechanism.AES, { ...base, label: 'extractable', sensitive: true, extractable: true });
        s.generateKey(g.KeyGenMechanism.AES, { ...base, label: 'readable', sensitive: false, extractable: false });
      });
      expect(await refusal(pkcs11MasterKey(settings('extractable'), env, 'keys'))).toContain('is extractable (CKA_EXTRACTABLE)');
      expect(await refusal(pkcs11MasterKey(settings('readable'), env, 'keys'))).toContain('is not sensitive (CKA_SENSITIVE)');
    });

    it('close() ends the key: later use is refused, a second close is harmless, and the token opens again', async () => {
      const k = await pkcs11MasterKey(settings('master'), env, 'keys');
      const wrapped = await k.wrap(Buffer.alloc(32, 4), 'aad');
      await k.close();
      expect(await refusal(k.wrap(Buffer.alloc(32), 'aad'))).toContain('this master key was closed');
      expect(await refusal(k.unwrap(wrapped, 'aad'))).toContain('this master key was closed');
      expect(await refusal(k.checkValue())).toContain('this master key was closed');
      await k.close();
      expect(await withKey(settings('master'), (again) => again.unwrap(wrapped, 'aad'))).toEqual(Buffer.alloc(32, 4));
    });

    it('loadMasterKey with provider pkcs11 returns the token key', async () => {
      const k = await loadMasterKey({ provider: 'pkcs11', pkcs11: settings('master') }, env);
      try {
        expect(k.provider).toBe('pkcs11');
        expect(k.source).toBe(`pkcs11:token=${TOKEN};object=master`);
        const wrapped = await k.wrap(Buffer.alloc(32, 5), 'aad');
        expect(await k.unwrap(wrapped, 'aad')).toEqual(Buffer.alloc(32, 5));
        expect(await k.checkValue()).toEqual(await withKey(settings('master'), (again) => again.checkValue()));
      } finally {
        await k.close();
      }
    });

    it('ward keys hsm-init creates the key ward.yaml names (or --label), once, and prints one line', async () => {
      const dir = scratchDir('ward-pkcs11-cli-');
      const keysBlock = /^ {2}provider: file.*\n {2}file: .*\n/m;
      expect(EXAMPLE_CONFIG).toMatch(keysBlock);
      const yaml = EXAMPLE_CONFIG.replace(
        keysBlock,
        `  provider: pkcs11\n  pkcs11:\n    module: ${MODULE}\n    token: ${TOKEN}\n    key: cli-key\n    pin_env: ${PIN_ENV}\n`,
      );
      writeFileSync(join(dir, 'ward.yaml'), yaml);
      const run = async (args: string[]) => {
        const stdout = new PassThrough();
        let out = '';
        stdout.on('data', (c: Buffer) => {
          out += c.toString('utf8');
        });
        const program = new Command('ward').option('-c, --config <file>').exitOverride();
        const cli = new Cli({ stdout, stderr: new PassThrough(), stdin: Readable.from([]), env: { ...env }, cwd: dir }, program);
        program.command('keys');
        hsmCommands(program, cli);
        await program.parseAsync(['keys', 'hsm-init', ...args], { from: 'user' });
        return out;
      };
      expect(await run([])).toBe(`created master key pkcs11:token=${TOKEN};object=cli-key (AES-256, non-extractable, sensitive)\n`);
      expect(await run(['--label', 'cli-next'])).toBe(
        `created master key pkcs11:token=${TOKEN};object=cli-next (AES-256, non-extractable, sensitive); set keys.pkcs11.key to "cli-next" to use it\n`,
      );
      expect(await refusal(run([]))).toContain('already holds a secret key labelled "cli-key"');
      expect((await withKey(settings('cli-next'), (k) => k.checkValue())).length).toBe(32);
    });
  },
);

describe('pkcs11 master key without graphene-pk11', () => {
  it('a missing graphene-pk11 is reported as such, with how to install it', async () => {
    vi.resetModules();
    vi.doMock('graphene-pk11', () => {
      throw new Error('Cannot find package graphene-pk11');
    });
    try {
      const fresh = await import('../../src/crypto/pkcs11.js');
      const errors = await import('../../src/errors.js'); // the class the fresh module throws
      const e = await fresh.pkcs11MasterKey(settings('master'), env, 'keys').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(errors.isWardError(e, 'master_key_invalid')).toBe(true);
      const message = (e as Error).message;
      expect(message).toContain('keys.provider is pkcs11, but the optional package graphene-pk11 cannot be loaded');
      expect(message).toContain('npm install graphene-pk11');
      expect(message).toContain('pkcs11js');
    } finally {
      vi.doUnmock('graphene-pk11');
      vi.resetModules();
    }
  });
});
