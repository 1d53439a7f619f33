/** `ward demo` end to end: it starts, and every curl command it prints works when pasted. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { scratchDir } from '../scratch.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const sh = promisify(execFile);
const hasCurl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some(existsSync);

/** Runs one printed command: with curl through a shell when there is one, else the same request with fetch. */
async function run(command: string): Promise<unknown> {
  if (hasCurl) return JSON.parse((await sh('bash', ['-c', command])).stdout);
  const words = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
  const headers: Record<string, string> = {};
  let body: string | undefined;
  let url = '';
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '-H') {
      const [k, ...v] = (words[++i] as string).split(':');
      headers[k as string] = v.join(':').trim();
    } else if (w === '-d') body = words[++i];
    else if (w !== '-s') url = w;
  }
  const res = await fetch(url, { method: body ? 'POST' : 'GET', headers, ...(body ? { body } : {}) });
  return res.json();
}

/** What the printed commands answer: a record, search results, a problem or audit events. */
interface Answer {
  id?: string;
  fields: Record<string, string>;
  records: { id: string }[];
  events: { action: string; role: string; purpose: string }[];
  ok?: boolean;
  treeSize?: number;
  status?: number;
  code?: string;
  keys?: { role: string }[];
}

// The demo starts twice (each run opens the embedded database and seeds or finds its data).
describe('ward demo', { timeout: 120_000 }, () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  /** Starts `ward demo` in `dir` and pastes each command it prints, one after another, as a person does. */
  async function demo(dir: string): Promise<Answer[]> {
    const { DATABASE_URL: _db, ...env } = process.env;
    child = spawn(process.execPath, [CLI, 'demo', '--dir', dir, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.on('data', (d) => {
        out += d;
        if (out.includes('Ctrl-C stops the server.')) resolve();
      });
      child?.once('exit', (code) => reject(new Error(`demo exited with ${code}`)));
    });
    const commands = out.split('\n').filter((l) => l.startsWith('curl '));
    expect(commands).toHaveLength(11);
    // In order: the audit query must see the reads before it.
    const answers: Answer[] = [];
    for (const c of commands) answers.push((await run(c)) as Answer);
    return answers;
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    c.removeAllListeners('exit');
    await new Promise((resolve) => {
      c.once('exit', resolve);
      c.kill('SIGTERM');
    });
  }

  it('prints curl commands that work when pasted, showing each role its own view', async () => {
    const dir = join(scratchDir('ward-demo-'), 'demo');
    const answers = await demo(dir);
    const [clinician, billing, analytics, search, create, refused, audit, disclosures, verified, keys, events] = answers;
    expect(Object.keys(clinician?.fields ?? {}).sort()).toEqual([
      'diagnosis',
      'diagnosis_code',
      'dob',
      'email',
      'mrn',
      'name',
      'notes',
      'phone',
      'plan',
      'ssn',
      'zip',
    ]);
    expect(Object.keys(billing?.fields ?? {}).sort()).toEqual(['name', 'plan', 'ssn']);
    expect(billing?.fields.ssn).toMatch(/^\*\*\*-\*\*-\d{4}$/);
    expect(Object.keys(analytics?.fields ?? {}).sort()).toEqual(['diagnosis_code', 'dob', 'plan', 'zip']);
    expect(analytics?.fields.dob).toMatch(/^\d{4}$/);
    expect(analytics?.id).toMatch(/^psn_/);
    expect(search?.records[0]?.id).toBe(clinician?.id);
    expect(create?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused).toMatchObject({ status: 403, code: 'purpose_required' });
    expect(audit?.events.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['read', 'search']));
    expect(disclosures?.events.map((e) => `${e.role} ${e.action} ${e.purpose}`)).toEqual(
      expect.arrayContaining(['clinician read treatment', 'billing read payment', 'analytics read research', 'clinician search treatment']),
    );
    expect(verified).toMatchObject({ ok: true, problem: null });
    expect(verified?.treeSize).toBeGreaterThan(0);
    expect(keys?.keys?.map((k) => k.role).sort()).toEqual(['admin', 'analytics', 'auditor', 'billing', 'clinician']);
    const changes = (events as unknown as { events: { action: string; keys: { ssn?: string }; fields: string[] }[] }).events;
    expect(changes.length).toBeGreaterThan(0);
    expect(changes[0]).toMatchObject({ action: 'create', keys: { ssn: expect.stringMatching(/^dtk_/) } });

    // Run again on the same directory: its data is kept, and every command still works (the
    // record it creates is a new one, not the first run's again, which would be a unique_violation).
    await stop();
    const again = await demo(dir);
    expect(again[0]?.id).toBe(clinician?.id);
    expect(again[4]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(again[4]?.id).not.toBe(create?.id);
    expect(again[8]).toMatchObject({ ok: true, problem: null });
  });
});
