/** ward.yaml loading and the production safety rules: every error names file, path and fix. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertProductionSafe } from '../../src/compliance/startup.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { loadConfig, parseConfig, type WardConfig } from '../../src/config/load.js';
import { devKeyFileText, loadMasterKey } from '../../src/crypto/master-key.js';
import { isWardError } from '../../src/errors.js';
import { openVault } from '../../src/vault/open.js';
import { freshDb } from '../helpers.js';
import { scratchDir } from '../scratch.js';

const FILE = '/etc/ward/ward.yaml';

function configError(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(text, FILE, env);
  } catch (e) {
    expect(isWardError(e, 'config_invalid')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a config error');
}

const edit = (from: string, to: string) => {
  expect(EXAMPLE_CONFIG).toContain(from);
  return EXAMPLE_CONFIG.replace(from, to);
};

describe('ward.yaml', () => {
  it('the example that ward init writes is valid and shows every field type option', () => {
    const cfg = parseConfig(EXAMPLE_CONFIG, FILE, {});
    const fields = cfg.collections.patients?.fields ?? {};
    for (const f of ['mrn', 'name', 'ssn', 'dob', 'email', 'phone', 'zip', 'diagnosis', 'notes', 'plan']) expect(fields[f]).toBeDefined();
    expect(fields.name?.search).toBe('exact');
    expect(fields.ssn).toMatchObject({ token: 'deterministic', mask: 'last4' });
    expect(cfg.database).toEqual({ kind: 'embedded', dir: '/etc/ward/.ward/pgdata' });
    expect(cfg.keys).toEqual({ provider: 'file', file: '/etc/ward/.ward/dev-master.key' });
  });

  it('DATABASE_URL wins over database.url, which wins over the embedded database', () => {
    const withUrl = edit('  # url: postgres://postgres@127.0.0.1:5432/ward', '  url: postgres://a@db/ward');
    expect(parseConfig(withUrl, FILE, {}).database).toEqual({ kind: 'url', url: 'postgres://a@db/ward', source: 'ward.yaml' });
    expect(parseConfig(withUrl, FILE, { DATABASE_URL: 'postgres://b@db/x' }).database).toEqual({
      kind: 'url',
      url: 'postgres://b@db/x',
      source: 'DATABASE_URL',
    });
  });

  it('unknown settings are errors naming their path', () => {
    expect(configError(edit('  tier: nonproduction', '  tier: nonproduction\n  colour: blue'))).toBe(
      `${FILE}:\n  space.colour: unknown setting; remove it or check its spelling`,
    );
    expect(configError(edit('        search: exact\n        unique: true', '        search: exact\n        uniq: true'))).toContain(
      'collections.patients.fields.mrn.uniq: unknown setting',
    );
  });

  it('bad values name the path and the allowed values', () => {
    expect(configError(edit('type: ssn', 'type: sssn'))).toContain(
      'collections.patients.fields.ssn.type: must be one of: string, text, name, ssn,',
    );
    expect(configError(edit('tier: nonproduction', 'tier: prod'))).toContain('space.tier: must be one of: production, nonproduction');
    expect(configError(edit('retention: 7y', 'retention: seven years'))).toContain(
      'collections.patients.retention: must be a duration such as 90d, 12w, 18m or 7y',
    );
    expect(configError(edit('  patients:', '  Patients:'))).toContain('collections.Patients: must start with a lowercase letter');
    expect(configError(edit('  name: local-dev', '  # name: local-dev'))).toContain('space.name: is required');
  });

  it('rules between settings name the fix', () => {
    expect(
      configError(
        edit('        class: clinical\n        description', '        class: clinical\n        search: exact\n        description'),
      ),
    ).toContain('collections.patients.fields.diagnosis.search: is not allowed on a clinical field');
    expect(configError(edit('        mask: year', '        mask: year\n        unique: true'))).toBe(
      `${FILE}:\n  collections.patients.fields.dob.unique: needs search: exact on the same field`,
    );
    expect(configError(edit('  file: .ward/dev-master.key', ''))).toContain('keys.file: is required when keys.provider is file');
    expect(configError(edit('        values: [bronze, silver, gold, medicare, medicaid]\n', ''))).toContain(
      'collections.patients.fields.plan.values: is required for type enum',
    );
  });

  it('audit events are kept at least six years; shorter retention and bad seal intervals are refused', () => {
    expect(parseConfig(EXAMPLE_CONFIG, FILE, {}).audit).toEqual({ retentionDays: 6 * 365, sealEveryMs: 10_000, verifyEveryMs: 86_400_000 });
    expect(parseConfig(edit('  retention: 6y\n  seal_every: 10s', '  retention: 10y\n  seal_every: off'), FILE, {}).audit).toEqual({
      retentionDays: 3650,
      sealEveryMs: null,
      verifyEveryMs: 86_400_000,
    });
    expect(parseConfig(edit('seal_every: 10s', 'seal_every: 500ms'), FILE, {}).audit.sealEveryMs).toBe(500);
    expect(configError(edit('retention: 6y', 'retention: 5y'))).toContain('audit.retention: must be at least 6y');
    expect(configError(edit('retention: 6y', 'retention: 71m'))).toContain('audit.retention: must be at least 6y');
    expect(parseConfig(edit('retention: 6y', 'retention: 72m'), FILE, {}).audit.retentionDays).toBe(6 * 365);
    for (const bad of ['0ms', '50ms', '61m', '9999999m'])
      expect(configError(edit('seal_every: 10s', `seal_every: ${bad}`))).toContain('audit.seal_every: must be from 100ms to 60m, or off');
    expect(configError(edit('seal_every: 10s', 'seal_every: fast'))).toContain(
      'audit.seal_every: must be a duration such as 500ms, 10s or 1m, or off',
    );
    expect(configError(edit('seal_every: 10s', 'seal_every: 10s\n  purge: true'))).toContain('audit.purge: unknown setting');
  });

  it('break-glass: a bounded window, rules checked as allow rules are', () => {
    const roles = parseConfig(EXAMPLE_CONFIG, FILE, {}).roles;
    expect(roles.triage?.break_glass).toMatchObject({ window: '1h', max_unreviewed: 3 });
    for (const bad of ['30s', '2d'])
      expect(configError(edit('      window: 1h', `      window: ${bad}`))).toContain(
        'roles.triage.break_glass.window: must be from 1m to 24h',
      );
    expect(configError(edit('      max_unreviewed: 3', '      max_unreviewed: 0'))).toContain('roles.triage.break_glass.max_unreviewed');
    expect(
      configError(
        edit('          fields: "*"\n          purposes: [treatment]', '          fields: [nickname]\n          purposes: [treatment]'),
      ),
    ).toContain('roles.triage.break_glass.allow[0]: unknown field nickname of collection patients');
  });

  it('log drains: HTTPS or syslog over TLS only, each with a name of its own', () => {
    const drains = (body: string) => `${EXAMPLE_CONFIG}\nlogging:\n  drains:\n${body}`;
    const ok = parseConfig(drains('    - name: siem\n      url: syslog+tls://siem.example:6514\n'), FILE, {});
    expect(ok.logging.drains).toEqual([{ name: 'siem', url: 'syslog+tls://siem.example:6514', flushMs: 2000 }]);
    for (const url of ['http://logs.example/x', 'syslog://siem.example:514', 'https://'])
      expect(configError(drains(`    - name: siem\n      url: ${url}\n`))).toContain(
        'logging.drains.0.url: must be an https:// or syslog+tls:// URL',
      );
    expect(configError(drains('    - name: a\n      url: https://a.example\n    - name: a\n      url: https://b.example\n'))).toContain(
      'each drain needs a name of its own',
    );
  });

  it('YAML syntax errors give the line and column', () => {
    expect(configError(EXAMPLE_CONFIG.replace('space:\n', 'space:\n  name: [unclosed\n'))).toMatch(
      /^\/etc\/ward\/ward\.yaml:\d+:\d+: not valid YAML/,
    );
    expect(configError('space: {name: a}\nspace: {name: b}')).toMatch(/not valid YAML \(DUPLICATE_KEY\)/);
  });

  it('a missing file names the file and the fix', () => {
    expect(() => loadConfig('/nonexistent/ward.yaml')).toThrow(
      '/nonexistent/ward.yaml: cannot read the file; create one with `ward init` or pass --config',
    );
  });
});

describe('production safety', () => {
  const prod = (db: string) => parseConfig(edit('tier: nonproduction', 'tier: production'), FILE, db ? { DATABASE_URL: db } : {});
  const key = { source: 'WARD_MASTER_KEY', dev: false, exposed: false };
  const refusal = (cfg: WardConfig, k = key, createdWithDev = false) => {
    try {
      assertProductionSafe(cfg, k, createdWithDev);
    } catch (e) {
      expect(isWardError(e, 'unsafe_production')).toBe(true);
      return (e as Error).message;
    }
    return '';
  };

  it('accepts a TLS database URL and a production key', () => {
    expect(refusal(prod('postgres://ward@db.internal/ward?sslmode=verify-full'))).toBe('');
    expect(refusal(prod('postgres://ward@db.internal/ward?sslmode=require'))).toBe('');
  });

  it('refuses the embedded database', () => {
    expect(refusal(prod(''))).toContain('the embedded database is for development; set database.url or DATABASE_URL');
  });

  it('refuses a database URL that does not require TLS', () => {
    for (const url of ['postgres://ward@db/ward', 'postgres://ward@db/ward?sslmode=prefer', 'postgres://ward@db/ward?sslmode=disable'])
      expect(refusal(prod(url))).toContain('database.url (from DATABASE_URL): the connection must require TLS; add ?sslmode=verify-full');
  });

  it('refuses a dev master key, a database made under one, and a key file others can read', () => {
    const url = 'postgres://ward@db/ward?sslmode=verify-full';
    expect(refusal(prod(url), { ...key, dev: true })).toContain('is a development key made by `ward init`');
    expect(refusal(prod(url), key, true)).toContain('keys were created under a development master key');
    expect(refusal(prod(url), { ...key, source: '/k', exposed: true })).toContain('/k can be read by other users; run chmod 600');
  });

  it('a nonproduction space allows all of these', () => {
    expect(refusal(parseConfig(EXAMPLE_CONFIG, FILE, {}), { ...key, dev: true, exposed: true }, true)).toBe('');
  });

  it('the key file ward init writes is marked dev and refused by openVault in production', async () => {
    const dir = scratchDir('ward-key-');
    const file = join(dir, 'dev.key');
    writeFileSync(file, devKeyFileText(), { mode: 0o600 });
    const k = await loadMasterKey({ provider: 'file', file }, {});
    expect(k).toMatchObject({ dev: true, exposed: false, source: file, provider: 'file' });
    chmodSync(file, 0o644);
    expect((await loadMasterKey({ provider: 'file', file }, {})).exposed).toBe(true);
    const cfg = { ...prod('postgres://ward@db/ward?sslmode=verify-full'), keys: { provider: 'file' as const, file } };
    await expect(openVault(cfg, { env: {} })).rejects.toMatchObject({ code: 'unsafe_production' });
  });

  it('a production start on a database created under a dev key is refused, even with that key from the env', async () => {
    const t = await freshDb('pglite');
    const file = join(scratchDir('ward-key-'), 'dev.key');
    const text = devKeyFileText();
    writeFileSync(file, text, { mode: 0o600 });
    const dev = { ...parseConfig(EXAMPLE_CONFIG, FILE, {}), keys: { provider: 'file' as const, file } };
    await openVault(dev, { env: {}, db: t.db });
    const sameKey = (/ward-dev-key:(\S+)/.exec(text) as RegExpExecArray)[1] as string;
    const cfg = prod('postgres://ward@db/ward?sslmode=verify-full');
    await expect(openVault(cfg, { env: { WARD_MASTER_KEY: sameKey }, db: t.db })).rejects.toMatchObject({
      code: 'unsafe_production',
      message: expect.stringContaining('keys were created under a development master key'),
    });
    await t.db.close();
  });
});
