/** `ward baa add | list | revoke` end to end on the embedded database. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentDigest } from '../../src/vault/baa.js';
import { initialized, json, ward } from './harness.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('ward baa', () => {
  it('adds an agreement with the document’s SHA-256 (not the file), lists it with days to expiry, revokes it', async () => {
    const dir = await initialized('ward-cli-baa-');
    const doc = join(dir, 'agreement.pdf');
    writeFileSync(doc, 'signed agreement bytes');
    const added = json(
      await ward(dir, [
        'baa',
        'add',
        '--name',
        'Drain Co',
        '--host',
        'logs.drain.example',
        '--host',
        '*.drain.example',
        '--signed',
        day(-1),
        '--expires',
        day(12),
        '--document',
        doc,
        '--json',
      ]),
    );
    expect(added).toMatchObject({ hosts: ['logs.drain.example', '*.drain.example'], scope: 'phi', status: 'expiring', daysToExpiry: 12 });
    expect(added.documentSha256).toBe(documentDigest(Buffer.from('signed agreement bytes')));
    const text = await ward(dir, ['baa', 'list']);
    expect(text.stdout).toMatch(/^id\s+name\s+hosts\s+scope\s+signed\s+expires\s+days\s+status/);
    expect(text.stdout).toContain('EXPIRING');
    expect(text.stdout).toContain(`warning: agreement ${added.id} expires in 12 day(s)`);
    expect(json(await ward(dir, ['baa', 'revoke', added.id]))).toEqual({ revoked: added.id });
    expect(json(await ward(dir, ['baa', 'list', '--json'])).agreements[0]).toMatchObject({ id: added.id, status: 'revoked' });
    const bad = await ward(dir, ['baa', 'add', '--name', 'X', '--host', 'x.example', '--signed', day(1), '--expires', day(0)]);
    expect(bad).toMatchObject({ code: 1, stderr: 'ward: expires must be after signed [invalid_request]\n' });
    const missing = await ward(dir, [
      'baa',
      'add',
      '--name',
      'X',
      '--host',
      'x.example',
      '--signed',
      day(-1),
      '--expires',
      day(9),
      '--document',
      join(dir, 'none.pdf'),
    ]);
    expect(missing.stderr).toBe('ward: --document: cannot read the file named [invalid_request]\n');
  });

  it('rule: an agreement is recorded before any master key can be used (a KMS-held key needs one for its host first)', async () => {
    const dir = await initialized('ward-cli-baa-kms-');
    const yaml = join(dir, 'ward.yaml');
    const text = readFileSync(yaml, 'utf8').replace(
      / {2}provider: file .*\n {2}file: .*\n/,
      '  provider: aws-kms\n  aws_kms: { key_id: alias/ward, region: us-east-1 }\n',
    );
    expect(text).toContain('aws-kms');
    writeFileSync(yaml, text);
    // No AWS credentials and no agreement: opening the keys is refused, recording the agreement is not.
    expect((await ward(dir, ['keys', 'status'])).code).toBe(1);
    const added = json(
      await ward(dir, [
        'baa',
        'add',
        '--name',
        'AWS',
        '--host',
        'kms.us-east-1.amazonaws.com',
        '--signed',
        day(-1),
        '--expires',
        day(365),
        '--json',
      ]),
    );
    expect(added).toMatchObject({ hosts: ['kms.us-east-1.amazonaws.com'], scope: 'phi', status: 'active' });
    expect(json(await ward(dir, ['baa', 'list', '--json'])).agreements).toHaveLength(1);
  });
});
