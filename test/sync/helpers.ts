/** Shared by the sync tests: a configuration with the sync's service role, and mapping files. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';

export const SYNC_ROLE = `roles:
  sync_writer:
    description: The sync's service principal
    allow:
      - collections: [patients]
        actions: [create, read, update, delete, search]
        purposes: [operations]
`;
export const SYNC_CONFIG = EXAMPLE_CONFIG.replace('\nroles:\n', `\n${SYNC_ROLE}`);

/** A mapping file as Heroku Connect exports one, with Ward's additions. */
export function mappingFile(dir: string, source: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'mapping.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      connection: { app_name: 'ward-test', organization_id: '00D000000000001', exported_at: '2026-12-05T00:00:00Z' },
      mappings: [
        {
          object_name: 'Contact',
          collection: 'patients',
          purpose: 'operations',
          role: 'sync_writer',
          source,
          config: {
            access: 'read_only',
            sf_notify_enabled: false,
            sf_polling_seconds: 600,
            sf_max_daily_api_calls: 30000,
            upsert_field: 'MRN__c',
            fields: {
              Id: {},
              MRN__c: { to: 'mrn' },
              Name: { to: 'name' },
              SSN__c: { to: 'ssn' },
              Plan__c: { to: 'plan' },
              Secret_Notes__c: {},
              Description: { to: 'notes', freeText: 'allow' },
            },
            ...extra,
          },
        },
      ],
    }),
  );
  return file;
}
