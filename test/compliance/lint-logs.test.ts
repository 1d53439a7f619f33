/**
 * `ward lint-logs` and the ESLint rule `ward/no-phi-in-logs`: logging calls whose arguments reach
 * PHI, found with the TypeScript compiler's syntax tree. The fixture apps (test/fixtures/lint-logs,
 * stored with a `.txt` suffix so that tsc and Biome leave them alone) are copied to a temporary
 * directory and linted there; small cases go through `lintSource`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Linter, RuleTester } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin, { noPhiInLogs } from '../../src/compliance/eslint-plugin.js';
import { LintLogsError, lintLogs, lintSource, sourceFiles, wardFields } from '../../src/compliance/lint-logs.js';
import { isLoggerName, isMaskingName, isWardName, PHI_PROPERTY_NAMES, PhiNames } from '../../src/compliance/phi-names.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { ward } from '../cli/harness.js';
import { scratchDir } from '../scratch.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'lint-logs');

/** A fixture tree copied to `into`, each file without its `.txt` suffix. */
function copyFixture(name: string, into: string): string {
  const walk = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const e of readdirSync(from, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(from, e.name), join(to, e.name));
      else if (e.name.endsWith('.txt')) writeFileSync(join(to, e.name.slice(0, -4)), readFileSync(join(from, e.name)));
    }
  };
  walk(join(FIXTURES, name), join(into, name));
  return join(into, name);
}

const line = (f: { file: string; line: number; column: number; call: string; property: string }) =>
  `${f.file}:${f.line}:${f.column}  ${f.call}  ${f.property}`;

/** `line:property` for each finding in a snippet (TypeScript unless `file` says otherwise). */
const found = (code: string, o: { fields?: string[]; publicFields?: string[]; file?: string } = {}) =>
  lintSource(code, o.file ?? 'snippet.ts', { fields: o.fields, publicFields: o.publicFields }).map((f) => `${f.line}:${f.property}`);

/** What the fixture app holds: every finding, by file, line and column, with no ward.yaml. */
const APP_FINDINGS = [
  'src/jobs/export.js:9:25  log.info  mrn',
  'src/jobs/export.js:9:25  log.info  diagnosis',
  'src/jobs/export.js:11:90  console.warn  values',
  'src/jobs/legacy.cjs:6:27  logger.info  address',
  'src/routes/patients.ts:13:18  req.log.info  patient',
  'src/routes/patients.ts:14:23  logger.info  patient.fields.name',
  'src/routes/patients.ts:16:22  console.log  dob',
  'src/routes/patients.ts:24:31  app.log.warn  firstName',
  'src/routes/patients.ts:24:49  app.log.warn  lastName',
  'src/routes/patients.ts:33:46  logger.trace  r.fields',
  'src/routes/patients.ts:34:31  logger.info  mrn',
  'src/routes/patients.ts:41:15  child.error  p.fields.diagnosis_code',
  'src/routes/patients.ts:42:22  child.info  p.fields.plan',
  'src/ui/PatientCard.tsx:7:33  console.debug  phone',
];

let dir: string;
let app: string;
let clean: string;
beforeAll(() => {
  dir = scratchDir('ward-lint-logs-');
  app = copyFixture('app', dir);
  clean = copyFixture('clean', dir);
  // What the walk must skip: dependencies, build output, git's own files.
  for (const skipped of ['node_modules/phi-lib/index.js', 'dist/server.js', '.git/hooks/pre-commit.js', 'src/generated.d.ts']) {
    mkdirSync(dirname(join(app, skipped)), { recursive: true });
    writeFileSync(join(app, skipped), 'const patient = {};\nconsole.log(patient.ssn);\n');
  }
});

describe('lintLogs: phi-in-log in a directory', () => {
  it('finds each logging call whose arguments reach PHI, by file (relative), line and column, sorted', () => {
    expect(lintLogs(app).map(line)).toEqual(APP_FINDINGS);
    expect(lintLogs(app).every((f) => f.rule === 'phi-in-log')).toBe(true);
  });

  it('walks .ts .tsx .js .mjs .cjs .jsx files, skipping node_modules, dist, .git and declaration files', () => {
    const files = sourceFiles(app).map((f) =>
      f
        .slice(app.length + 1)
        .split('\\')
        .join('/'),
    );
    expect(files).toEqual([
      'src/jobs/export.js',
      'src/jobs/legacy.cjs',
      'src/jobs/nightly.mjs',
      'src/routes/patients.ts',
      'src/ui/PatientCard.tsx',
    ]);
  });

  it('reports nothing where every value is clean, masked or metadata (the clean app, and nightly.mjs)', () => {
    expect(lintLogs(clean)).toEqual([]);
    expect(lintLogs(app).filter((f) => f.file.includes('nightly'))).toEqual([]);
  });

  it("Ward's identifier and clinical fields name what is read off records; its public fields are no finding there", () => {
    const names = wardFields(parseConfig(EXAMPLE_CONFIG, '/virtual/ward.yaml', {}));
    expect([...names.fields]).toContain('diagnosis_code');
    expect([...names.publicFields]).toEqual(['plan']);
    expect(lintLogs(app, names).map(line)).toEqual(
      APP_FINDINGS.filter((l) => !l.endsWith('p.fields.plan')).map((l) =>
        l.replace('patient.fields.name', 'name').replace('p.fields.diagnosis_code', 'diagnosis_code'),
      ),
    );
  });

  it('lints a list of files relative to a root, and one file by its path', () => {
    const one = lintLogs(['src/ui/PatientCard.tsx'], { root: app }).map(line);
    expect(one).toEqual(['src/ui/PatientCard.tsx:7:33  console.debug  phone']);
    expect(lintLogs(join(app, 'src/ui/PatientCard.tsx')).map((f) => f.file)).toEqual(['PatientCard.tsx']);
  });

  it('a missing directory or unreadable file is a LintLogsError naming the path only', () => {
    expect(() => lintLogs(join(dir, 'nowhere'))).toThrow(LintLogsError);
    expect(() => lintLogs(['missing.ts'], { root: app })).toThrow('cannot read missing.ts');
  });
});

describe('phi-in-log: what an argument reaches', () => {
  it('a PHI-named property, read directly, by index, or after a person word (patientEmail)', () => {
    expect(found("log.info(p.ssn);\nlog.info(p['dateOfBirth']);\nlogger.warn(this.patientEmail);\nlog.info(p.first_name)")).toEqual([
      '1:ssn',
      '2:dateOfBirth',
      '3:patientEmail',
      '4:first_name',
    ]);
  });

  it('object literals (keys and values), shorthand, spread, arrays, template literals and concatenation', () => {
    const code = [
      'log.info({ who: p.lastName });',
      'log.info({ email: someValue });',
      'log.info({ dob });',
      'log.info({ ...patient.address });',
      'log.info([p.mrn]);',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the code under test
      'log.info(`patient ${p.fullName}`);',
      "log.info('zip ' + p.zip);",
    ].join('\n');
    expect(found(code)).toEqual(['1:lastName', '2:email', '3:dob', '4:address', '5:mrn', '6:fullName', '7:zip']);
  });

  it('conservative through calls: a function result carries its arguments, a method result its receiver', () => {
    const code = [
      'log.info(JSON.stringify(p.ssn));',
      'log.info(p.email.toLowerCase());',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the code under test
      'log.error(new Error(`bad ssn ${p.ssn}`));',
    ].join('\n');
    expect(found(code)).toEqual(['1:ssn', '2:email', '3:ssn']);
  });

  it('not what carries nothing identifying: sizes, comparisons, tests, typeof, field names, literal values under PHI keys', () => {
    const code = [
      'log.info(p.notes.length);',
      'log.info(p.ssn === undefined, !p.dob, typeof p.email);',
      "log.info(p.email.includes('@'), Boolean(p.phone));",
      'log.info(Object.keys(p.address));',
      "log.info({ ssn: '***', dob: null, email: undefined });",
      "log.info(p.ssn ? 'has ssn' : 'none');",
    ].join('\n');
    expect(found(code)).toEqual([]);
  });

  it('never what passes through a masking function first (scrub, mask, redact, maskSsn, phi.redact, tagged)', () => {
    const code = [
      'log.info(scrub(p.ssn));',
      'log.info({ ssn: mask(p.ssn), dob: maskDob(p.dob) });',
      'log.info(phi.redact(patient));',
      'log.info(anonymize(record), deidentify(p.mrn), pseudonymize(p.email));',
      'const email = redactEmail(p.email);',
      'log.info({ email });',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the code under test
      'log.info(redacted`ssn ${p.ssn}`);',
    ].join('\n');
    expect(found(code)).toEqual([]);
  });

  it("a variable named for PHI counts unless bound here to a clean value; Ward's generic field names only on records", () => {
    const code = [
      'function f(ssn: string, name: string) {',
      '  log.info(ssn, name);',
      "  const dob = '';",
      '  log.info(dob);',
      '  const phone = lookupPhone();',
      '  log.info(phone);',
      '  log.info(err.name, patient.name);',
      '}',
    ].join('\n');
    expect(found(code)).toEqual(['2:ssn', '6:phone']);
    expect(found(code, { fields: ['name', 'allergy_list'] })).toEqual(['2:ssn', '6:phone', '7:name']);
    expect(found('log.info(x.allergyList, x.status)', { fields: ['allergy_list', 'status'] })).toEqual(['1:allergyList']);
  });
});

describe('phi-in-log: data flow within a function', () => {
  it('a record read from Ward (.get, .search, .create, .update, .detokenize of a ward client or vault), logged whole', () => {
    const code = [
      'async function show(vault: Vault, id: string) {',
      "  const p = await vault.get('patients', id);",
      '  log.info(p);',
      "  log.info({ patient: await this.wardClient.search('patients', {}) });",
      "  log.info(await deps.ward.patients.create('patients', {}));",
      '  log.info(p.id, p.version, p.createdAt);',
      '}',
    ].join('\n');
    expect(found(code)).toEqual(['3:p', '4:this.wardClient.search()', '5:deps.ward.patients.create()']);
  });

  it('const p = await vault.get(...); log.info(p.ssn), destructuring, aliases, and a later assignment', () => {
    const code = [
      "const p = await vault.get('patients', id);",
      'log.info(p.ssn);',
      'const { dob } = p.fields;',
      'console.log(dob);',
      'const { diagnosis: dx, ...rest } = p.fields;',
      'log.info(dx, rest);',
      'const copy = p;',
      'log.info({ copy });',
      'let s = p.fields.email;',
      'log.info(s);',
      's = mask(s);',
      'log.info(s);',
    ].join('\n');
    expect(found(code)).toEqual(['2:ssn', '4:dob', '6:diagnosis', '6:rest', '8:copy', '10:email']);
  });

  it('clients by construction (openVault, new WardClient): not by a word inside another (forward, steward)', () => {
    const code = [
      'const v = await openVault(config);',
      "const a = await v.get('patients', id);",
      'log.info(a);',
      'const c = new WardClient(url);',
      "log.info(await c.search('patients', {}));",
      "const f = await forward.get('x');",
      'log.info(f, cache.get(k), steward.create());',
    ].join('\n');
    expect(found(code)).toEqual(['3:a', '5:c.search()']);
  });

  it('callbacks and loops over records: the parameter holds a record; map gives what the callback returns', () => {
    const code = [
      "const rows = await vault.search('patients', {});",
      'rows.forEach((r) => log.debug(r));',
      'for (const row of rows) console.info(row.fields.mrn);',
      'log.info(rows.map((r) => r.id), rows.length);',
      'log.info(rows.map((r) => r.fields.email));',
      "vault.get('patients', id).then((p) => log.warn(p.fields));",
      'log.info(rows.filter((r) => r.fields.active));',
    ].join('\n');
    expect(found(code)).toEqual(['2:r', '3:mrn', '5:email', '6:p.fields', '7:rows']);
  });

  it('scopes: an inner binding shadows, a parameter is unknown, var reaches its function', () => {
    const code = [
      "const p = await vault.get('patients', id);",
      'function inner(p) {',
      '  log.info(p);',
      '}',
      'function closure() {',
      '  log.info(p);',
      '}',
      'function f() {',
      '  if (x) {',
      "    var q = vault.get('patients', id);",
      '  }',
      '  log.info(q);',
      '}',
    ].join('\n');
    expect(found(code)).toEqual(['6:p', '12:q']);
  });
});

describe('phi-in-log: which calls log', () => {
  it('console methods and logger-named receivers (req.log, fastify.log, this.logger, auditLog, pino(), log.child())', () => {
    const code = [
      'console.log(p.ssn);',
      'globalThis.console.error(p.ssn);',
      'request.log.info(p.ssn);',
      'fastify.log.fatal(p.ssn);',
      'this.logger.trace(p.ssn);',
      'auditLog.warn(p.ssn);',
      'pino().info(p.ssn);',
      'log.child({ ssn: p.ssn });',
      'log.child({ reqId }).debug(p.ssn);',
      'const l = createLogger();',
      'l.log(p.ssn);',
      'winston.createLogger().verbose(p.ssn);',
    ].join('\n');
    expect(found(code).map((l) => l.split(':')[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '11', '12']);
  });

  it("address only where a person is evident: not a server's (Fastify's listen) or a socket's", () => {
    const code = [
      'const address = await fastify.listen({ port: 3000 });',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the code under test
      'fastify.log.info(`listening on ${address}`);',
      'const addr = server.address();',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the code under test
      'console.log(`on ${addr.address}:${addr.port}`, socket.remoteAddress);',
      'log.info(patient.address, user.address, homeAddress, body.mailingAddress);',
    ].join('\n');
    expect(found(code)).toEqual(['5:address', '5:homeAddress', '5:mailingAddress']);
  });

  it('not calls of a similar name (Math.log, catalog.info, dialog.error, a logger method named otherwise)', () => {
    const code = ['Math.log(p.ssn);', 'catalog.info(p.ssn);', 'dialog.error(p.ssn);', 'logger.flush(p.ssn);', 'events.emit(p.ssn);'].join(
      '\n',
    );
    expect(found(code)).toEqual([]);
  });

  it('the name lists: loggers, ward clients and masking functions by their words', () => {
    expect(['log', 'LOGGER', 'childLog', 'req_logger', 'auditLog'].every(isLoggerName)).toBe(true);
    expect(['catalog', 'dialog', 'blog', 'logs'].some(isLoggerName)).toBe(false);
    expect(['vault', 'wardClient', 'PHI_VAULT', 'ward'].every(isWardName)).toBe(true);
    expect(['forward', 'reward', 'steward'].some(isWardName)).toBe(false);
    expect(['scrub', 'maskSsn', 'redactPhi', 'anonymize', 'tokenize'].every(isMaskingName)).toBe(true);
    expect(['tokenIssuer', 'masquerade', 'scrollTo'].some(isMaskingName)).toBe(false);
    expect(PHI_PROPERTY_NAMES).toEqual(expect.arrayContaining(['ssn', 'dob', 'dateOfBirth', 'mrn', 'email', 'diagnosis', 'notes']));
    expect(new PhiNames({ extraNames: ['badge_number'] }).classify('badgeNumber')).toBe('name');
  });
});

describe('phi-in-log: eslint-disable comments naming the rule (or none) are honoured, others not', () => {
  it('disable-next-line, disable-line, disable/enable regions; the rule under any plugin name', () => {
    const code = [
      '// eslint-disable-next-line ward/no-phi-in-logs -- reviewed',
      'log.info(p.ssn);',
      'log.info(p.dob); // eslint-disable-line',
      'log.info(p.mrn); // eslint-disable-line no-console, no-phi-in-logs',
      '/* eslint-disable ward/no-phi-in-logs */',
      'log.info(p.email);',
      '/* eslint-enable ward/no-phi-in-logs */',
      'log.info(p.phone);',
      'log.info(p.zip); // eslint-disable-line phi/no-phi-in-logs',
    ].join('\n');
    expect(found(code)).toEqual(['4:mrn', '8:phone']);
    expect(lintSource(code, 'a.ts', { honorDisableComments: false }).map((f) => f.property)).toEqual([
      'ssn',
      'dob',
      'mrn',
      'email',
      'phone',
      'zip',
    ]);
  });
});

describe('ward/no-phi-in-logs (ESLint)', () => {
  RuleTester.describe = describe;
  RuleTester.it = it;
  RuleTester.itOnly = it.only;
  const tester = new RuleTester({ languageOptions: { ecmaVersion: 2024, sourceType: 'module' } });
  tester.run('no-phi-in-logs', noPhiInLogs, {
    valid: [
      'console.log("started", port);',
      'logger.info({ id: p.id });',
      'logger.info(scrub(p.ssn));',
      'logger.info({ ssn: mask(p.ssn) });',
      'Math.log(p.ssn);',
      'const rows = await vault.search("patients", {}); logger.info(rows.length, rows.map((r) => r.id));',
      { code: 'logger.info(x.plan)', options: [{ fields: ['allergy_list'], publicFields: ['plan'] }] },
      { code: 'logger.info(err.name)', options: [{ fields: ['name'] }] },
    ],
    invalid: [
      {
        code: 'console.log(patient.ssn);',
        errors: [{ messageId: 'phi', data: { call: 'console.log', property: 'ssn' }, line: 1, column: 13, type: 'MemberExpression' }],
      },
      {
        code: 'const p = await vault.get("patients", id);\nreq.log.info({ p });',
        errors: [{ messageId: 'record', data: { call: 'req.log.info', property: 'p' }, line: 2, column: 16 }],
      },
      {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the code under test
        code: 'const { dob } = patient;\nlogger.warn(`born ${dob}`);',
        errors: [{ messageId: 'phi', line: 2, column: 21, type: 'Identifier' }],
      },
      {
        code: 'logger.info({ allergies: x.allergyList, plan: x.plan });',
        options: [{ fields: ['allergy_list'] }],
        errors: [{ messageId: 'phi', data: { call: 'logger.info', property: 'allergyList' }, line: 1, column: 26 }],
      },
      {
        code: 'logger.info({ badge: x.badgeNo });',
        options: [{ extraNames: ['badge_no'] }],
        errors: [{ messageId: 'phi', data: { call: 'logger.info', property: 'badgeNo' } }],
      },
      {
        code: 'const f = (p) => <b>{p.ssn}</b>;\nconsole.error("x", p.email);',
        languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
        errors: [{ messageId: 'phi', line: 2, column: 20 }],
      },
    ],
  });

  it('is shipped as an ESLint 9 plugin: meta.name, meta.version, the rule, a recommended config', () => {
    const pkg = JSON.parse(readFileSync(join(FIXTURES, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(plugin.meta).toEqual({ name: 'ward', version: pkg.version });
    expect(plugin.rules?.['no-phi-in-logs']).toBe(noPhiInLogs);
    expect(plugin.configs.recommended).toMatchObject({ rules: { 'ward/no-phi-in-logs': 'error' } });
  });

  it("reports what `ward lint-logs` reports, at the same lines and columns, on the fixture app's JavaScript (eslint-disable by ESLint)", () => {
    const linter = new Linter();
    for (const file of ['src/jobs/export.js', 'src/jobs/legacy.cjs', 'src/jobs/nightly.mjs']) {
      const messages = linter.verify(readFileSync(join(app, file), 'utf8'), [plugin.configs.recommended ?? {}], file);
      expect(messages.map((m) => `${file}:${m.line}:${m.column}`)).toEqual(
        lintLogs(app)
          .filter((f) => f.file === file)
          .map((f) => `${f.file}:${f.line}:${f.column}`),
      );
    }
  });
});

describe('ward lint-logs (CLI): a CI gate', () => {
  it('exit 1 on findings: one `file:line:col  call  property` line each, then a count; no file content', async () => {
    const r = await ward(dir, ['lint-logs', 'app']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${APP_FINDINGS.join('\n')}\nward lint-logs: 14 findings in 4 of 5 files\n`);
  });

  it('--json: the findings with the rule, the number of files, no config', async () => {
    const r = await ward(dir, ['lint-logs', app, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ format: 'ward-lint-logs/v1', config: null, files: 5 });
    expect(out.findings[0]).toEqual({
      file: 'src/jobs/export.js',
      line: 9,
      column: 25,
      call: 'log.info',
      property: 'mrn',
      rule: 'phi-in-log',
    });
  });

  it('exit 0 on a clean directory', async () => {
    const r = await ward(dir, ['lint-logs', 'clean']);
    expect(r).toEqual({ code: 0, stdout: 'ward lint-logs: no logging call reaches PHI in 2 files\n', stderr: '' });
  });

  it("uses ward.yaml's field names when one is found (here --config), and --config-fields requires one", async () => {
    const cwd = scratchDir('ward-lint-logs-config-');
    writeFileSync(join(cwd, 'ward.yaml'), EXAMPLE_CONFIG);
    const r = await ward(cwd, ['lint-logs', app, '--json', '--config-fields']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.config).toBe(join(cwd, 'ward.yaml'));
    expect(out.findings.map((f: { property: string }) => f.property)).toContain('diagnosis_code');
    expect(out.findings.map((f: { property: string }) => f.property)).not.toContain('p.fields.plan');

    const none = await ward(dir, ['lint-logs', 'clean', '--config-fields']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^ward: --config-fields: no ward\.yaml at .*\n$/);
    const named = await ward(dir, ['--config', 'missing.yaml', 'lint-logs', 'clean']);
    expect(named.code).toBe(2);
  });

  it('exit 2, one line, on a ward.yaml that does not load', async () => {
    const cwd = scratchDir('ward-lint-logs-bad-');
    writeFileSync(join(cwd, 'ward.yaml'), 'space: [\n');
    const r = await ward(cwd, ['lint-logs', clean]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exit 2 on a missing directory or a file given for one', async () => {
    expect(await ward(dir, ['lint-logs', 'nowhere'])).toEqual({ code: 2, stdout: '', stderr: 'ward: nowhere is not a directory\n' });
    const file = await ward(dir, ['lint-logs', 'app/src/jobs/export.js']);
    expect(file.code).toBe(2);
    expect((await ward(dir, ['lint-logs'])).code).toBe(2);
  });
});
