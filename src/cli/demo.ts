/**
 * `ward demo`: Ward's main job on the embedded database, end to end. Writes the example config
 * (nonproduction, dev key) into a directory, creates an API key per example role, seeds
 * synthetic patients, starts the server and prints curl commands that work when pasted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../detect/logger.js';
import { startServer } from '../http/server.js';
import { openVault } from '../vault/open.js';
import { demoPatient } from './demo-data.js';
import { initConfig } from './init.js';
import { type Cli, integer } from './run.js';

const ROLES = ['clinician', 'billing', 'analytics', 'auditor', 'admin'] as const;
const PATIENTS = 24;

export interface DemoOptions {
  dir: string;
  host: string;
  port: number;
}

/** Config, keys and seed data; returns what the printed commands need. */
async function prepare(dir: string) {
  const file = join(dir, 'ward.yaml');
  if (!existsSync(file)) initConfig(file, false);
  const cfg = loadConfig(file);
  const vault = await openVault(cfg);
  try {
    const tokens = Object.fromEntries(
      await Promise.all(ROLES.map(async (r) => [r, (await vault.createApiKey(r, `demo ${r}`)).key] as const)),
    );
    const first = demoPatient(0);
    const existing = await vault.search('patients', { mrn: first.mrn });
    const ids = existing.length
      ? [existing[0]?.id as string]
      : (
          await vault.createMany(
            'patients',
            Array.from({ length: PATIENTS }, (_, n) => demoPatient(n)),
          )
        ).ids;
    await vault.sealAudit(5_000); // so the audit log verifies with something in it from the start
    return { cfg, keys: tokens as Record<(typeof ROLES)[number], string>, id: ids[0] as string, patient: first };
  } finally {
    await vault.close();
  }
}

function curlGuide(url: string, keys: Record<(typeof ROLES)[number], string>, id: string, name: string): string {
  const h = (role: keyof typeof keys, purpose?: string) =>
    `-H 'Authorization: Bearer ${keys[role]}'${purpose ? ` -H 'Ward-Purpose: ${purpose}'` : ''}`;
  const json = "-H 'Content-Type: application/json'";
  const rec = `${url}/v1/collections/patients/records`;
  // New for each run of the demo: its data is kept, and a fixed MRN would already be taken.
  const mrn = `MRN-DEMO-${randomBytes(4).toString('hex').toUpperCase()}`;
  return [
    '# a clinician reads a whole record, for treatment',
    `curl -s ${h('clinician', 'treatment')} ${rec}/${id}`,
    '# billing sees name, plan and the last four digits of the SSN, for payment',
    `curl -s ${h('billing', 'payment')} ${rec}/${id}`,
    '# analytics sees a de-identified view (HIPAA Safe Harbor), for research: a pseudonym for the id, dates as years, no free text',
    `curl -s ${h('analytics', 'research')} ${rec}/${id}`,
    '# search by name through the blind index',
    `curl -s ${h('clinician', 'treatment')} ${json} -d '{"where": {"name": "${name}"}}' ${url}/v1/collections/patients/search`,
    '# create a record (its MRN is unique: pasted twice, the second is refused as a unique_violation)',
    `curl -s ${h('clinician', 'treatment')} ${json} -d '{"mrn": "${mrn}", "name": "Test Person", "ssn": "123-45-6789", "plan": "silver"}' ${rec}`,
    '# no purpose: refused, and audited',
    `curl -s ${h('billing')} ${rec}/${id}`,
    '# the auditor reads the audit trail of that record',
    `curl -s ${h('auditor')} '${url}/v1/audit/events?recordId=${id}'`,
    '# the accounting of disclosures of that record: who saw it, which fields, for what purpose',
    `curl -s ${h('auditor')} ${url}/v1/audit/subjects/${id}/disclosures`,
    '# verify the sealed, signed audit log (sealed every 10 s): ok, or the first bad event',
    `curl -s ${h('auditor')} ${url}/v1/audit/verify`,
    '# the admin lists the API keys (never the keys themselves); it can also create and revoke them',
    `curl -s ${h('admin')} ${url}/v1/admin/api-keys`,
    '# billing, a declared consumer of the change events, reads them: ids, versions, field names, SSN tokens, never a value',
    `curl -s ${h('billing')} '${url}/v1/events/local-dev.patients.refs.v1?after=0&limit=5'`,
    '',
    `# the API reference, in a browser: ${url}/docs`,
    '# the same from a TypeScript service, with the typed SDK (packages/sdk in this repository: @ward-vault/sdk):',
    "#   import { createClient } from '@ward-vault/sdk';",
    `#   const ward = createClient({ baseUrl: '${url}', apiKey: process.env.WARD_API_KEY, purpose: 'treatment' });`,
    `#   const record = await ward.records.get('patients', '${id}');   // WARD_API_KEY=${keys.clinician}`,
    "#   for await (const e of ward.events.stream('local-dev.patients.refs.v1', { after: 0 })) console.log(e.seq, e.action);",
  ].join('\n');
}

export async function runDemo(o: DemoOptions): Promise<{ url: string; close(): Promise<void>; guide: string }> {
  const dir = resolve(o.dir);
  const { cfg, keys, id, patient } = await prepare(dir);
  // Request logs go to stderr, so stdout stays the guide.
  const logger = createLogger({ level: 'info' }, pino.destination(2));
  const server = await startServer({ cfg }, { host: o.host, port: o.port, logger });
  const guide = curlGuide(server.url, keys, id, patient.name);
  return { url: server.url, close: server.close, guide };
}

export function registerDemo(program: Command, cli: Cli): void {
  program
    .command('demo')
    .description('run Ward on the embedded database with example roles, keys and synthetic patients')
    .option('--dir <dir>', 'where to keep the demo config and data', 'ward-demo')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8080')
    .action(async (opts: { dir: string; host: string; port: string }) => {
      const { url, guide } = await runDemo({ dir: cli.path(opts.dir), host: opts.host, port: integer(opts.port, '--port', 0, 65535) });
      await cli.write(
        `Ward demo on ${url} (config and embedded database in ${opts.dir}/; synthetic data only).\n` +
          `API keys were created for the roles ${ROLES.join(', ')}. Try:\n\n${guide}\n\nCtrl-C stops the server.\n`,
      );
    });
}
