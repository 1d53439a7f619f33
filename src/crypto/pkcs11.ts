/**
 * The pkcs11 master key provider: the master key is an AES-256 secret key object inside a PKCS#11
 * token (an HSM, or SoftHSM2 for tests), found by its label. It is non-extractable and sensitive,
 * so it never leaves the token: wrapping and unwrapping are AES-GCM operations the token performs
 * (C_Encrypt and C_Decrypt with CKM_AES_GCM). Ward holds one session per master key, logged in as
 * the token's user with the PIN from the environment variable the configuration names.
 *
 * The PKCS#11 binding (`graphene-pk11` over the native `pkcs11js`) is an optional dependency,
 * imported only when this provider is used, so Ward builds and runs without it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { WardError } from '../errors.js';
import { integrityError } from './aead.js';

/** `keys.pkcs11` (and `keys.previous.pkcs11`) in ward.yaml. */
export interface Pkcs11Settings {
  /** Path of the token's PKCS#11 module (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so). */
  module: string;
  /** The token's label. */
  token: string;
  /** The label of the AES-256 key inside the token. */
  key: string;
  /** The environment variable holding the user PIN (never the PIN itself). */
  pin_env: string;
}

/**
 * The master key a token holds: `MasterKey` of master-key.ts, spelled out here because that module
 * imports this one (an import back would be a cycle); `loadMasterKey` returning it checks they agree.
 */
export interface Pkcs11MasterKey {
  readonly source: string;
  readonly provider: 'pkcs11';
  readonly dev: false;
  readonly exposed: false;
  wrap(plain: Buffer, aad: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, aad: string): Promise<Buffer>;
  checkValue(): Promise<Buffer>;
  close(): Promise<void>;
}

/** What `createPkcs11Key` made. */
export interface CreatedPkcs11Key {
  /** The key as a PKCS#11 URI (RFC 7512): `pkcs11:token=...;object=...`. */
  source: string;
  token: string;
  label: string;
}

// Envelope: [format][iv: 12][ciphertext || tag: 16]. The format byte differs from the local
// envelope's (aead.ts uses 1), so a blob wrapped by one provider never parses as another's.
const FORMAT = 0x11;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const CHECK_INPUT = Buffer.from('ward/master-key-check/v1');

// Return values that mean the token or session is gone, not that the data is bad: reported as
// such instead of as an integrity error.
const UNAVAILABLE = new Set([
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_DEVICE_REMOVED',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_USER_NOT_LOGGED_IN',
]);

// The part of graphene-pk11 this provider uses. Declared here rather than imported so that Ward
// type-checks and builds where the optional package is absent.
interface Collection<T> {
  readonly length: number;
  items(index: number): T;
}
type Template = Record<string, unknown>;
interface GObject {
  getAttribute(attrs: Template): Template;
  toType<T>(): T;
}
interface GKey extends GObject {
  readonly handle: Buffer;
}
interface GMechanism {
  name: string;
  params?: unknown;
}
interface GSession {
  login(pin: string, userType: number): void;
  logout(): void;
  close(): void;
  find(template: Template): Collection<GObject>;
  generateKey(mechanism: string | number, template: Template): GKey;
  createCipher(alg: GMechanism, key: GKey): { once(data: Buffer, out: Buffer): Buffer };
  createDecipher(alg: GMechanism, key: GKey): { once(data: Buffer, out: Buffer): Buffer };
  createSign(alg: GMechanism | string, key: GKey): { once(data: Buffer): Buffer };
}
interface GSlot {
  readonly handle: Buffer;
  getToken(): { label: string };
  open(flags: number): GSession;
}
interface GModule {
  initialize(): void;
  finalize(): void;
  close(): void;
  getSlots(tokenPresent: boolean): Collection<GSlot>;
}
interface Graphene {
  Module: { load(file: string): GModule };
  AesGcm240Params: new (iv: Buffer, aad: Buffer, tagBits: number) => unknown;
  SessionFlag: { SERIAL_SESSION: number; RW_SESSION: number };
  UserType: { USER: number };
  ObjectClass: { SECRET_KEY: number };
  KeyType: { AES: number };
  KeyGenMechanism: { AES: string | number };
}

// A specifier TypeScript does not resolve: the package is optional.
const GRAPHENE = 'graphene-pk11' as string;

async function loadGraphene(path: string): Promise<Graphene> {
  try {
    return (await import(GRAPHENE)) as Graphene;
  } catch {
    throw new WardError(
      'master_key_invalid',
      `${path}.provider is pkcs11, but the optional package graphene-pk11 cannot be loaded: it is not installed, or its native ` +
        'part pkcs11js (built with node-gyp at install) did not build. Install python3, make and a C++ compiler, then run ' +
        '`npm install graphene-pk11` (npm 11 builds pkcs11js only when package.json allowScripts lists pkcs11js)',
    );
  }
}

/** The CKR_* name of a PKCS#11 error, if it is one. */
function ckr(e: unknown): string | undefined {
  return /CKR_[A-Z0-9_]+/.exec(e instanceof Error ? e.message : '')?.[0];
}

// One loaded and initialized module per file, shared by every master key that uses it: PKCS#11
// state is per process (C_Initialize, C_Finalize), and so is the login on a token (C_Login once,
// C_Logout ends it for every session), so both are counted and undone by the last user.
interface LoadedModule {
  file: string;
  module: GModule;
  users: number;
  logins: Map<string, number>;
}
const modules = new Map<string, LoadedModule>();

function acquireModule(g: Graphene, settings: Pkcs11Settings, path: string): LoadedModule {
  let file = settings.module;
  try {
    file = realpathSync(file);
  } catch {
    // Not there: Module.load says so below.
  }
  let loaded = modules.get(file);
  if (!loaded) {
    let module: GModule;
    try {
      module = g.Module.load(file);
    } catch (e) {
      const reason = e instanceof Error ? e.message : 'unknown error';
      throw new WardError(
        'master_key_invalid',
        `${path}.pkcs11.module: cannot load the PKCS#11 module ${settings.module} (${reason}); set ${path}.pkcs11.module to the token's module`,
      );
    }
    try {
      module.initialize();
    } catch (e) {
      tryTo(() => module.close());
      throw new WardError(
        'master_key_invalid',
        `${path}.pkcs11.module: the PKCS#11 module ${settings.module} failed to initialize (${ckr(e) ?? 'unknown error'})`,
      );
    }
    loaded = { file, module, users: 0, logins: new Map() };
    modules.set(file, loaded);
  }
  loaded.users++;
  return loaded;
}

function releaseModule(loaded: LoadedModule): void {
  if (--loaded.users > 0) return;
  modules.delete(loaded.file);
  tryTo(() => loaded.module.finalize());
  tryTo(() => loaded.module.close());
}

function tryTo(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleaning up: the token may already be gone.
  }
}

const quote = (s: string) => JSON.stringify(s);

/** A logged-in session on the configured token; `release` logs out (when last) and closes it. */
interface TokenSession {
  g: Graphene;
  settings: Pkcs11Settings;
  session: GSession;
  source: (label: string) => string;
  release(): void;
}

async function openToken(settings: Pkcs11Settings | undefined, env: NodeJS.ProcessEnv, path: string, rw: boolean): Promise<TokenSession> {
  if (!settings)
    throw new WardError(
      'master_key_invalid',
      `${path}.pkcs11: is required when ${path}.provider is pkcs11: name the module, token, key label and pin_env`,
    );
  const g = await loadGraphene(path);
  const pin = env[settings.pin_env];
  if (!pin)
    throw new WardError(
      'master_key_invalid',
      `${settings.pin_env} is not set: export the user PIN of token ${quote(settings.token)} in it (${path}.pkcs11.pin_env)`,
    );
  const loaded = acquireModule(g, settings, path);
  let session: GSession | undefined;
  let loginKey: string | undefined;
  const release = () => {
    if (loginKey !== undefined) {
      const n = (loaded.logins.get(loginKey) ?? 1) - 1;
      if (n > 0) loaded.logins.set(loginKey, n);
      else {
        loaded.logins.delete(loginKey);
        const s = session;
        if (s) tryTo(() => s.logout());
      }
      loginKey = undefined;
    }
    if (session) {
      const s = session;
      session = undefined;
      tryTo(() => s.close());
      releaseModule(loaded);
    }
  };
  try {
    const slot = findSlot(loaded.module, settings, path);
    try {
      session = slot.open(g.SessionFlag.SERIAL_SESSION | (rw ? g.SessionFlag.RW_SESSION : 0));
    } catch (e) {
      throw new WardError(
        'master_key_invalid',
        `${path}.pkcs11: cannot open a session on token ${quote(settings.token)} (${ckr(e) ?? 'unknown error'})`,
      );
    }
    login(g, session, pin, settings, path);
    const key = slot.handle.toString('hex');
    loginKey = key;
    loaded.logins.set(key, (loaded.logins.get(key) ?? 0) + 1);
  } catch (e) {
    if (session) release();
    else releaseModule(loaded);
    throw e;
  }
  const token = encodeURIComponent(settings.token);
  return { g, settings, session, source: (label) => `pkcs11:token=${token};object=${encodeURIComponent(label)}`, release };
}

function findSlot(module: GModule, settings: Pkcs11Settings, path: string): GSlot {
  const found: GSlot[] = [];
  const labels: string[] = [];
  let slots: Collection<GSlot>;
  try {
    slots = module.getSlots(true);
  } catch (e) {
    throw new WardError('master_key_invalid', `${path}.pkcs11.module: cannot list the module's slots (${ckr(e) ?? 'unknown error'})`);
  }
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.items(i);
    let label: string;
    try {
      label = slot.getToken().label;
    } catch {
      continue; // a slot whose token cannot be read is not the one configured
    }
    if (label) labels.push(quote(label)); // an empty label: a free, uninitialized token (SoftHSM keeps one)
    if (label === settings.token) found.push(slot);
  }
  const [slot] = found;
  if (!slot)
    throw new WardError(
      'master_key_invalid',
      `${path}.pkcs11.token: no token labelled ${quote(settings.token)} in module ${settings.module}; ` +
        `tokens present: ${labels.length ? labels.join(', ') : 'none'}`,
    );
  if (found.length > 1)
    throw new WardError(
      'master_key_invalid',
      `${path}.pkcs11.token: ${found.length} tokens are labelled ${quote(settings.token)} in module ${settings.module}; give each a unique label`,
    );
  return slot;
}

function login(g: Graphene, session: GSession, pin: string, settings: Pkcs11Settings, path: string): void {
  try {
    session.login(pin, g.UserType.USER);
  } catch (e) {
    const code = ckr(e);
    // Another master key of this process already logged in to this token: the login is shared
    // (PKCS#11 keeps one per application and token), and this PIN is not checked again.
    if (code === 'CKR_USER_ALREADY_LOGGED_IN') return;
    const where = `${path}.pkcs11: the token ${quote(settings.token)} refused the PIN in ${settings.pin_env}`;
    if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE') throw new WardError('master_key_invalid', `${where} (wrong PIN)`);
    if (code === 'CKR_PIN_LOCKED')
      throw new WardError(
        'master_key_invalid',
        `${where}: the user PIN is locked after too many wrong tries; the token's SO must reset it`,
      );
    if (code === 'CKR_PIN_EXPIRED') throw new WardError('master_key_invalid', `${where}: the user PIN has expired; set a new one`);
    throw new WardError(
      'master_key_invalid',
      `${path}.pkcs11: cannot log in to token ${quote(settings.token)} (${code ?? 'unknown error'})`,
    );
  }
}

interface KeyAttributes {
  keyType?: unknown;
  valueLen?: unknown;
  extractable?: unknown;
  sensitive?: unknown;
  encrypt?: unknown;
  decrypt?: unknown;
}

function findKeys(t: TokenSession, label: string, path: string): GObject[] {
  try {
    const found = t.session.find({ class: t.g.ObjectClass.SECRET_KEY, label });
    return Array.from({ length: found.length }, (_, i) => found.items(i));
  } catch (e) {
    throw new WardError(
      'master_key_invalid',
      `${path}.pkcs11: cannot search token ${quote(t.settings.token)} for its keys (${ckr(e) ?? 'unknown error'})`,
    );
  }
}

/** The master key object, after checking it can never leave the token. */
function masterKeyObject(t: TokenSession, settings: Pkcs11Settings, path: string): GKey {
  const where = `${path}.pkcs11.key: the key labelled ${quote(settings.key)} in token ${quote(settings.token)}`;
  const found = findKeys(t, settings.key, path);
  const [object] = found;
  if (!object)
    throw new WardError(
      'master_key_invalid',
      `${path}.pkcs11.key: no secret key labelled ${quote(settings.key)} in token ${quote(settings.token)}; create it with \`ward keys hsm-init\``,
    );
  if (found.length > 1)
    throw new WardError('master_key_invalid', `${where} is not unique (${found.length} keys); give the master key a label of its own`);
  let key: GKey;
  let a: KeyAttributes;
  try {
    key = object.toType<GKey>();
    a = key.getAttribute({ keyType: null, valueLen: null, extractable: null, sensitive: null, encrypt: null, decrypt: null });
  } catch (e) {
    throw new WardError('master_key_invalid', `${where}: cannot read its attributes (${ckr(e) ?? 'unknown error'})`);
  }
  if (a.keyType !== t.g.KeyType.AES || a.valueLen !== KEY_BYTES)
    throw new WardError('master_key_invalid', `${where} is not an AES-256 key; create one with \`ward keys hsm-init\``);
  if (a.extractable !== false)
    throw new WardError('master_key_invalid', `${where} is extractable (CKA_EXTRACTABLE): its value could leave the token; refused`);
  if (a.sensitive !== true)
    throw new WardError('master_key_invalid', `${where} is not sensitive (CKA_SENSITIVE): its value could be read; refused`);
  if (a.encrypt !== true || a.decrypt !== true)
    throw new WardError('master_key_invalid', `${where} does not allow both encrypt and decrypt (CKA_ENCRYPT, CKA_DECRYPT)`);
  return key;
}

/**
 * The master key held by a PKCS#11 token. Every operation runs in the token on this key's one
 * session; the calls are synchronous, so operations on the session never interleave (they do hold
 * the event loop for one token round trip each, which master keys, used at start-up and for
 * rotations, can afford). `close()` logs out, closes the session and finalizes the module (each
 * only when no other master key of this process still uses it).
 *
 * Wrapped keys are `[0x11][iv: 12][ciphertext || tag: 16]`: AES-256-GCM in the token with a
 * random 96-bit IV from node:crypto (never all zeros, which the check value below uses), a
 * 128-bit tag, and the caller's `aad` as the additional data. Any failure to unwrap is the same
 * opaque `integrity_error`, unless the token or session itself is gone.
 *
 * The check value is SHA-256 over a domain prefix and AES-CMAC (CKM_AES_CMAC, C_Sign) of the
 * constant `ward/master-key-check/v1`: deterministic for the key, and, as a MAC, it reveals
 * nothing about it. A token without AES-CMAC, or a key whose CKA_SIGN is false, gets instead the
 * AES-GCM encryption of that constant under the all-zero IV, which is used for nothing else (a
 * fixed IV with one fixed plaintext repeats only itself), under another prefix. The choice depends
 * only on the token and the key, so it is the same in every session.
 */
export async function pkcs11MasterKey(
  settings: Pkcs11Settings | undefined,
  env: NodeJS.ProcessEnv,
  path: string,
): Promise<Pkcs11MasterKey> {
  const t = await openToken(settings, env, path, false);
  let key: GKey;
  try {
    key = masterKeyObject(t, t.settings, path);
  } catch (e) {
    t.release();
    throw e;
  }
  const { g } = t;
  const source = t.source(t.settings.key);
  let open = true;
  let check: Buffer | undefined;

  const live = (): GSession => {
    if (!open) throw new WardError('master_key_invalid', `${source}: this master key was closed`);
    return t.session;
  };
  const unavailable = (e: unknown, what: string) =>
    new WardError('master_key_invalid', `${source}: the token could not ${what} (${ckr(e) ?? 'unknown error'})`);
  const gcm = (iv: Buffer, aad: Buffer) => ({ name: 'AES_GCM', params: new g.AesGcm240Params(iv, aad, TAG_BYTES * 8) });

  return {
    source,
    provider: 'pkcs11',
    dev: false,
    exposed: false,
    async wrap(plain, aad) {
      const s = live();
      let iv = randomBytes(IV_BYTES);
      while (iv.every((b) => b === 0)) iv = randomBytes(IV_BYTES);
      let sealed: Buffer;
      try {
        sealed = s.createCipher(gcm(iv, Buffer.from(aad)), key).once(plain, Buffer.alloc(plain.length + TAG_BYTES));
      } catch (e) {
        throw unavailable(e, 'encrypt');
      }
      if (sealed.length !== plain.length + TAG_BYTES)
        throw new WardError('master_key_invalid', `${source}: the token's AES-GCM output has an unexpected length`);
      return Buffer.concat([Buffer.of(FORMAT), iv, sealed]);
    },
    async unwrap(wrapped, aad) {
      const s = live();
      if (wrapped.length < 1 + IV_BYTES + TAG_BYTES || wrapped[0] !== FORMAT) throw integrityError();
      const iv = wrapped.subarray(1, 1 + IV_BYTES);
      const sealed = wrapped.subarray(1 + IV_BYTES);
      try {
        const plain = s.createDecipher(gcm(Buffer.from(iv), Buffer.from(aad)), key).once(Buffer.from(sealed), Buffer.alloc(sealed.length));
        if (plain.length !== sealed.length - TAG_BYTES) throw integrityError();
        return plain;
      } catch (e) {
        const code = ckr(e);
        if (code && UNAVAILABLE.has(code)) throw unavailable(e, 'decrypt');
        throw integrityError();
      }
    },
    async checkValue() {
      const s = live();
      if (check) return Buffer.from(check);
      let method: string;
      let value: Buffer;
      try {
        value = s.createSign({ name: 'AES_CMAC' }, key).once(CHECK_INPUT);
        method = 'aes-cmac';
      } catch (e) {
        const code = ckr(e);
        if (code !== 'CKR_MECHANISM_INVALID' && code !== 'CKR_KEY_FUNCTION_NOT_PERMITTED' && code !== 'CKR_KEY_TYPE_INCONSISTENT')
          throw unavailable(e, 'compute the key check value');
        try {
          value = s
            .createCipher(gcm(Buffer.alloc(IV_BYTES), Buffer.alloc(0)), key)
            .once(CHECK_INPUT, Buffer.alloc(CHECK_INPUT.length + TAG_BYTES));
        } catch (e2) {
          throw unavailable(e2, 'compute the key check value');
        }
        method = 'aes-gcm-zero-iv';
      }
      check = createHash('sha256').update(`ward/master-key-check/v1/pkcs11/${method}\0`).update(value).digest();
      return Buffer.from(check);
    },
    async close() {
      if (!open) return;
      open = false;
      t.release();
    },
  };
}

/**
 * Generates the master key inside the token (what `ward keys hsm-init` runs): AES-256 with
 * CKA_TOKEN (it persists), CKA_PRIVATE (visible only after login), CKA_SENSITIVE and not
 * CKA_EXTRACTABLE (its value never leaves the token), allowed to encrypt, decrypt and sign (the
 * AES-CMAC check value) and nothing else. Refuses when a secret key with the label exists: it may
 * protect data.
 */
export async function createPkcs11Key(
  settings: Pkcs11Settings | undefined,
  env: NodeJS.ProcessEnv,
  path: string,
  label?: string,
): Promise<CreatedPkcs11Key> {
  if (label !== undefined && !label.trim()) throw new WardError('invalid_request', 'the key label must not be empty');
  const t = await openToken(settings, env, path, true);
  const s = t.settings;
  try {
    const name = label ?? s.key;
    if (findKeys(t, name, path).length)
      throw new WardError(
        'master_key_invalid',
        `${path}.pkcs11.key: token ${quote(s.token)} already holds a secret key labelled ${quote(name)}; it is never replaced (it may protect data): choose another label`,
      );
    try {
      t.session.generateKey(t.g.KeyGenMechanism.AES, {
        class: t.g.ObjectClass.SECRET_KEY,
        keyType: t.g.KeyType.AES,
        valueLen: KEY_BYTES,
        label: name,
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        encrypt: true,
        decrypt: true,
        sign: true,
        verify: false,
        wrap: false,
        unwrap: false,
        derive: false,
      });
    } catch (e) {
      throw new WardError(
        'master_key_invalid',
        `${path}.pkcs11: token ${quote(s.token)} could not generate the key (${ckr(e) ?? 'unknown error'})`,
      );
    }
    masterKeyObject(t, { ...s, key: name }, path); // what the provider will accept
    return { source: t.source(name), token: s.token, label: name };
  } finally {
    t.release();
  }
}
