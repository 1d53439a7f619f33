/**
 * The built `ward` executable as a process: what only a process boundary shows. Its exit code
 * must reach the shell (CI gates on `ward scan`), and its output and errors are the same lines
 * the in-process tests read.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const VERSION = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version;

function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('the ward executable', () => {
  it('exit codes reach the shell: 0 for --version, 1 when scan finds PHI, 2 for a usage error', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    const found = await run(['scan'], 'lookup failed for ssn 536-22-8147\n');
    expect(found.code).toBe(1);
    expect(found.stdout).not.toContain('536-22-8147');
    const usage = await run(['records', 'get', '--colour']);
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(usage.stderr).toMatch(/^ward: unknown option \(argument 3\)/);
  });
});
