/** `ward scan`: fed files and stdin, as CI would run it over logs (exit codes through a real process: bin.test.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../scratch.js';
import { ward as wardIn } from './harness.js';

// Planted values: none may appear in the report unless --show asks for them.
const SSN = '536-22-8147';
const EMAIL = 'canary.scan@example.org';
const LOG = [
  '{"level":30,"time":1700000000000,"msg":"request completed","statusCode":200}',
  `{"level":50,"msg":"lookup failed","detail":"no match for ssn ${SSN}"}`,
  '2023-11-14T10:15:30.123Z INFO http GET /v1/collections/patients/records/0190a8e2-7c1d 200 8ms',
  `2023-11-14T10:15:31.004Z WARN login failed user=${EMAIL}`,
  'all quiet',
].join('\n');

describe('ward scan', () => {
  let dir: string;
  const ward = (args: string[], stdin?: string) => wardIn(dir, args, stdin === undefined ? {} : { stdin });
  beforeAll(() => {
    dir = scratchDir('ward-scan-');
    writeFileSync(join(dir, 'app.log'), `${LOG}\n`);
    writeFileSync(join(dir, 'clean.log'), 'server started in 812 ms\nready\n');
  });

  it('PHI found: exit 1, findings by line and type, and no value in the output', async () => {
    const r = await ward(['scan', join(dir, 'app.log')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const file = join(dir, 'app.log');
    expect(r.stdout).toBe(`${file}:2: SSN in detail\n${file}:4: EMAIL col 49\nward scan: 2 findings on 2 of 5 lines (EMAIL 1, SSN 1)\n`);
    expect(r.stdout).not.toContain(SSN);
    expect(r.stdout).not.toContain(EMAIL);
  });

  it('--report prints each finding as a JSON span (line, type, start, end, confidence, JSON path), never the text', async () => {
    const r = await ward(['scan', join(dir, 'app.log'), '--report']);
    expect(r.code).toBe(1);
    const found = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(found).toHaveLength(2);
    const ssn = found.find((f) => f.type === 'SSN');
    expect(ssn).toMatchObject({ line: 2, path: 'detail' });
    // The offsets point at the value inside the string the path names.
    expect(`no match for ssn ${SSN}`.slice(ssn.start, ssn.end)).toBe(SSN);
    const email = found.find((f) => f.type === 'EMAIL');
    expect((LOG.split('\n')[3] as string).slice(email.start, email.end)).toBe(EMAIL);
    expect(email.confidence).toBeGreaterThan(0);
    expect(email.confidence).toBeLessThanOrEqual(1);
    expect(r.stdout).not.toContain(SSN);
    expect(r.stdout).not.toContain(EMAIL);
  });

  it('--fail-on fails only for the types named; an unknown type is a usage error', async () => {
    expect((await ward(['scan', join(dir, 'app.log'), '--fail-on', 'SSN,MRN'])).code).toBe(1);
    const other = await ward(['scan', join(dir, 'app.log'), '--fail-on', 'mrn, card']);
    expect(other.code).toBe(0);
    expect(other.stdout).toContain('ward scan: 2 findings');
    expect((await ward(['scan', join(dir, 'app.log'), '--report', '--fail-on', 'MRN'])).code).toBe(0);
    const bad = await ward(['scan', join(dir, 'app.log'), '--fail-on', 'SSN,NOPE']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fail-on: give PHI types');
    expect(bad.stderr).not.toContain('NOPE');
  });

  it('clean input: exit 0', async () => {
    const r = await ward(['scan', join(dir, 'clean.log')]);
    expect(r).toEqual({ code: 0, stdout: 'ward scan: no PHI found in 2 lines\n', stderr: '' });
  });

  it('reads stdin with "-" or no file, and --show prints the values', async () => {
    const r = await ward(['scan', '-', '--show'], LOG);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`(stdin):2: SSN in detail "${SSN}"`);
    expect(r.stdout).toContain(`(stdin):4: EMAIL col 49 "${EMAIL}"`);
    expect((await ward(['scan'], 'nothing to see\n')).code).toBe(0);
  });

  it('--redact writes every line back, findings replaced, line count and endings kept, exit 0', async () => {
    const input = `${LOG}\r\nPatient John Whitaker seen 03/14/2023\n\nno newline at the end`;
    const r = await ward(['scan', '--redact'], input);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const inLines = input.split('\n');
    const outLines = r.stdout.split('\n');
    expect(outLines).toHaveLength(inLines.length);
    expect(outLines[1] && JSON.parse(outLines[1])).toEqual({ level: 50, msg: 'lookup failed', detail: 'no match for ssn [SSN]' });
    expect(outLines[4]).toBe('all quiet\r');
    expect(outLines[5]).toBe('Patient [NAME] seen [DATE]');
    expect(outLines[6]).toBe('');
    expect(outLines[7]).toBe('no newline at the end');
    expect(outLines[0]).toBe(inLines[0]);
    expect(r.stdout).not.toContain(SSN);
    expect(r.stdout).not.toContain(EMAIL);
  });

  it('--redact keeps the line count of a large input', async () => {
    const lines = Array.from({ length: 20000 }, (_, i) => (i % 7 === 0 ? `row ${i} ssn ${SSN}` : `row ${i} ok`));
    const r = await ward(['scan', '--redact', '-'], `${lines.join('\n')}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toHaveLength(20001);
    expect(r.stdout).not.toContain(SSN);
  });

  it('usage errors exit 2', async () => {
    const missing = await ward(['scan', join(dir, 'nope.log')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect((await ward(['scan', dir])).code).toBe(2);
    expect((await ward(['scan', '--redact', '--show', '-'])).code).toBe(2);
    expect((await ward(['scan', '--min-confidence', 'high', '-'])).code).toBe(2);
  });
});
