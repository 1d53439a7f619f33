/**
 * A whole sync pass from Salesforce (the local server speaking the REST API subset Ward uses,
 * through egress): records created, changed rows updated, rows deleted in Salesforce deleted in
 * the vault, an expired session renewed, a new Salesforce field flagged and kept out.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Egress } from '../../src/egress/client.js';
import { loadMappings, type Mapping } from '../../src/sync/mapping.js';
import { runPass } from '../../src/sync/runner.js';
import { salesforceSource } from '../../src/sync/salesforce.js';
import { canaryPatient, exampleConfig, type TestVault, testVault } from '../helpers.js';
import { testPki } from '../pki.js';
import { type SalesforceServer, startSalesforceServer } from '../salesforce-server.js';
import { scratchDir } from '../scratch.js';
import { SYNC_CONFIG } from './helpers.js';

const pki = testPki(['sf.test']);
const SECRET = `sf-secret-${Math.random().toString(36).slice(2)}`;

describe('a sync pass from Salesforce', () => {
  let server: SalesforceServer;
  let t: TestVault;
  beforeAll(async () => {
    server = await startSalesforceServer({
      pki,
      objects: {
        Contact: [
          { name: 'MRN__c', type: 'string' },
          { name: 'LastName', type: 'string' },
          { name: 'Description', type: 'textarea' },
        ],
      },
      clientId: 'ward-test-client',
      clientSecret: SECRET,
      pageSize: 4,
    });
    t = await testVault('pglite', undefined, exampleConfig(SYNC_CONFIG));
  });
  afterAll(async () => {
    await server?.close();
    await t?.dispose();
  });

  it('rule: creates, updates and deletes flow; an expired session is renewed; a new field is flagged and never flows', async () => {
    const dir = scratchDir('ward-sync-sf-');
    const file = join(dir, 'mapping.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        mappings: [
          {
            object_name: 'Contact',
            collection: 'patients',
            purpose: 'operations',
            role: 'sync_writer',
            source: {
              kind: 'salesforce',
              instance_url: server.url,
              auth: { flow: 'client_credentials', client_id: 'ward-test-client', client_secret_env: 'SF_SECRET' },
            },
            config: { upsert_field: 'MRN__c', fields: { Id: {}, MRN__c: { to: 'mrn' }, LastName: { to: 'name' }, Description: {} } },
          },
        ],
      }),
    );
    const [m] = loadMappings(file, t.cfg, new Map(t.vault.collectionList().map((c) => [c.name, c]))) as [Mapping];
    // The vault's own egress rules (an agreement per host, audited), resolving the test host locally.
    const egress = new Egress({
      covering: async (host) => (host === 'sf.test' ? { id: 'baa-sf' } : undefined),
      audit: async () => {},
      allowPrivate: true,
      ca: pki.ca,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const env = { SF_SECRET: SECRET };
    const opts = {
      env,
      salesforce: (mm: Mapping, budget: { used: number; max: number }, onCall: () => void) =>
        salesforceSource({
          spec: mm.source as Extract<Mapping['source'], { kind: 'salesforce' }>,
          objectName: mm.name,
          fields: ['MRN__c', 'LastName'],
          egress,
          env,
          budget,
          onCall,
        }),
    };
    const people = Array.from({ length: 9 }, (_, n) => canaryPatient(n));
    const ids = people.map((p) => server.insert('Contact', { MRN__c: p.mrn, LastName: p.name, Description: `never flows ${p.name}` }));

    expect(await runPass(t.vault, m, opts)).toMatchObject({ read: 9, created: 9, failed: 0, state: 'IDLE' });
    server.update('Contact', ids[2] as string, { LastName: 'Changed Name' });
    server.remove('Contact', ids[5] as string);
    server.expireSessions();
    const second = await runPass(t.vault, m, opts);
    expect(second).toMatchObject({ read: 2, updated: 1, deleted: 1, failed: 0 });
    expect((await t.vault.search('patients', { mrn: people[2]?.mrn }))[0]?.fields.name).toBe('Changed Name');
    expect(await t.vault.search('patients', { mrn: people[5]?.mrn })).toEqual([]);
    expect(JSON.stringify(await t.db.query('SELECT public, sealed FROM ward_records'))).not.toContain('never flows');

    server.setSchema('Contact', [
      { name: 'MRN__c', type: 'string' },
      { name: 'LastName', type: 'string' },
      { name: 'Description', type: 'textarea' },
      { name: 'Diagnosis__c', type: 'string' },
    ]);
    expect(await runPass(t.vault, m, opts)).toMatchObject({ state: 'SCHEMA_CHANGED', drift: { added: ['Diagnosis__c'] } });
    const calls = await t.db.query<{ n: number }>('SELECT api_calls AS n FROM ward_sync_state');
    expect(calls[0]?.n).toBeGreaterThan(0);
  });
});
