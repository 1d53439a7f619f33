/**
 * `ward lineage`: the data inventory built from configuration (mappings, fields, roles, topics,
 * services with their agreements), rendered as JSON, Markdown and one self-contained HTML page.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { registerLineage } from '../../src/cli/lineage.js';
import { buildProgram, usageMessage } from '../../src/cli/program.js';
import { type Output, report } from '../../src/cli/run.js';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { buildLineage, type Lineage, type LineageField, renderHtml, renderLineage, renderMarkdown } from '../../src/sync/lineage.js';
import { type Agreement, describe as describeAgreement } from '../../src/vault/baa.js';
import { cleanEnv, initialized, json, type Result, ward } from '../cli/harness.js';
import { exampleConfig } from '../helpers.js';
import { scratchDir } from '../scratch.js';

const HOSTILE = '<img src=x onerror=alert(1)>';
const REFS = 'local-dev.patients.refs.v1';
const META = 'local-dev.patients.meta.v1';

/** A small Connect export: Salesforce Contacts into patients. */
const MAPPING = {
  version: 1,
  mappings: [
    {
      object_name: 'Contact',
      collection: 'patients',
      purpose: 'treatment',
      role: 'clinician',
      source: {
        kind: 'salesforce',
        instance_url: 'https://acme.my.salesforce.com',
        auth: { flow: 'client_credentials', client_id: 'ward-sync', client_secret_env: 'SF_SECRET' },
      },
      config: {
        upsert_field: 'MRN__c',
        fields: {
          MRN__c: { to: 'mrn' },
          Diagnosis__c: { to: 'diagnosis', transform: 'hash' },
          Name: { to: 'name' },
          SSN__c: { to: 'ssn', transform: 'encrypt' },
          Description: { to: 'notes', transform: 'mask', mask: 'full', freeText: 'allow' },
          Notes__c: { transform: 'drop' },
        },
      },
    },
  ],
};

/** The example config with a webhook, a broker, a meta topic, hostile descriptions and `mappings`. */
function configText(mappings: string[]): string {
  const raw = parse(EXAMPLE_CONFIG);
  raw.collections.patients.description = HOSTILE;
  raw.collections.patients.fields.ssn.description = `SSN ${HOSTILE} | pipe`;
  raw.events.topics.push({ name: META, description: HOSTILE, collections: ['patients'], actions: ['delete'] });
  raw.events.webhooks = [{ name: 'billing_hook', topic: REFS, url: 'https://hooks.example.com/ward', secret_env: 'BILLING_HOOK_SECRET' }];
  raw.events.broker = { nats: { url: 'tls://nats.example.net:4222' } };
  raw.sync = { mappings };
  return stringify(raw);
}

function mappingFile(dir: string, content: unknown = MAPPING): string {
  const file = join(dir, 'contacts.mapping.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

function agreement(name: string, hosts: string[], scope: 'phi' | 'no-phi', expiresIn = 200, revoked = false): Agreement {
  return describeAgreement({
    id: `00000000-0000-4000-8000-${String(name.length).padStart(12, '0')}`,
    name,
    hosts,
    signed: day(-10),
    expires: day(expiresIn),
    scope,
    documentSha256: null,
    createdAt: new Date(),
    revokedAt: revoked ? new Date() : null,
  });
}

function lineageOf(agreements?: Agreement[]): { l: Lineage; file: string } {
  const file = mappingFile(scratchDir('ward-lineage-'));
  const cfg = exampleConfig(configText([file]));
  return { l: buildLineage(cfg, { agreements }), file };
}

const field = (l: Lineage, c: string, f: string): LineageField => {
  const found = l.collections.find((x) => x.name === c)?.fields.find((x) => x.name === f);
  if (!found) throw new Error(`no field ${c}.${f}`);
  return found;
};

const AGREEMENTS = () => [
  agreement('Hooks Inc', ['hooks.example.com'], 'phi'),
  agreement('Broker LLC', ['*.example.net'], 'no-phi'),
  agreement('Old CRM', ['acme.my.salesforce.com'], 'phi', -3),
];

describe('lineage model', () => {
  it('lists for patients.ssn its mapping source and transform, its readers and views, the topics carrying its token, their consumers and the services they reach with coverage', () => {
    const { l, file } = lineageOf(AGREEMENTS());
    expect(l).toMatchObject({ format: 'ward-lineage/1', space: { name: 'local-dev', tier: 'nonproduction' }, agreementsChecked: true });
    const ssn = field(l, 'patients', 'ssn');
    expect(ssn).toMatchObject({
      class: 'identifier',
      encrypted: true,
      searchable: false,
      unique: false,
      token: 'deterministic',
      mask: 'last4',
    });
    expect(ssn.sources).toEqual([
      expect.objectContaining({
        file,
        mapping: 'Contact',
        sourceField: 'SSN__c',
        ref: 'Contact.SSN__c',
        transform: 'encrypt',
        purpose: 'treatment',
        role: 'clinician',
        upsertKey: false,
        source: { kind: 'salesforce', instanceUrl: 'https://acme.my.salesforce.com', loginUrl: 'https://acme.my.salesforce.com' },
      }),
    ]);
    const views = ssn.access.map((a) => [a.role, a.view, a.mask, a.purposes]);
    expect(views).toEqual([
      ['clinician', 'full', null, ['treatment']],
      ['billing', 'masked', 'last4', ['payment']],
    ]);
    // triage reads ssn only by breaking glass; analytics' de-identified view drops an identifier
    expect(ssn.breakGlass).toEqual([
      {
        role: 'triage',
        rule: 'roles.triage.break_glass.allow[0]',
        breakGlass: true,
        actions: ['read', 'search'],
        view: 'full',
        mask: null,
        purposes: ['treatment'],
      },
    ]);
    expect(ssn.access.some((a) => a.role === 'analytics')).toBe(false);
    expect(ssn.events).toEqual([
      {
        topic: REFS,
        sensitivity: 'refs',
        carries: 'token',
        actions: ['create', 'update', 'delete'],
        consumers: [{ name: 'billing_sync', role: 'billing' }],
        webhooks: ['billing_hook'],
        broker: true,
      },
      { topic: META, sensitivity: 'meta', carries: 'record_id', actions: ['delete'], consumers: [], webhooks: [], broker: true },
    ]);
    const hook = ssn.services.find((s) => s.kind === 'webhook');
    expect(hook).toMatchObject({
      name: 'billing_hook',
      host: 'hooks.example.com',
      topics: [REFS],
      covered: true,
      agreement: { name: 'Hooks Inc' },
    });
    const broker = ssn.services.find((s) => s.kind === 'broker');
    expect(broker).toMatchObject({ host: 'nats.example.net', topics: [REFS, META], covered: false, agreement: null });
    expect(broker?.notCovering).toEqual([expect.objectContaining({ name: 'Broker LLC', scope: 'no-phi' })]);
    const crm = l.services.find((s) => s.kind === 'sync-source');
    expect(crm).toMatchObject({ name: 'Contact', host: 'acme.my.salesforce.com', covered: false, file });
    expect(crm?.notCovering).toEqual([expect.objectContaining({ name: 'Old CRM', status: 'expired' })]);
  });

  it('shows public values, de-identified views, retention, the subject and fields that never flow', () => {
    const { l } = lineageOf();
    const patients = l.collections[0];
    expect(patients).toMatchObject({ name: 'patients', description: HOSTILE, retention: '7y', retentionDays: 2555, subject: null });
    const plan = field(l, 'patients', 'plan');
    expect(plan).toMatchObject({ class: 'public', encrypted: false });
    expect(plan.events.find((e) => e.topic === REFS)?.carries).toBe('value');
    expect(field(l, 'patients', 'dob').access.find((a) => a.role === 'analytics')).toMatchObject({ view: 'deidentified', mask: 'year' });
    expect(field(l, 'patients', 'diagnosis_code').access.find((a) => a.role === 'analytics')).toMatchObject({
      view: 'deidentified',
      mask: null,
    });
    expect(field(l, 'patients', 'mrn').sources[0]).toMatchObject({ ref: 'Contact.MRN__c', transform: 'encrypt', upsertKey: true });
    expect(field(l, 'patients', 'diagnosis').sources[0]).toMatchObject({ ref: 'Contact.Diagnosis__c', transform: 'hash' });
    expect(field(l, 'patients', 'notes').sources[0]).toMatchObject({ transform: 'mask', mask: 'full', freeText: true });
    expect(l.mappings[0]?.notFlowing).toEqual(['Notes__c']);
    // without agreements, coverage is unknown rather than asserted either way
    expect(l.agreementsChecked).toBe(false);
    expect(l.services.every((s) => s.covered === null)).toBe(true);
  });

  it('holds no values: the JSON has only configuration keys', () => {
    const { l } = lineageOf(AGREEMENTS());
    const text = renderLineage(l, 'json');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(l)));
    expect(Object.keys(JSON.parse(text))).toEqual([
      'format',
      'generatedAt',
      'config',
      'space',
      'agreementsChecked',
      'collections',
      'mappings',
      'topics',
      'services',
      'roles',
      'notes',
    ]);
    expect(text).not.toMatch(/client_secret|SF_SECRET|ward-sync/);
  });
});

describe('lineage documents', () => {
  const FACTS = [
    'Contact.SSN__c (encrypt',
    'billing: masked (last4) for payment; actions read, search',
    'triage: full for treatment; actions read, search',
    `${REFS} (deterministic token); consumers: billing_sync (role billing); webhooks: billing_hook; broker`,
    `${META} (record id)`,
    'hooks.example.com (webhook billing_hook): covered by Hooks Inc',
    'nats.example.net (broker nats): NOT COVERED',
    'Contact.Description → patients.notes (mask full)',
    '7y (2555 days after creation)',
  ];

  it('Markdown states the same facts as the JSON, a table per collection, and no raw HTML from the config', () => {
    const md = renderMarkdown(lineageOf(AGREEMENTS()).l);
    for (const fact of FACTS) expect(md).toContain(fact);
    expect(md).toMatch(/^## Collection patients$/m);
    expect(md).toMatch(/^\| Field \| Class \| Stored \|/m);
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt; \\| pipe');
    // every row of the field table has as many cells as the header (a pipe in a description is escaped)
    const section = md.slice(md.indexOf('## Collection patients'), md.indexOf('## Event topics'));
    const rows = section.split('\n').filter((line) => line.startsWith('|'));
    expect(rows.length).toBe(2 + 11);
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length).toBe(11);
  });

  it('HTML is one self-contained page: no script, no external asset, every interpolated string escaped', () => {
    const html = renderHtml(lineageOf(AGREEMENTS()).l);
    const unescaped = (s: string) => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'");
    for (const fact of FACTS) expect(unescaped(html)).toContain(fact);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link|<iframe|<object|<embed|@import|url\(/i);
    for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) expect(tag).not.toMatch(/\b(src|href|action)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });
});

/** `ward lineage` in-process, registered here until program.ts lists it (then the same as `ward(dir, ['lineage', ...])`). */
async function lineage(cwd: string, args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void): Output =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        add(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
        done();
      },
    });
  const io = { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin: Readable.from(['']), env: cleanEnv(), cwd };
  const { program, cli } = buildProgram(io);
  if (!program.commands.some((c) => c.name() === 'lineage')) registerLineage(program, cli);
  const argv = ['lineage', ...args];
  let code: number;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = cli.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      io.stderr.write(`ward: ${usageMessage(e.message, argv, program)}\n`);
      code = 2;
    } else code = report(e, io.stderr);
  }
  return { code, stdout, stderr };
}

describe('ward lineage', () => {
  async function space(mapping: unknown = MAPPING): Promise<{ dir: string; file: string }> {
    const dir = await initialized('ward-cli-lineage-');
    const file = mappingFile(dir, mapping);
    writeFileSync(join(dir, 'ward.yaml'), configText(['contacts.mapping.json']));
    return { dir, file };
  }

  it('reads agreements from the database: the webhook host covered, the broker not, and writes md, json and html', async () => {
    const { dir, file } = await space();
    json(
      await ward(dir, [
        'baa',
        'add',
        '--name',
        'Hooks Inc',
        '--host',
        'hooks.example.com',
        '--signed',
        day(-1),
        '--expires',
        day(300),
        '--json',
      ]),
    );
    const doc = json(await lineage(dir, ['--format', 'json']));
    const ssn = doc.collections[0].fields.find((f: { name: string }) => f.name === 'ssn');
    expect(ssn.sources[0]).toMatchObject({ file, ref: 'Contact.SSN__c', transform: 'encrypt' });
    expect(ssn.access.find((a: { role: string }) => a.role === 'billing')).toMatchObject({ view: 'masked', mask: 'last4' });
    expect(ssn.events[0]).toMatchObject({ topic: REFS, carries: 'token', consumers: [{ name: 'billing_sync', role: 'billing' }] });
    expect(ssn.services).toEqual([
      expect.objectContaining({
        kind: 'webhook',
        host: 'hooks.example.com',
        covered: true,
        agreement: expect.objectContaining({ name: 'Hooks Inc' }),
      }),
      expect.objectContaining({ kind: 'broker', host: 'nats.example.net', covered: false }),
    ]);
    const md = await lineage(dir, []);
    expect(md).toMatchObject({ code: 0, stderr: '' });
    expect(md.stdout).toContain('billing: masked (last4) for payment');
    const out = await lineage(dir, ['--format', 'html', '--out', 'lineage.html']);
    expect(out).toEqual({ code: 0, stdout: 'lineage (html) written to lineage.html\n', stderr: '' });
    const html = readFileSync(join(dir, 'lineage.html'), 'utf8');
    expect(html).toContain('hooks.example.com (webhook billing_hook): covered by Hooks Inc');
    expect(html).not.toMatch(/<script/i);
  });

  it('--no-agreements leaves coverage unchecked without opening the database', async () => {
    const { dir } = await space();
    writeFileSync(
      join(dir, 'ward.yaml'),
      configText(['contacts.mapping.json']).replace('embedded: .ward/pgdata', 'url: postgres://nobody@127.0.0.1:1/none'),
    );
    const doc = json(await lineage(dir, ['--format', 'json', '--no-agreements']));
    expect(doc.agreementsChecked).toBe(false);
    expect(doc.services.map((s: { covered: unknown }) => s.covered)).toEqual([null, null, null]);
  });

  it('a mapping file that fails to load fails the command, naming the file', async () => {
    const broken = await space('{ not json');
    const r = await lineage(broken.dir, ['--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(broken.file);
    expect(r.stderr).toContain('not valid JSON');
    expect(r.stderr).toContain('[config_invalid]');
    const unknown = structuredClone(MAPPING);
    (unknown.mappings[0]?.config.fields as Record<string, unknown>).Fax = { to: 'fax' };
    const wrong = await space(unknown);
    const r2 = await lineage(wrong.dir, ['--no-agreements']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`${wrong.file}:`);
    expect(r2.stderr).toContain('fax is not a field of patients');
  });

  it('refuses an unknown format as a usage error', async () => {
    const { dir } = await space();
    expect(await lineage(dir, ['--format', 'pdf'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'ward: --format: must be one of md, json, html\n',
    });
  });
});
