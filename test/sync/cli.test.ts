/** `ward sync ...` at the command line, on the embedded database: a pass, status, failures, retry, pause and resume, orphans. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialized, json, ward } from '../cli/harness.js';
import { canaryPatient } from '../helpers.js';
import { mappingFile, SYNC_ROLE } from './helpers.js';

const HEAD = 'Id,MRN__c,Name,SSN__c,Plan__c,Secret_Notes__c,Description';

describe('ward sync', () => {
  it('rule: run, status, errors, retry, pause, resume and report work end to end, and print no source value', async () => {
    const dir = await initialized('ward-cli-sync-');
    const yaml = join(dir, 'ward.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('\nroles:\n', `\n${SYNC_ROLE}`));
    const people = Array.from({ length: 5 }, (_, n) => canaryPatient(n));
    const rows = people.map((p, n) => `${n},${p.mrn},${p.name},${n === 3 ? 'NOT-AN-SSN' : p.ssn},gold,,`);
    const csv = join(dir, 'contacts.csv');
    writeFileSync(csv, `${HEAD}\n${rows.join('\n')}\n`);
    mappingFile(dir, { kind: 'csv', file: 'contacts.csv' });
    const values = people.flatMap((p) => [p.mrn, p.name, p.ssn]);
    const clean = (text: string) => {
      for (const v of values) expect(text).not.toContain(v);
    };

    const first = await ward(dir, ['sync', 'run', 'mapping.json', '--json']);
    clean(first.stdout + first.stderr);
    expect(JSON.parse(first.stdout).passes[0]).toMatchObject({ created: 4, failed: 1, state: 'IDLE' });
    expect(first.stderr).toContain('"mapping":"Contact"'); // JSON progress lines off a terminal

    const errors = json(await ward(dir, ['sync', 'errors', '--json'])).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ mapping: 'Contact', sourceRef: 'row 4 (line 5)', fields: ['ssn'] });
    clean(JSON.stringify(errors));

    // Fixed in the source, the failed row is read again on request.
    writeFileSync(csv, `${HEAD}\n${people.map((p, n) => `${n},${p.mrn},${p.name},${p.ssn},gold,,`).join('\n')}\n`);
    const retried = JSON.parse((await ward(dir, ['sync', 'retry', '--all', '--file', 'mapping.json', '--json'])).stdout);
    expect(retried).toMatchObject({ retried: 1, passes: [{ created: 1, failed: 0 }] });
    expect(json(await ward(dir, ['sync', 'errors', '--json'])).errors).toEqual([]);

    expect(json(await ward(dir, ['sync', 'pause', 'Contact']))).toEqual({ mapping: 'Contact', state: 'PAUSED' });
    expect(JSON.parse((await ward(dir, ['sync', 'run', 'mapping.json', '--json'])).stdout).passes[0]).toMatchObject({
      state: 'PAUSED',
      read: 0,
    });
    expect((await ward(dir, ['sync', 'status'])).stdout).toMatch(/Contact\s+patients\s+PAUSED/);
    expect(json(await ward(dir, ['sync', 'resume', 'Contact']))).toEqual({ mapping: 'Contact', state: 'IDLE' });

    // A row gone from the file: its record is an orphan after the next full pass.
    writeFileSync(
      csv,
      `${HEAD}\n${people
        .slice(1)
        .map((p, n) => `${n + 1},${p.mrn},${p.name},${p.ssn},gold,,`)
        .join('\n')}\n`,
    );
    expect(JSON.parse((await ward(dir, ['sync', 'run', 'mapping.json', '--json'])).stdout).passes[0]).toMatchObject({
      read: 4,
      created: 0,
    });
    const report = json(await ward(dir, ['sync', 'report', 'mapping.json', '--json']));
    expect(report.mappings[0].orphans).toHaveLength(1);
    expect(report.mappings[0].orphans[0].sourceRef).toBe('row 1 (line 2)');
  }, 60_000);
});
